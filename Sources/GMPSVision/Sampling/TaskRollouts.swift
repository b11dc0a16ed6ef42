import VisionEnvs

/// How the meta-policy explores while it collects the rollouts the inner step learns from.
public enum Exploration: Codable, Equatable, Sendable {
    /// The mean action, no noise (evaluation of a policy, pre- or post-adaptation).
    case none
    /// Gaussian noise on every action with the policy's own learned standard deviation.
    case perStep
    /// MAESN-style structured noise: the bias vector drawn once per rollout from
    /// N(μ, σ²) with this σ, so each rollout is one consistent probe; plus per-step noise.
    case perTrajectory(latentStd: Float)
    /// The bias vector drawn once per rollout as in `perTrajectory`, and the mean action at
    /// every step: each rollout's return is its latent's alone, as the adapted policy is
    /// judged (mean actions). Adapting the bias vector alone, the per-step noise only blurs
    /// the returns the latent's score is weighted by.
    case latentOnly(latentStd: Float)

    public var latentStd: Float? {
        switch self {
        case let .perTrajectory(std), let .latentOnly(std): return std
        case .none, .perStep: return nil
        }
    }

    /// Whether each action gets the policy's Gaussian noise.
    public var perStepNoise: Bool {
        switch self {
        case .perStep, .perTrajectory: return true
        case .none, .latentOnly: return false
        }
    }

    /// The same kind of exploration with the latent's σ_z replaced (unchanged without a latent).
    public func withLatentStd(_ std: Float) -> Exploration {
        switch self {
        case .perTrajectory: return .perTrajectory(latentStd: std)
        case .latentOnly: return .latentOnly(latentStd: std)
        case .none, .perStep: return self
        }
    }
}

/// K trajectories of one task from one policy, T steps each, trajectory after trajectory
/// (sample index = k · T + t).
public struct TaskRollouts: Sendable {
    public var goal: Goal
    public var trajectoryCount: Int
    public var horizon: Int
    /// (K·T, 3): hand xyz seen at each step.
    public var hands: [Float]
    /// (K·T, F+E): the head's input at each step, [keypoints, hand xyz], as the encoder computed
    /// it when acting: the inner step adapts the head on exactly these.
    public var headInputs: [Float]
    /// (K·T, A): executed actions.
    public var actions: [Float]
    /// (K·T): log-probability of each executed action under the collecting policy
    /// (the per-step part; the latent's density is in `InnerStep`).
    public var logProbabilities: [Float]
    /// (K·T): rewards.
    public var rewards: [Float]
    /// (K·T, S): the privileged state at each step, for DAgger labels.
    public var states: [Float]
    /// (K·T, 3, H, W) uint8 images when recorded (DAgger), else empty.
    public var images: [UInt8]
    /// (K): success at each trajectory's last step.
    public var successes: [Bool]
    /// (K, S): the privileged state after each trajectory's last step.
    public var finalStates: [Float]
    /// (K, B): the bias vectors of structured exploration, or nil.
    public var latents: [Float]?
    /// μ (B): the mean the latents were drawn around, or nil.
    public var latentMean: [Float]?

    public var sampleCount: Int { trajectoryCount * horizon }
    public var successRate: Double {
        successes.isEmpty ? 0 : Double(successes.filter { $0 }.count) / Double(successes.count)
    }
    /// Mean undiscounted return per trajectory.
    public var averageReturn: Double {
        trajectoryCount == 0 ? 0 : rewards.reduce(0.0) { $0 + Double($1) } / Double(trajectoryCount)
    }
}

extension TaskRollouts {
    /// The task's distance to the goal after the first trajectory's last step (what meta-test
    /// evaluation reports as the final distance); the task computes it.
    public var firstFinalDistance: Double {
        goal.distance(inPrivilegedState: firstFinalState)
    }

    /// The privileged state after the first trajectory's last step (S).
    public var firstFinalState: [Float] {
        Array(finalStates[0..<goal.environment.privilegedStateDimension])
    }
}
