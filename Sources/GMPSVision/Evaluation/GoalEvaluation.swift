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
    /// [draw][step]: the privileged state after the episode's last step (push: hand, block and
    /// goal xyz), so that a miss can be told apart: short of the goal, or off to the side.
    public var postFinalStates: [[[Float]]] = []
}

extension GoalEvaluation {
    /// What a method does on one goal: the parameters it starts from, and one independent
    /// adaptation (the parameters after each step) drawn from the goal's generator.
    typealias Method = (before: [Float], adapt: (inout SeededGenerator) throws -> [[Float]])

    /// The meta-test protocol, the same for every method (GMPS, MAML, policy gradient from
    /// scratch): on each goal, the starting parameters' mean-action episode, then `draws`
    /// independent adaptations, each step's parameters run with mean actions. Goal i draws from
    /// its own stream of `seed`, so results do not depend on how goals spread over `workers`.
    /// `method(worker, goal, index)` says what starts and how it adapts; `finishedGoal` is
    /// called after each goal (progress).
    static func evaluate(goals: [Goal], seed: UInt64, draws: Int, workers: [RolloutWorker],
                         finishedGoal: () -> Void = {},
                         method: (_ worker: Int, _ goal: Goal, _ index: Int) throws -> Method) throws -> [GoalEvaluation] {
        let results = ResultSlots<GoalEvaluation>(count: goals.count)
        try parallelForEach(goals.count, workers: workers.count) { worker, index in
            let goal = goals[index]
            var rng = SeededGenerator(seed: seed).split(stream: UInt64(index))
            let (before, adapt) = try method(worker, goal, index)
            func episode(_ parameters: [Float]) throws -> TaskRollouts {
                try workers[worker].collect(goal: goal, parameters: parameters, exploration: .none,
                                            trajectories: 1, using: &rng)
            }
            let pre = try episode(before)
            var evaluation = GoalEvaluation(goal: goal.coordinates, preSuccess: pre.successes[0],
                                            preReturn: pre.averageReturn, preFinalDistance: pre.firstFinalDistance,
                                            postSuccess: [], postReturn: [], postFinalDistance: [])
            for _ in 0..<draws {
                let steps = try adapt(&rng)
                let posts = try steps.map(episode)
                evaluation.postSuccess.append(posts.map { $0.successes[0] })
                evaluation.postReturn.append(posts.map(\.averageReturn))
                evaluation.postFinalDistance.append(posts.map(\.firstFinalDistance))
                evaluation.postFinalStates.append(posts.map(\.firstFinalState))
            }
            results[index] = evaluation
            finishedGoal()
        }
        return results.values.compactMap { $0 }
    }
}
