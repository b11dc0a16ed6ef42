import Foundation
import ConvNet
import VisionEnvs

/// How one goal went: mean-action success and return before adaptation and after each
/// adaptation step, for every independent adaptation draw.
public struct GoalEvaluation: Codable, Sendable {
    public var goal: [Double]
    public var preSuccess: Bool
    public var preReturn: Double
    public var preFinalDistance: Double
    /// [draw][step]: after 1…N adaptation steps.
    public var postSuccess: [[Bool]]
    public var postReturn: [[Double]]
    public var postFinalDistance: [[Double]]
}

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
            var (exploration, inner, alpha) = (self.exploration, self.inner, alpha)
            if let sigma = exploration.latentStd, step > 0, latentDecay != 1 {
                let scale = max(powf(latentDecay, Float(step)), Self.smallestLatentScale)
                exploration = .perTrajectory(latentStd: sigma * scale)
                inner.latentStd = sigma * scale
                for j in 0..<policy.biasVectorCount { alpha[j] *= scale * scale }
            }
            let rollouts = try worker.collect(goal: goal, parameters: current, exploration: exploration,
                                              trajectories: trajectories, using: &generator)
            samples += rollouts.sampleCount
            let data = rollouts.innerStepData(policy: policy, discount: discount)
            current = try inner.adapt(theta: current, alpha: alpha, data: data, workspace: headWorkspace).phi
            steps.append(current)
        }
        return (steps, samples)
    }

    /// Evaluates `draws` independent adaptations on each goal, goals spread over `threads` workers;
    /// `finishedGoal` is called (from any worker) as each goal is done.
    public func evaluate(goals: [Goal], theta: [Float], alpha: [Float], draws: Int, seed: UInt64,
                         workers: [RolloutWorker], headWorkspaces: [Workspace],
                         finishedGoal: () -> Void = {}) throws -> [GoalEvaluation] {
        let results = ResultSlots<GoalEvaluation>(count: goals.count)
        try parallelForEach(goals.count, workers: workers.count) { worker, index in
            let goal = goals[index]
            var rng = SeededGenerator(seed: seed).split(stream: UInt64(index))
            let pre = try workers[worker].collect(goal: goal, parameters: theta, exploration: .none,
                                                  trajectories: 1, using: &rng)
            var evaluation = GoalEvaluation(goal: goal.coordinates, preSuccess: pre.successes[0],
                                            preReturn: pre.averageReturn,
                                            preFinalDistance: pre.firstFinalDistance, postSuccess: [],
                                            postReturn: [], postFinalDistance: [])
            for _ in 0..<draws {
                let adapted = try adapt(goal: goal, theta: theta, alpha: alpha, worker: workers[worker],
                                        headWorkspace: headWorkspaces[worker], using: &rng)
                var successes: [Bool] = [], returns: [Double] = [], distances: [Double] = []
                for phi in adapted.steps {
                    let post = try workers[worker].collect(goal: goal, parameters: phi, exploration: .none,
                                                           trajectories: 1, using: &rng)
                    successes.append(post.successes[0])
                    returns.append(post.averageReturn)
                    distances.append(post.firstFinalDistance)
                }
                evaluation.postSuccess.append(successes)
                evaluation.postReturn.append(returns)
                evaluation.postFinalDistance.append(distances)
            }
            results[index] = evaluation
            finishedGoal()
        }
        return results.values.compactMap { $0 }
    }
}
