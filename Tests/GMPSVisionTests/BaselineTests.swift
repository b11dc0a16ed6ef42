import ConvNet
import Foundation
import Testing
import VisionEnvs
@testable import GMPSVision

/// The baselines: MAML-PG's outer gradient through the encoder against finite differences, its
/// sample accounting and determinism; multi-task BC, PG from scratch and the expert on a tiny
/// budget; and the run-directory format `evaluate` reads.
struct BaselineTests {
    static func tinyConfig(_ algorithm: BaselineAlgorithm = .mamlPG) -> BaselineConfig {
        var gmps = GMPSConfig()
        gmps.environment = .reach
        gmps.imageHeight = 24
        gmps.imageWidth = 32
        gmps.metaTrainTasks = 3
        gmps.tasksPerIteration = 2
        gmps.trajectoriesPerTask = 3
        gmps.exploration = .perStep
        gmps.adaptedParameters = .head
        gmps.initialBiasVectorAlpha = gmps.initialAlpha
        gmps.iterations = 2
        gmps.outerSteps = 1   // plain first-order MAML
        gmps.pretrainSteps = 3
        gmps.pretrainBatch = 8
        gmps.demosPerTask = 1
        return BaselineConfig(algorithm: algorithm, gmps: gmps)
    }

    static func trainGoals(_ config: BaselineConfig) throws -> [Goal] {
        try TaskDistribution(config.gmps.environment).metaSplit(seed: config.gmps.seed, trainCount: config.gmps.metaTrainTasks,
                                                            testCount: 2).train
    }

    // MARK: The outer policy gradient through the full network

    struct Problem {
        var policy: MetaPolicy
        var theta: [Float]
        var rollouts: TaskRollouts
        var coefficients: [Float]
    }

    /// A small vision network and synthetic recorded rollouts (K = 3, T = 4, 8x8 frames).
    static func makeProblem(seed: UInt64 = 11) throws -> Problem {
        let policy = try MetaPolicy(spec: .smallVisionPolicy)
        var rng = SeededGenerator(seed: seed)
        let theta = policy.network.initialParameters(seed: seed).map { $0 + 0.05 * rng.nextGaussian() }
        let (k, t) = (3, 4), n = 12
        func gaussians(_ count: Int, _ scale: Float) -> [Float] { (0..<count).map { _ in scale * rng.nextGaussian() } }
        let goal = try Goal(.reach, [0, 0.8, 0.15])
        let rollouts = TaskRollouts(
            goal: goal, trajectoryCount: k, horizon: t, hands: gaussians(n * 3, 0.3), headInputs: [],
            actions: gaussians(n * 3, 0.8), logProbabilities: [Float](repeating: 0, count: n),
            rewards: gaussians(n, 1), states: [], images: (0..<(n * 3 * 64)).map { _ in UInt8(rng.next() % 256) },
            successes: [Bool](repeating: false, count: k), finalStates: [], latents: nil, latentMean: nil)
        return Problem(policy: policy, theta: theta, rollouts: rollouts, coefficients: gaussians(n, 0.5))
    }

    @Test func outerPolicyGradientThroughTheEncoderMatchesFiniteDifferences() throws {
        let problem = try Self.makeProblem()
        let policy = problem.policy
        let outer = FullNetworkPolicyGradient(policy: policy)
        let workspace = policy.network.makeWorkspace(maxBatch: 4)
        func surrogate(_ theta: [Float]) throws -> Double {
            Double(try outer.gradient(parameters: theta, rollouts: problem.rollouts, coefficients: problem.coefficients,
                                      workspace: workspace).surrogate)
        }
        let g = try outer.gradient(parameters: problem.theta, rollouts: problem.rollouts,
                                   coefficients: problem.coefficients, workspace: workspace).gradient
        // Every encoder parameter (conv, temperature) and a spread of the tail.
        let h: Float = 2e-3
        var indices = Array(0..<policy.tailStart)
        indices += Array(stride(from: policy.tailStart, to: policy.parameterCount, by: 5)) + [policy.parameterCount - 1]
        var maxDiff = 0.0, scale = 0.0, encoderScale = 0.0
        for i in indices {
            var plus = problem.theta, minus = problem.theta
            plus[i] += h
            minus[i] -= h
            let numeric = (try surrogate(plus) - surrogate(minus)) / Double(2 * h)
            maxDiff = max(maxDiff, abs(numeric - Double(g[i])))
            scale = max(scale, abs(numeric))
            if i < policy.tailStart { encoderScale = max(encoderScale, abs(numeric)) }
        }
        let tolerance = 2e-3 * max(scale, 1)
        print("outer policy gradient: maxdiff \(maxDiff), tolerance \(tolerance), largest encoder derivative \(encoderScale)")
        #expect(maxDiff < tolerance)
        #expect(encoderScale > 10 * tolerance, "the check sees the encoder's gradient")
    }

