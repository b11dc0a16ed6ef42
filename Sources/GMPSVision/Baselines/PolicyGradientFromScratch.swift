import ConvNet
import VisionEnvs

/// Policy gradient from scratch on each test goal with the adaptation samples GMPS gets
/// (DESIGN.md section 4, baselines): a freshly initialised vision policy, then `steps` plain
/// REINFORCE updates through the full network, each on K fresh rollouts of the current policy
/// (per-step noise; the advantages of the inner step, `FullNetworkPolicyGradient`), then the
/// mean-action rollout. Same samples per draw as meta-test adaptation: K · T · steps.
public struct PolicyGradientFromScratch {
    public let policy: MetaPolicy
    public let gradient: FullNetworkPolicyGradient
    /// K: rollouts per update.
    public var trajectories: Int
    /// Updates, each on fresh rollouts (GMPS's adaptation steps).
    public var steps: Int
    public var learningRate: Float
    /// Adam (fresh per draw) or plain gradient ascent θ ← θ + lr ∇J.
    public var useAdam: Bool

    public init(policy: MetaPolicy, trajectories: Int, steps: Int, learningRate: Float, useAdam: Bool = true,
                discount: Float = 0.99) {
        self.policy = policy
        gradient = FullNetworkPolicyGradient(policy: policy, discount: discount)
        self.trajectories = trajectories
        self.steps = steps
        self.learningRate = learningRate
        self.useAdam = useAdam
    }

    /// The fresh initialisation used on goal `index`.
    public func initialParameters(seed: UInt64, goalIndex: Int) -> [Float] {
        var rng = SeededGenerator(seed: seed).split(stream: 1_000_000 + UInt64(goalIndex))
        return policy.network.initialParameters(seed: rng.next())
    }

    /// The parameters after each update on `goal`, from θ0, and the on-policy samples used.
    public func train(goal: Goal, from theta0: [Float], worker: RolloutWorker, workspace: Workspace,
                      using generator: inout some RandomNumberGenerator) throws -> (steps: [[Float]], samples: Int) {
        var theta = theta0
        var optimizer = Adam(parameterCount: theta.count, learningRate: learningRate)
        var result: [[Float]] = []
        var samples = 0
        for _ in 0..<steps {
            let rollouts = try worker.collect(goal: goal, parameters: theta, exploration: .perStep,
                                              trajectories: trajectories, recordImages: true, using: &generator)
            samples += rollouts.sampleCount
            let g = try gradient.gradient(parameters: theta, rollouts: rollouts, workspace: workspace).gradient
            if useAdam {
                try optimizer.update(&theta, gradient: g.map { -$0 })
            } else {
                VectorOps.axpy(learningRate, g, &theta)
            }
            result.append(theta)
        }
        return (result, samples)
    }

    /// `draws` independent runs on each goal (goals spread over the workers), in the format of
    /// meta-test evaluation: "before" is the fresh policy, "after step s" the trained one.
    /// `workspaces`: the vision network's, maxBatch ≥ T, one per worker.
    public func evaluate(goals: [Goal], draws: Int, seed: UInt64, workers: [RolloutWorker],
                         workspaces: [Workspace]) throws -> [GoalEvaluation] {
        try GoalEvaluation.evaluate(goals: goals, seed: seed, draws: draws, workers: workers) { worker, goal, index in
            let theta0 = initialParameters(seed: seed, goalIndex: index)
            return (before: theta0, adapt: { rng in
                try self.train(goal: goal, from: theta0, worker: workers[worker], workspace: workspaces[worker],
                               using: &rng).steps
            })
        }
    }
}
