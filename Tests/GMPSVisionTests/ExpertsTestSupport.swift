import ConvNet
@testable import GMPSVision

/// A 2-D point mass that must reach a goal: the small problem SAC is tested on.
/// State (4): position xy, goal xy. Action (2) moves the point by 0.1 per unit, clipped to
/// [-1, 1]². Reward −distance; success within 0.1 of the goal at the last step.
final class PointMass: TrainingEnvironment {
    let goals: [SIMD2<Float>]
    var position = SIMD2<Float>(0, 0)
    var goal: SIMD2<Float>
    let horizon = 20
    var stateDimension: Int { 4 }
    var actionDimension: Int { 2 }
    var evaluationTasks: Int { goals.count }

    init(goals: [SIMD2<Float>] = [SIMD2(0.6, -0.4)]) {
        self.goals = goals
        goal = goals[0]
    }

    var state: [Float] { [position.x, position.y, goal.x, goal.y] }

    func reset(using rng: inout SeededGenerator) throws -> [Float] {
        try reset(evaluationTask: goals.count == 1 ? 0 : Int(rng.next() % UInt64(goals.count)))
    }

    func reset(evaluationTask task: Int) throws -> [Float] {
        position = .zero
        goal = goals[task]
        return state
    }

    func step(_ action: [Float]) throws -> (state: [Float], reward: Float, success: Bool) {
        let a = SIMD2(action[0], action[1]).clamped(lowerBound: SIMD2(repeating: -1), upperBound: SIMD2(repeating: 1))
        position = (position + 0.1 * a).clamped(lowerBound: SIMD2(repeating: -1), upperBound: SIMD2(repeating: 1))
        let d = position - goal
        let distance = (d * d).sum().squareRoot()
        return (state, -distance, distance < 0.1)
    }
}

/// The point mass paying its reward less `cost`·‖a‖² of the action it is given.
final class ChargingPointMass: TrainingEnvironment {
    let base = PointMass()
    let cost: Float
    init(cost: Float) { self.cost = cost }
    var horizon: Int { base.horizon }
    var stateDimension: Int { base.stateDimension }
    var actionDimension: Int { base.actionDimension }
    var evaluationTasks: Int { base.evaluationTasks }
    func reset(using rng: inout SeededGenerator) throws -> [Float] { try base.reset(using: &rng) }
    func reset(evaluationTask task: Int) throws -> [Float] { try base.reset(evaluationTask: task) }
    func step(_ action: [Float]) throws -> (state: [Float], reward: Float, success: Bool) {
        let (state, reward, success) = try base.step(action)
        return (state, reward - cost * action.reduce(0) { $0 + $1 * $1 }, success)
    }
}

/// A configuration small enough for SAC to learn the point mass in a few seconds of a debug build.
func smallSACConfig() -> SACConfig {
    var config = SACConfig()
    config.hidden = [32, 32]
    config.batchSize = 64
    config.randomSteps = 400
    config.updateAfter = 200
    config.evaluateEvery = 400
    config.stopAfterSolvedEvaluations = 0
    // The point mass tests SAC itself: no extra noise on the executed actions.
    config.actionNoiseStd = 0
    config.actorLearningRate = 3e-3
    config.criticLearningRate = 3e-3
    config.temperatureLearningRate = 3e-3
    return config
}

func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).map { abs($0 - $1) }.max() ?? 0
}
