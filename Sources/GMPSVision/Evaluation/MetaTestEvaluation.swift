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
    /// Multiplies the per-trajectory latent's σ_z at each further adaptation step after the
    /// learned ones (1: the same spread every step). The bias vector's α is scaled by the
    /// square, so each step stays the return-weighted mean offset of its probes.
    public var latentDecay: Float = 1
    /// The latent's scale at steps 1…L that meta-training learned (`MetaTrainerState.latentScales`;
    /// empty: none, every step after the first decays by `latentDecay`).
    public var latentScales: [Float] = []
    /// Each step's exploration, inner step and α.
    var schedule: AdaptationSchedule { AdaptationSchedule(learnedScales: latentScales, decay: latentDecay) }
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

    /// Adaptation step `step`'s (0-based) exploration, inner step and α (`AdaptationSchedule`).
    func settings(step: Int, alpha: [Float]) -> (exploration: Exploration, inner: InnerStep, alpha: [Float]) {
        schedule.settings(step: step, exploration: exploration, inner: inner, alpha: alpha,
                          biasVectorCount: policy.biasVectorCount)
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
