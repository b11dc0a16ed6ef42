import ConvNet

/// One task's rollouts from the pre-update policy π_θ0, as the inner step needs them.
/// N = trajectories × T samples, trajectory after trajectory.
public struct InnerStepData: Sendable {
    /// (N, F+E): the encoder's keypoints recorded at collection, then hand xyz.
    public var headInputs: [Float]
    /// (N, A): the executed actions.
    public var actions: [Float]
    /// (N): log π_θ0(a|o, z) of each executed action when it was collected.
    public var behaviourLogProbabilities: [Float]
    /// (N): Â, standardised returns-to-go minus the task's linear baseline.
    public var advantages: [Float]
    /// T: steps per trajectory.
    public var trajectoryLength: Int
    /// Structured exploration (MAESN-style): each trajectory's bias vector z, drawn once per
    /// rollout from N(μ_θ0, σ_z²), (trajectories, B). nil with per-step action noise only.
    public var latents: [Float]?
    /// μ_θ0 (B): the bias vector the latents were drawn around.
    public var behaviourLatentMean: [Float]?

    public init(headInputs: [Float], actions: [Float], behaviourLogProbabilities: [Float],
                advantages: [Float], trajectoryLength: Int, latents: [Float]? = nil,
                behaviourLatentMean: [Float]? = nil) {
        self.headInputs = headInputs
        self.actions = actions
        self.behaviourLogProbabilities = behaviourLogProbabilities
        self.advantages = advantages
        self.trajectoryLength = trajectoryLength
        self.latents = latents
        self.behaviourLatentMean = behaviourLatentMean
    }

    public var sampleCount: Int { advantages.count }
    public var trajectoryCount: Int { trajectoryLength > 0 ? sampleCount / trajectoryLength : 0 }
}

/// The inner step of GMPS (DESIGN.md section 4): importance-weighted REINFORCE on the
/// pre-update rollouts, then `φ = θ + α ⊙ ∇_θ Ĵ(θ)` on the adapted tail.
///
///   Ĵ(θ) = Σ_τ Σ_t c_τt [log π_θ(a_τt | o_τt, z_τ) + log N(z_τ; μ_θ, σ_z²)]
///   c_τt = w_τt Â_τt / K,   w = min(π_θ / π_θ0, clip)   held constant (stop-gradient)
///
/// Dividing by the K trajectories (not the N = K·T samples) makes ∇Ĵ the usual REINFORCE
/// estimate of the gradient of the expected return: its size does not shrink with the horizon,
/// so one α suits push (T = 50) and door (T = 100).
///
/// The latent term is present only with structured exploration; there z_τ is a sample, so
/// the per-step term's derivative with respect to the bias-vector slot is not a gradient of
/// μ_θ and is dropped; μ_θ's gradient is the score (z_τ − μ_θ) / σ_z².
public struct InnerStep: Sendable {
    public let policy: MetaPolicy
    /// Importance weights are clipped above at this value (FINDINGS.md: 5).
    public var importanceWeightClip: Float
    /// σ_z of the per-trajectory latent (structured exploration), or nil.
    public var latentStd: Float?

    public init(policy: MetaPolicy, importanceWeightClip: Float = 5, latentStd: Float? = nil) {
        self.policy = policy
        self.importanceWeightClip = importanceWeightClip
        self.latentStd = latentStd
    }

    /// The coefficients c (N) = w Â / K at the tail θ_tail (the head's parameters).
    public func coefficients(tail: [Float], data: InnerStepData, workspace: Workspace) throws -> [Float] {
        let n = data.sampleCount
        guard n > 0 else { return [] }
        var logProbabilities = [Float](repeating: 0, count: n)
        try forEachTrajectoryBatch(tail: tail, data: data) { range, parameters, latentLogDensity in
            let inputs = Array(data.headInputs[(range.lowerBound * policy.headInputCount)..<(range.upperBound * policy.headInputCount)])
            let actions = Array(data.actions[(range.lowerBound * policy.actionCount)..<(range.upperBound * policy.actionCount)])
            let lp = try policy.headPolicy.logProbabilities(parameters: parameters, extras: inputs, actions: actions,
                                                            batch: range.count, workspace: workspace)
            for (k, i) in range.enumerated() { logProbabilities[i] = lp[k] + latentLogDensity }
        }
        var behaviour = data.behaviourLogProbabilities
        if let latents = data.latents, let mean = data.behaviourLatentMean, let sigma = latentStd {
            for i in 0..<n {
                let z = latents[((i / data.trajectoryLength) * policy.biasVectorCount)...].prefix(policy.biasVectorCount)
                behaviour[i] += gaussianLogDensity(Array(z), mean: mean, std: sigma)
            }
        }
        return (0..<n).map { i in
            let ratio = min(expf(min(logProbabilities[i] - behaviour[i], 20)), importanceWeightClip)
            return ratio * data.advantages[i] / Float(max(data.trajectoryCount, 1))
        }
    }