    /// The problem with per-trajectory latents collected by θ_old: z_τ around θ_old's bias
    /// vector, and each action's log-probability under θ_old with z_τ in that slot (as the
    /// rollout workers record it).
    static func makeLatentProblem(seed: UInt64 = 13, latentStd: Float = 0.5) throws -> Problem {
        var problem = try makeProblem(seed: seed)
        let policy = problem.policy, b = policy.biasVectorCount, tailStart = policy.tailStart
        var rng = SeededGenerator(seed: seed + 1)
        let mean = Array(problem.theta[tailStart..<(tailStart + b)])
        let k = problem.rollouts.trajectoryCount, t = problem.rollouts.horizon
        let latents = (0..<(k * b)).map { mean[$0 % b] + latentStd * rng.nextGaussian() }
        let workspace = policy.network.makeWorkspace(maxBatch: t)
        var logProbabilities: [Float] = []
        for trajectory in 0..<k {
            var parameters = problem.theta
            parameters.replaceSubrange(tailStart..<(tailStart + b), with: latents[(trajectory * b)..<((trajectory + 1) * b)])
            let rows = (trajectory * t)..<((trajectory + 1) * t)
            let images = problem.rollouts.images[(rows.lowerBound * 192)..<(rows.upperBound * 192)].map { Float($0) / 255 }
            logProbabilities += try policy.policy.logProbabilities(
                parameters: parameters, images: images, extras: Array(problem.rollouts.hands[(rows.lowerBound * 3)..<(rows.upperBound * 3)]),
                actions: Array(problem.rollouts.actions[(rows.lowerBound * 3)..<(rows.upperBound * 3)]), batch: t, workspace: workspace)
        }
        problem.rollouts.latents = latents
        problem.rollouts.latentMean = mean
        problem.rollouts.logProbabilities = logProbabilities
        return problem
    }

