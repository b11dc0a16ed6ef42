import ConvNet
import Testing
import VisionEnvs
@testable import GMPSVision

/// Meta-test adaptation: the latent's spread shrinks at later steps when asked to.
struct MetaTestEvaluationTests {
    func adapt(decay: Float, steps: Int = 2) throws -> (steps: [[Float]], policy: MetaPolicy) {
        var config = GMPSConfig.quick(.reach)
        config.imageHeight = 24
        config.imageWidth = 32
        let policy = try MetaPolicy(spec: .visionPolicy(imageHeight: 24, imageWidth: 32, initialStd: config.initialStd))
        var evaluator = MetaTestEvaluator(
            policy: policy, inner: InnerStep(policy: policy, latentStd: 1), exploration: .perTrajectory(latentStd: 1),
            trajectories: 4, adaptationSteps: steps)
        evaluator.latentDecay = decay
        let worker = try RolloutWorker(policy: policy, environment: .reach, imageHeight: 24, imageWidth: 32,
                                       maxTrajectories: 4)
        let theta = policy.network.initialParameters(seed: 3)
        var alpha = [Float](repeating: 0, count: policy.tailCount)
        for j in 0..<policy.biasVectorCount { alpha[j] = 1 }
        let goal = try TaskDistribution(.reach).metaSplit(seed: 1, trainCount: 1, testCount: 0).train[0]
        var rng = SeededGenerator(seed: 5)
        let result = try evaluator.adapt(goal: goal, theta: theta, alpha: alpha, worker: worker,
                                         headWorkspace: policy.head.makeWorkspace(maxBatch: 4 * 50), using: &rng)
        #expect(result.samples == steps * 4 * 50)
        return (result.steps, policy)
    }

    func adaptTwice(decay: Float) throws -> (first: [Float], second: [Float], policy: MetaPolicy) {
        let run = try adapt(decay: decay)
        return (run.steps[0], run.steps[1], run.policy)
    }

    /// A decayed σ_z squared underflows to 0 and 1/σ_z² overflows (0.5: at step 76, the
    /// `evaluate --adapt-steps 76` report; 0.01: at step 13, quicker to test): the bias vector's
    /// step was 0 · ∞ = NaN. The decay stops at Float's epsilon, so every step stays finite.
    @Test func manyDecayingStepsStayFinite() throws {
        let run = try adapt(decay: 0.01, steps: 14)
        #expect(run.steps.allSatisfy { $0.allSatisfy(\.isFinite) })
    }

    @Test func aDecayingLatentKeepsTheFirstStepAndShortensTheNext() throws {
        let full = try adaptTwice(decay: 1), decayed = try adaptTwice(decay: 0.5)
        let sameFirst = full.first == decayed.first
        #expect(sameFirst, "the first step does not depend on the decay")
        let b = full.policy.biasVectorCount, start = full.policy.tailStart
        func secondStepLength(_ run: (first: [Float], second: [Float], policy: MetaPolicy)) -> Float {
            (0..<b).map { run.second[start + $0] - run.first[start + $0] }.map { $0 * $0 }.reduce(0, +).squareRoot()
        }
        print("second-step bias displacement: σ × 1 → \(secondStepLength(full)), σ × 0.5 → \(secondStepLength(decayed))")
        #expect(secondStepLength(decayed) > 0)
        #expect(secondStepLength(decayed) < secondStepLength(full))
    }

    /// Each draw's final privileged state is the state the final distance was measured in, and
    /// `--json` lists it per goal (the last step's, one per draw).
    @Test func theFinalStatesAreThoseTheDistancesWereMeasuredIn() throws {
        let policy = try MetaPolicy(spec: .visionPolicy(imageHeight: 24, imageWidth: 32, initialStd: 0.3))
        let worker = try RolloutWorker(policy: policy, environment: .push, imageHeight: 24, imageWidth: 32,
                                       maxTrajectories: 1)
        let theta = policy.network.initialParameters(seed: 3), other = policy.network.initialParameters(seed: 4)
        let goals = try TaskDistribution(.push).metaSplit(seed: 1, trainCount: 2, testCount: 0).train
        let results = try GoalEvaluation.evaluate(goals: goals, seed: 2, draws: 2, workers: [worker]) { _, _, _ in
            (before: theta, adapt: { _ in [theta, other] })
        }
        for (goal, result) in zip(goals, results) {
            #expect(result.postFinalStates.count == 2 && result.postFinalStates.allSatisfy { $0.count == 2 })
            for (states, distances) in zip(result.postFinalStates, result.postFinalDistance) {
                for (state, distance) in zip(states, distances) {
                    #expect(state.count == EnvironmentName.push.privilegedStateDimension)
                    #expect(goal.distance(inPrivilegedState: state) == distance)
                }
            }
        }
        let json = EvaluationSummary(results, adaptationSteps: 2).jsonObject
        let perGoal = try #require(json["per_goal"] as? [[String: Any]])
        let listed = try #require(perGoal[0]["post_final_states"] as? [[Float]])
        #expect(listed == results[0].postFinalStates.map { $0[1] })
    }
}
