import ConvNet
import Foundation
import VisionEnvs

/// Errors of the baselines, each saying what to do.
public enum BaselineError: Error, CustomStringConvertible {
    case invalidConfiguration(String)
    case missingImages
    case nonFinite(iteration: Int, what: String)

    public var description: String {
        switch self {
        case let .invalidConfiguration(reason):
            return "invalid baseline configuration: \(reason)"
        case .missingImages:
            return "the rollouts hold no images; collect them with recordImages: true to differentiate through the encoder."
        case let .nonFinite(iteration, what):
            return "training stopped at iteration \(iteration + 1): the \(what) became NaN or infinite. The last good checkpoint is kept; lower the learning rate or the initial α."
        }
    }
}

/// The outer gradient of MAML through the whole vision network, conv encoder included, on
/// rollouts that carry their frames (`recordImages: true`). With c_τt = Â_τt / K and
/// C_τ = A_τ / K (the inner step's per-step and per-trajectory advantages, divided by the K
/// trajectories as `InnerStep` does):
///
///   REINFORCE (`clip` nil; the rollouts are φ's own):
///     J(φ) = Σ_τ Σ_t c_τt log π_φ(a_τt | o_τt, z_τ)  +  Σ_τ C_τ log N(z_τ; μ_φ, σ_z²)
///   clipped surrogate (`clip` ε; PPO's, as ProMP uses for MAML's outer step), for outer steps
///   after the first on the same rollouts:
///     J(φ) = Σ_τ Σ_t min(r_τt c_τt, clip(r_τt, 1 ± ε) c_τt)  +  Σ_τ min(ρ_τ C_τ, clip(ρ_τ, 1 ± ε) C_τ)
///     r_τt = π_φ(a | o, z_τ) / π_old(a | o, z_τ),   ρ_τ = N(z_τ; μ_φ, σ_z²) / N(z_τ; μ_old, σ_z²)
/// Both have the same gradient where φ collected the rollouts (r = ρ = 1). ∇r = r ∇log π, and a
/// sample whose ratio left [1 − ε, 1 + ε] in its advantage's direction adds nothing: the step
/// cannot profit from moving the policy further on that sample, the trust region.
///
/// The latent terms exist with per-trajectory exploration (rollouts with `latents` and a
/// `latentStd`): φ's bias vector is replaced by z_τ for the per-step terms, whose derivative in
/// that slot is then with respect to the sample z, not μ_φ, and is dropped (as in `InnerStep`).
public struct FullNetworkPolicyGradient: Sendable {
    public let policy: MetaPolicy
    public var discount: Float

    public init(policy: MetaPolicy, discount: Float = 0.99) {
        self.policy = policy
        self.discount = discount
    }

    /// J, ∇_φ J (P) and how many of the samples and latents the clip held (0 without a clip).
    public struct Result: Sendable {
        public var surrogate: Float
        public var gradient: [Float]
        public var clippedSamples: Int
    }