    /// MAML's later outer steps: the clipped surrogate with per-trajectory latents, away from the
    /// collecting θ_old (ratios off 1, some clipped), against finite differences of the surrogate
    /// itself; indices where ±h moves a sample across the clip are skipped (a kink there).
    @Test func clippedSurrogateWithLatentsMatchesFiniteDifferences() throws {
        let latentStd: Float = 0.5, clip: Float = 0.2
        let problem = try Self.makeLatentProblem(latentStd: latentStd)
        let policy = problem.policy
        let outer = FullNetworkPolicyGradient(policy: policy)
        let workspace = policy.network.makeWorkspace(maxBatch: 4)
        var rng = SeededGenerator(seed: 5)
        let phi = problem.theta.map { $0 + 0.1 * rng.nextGaussian() }
        func evaluate(_ parameters: [Float]) throws -> FullNetworkPolicyGradient.Result {
            try outer.gradient(parameters: parameters, rollouts: problem.rollouts, latentStd: latentStd, clip: clip,
                               workspace: workspace)
        }
        let base = try evaluate(phi)
        #expect(base.clippedSamples > 0 && base.clippedSamples < 12, "some samples held by the clip: \(base.clippedSamples)")
        let h: Float = 1e-3
        var maxDiff = 0.0, scale = 0.0, skipped = 0, biasScale = 0.0
        let b = policy.biasVectorCount
        for i in Array(0..<policy.tailStart) + Array(policy.tailStart..<policy.parameterCount) {
            var plus = phi, minus = phi
            plus[i] += h
            minus[i] -= h
            let (up, down) = (try evaluate(plus), try evaluate(minus))
            guard up.clippedSamples == base.clippedSamples, down.clippedSamples == base.clippedSamples else { skipped += 1; continue }
            let numeric = Double(up.surrogate - down.surrogate) / Double(2 * h)
            maxDiff = max(maxDiff, abs(numeric - Double(base.gradient[i])))
            scale = max(scale, abs(numeric))
            if (policy.tailStart..<(policy.tailStart + b)).contains(i) { biasScale = max(biasScale, abs(numeric)) }
        }
        let tolerance = 3e-3 * max(scale, 1)
        print("clipped surrogate with latents: maxdiff \(maxDiff), tolerance \(tolerance), \(base.clippedSamples) of 15 terms clipped, \(skipped) indices skipped, largest bias-vector derivative \(biasScale)")
        #expect(maxDiff < tolerance)
        #expect(biasScale > 10 * tolerance, "the check sees the latents' score on μ")
        #expect(skipped < policy.parameterCount / 10)
    }

    /// The clip holds a term only where r c leaves the band on the side that would raise the
    /// surrogate; a zero coefficient (every rollout of a sparse task earning 0) is not clipped.
    @Test func aTermIsClippedOnlyWhereTheClipHoldsIt() {
        let up = FullNetworkPolicyGradient.clippedTerm(logRatio: logf(1.5), coefficient: 2, clip: 0.2)
        #expect(up.held && up.slope == 0 && abs(up.value - 2.4) < 1e-6)
        let down = FullNetworkPolicyGradient.clippedTerm(logRatio: logf(1.5), coefficient: -2, clip: 0.2)
        #expect(!down.held && abs(down.slope + 3) < 1e-5, "a worse ratio for a negative coefficient stays free")
        let inside = FullNetworkPolicyGradient.clippedTerm(logRatio: logf(1.1), coefficient: 2, clip: 0.2)
        #expect(!inside.held && abs(inside.slope - 2.2) < 1e-5)
        let zero = FullNetworkPolicyGradient.clippedTerm(logRatio: logf(1.5), coefficient: 0, clip: 0.2)
        #expect(!zero.held && zero.slope == 0 && zero.value == 0)
    }

    /// Where θ_old collected the rollouts every ratio is 1: the clipped surrogate's gradient is
    /// REINFORCE's, latents included.
    @Test func clippedSurrogateAtTheCollectingPolicyIsReinforce() throws {
        let latentStd: Float = 0.5
        let problem = try Self.makeLatentProblem(latentStd: latentStd)
        let outer = FullNetworkPolicyGradient(policy: problem.policy)
        let workspace = problem.policy.network.makeWorkspace(maxBatch: 4)
        let plain = try outer.gradient(parameters: problem.theta, rollouts: problem.rollouts, latentStd: latentStd,
                                       workspace: workspace)
        let clipped = try outer.gradient(parameters: problem.theta, rollouts: problem.rollouts, latentStd: latentStd,
                                         clip: 0.2, workspace: workspace)
        let scale = plain.gradient.map { abs($0) }.max() ?? 0
        let maxDiff = zip(plain.gradient, clipped.gradient).map { abs($0 - $1) }.max() ?? 0
        #expect(clipped.clippedSamples == 0)
        #expect(scale > 0.01)
        #expect(maxDiff <= 1e-4 * max(scale, 1), "maxdiff \(maxDiff), scale \(scale)")
    }

