import Foundation
import ConvNet
import VisionEnvs

/// Meta-test adaptation (DESIGN.md section 4): on a held-out goal, collect K rollouts with π_θ,
/// take the inner step with the learned α from reward alone — repeated on fresh rollouts from
/// each adapted policy — then run the adapted policy with mean actions. No expert, no demos.
public struct MetaTestEvaluator {
    public let policy: MetaPolicy
    public let inner: InnerStep
    public var exploration: Exploration
    /// Multiplies the per-trajectory latent's σ_z at each further adaptation step (1: the same
    /// spread every step). The bias vector's α is scaled by the square, so each step stays the
    /// return-weighted mean offset of its probes.
    public var latentDecay: Float = 1
    /// The decay stops here (0.5 reaches it at step 23): below it a probe z = μ + σ_z·ε rounds
    /// to μ in Float, so further steps could not move, while scale² → 0 and 1/σ_z² → ∞ would
    /// turn the bias vector's step into 0·∞ = NaN (`--adapt-steps 76` did).
    public static let smallestLatentScale = Float.ulpOfOne
    public var trajectories: Int
    public var adaptationSteps: Int
    public var discount: Float

    public init(policy: MetaPolicy, inner: InnerStep, exploration: Exploration, trajectories: Int,
                adaptationSteps: Int, discount: Float = 0.99) {
        self.policy = policy
        self.inner = inner
        self.exploration = exploration
        self.trajectories = trajectories
        self.adaptationSteps = adaptationSteps
        self.discount = discount
    }

    /// The adapted parameters after each of `adaptationSteps` steps, and the on-policy samples used.
    public func adapt(goal: Goal, theta: [Float], alpha: [Float], worker: RolloutWorker, headWorkspace: Workspace,
                      using generator: inout some RandomNumberGenerator) throws -> (steps: [[Float]], samples: Int) {
        var current = theta
        var steps: [[Float]] = []
        var samples = 0
        for step in 0..<adaptationSteps {
            let (exploration, inner, alpha) = settings(step: step, alpha: alpha)
            let rollouts = try worker.collect(goal: goal, parameters: current, exploration: exploration,
                                              trajectories: trajectories, using: &generator)
            samples += rollouts.sampleCount
            let data = rollouts.innerStepData(policy: policy, discount: discount)
            current = try inner.adapt(theta: current, alpha: alpha, data: data, workspace: headWorkspace).phi
            steps.append(current)
        }
        return (steps, samples)
    }

    /// Adaptation step `step`'s (0-based) exploration, inner step and α: with a per-trajectory
    /// latent and a decay d, step k explores and scores with σ_z · s and scales the bias
    /// vector's α by s², s = max(d^k, `smallestLatentScale`); the rest of α is unchanged.
    func settings(step: Int, alpha: [Float]) -> (exploration: Exploration, inner: InnerStep, alpha: [Float]) {
        var (exploration, inner, alpha) = (self.exploration, self.inner, alpha)
        if let sigma = exploration.latentStd, step > 0, latentDecay != 1 {
            let scale = max(powf(latentDecay, Float(step)), Self.smallestLatentScale)
            exploration = .perTrajectory(latentStd: sigma * scale)
            inner.latentStd = sigma * scale
            for j in 0..<policy.biasVectorCount { alpha[j] *= scale * scale }
        }
        return (exploration, inner, alpha)
    }

    /// The environment steps `evaluate` takes: on each goal one mean-action episode before
    /// adaptation, then per draw and adaptation step K exploring rollouts and one mean-action
    /// episode of the adapted policy.
    public static func environmentSteps(goals: Int, draws: Int, adaptationSteps: Int, trajectories: Int,
                                        horizon: Int) -> Int {
        goals * horizon * (1 + draws * adaptationSteps * (trajectories + 1))
    }

    /// Evaluates `draws` independent adaptations on each goal, goals spread over `threads` workers;
    /// `finishedGoal` is called (from any worker) as each goal is done.
    public func evaluate(goals: [Goal], theta: [Float], alpha: [Float], draws: Int, seed: UInt64,
                         workers: [RolloutWorker], headWorkspaces: [Workspace],
                         finishedGoal: () -> Void = {}) throws -> [GoalEvaluation] {
        try GoalEvaluation.evaluate(goals: goals, seed: seed, draws: draws, workers: workers,
                                    finishedGoal: finishedGoal) { worker, goal, _ in
            (before: theta, adapt: { rng in
                try self.adapt(goal: goal, theta: theta, alpha: alpha, worker: workers[worker],
                               headWorkspace: headWorkspaces[worker], using: &rng).steps
            })
        }
    }
}