    /// J and ∇_φ J at φ (P) on `rollouts`, one trajectory per network batch; `workspace` is the
    /// vision network's with maxBatch ≥ T. `coefficients` (K·T) default to
    /// the rollouts' Â / K; `latentStd`: σ_z when the rollouts explored with latents.
    public func gradient(parameters phi: [Float], rollouts: TaskRollouts, coefficients: [Float]? = nil,
                         latentStd: Float? = nil, clip: Float? = nil, workspace: Workspace) throws -> Result {
        let imageCount = policy.network.imageInputCount
        let n = rollouts.sampleCount, t = rollouts.horizon, a = policy.actionCount
        guard rollouts.images.count == n * imageCount else { throw BaselineError.missingImages }
        let data = rollouts.innerStepData(policy: policy, discount: discount)
        let k = Float(max(rollouts.trajectoryCount, 1))
        let c = coefficients ?? data.advantages.map { $0 / k }
        // The latent terms: z_τ (K·B) around μ_old, with their per-trajectory coefficients.
        let b = policy.biasVectorCount, biasVector = policy.biasVectorSlot
        var latentTerm: (z: [Float], oldMean: [Float], sigma: Float, weights: [Float])?
        if let z = rollouts.latents, let sigma = latentStd {
            let advantages = data.trajectoryAdvantages ?? []
            latentTerm = (z, rollouts.latentMean ?? Array(phi[biasVector]), sigma, advantages.map { $0 / k })
        }
        let mu = Array(phi[biasVector])
        var total = [Float](repeating: 0, count: policy.parameterCount)
        var part = [Float](repeating: 0, count: policy.parameterCount)
        var images = [Float](repeating: 0, count: t * imageCount)
        var parameters = phi
        var surrogate: Float = 0
        var clipped = 0
        for trajectory in 0..<rollouts.trajectoryCount {
            let rows = (trajectory * t)..<((trajectory + 1) * t)
            let firstPixel = rows.lowerBound * imageCount
            rollouts.images.withUnsafeBufferPointer { bytes in
                images.withUnsafeMutableBufferPointer {
                    FrameBytes.dequantize(UnsafeBufferPointer(rebasing: bytes[firstPixel..<(firstPixel + t * imageCount)]), into: $0)
                }
            }
            if let latentTerm {
                parameters.replaceSubrange(biasVector, with: latentTerm.z[(trajectory * b)..<((trajectory + 1) * b)])
            }
            let sampleCoefficients = Array(c[rows])
            let extras = slice(rollouts.hands, rows, 3), actions = slice(rollouts.actions, rows, a)
            if let clip {
                let old = Array(rollouts.logProbabilities[rows])
                try policy.policy.weightedLogProbabilityGradient(
                    parameters: parameters, images: images, extras: extras, actions: actions, batch: t,
                    workspace: workspace, into: &part) { logProbabilities in
                    (0..<t).map { i in
                        let term = Self.clippedTerm(logRatio: logProbabilities[i] - old[i], coefficient: sampleCoefficients[i], clip: clip)
                        surrogate += term.value
                        if term.held { clipped += 1 }
                        return term.slope
                    }
                }
            } else {
                surrogate += try policy.policy.weightedLogProbabilityGradient(
                    parameters: parameters, images: images, extras: extras, actions: actions,
                    weights: sampleCoefficients, batch: t, workspace: workspace, into: &part)
            }
            if let latentTerm {
                // The per-step terms saw the sample z_τ in the bias-vector slot; μ_φ gets the
                // latent's score instead: d/dμ log N(z; μ, σ²) = (z − μ) / σ².
                let z = Array(latentTerm.z[(trajectory * b)..<((trajectory + 1) * b)])
                let sigma = latentTerm.sigma, coefficient = latentTerm.weights[trajectory]
                let logDensity = gaussianLogDensity(z, mean: mu, std: sigma)
                var weight = coefficient
                if let clip {
                    let term = Self.clippedTerm(logRatio: logDensity - gaussianLogDensity(z, mean: latentTerm.oldMean, std: sigma),
                                                coefficient: coefficient, clip: clip)
                    surrogate += term.value
                    if term.held { clipped += 1 }
                    weight = term.slope
                } else {
                    surrogate += coefficient * logDensity
                }
                for j in 0..<b { part[biasVector.lowerBound + j] = weight * (z[j] - mu[j]) / (sigma * sigma) }
            }
            VectorOps.axpy(1, part, &total)
        }
        return Result(surrogate: surrogate, gradient: total, clippedSamples: clipped)
    }

    /// One sample's min(r c, clip(r, 1 ± ε) c) with r = e^logRatio, its derivative with respect
    /// to log r (r c, or 0 where the clip holds the smaller of the two), and whether the clip
    /// holds it: a zero coefficient (a task whose rollouts all earned the same return) has a
    /// zero slope without being clipped.
    static func clippedTerm(logRatio: Float, coefficient: Float, clip: Float) -> (value: Float, slope: Float, held: Bool) {
        let ratio = expf(min(logRatio, 20))
        let bounded = min(max(ratio, 1 - clip), 1 + clip) * coefficient
        let free = ratio * coefficient
        return free <= bounded ? (free, free, false) : (bounded, 0, true)
    }
}