    @Test func aStepAlongTheOuterGradientRaisesThePostUpdateSurrogate() throws {
        let problem = try Self.makeProblem(seed: 12)
        let outer = FullNetworkPolicyGradient(policy: problem.policy)
        let workspace = problem.policy.network.makeWorkspace(maxBatch: 4)
        let before = try outer.gradient(parameters: problem.theta, rollouts: problem.rollouts,
                                        coefficients: problem.coefficients, workspace: workspace)
        let stepped = zip(problem.theta, before.gradient).map { $0 + 1e-3 * $1 }
        let after = try outer.gradient(parameters: stepped, rollouts: problem.rollouts,
                                       coefficients: problem.coefficients, workspace: workspace)
        #expect(after.surrogate > before.surrogate)
    }

    @Test func outerGradientNeedsRecordedFrames() throws {
        var problem = try Self.makeProblem()
        problem.rollouts.images = []
        let outer = FullNetworkPolicyGradient(policy: problem.policy)
        #expect(throws: BaselineError.self) {
            _ = try outer.gradient(parameters: problem.theta, rollouts: problem.rollouts,
                                   workspace: problem.policy.network.makeWorkspace(maxBatch: 4))
        }
    }

    // MARK: MAML-PG meta-training

    @Test func mamlIterationCountsPreAndPostUpdateSamples() throws {
        let config = Self.tinyConfig()
        let trainer = try MAMLPolicyGradientTrainer(config: config, goals: Self.trainGoals(config))
        let before = trainer.state.theta
        let first = try trainer.runIteration()
        let horizon = config.gmps.environment.horizon
        #expect(first.onPolicySamples == 2 * 2 * 3 * horizon, "K pre- and K post-update rollouts on each of 2 tasks")
        #expect(trainer.state.evaluationSamples == 2 * 2 * horizon, "one mean-action rollout of θ and of φ_i per task")
        let second = try trainer.runIteration()
        #expect(second.onPolicySamples == 2 * first.onPolicySamples)
        #expect(trainer.state.iteration == 2)
        #expect(trainer.state.theta != before)
        // The outer step reaches the conv encoder, not only the adapted tail.
        let tailStart = trainer.policy.tailStart
        #expect(trainer.state.theta[0..<tailStart] != before[0..<tailStart])
        #expect(trainer.state.theta.allSatisfy(\.isFinite) && trainer.state.alpha.allSatisfy(\.isFinite))
    }

    @Test func mamlTheSameSeedGivesTheSameParameters() throws {
        var config = Self.tinyConfig()
        let goals = try Self.trainGoals(config)
        let a = try MAMLPolicyGradientTrainer(config: config, goals: goals)
        let b = try MAMLPolicyGradientTrainer(config: config, goals: goals)
        _ = try a.runIteration()
        _ = try b.runIteration()
        #expect(a.state.theta == b.state.theta)
        #expect(a.state.alpha == b.state.alpha)
        config.gmps.seed = 2
        let c = try MAMLPolicyGradientTrainer(config: config, goals: goals)
        _ = try c.runIteration()
        #expect(c.state.theta != a.state.theta)
    }

    /// MAML with GMPS's exploration (a latent per rollout) and ProMP's outer steps: the same
    /// samples per iteration as one step, and the later steps change θ (the clip may pull them
    /// back towards the collecting policies, so not necessarily further).
    @Test func mamlWithLatentsTakesItsOuterStepsOnTheSameRollouts() throws {
        var config = Self.tinyConfig()
        config.gmps.exploration = .perTrajectory(latentStd: 1)
        config.gmps.adaptedParameters = .biasVector
        let goals = try Self.trainGoals(config)
        config.gmps.outerSteps = 1
        let one = try MAMLPolicyGradientTrainer(config: config, goals: goals)
        config.gmps.outerSteps = 8
        let three = try MAMLPolicyGradientTrainer(config: config, goals: goals)
        let start = one.state.theta
        let logOne = try one.runIteration(), logThree = try three.runIteration()
        #expect(logThree.onPolicySamples == logOne.onPolicySamples, "outer steps take no new samples")
        #expect(logOne.postExplorationSuccess == logThree.postExplorationSuccess, "the same rollouts")
        #expect(three.state.theta != one.state.theta && three.state.alpha != one.state.alpha)
        #expect(logOne.clippedFraction == 0, "one step: no clipped surrogate")
        print("MAML with 8 outer steps: \(logThree.clippedFraction) of the later steps' terms clipped")
        #expect(logThree.clippedFraction > 0 && logThree.clippedFraction < 1, "clipped: \(logThree.clippedFraction)")
        #expect(logThree.csvRow.split(separator: ",").count == MAMLIterationLog.csvHeader.split(separator: ",").count)
        #expect(three.state.theta.allSatisfy(\.isFinite) && three.state.alpha.allSatisfy(\.isFinite))
        // The latent's score reaches μ: the bias vector moves.
        let bias = one.policy.tailStart..<(one.policy.tailStart + one.policy.biasVectorCount)
        #expect(one.state.theta[bias] != start[bias])
    }

    @Test func mamlRefusesAClipOutsideTheUnitIntervalWithASentence() throws {
        var config = Self.tinyConfig()
        config.outerClip = 1.5
        #expect(config.problem()?.contains("outerClip") == true)
        #expect(throws: BaselineError.self) { _ = try MAMLPolicyGradientTrainer(config: config, goals: Self.trainGoals(config)) }
    }

    @Test func mamlRunDirectoryIsReadableAsAGMPSRun() throws {
        let config = Self.tinyConfig()
        let trainer = try MAMLPolicyGradientTrainer(config: config, goals: Self.trainGoals(config))
        _ = try trainer.runIteration()
        let run = try RunDirectory(path: NSTemporaryDirectory() + "baseline-\(UUID().uuidString)")
        try run.writeJSON(config, to: "config.json")
        try MetaCheckpoint.save(trainer.state, policy: trainer.policy, in: run)
        // What `evaluate` does: config.json as a GMPSConfig, then the checkpoint against its policy.
        let asGMPS = try run.storedConfiguration(GMPSConfig.self)
        #expect(asGMPS == config.gmps)
        #expect(try run.readJSON(BaselineConfig.self, from: "config.json") == config)
        let text = try String(contentsOf: run.file("config.json"), encoding: .utf8)
        #expect(text.contains("\"algorithm\" : \"maml-pg\""))
        let loaded = try MetaCheckpoint.load(from: run, policy: trainer.policy, iterations: config.gmps.iterations)
        #expect(loaded.theta == trainer.state.theta)
        try? FileManager.default.removeItem(at: run.url)
    }

    // MARK: Multi-task BC, PG from scratch, the expert

    @Test func multitaskBehaviourCloningLearnsOneGoalBlindPolicyWithNoAdaptation() throws {
        var config = Self.tinyConfig(.multitaskBC)
        config.gmps.pretrainSteps = 40
        var losses: [Float] = []
        let (state, loss) = try MultiTaskBehaviourCloning.train(config: config, goals: Self.trainGoals(config)) { _, loss in
            losses.append(loss)
        }
        #expect(losses.count == 40 && loss == losses.last)
        let early = losses.prefix(5).reduce(0, +) / 5, late = losses.suffix(5).reduce(0, +) / 5
        #expect(late < 0.8 * early, "cloning fits the demonstrations: loss \(early) → \(late)")
        #expect(state.pretrained)
        #expect(state.alpha.allSatisfy { $0 == 0 }, "α = 0: the inner step leaves the goal-blind policy as it is")
        #expect(state.onPolicySamples == 0)
        // Goal-blind: with no task codes and an invisible goal, θ acts identically on every goal.
        let policy = try MetaPolicy(config: config.gmps)
        let worker = try RolloutWorker(policy: policy, config: config.gmps, maxTrajectories: 1)
        var rng = SeededGenerator(seed: 5)
        let goals = try Self.trainGoals(config)
        let first = try worker.collect(goal: goals[0], parameters: state.theta, exploration: .none, trajectories: 1, using: &rng)
        let second = try worker.collect(goal: goals[1], parameters: state.theta, exploration: .none, trajectories: 1, using: &rng)
        #expect(goals[0].coordinates != goals[1].coordinates)
        #expect(first.actions == second.actions, "the same actions whatever the goal")
        #expect(first.rewards != second.rewards, "while the hidden goals score them differently")
    }

    @Test func policyGradientFromScratchReportsEveryGoalDrawAndStep() throws {
        let policy = try MetaPolicy(spec: .visionPolicy(imageHeight: 24, imageWidth: 32))
        let scratch = PolicyGradientFromScratch(policy: policy, trajectories: 2, steps: 2, learningRate: 1e-2)
        let worker = try RolloutWorker(policy: policy, environment: .reach, imageHeight: 24, imageWidth: 32,
                                       maxTrajectories: 2)
        let workspace = policy.network.makeWorkspace(maxBatch: 50)
        let goals = try TaskDistribution(.reach).metaSplit(seed: 1, trainCount: 3, testCount: 2).test
        var rng = SeededGenerator(seed: 3)
        let theta0 = scratch.initialParameters(seed: 1, goalIndex: 0)
        let trained = try scratch.train(goal: goals[0], from: theta0, worker: worker, workspace: workspace, using: &rng)
        #expect(trained.samples == 2 * 2 * 50, "K rollouts of T steps per update")
        #expect(trained.steps.count == 2 && trained.steps[0] != theta0 && trained.steps[1] != trained.steps[0])

        let results = try scratch.evaluate(goals: goals, draws: 2, seed: 1, workers: [worker], workspaces: [workspace])
        #expect(results.count == 2)
        #expect(results.allSatisfy { $0.postSuccess.count == 2 && $0.postSuccess.allSatisfy { $0.count == 2 } })
        let summary = EvaluationSummary(results, adaptationSteps: 2)
        #expect(summary.postSuccess.count == 2 && summary.postReturn.allSatisfy(\.isFinite))
        // The reported distance is the reach task's: hand to goal after the last step of θ0's
        // mean-action rollout (deterministic, so a fresh rollout reproduces it).
        for (index, goal) in goals.enumerated() {
            let theta0 = scratch.initialParameters(seed: 1, goalIndex: index)
            let fresh = try worker.collect(goal: goal, parameters: theta0, exploration: .none, trajectories: 1, using: &rng)
            let hand = fresh.finalStates[0..<3].map(Double.init)
            let expected = zip(hand, goal.coordinates).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
            #expect(abs(results[index].preFinalDistance - expected) < 1e-9)
        }
        let again = try scratch.evaluate(goals: goals, draws: 2, seed: 1, workers: [worker], workspaces: [workspace])
        #expect(again.map(\.postReturn) == results.map(\.postReturn), "same seed, same evaluation")
    }

    @Test func theExpertSolvesHeldOutPushGoals() throws {
        let goals = try TaskDistribution(.push).metaSplit(seed: 1, trainCount: 20, testCount: 5).test
        let results = try ExpertEvaluation.evaluate(environment: .push, goals: goals, draws: 3)
        #expect(results.count == 5 && results.allSatisfy { $0.postSuccess.count == 3 })
        let summary = EvaluationSummary(results, adaptationSteps: 1)
        #expect(summary.preSuccess == 1 && summary.postSuccess == [1])
        #expect(summary.postSuccessSpread == [0])
        #expect(summary.postFinalDistance[0] < 0.05)
    }

    @Test func baselineConfigurationRoundTripsWithItsAlgorithm() throws {
        var config = Self.tinyConfig(.pgScratch)
        config.scratchLearningRate = 0.02
        config.scratchAdam = false
        config.outerClip = 0.3
        let data = try JSONEncoder().encode(config)
        #expect(try JSONDecoder().decode(BaselineConfig.self, from: data) == config)
        #expect(try JSONDecoder().decode(GMPSConfig.self, from: data) == config.gmps)
        config.gmps.demosPerTask = 0
        #expect(config.problem() != nil)
    }
}