    /// ∇_tail Ĵ with the coefficients c held constant (tailCount).
    public func gradient(tail: [Float], coefficients c: [Float], data: InnerStepData,
                         workspace: Workspace) throws -> [Float] {
        var total = [Float](repeating: 0, count: tail.count)
        var part = [Float](repeating: 0, count: tail.count)
        let b = policy.biasVectorCount
        try forEachTrajectoryBatch(tail: tail, data: data) { range, parameters, _ in
            let inputs = Array(data.headInputs[(range.lowerBound * policy.headInputCount)..<(range.upperBound * policy.headInputCount)])
            let actions = Array(data.actions[(range.lowerBound * policy.actionCount)..<(range.upperBound * policy.actionCount)])
            try policy.headPolicy.weightedLogProbabilityGradient(
                parameters: parameters, extras: inputs, actions: actions, weights: Array(c[range]),
                batch: range.count, workspace: workspace, into: &part)
            if data.latents != nil {
                for j in 0..<b { part[j] = 0 }  // ∂/∂z, not ∂/∂μ: see the type's comment
                if let latents = data.latents, let sigma = latentStd {
                    let trajectory = range.lowerBound / data.trajectoryLength
                    let weight = c[range].reduce(0, +)
                    for j in 0..<b {
                        part[j] = weight * (latents[trajectory * b + j] - tail[j]) / (sigma * sigma)
                    }
                }
            }
            VectorOps.axpy(1, part, &total)
        }
        return total
    }

    /// H v: the Hessian of Ĵ (c held constant) with respect to the tail, times v (tailCount);
    /// exact, by Pearlmutter's R-operator on the head.
    public func hessianVector(tail: [Float], coefficients c: [Float], data: InnerStepData,
                              direction v: [Float]) throws -> [Float] {
        var total = [Float](repeating: 0, count: tail.count)
        let b = policy.biasVectorCount
        var direction = v
        if data.latents != nil { for j in 0..<b { direction[j] = 0 } }
        try forEachTrajectoryBatch(tail: tail, data: data) { range, parameters, _ in
            let inputs = Array(data.headInputs[(range.lowerBound * policy.headInputCount)..<(range.upperBound * policy.headInputCount)])
            let actions = Array(data.actions[(range.lowerBound * policy.actionCount)..<(range.upperBound * policy.actionCount)])
            var part = try policy.headPolicy.logProbabilityHessianVector(
                parameters: parameters, extras: inputs, actions: actions, weights: Array(c[range]),
                direction: direction)
            if data.latents != nil {
                // d²/dμ² Σ c log N(z; μ, σ²) = −Σ c / σ² on the bias block; no cross terms.
                let weight = c[range].reduce(0, +)
                let sigma = latentStd ?? 1
                for j in 0..<b { part[j] = -weight / (sigma * sigma) * v[j] }
            }
            VectorOps.axpy(1, part, &total)
        }
        return total
    }

    /// φ's tail: θ_tail + α ⊙ g.
    public func adaptedTail(_ tail: [Float], alpha: [Float], gradient: [Float]) -> [Float] {
        VectorOps.adapted(theta: tail, alpha: alpha, gradient: gradient)
    }

    /// Calls `body(sampleRange, headParameters, latentLogDensity)` once for the whole batch, or
    /// once per trajectory with the bias vector set to that trajectory's latent z.
    private func forEachTrajectoryBatch(tail: [Float], data: InnerStepData,
                                        _ body: (Range<Int>, [Float], Float) throws -> Void) throws {
        guard let latents = data.latents, let sigma = latentStd else {
            try body(0..<data.sampleCount, tail, 0)
            return
        }
        let b = policy.biasVectorCount
        let mean = Array(tail[0..<b])
        var parameters = tail
        for trajectory in 0..<data.trajectoryCount {
            let z = Array(latents[(trajectory * b)..<((trajectory + 1) * b)])
            parameters.replaceSubrange(0..<b, with: z)
            let start = trajectory * data.trajectoryLength
            try body(start..<(start + data.trajectoryLength), parameters,
                     gaussianLogDensity(z, mean: mean, std: sigma))
        }
    }
}

/// log N(x; mean, std² I).
func gaussianLogDensity(_ x: [Float], mean: [Float], std: Float) -> Float {
    var total: Float = 0
    for (value, mu) in zip(x, mean) {
        let z = (value - mu) / std
        total += -0.5 * z * z - logf(std) - 0.9189385  // ½ log 2π
    }
    return total
}

#if canImport(Glibc)
import Glibc
#endif
