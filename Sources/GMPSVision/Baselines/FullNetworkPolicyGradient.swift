import ConvNet
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

/// The on-policy REINFORCE gradient through the whole vision network, conv encoder included:
///
///   J(θ) = Σ_τ Σ_t c_τt log π_θ(a_τt | o_τt),   c_τt = Â_τt / K   (held constant)
///   ∇_θ J = Σ_τ Σ_t c_τt ∇_θ log π_θ(a_τt | o_τt)
/// with Â the same standardised returns-to-go minus the task's linear baseline as the inner
/// step's (`innerStepData`), and dividing by the K trajectories as `InnerStep` does. The
/// rollouts must come from θ itself with per-step noise (so no importance weights) and carry
/// their frames (`recordImages: true`).
public struct FullNetworkPolicyGradient: Sendable {
    public let policy: MetaPolicy
    public var discount: Float

    public init(policy: MetaPolicy, discount: Float = 0.99) {
        self.policy = policy
        self.discount = discount
    }

    /// The coefficients c (K·T) of `rollouts`.
    public func coefficients(_ rollouts: TaskRollouts) -> [Float] {
        let data = rollouts.innerStepData(policy: policy, discount: discount)
        let k = Float(max(rollouts.trajectoryCount, 1))
        return data.advantages.map { $0 / k }
    }

    /// (J, ∇_θ J (P)) at θ on `rollouts`, one trajectory per network batch; `workspace` is the
    /// vision network's with maxBatch ≥ T. `coefficients` default to `coefficients(rollouts)`.
    public func gradient(parameters theta: [Float], rollouts: TaskRollouts, coefficients: [Float]? = nil,
                         workspace: Workspace) throws -> (surrogate: Float, gradient: [Float]) {
        let imageCount = policy.network.imageInputCount
        let n = rollouts.sampleCount, t = rollouts.horizon, a = policy.actionCount
        guard rollouts.images.count == n * imageCount else { throw BaselineError.missingImages }
        let c = coefficients ?? self.coefficients(rollouts)
        var total = [Float](repeating: 0, count: policy.parameterCount)
        var part = [Float](repeating: 0, count: policy.parameterCount)
        var images = [Float](repeating: 0, count: t * imageCount)
        var surrogate: Float = 0
        for trajectory in 0..<rollouts.trajectoryCount {
            let rows = (trajectory * t)..<((trajectory + 1) * t)
            let firstPixel = rows.lowerBound * imageCount
            rollouts.images.withUnsafeBufferPointer { bytes in
                images.withUnsafeMutableBufferPointer {
                    FrameBytes.dequantize(UnsafeBufferPointer(rebasing: bytes[firstPixel..<(firstPixel + t * imageCount)]), into: $0)
                }
            }
            surrogate += try policy.policy.weightedLogProbabilityGradient(
                parameters: theta, images: images, extras: slice(rollouts.hands, rows, 3),
                actions: slice(rollouts.actions, rows, a), weights: Array(c[rows]), batch: t,
                workspace: workspace, into: &part)
            VectorOps.axpy(1, part, &total)
        }
        return (surrogate, total)
    }
}
