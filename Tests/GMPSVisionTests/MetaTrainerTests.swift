import ConvNet
import Testing
import VisionEnvs
@testable import GMPSVision

/// Meta-training end to end on a tiny budget: it runs, counts samples, and the same seed gives
/// the same parameters.
struct MetaTrainerTests {
    static func tinyConfig() -> GMPSConfig {
        var config = GMPSConfig()
        config.environment = .reach
        config.imageHeight = 24
        config.imageWidth = 32
        config.metaTrainTasks = 3
        config.tasksPerIteration = 2
        config.trajectoriesPerTask = 3
        config.outerSteps = 2
        config.iterations = 2
        config.pretrainSteps = 3
        config.pretrainBatch = 8
        config.demosPerTaskBatch = 4
        config.daggerStartIteration = 1
        return config
    }

    static func trainer(_ config: GMPSConfig) throws -> MetaTrainer {
        let goals = try TaskDistribution(config.environment).metaSplit(seed: config.seed, trainCount: config.metaTrainTasks,
                                                                   testCount: 0).train
        let demos = try scriptedImitationData(environment: config.environment, goals: goals, episodes: 1, noise: 0.3,
                                              imageHeight: config.imageHeight, imageWidth: config.imageWidth,
                                              threads: config.threads, seed: config.seed)
        return try MetaTrainer(config: config, goals: goals, demos: demos,
                               experts: DaggerExperts(.scripted(config.environment), goals: goals))
    }

    @Test func twoIterationsRunCountSamplesAndRelabelWithDAgger() throws {
        let config = Self.tinyConfig()
        let trainer = try Self.trainer(config)
        try trainer.pretrain()
        let first = try trainer.runIteration()
        let second = try trainer.runIteration()
        let horizon = config.environment.horizon
        #expect(first.onPolicySamples == 2 * 3 * horizon, "K rollouts of T steps on each of the meta-batch's tasks")
        #expect(first.daggerSamples == 0, "DAgger starts at iteration 1 (0-based)")
        #expect(second.daggerSamples == 2 * horizon, "one relabelled adapted rollout per task")
        #expect(second.onPolicySamples == 2 * 2 * 3 * horizon + 2 * horizon)
        #expect(first.measurementSamples == 2 * 2 * horizon,
                "one mean-action rollout of θ and of φ_i per task: the inner step reuses the exploring rollouts")
        #expect(second.measurementSamples == first.measurementSamples + 2 * horizon,
                "with DAgger, φ_i's rollouts are counted as DAgger samples")
        #expect(trainer.dagger.reduce(0) { $0 + $1.count } == 2 * horizon)
        #expect(first.imitationLoss.isFinite && second.imitationLoss.isFinite)
        let allFinite = trainer.state.theta.allSatisfy { $0.isFinite }
        #expect(allFinite)
    }

    /// The iteration's figures measure θ as the iteration found it, on its own exploring
    /// rollouts, before the outer steps move θ: how many outer steps follow changes nothing in
    /// them (they did when measurement rolled out θ after the outer steps).
    @Test func measurementIsOfTheThetaTheIterationStartedFrom() throws {
        var config = Self.tinyConfig()
        config.daggerStartIteration = nil
        config.iterations = 1
        config.outerSteps = 1
        let one = try Self.trainer(config)
        config.outerSteps = 3
        let three = try Self.trainer(config)
        try one.pretrain()
        try three.pretrain()
        let a = try one.runIteration(), b = try three.runIteration()
        #expect(one.state.theta != three.state.theta)
        #expect(a.preReturn == b.preReturn && a.postReturn == b.postReturn)
        #expect(a.preSuccess == b.preSuccess && a.postSuccess == b.postSuccess)
        #expect(a.explorationSuccess == b.explorationSuccess)
    }

    /// Re-encoding recorded frames at the collecting θ gives back the keypoints the rollout
    /// recorded (up to the frames' uint8 rounding); another θ gives other keypoints.
    @Test func recordedFramesEncodeToTheRecordedHeadInputs() throws {
        let config = Self.tinyConfig()
        let trainer = try Self.trainer(config)
        try trainer.pretrain()
        let theta = trainer.state.theta
        let worker = try RolloutWorker(policy: trainer.policy, config: config, maxTrajectories: 2)
        var rng = SeededGenerator(seed: 5)
        let rollouts = try worker.collect(goal: trainer.goals[0], parameters: theta, exploration: config.exploration,
                                          trajectories: 2, recordImages: true, using: &rng)
        let workspace = trainer.policy.network.makeWorkspace(maxBatch: 16)   // 2·T = 100 rows: 7 batches
        let again = try trainer.policy.headInputs(parameters: theta, frames: rollouts.images, hands: rollouts.hands,
                                                  workspace: workspace)
        let rounding = zip(again, rollouts.headInputs).map { abs($0 - $1) }.max() ?? .infinity
        #expect(again.count == rollouts.headInputs.count)
        #expect(rounding < 5e-3, "max |Δ| \(rounding)")
        var moved = theta
        for i in 0..<trainer.policy.tailStart where i % 7 == 0 { moved[i] += 0.05 }
        let other = try trainer.policy.headInputs(parameters: moved, frames: rollouts.images, hands: rollouts.hands,
                                                  workspace: workspace)
        let change = zip(other, rollouts.headInputs).map { abs($0 - $1) }.max() ?? 0
        #expect(change > 10 * rounding, "another encoder moved the keypoints by only \(change)")
    }

    /// The refresh changes the outer steps it reaches and nothing else, where the inner step
    /// reads keypoints (head adaptation): a period longer than the outer steps gives the
    /// parameters of no refresh; a period of 1 gives others. With the default bias-vector
    /// adaptation under per-trajectory latents the adapted direction is Σ_τ c_τ (z_τ − μ)/σ²,
    /// which no keypoint enters, so the refresh cannot change anything there.
    @Test(arguments: [GMPSConfig.AdaptedParameters.head, .biasVector])
    func featureRefreshMattersOnlyWhereTheInnerStepReadsKeypoints(_ adapted: GMPSConfig.AdaptedParameters) throws {
        var config = Self.tinyConfig()
        config.daggerStartIteration = nil
        config.iterations = 1
        config.outerSteps = 3
        config.adaptedParameters = adapted
        // The head's inner policy gradient needs per-step noise.
        if adapted == .head { config.exploration = .perTrajectory(latentStd: 1) }
        func train(refreshEvery: Int) throws -> (theta: [Float], log: IterationLog) {
            var c = config
            c.featureRefreshEvery = refreshEvery
            let trainer = try Self.trainer(c)
            try trainer.pretrain()
            let log = try trainer.runIteration()
            return (trainer.state.theta, log)
        }
        let never = try train(refreshEvery: 0), late = try train(refreshEvery: 5), every = try train(refreshEvery: 1)
        #expect(late.theta == never.theta)
        #expect((every.theta != never.theta) == (adapted == .head))
        #expect(every.log.postReturn == never.log.postReturn, "measurement precedes the outer steps")
    }

    @Test func theSameSeedGivesTheSameParameters() throws {
        var config = Self.tinyConfig()
        config.daggerStartIteration = nil
        config.iterations = 1
        let a = try Self.trainer(config), b = try Self.trainer(config)
        try a.pretrain()
        try b.pretrain()
        _ = try a.runIteration()
        _ = try b.runIteration()
        #expect(a.state.theta == b.state.theta)
        #expect(a.state.alpha == b.state.alpha)
        config.seed = 2
        let c = try Self.trainer(config)
        try c.pretrain()
        _ = try c.runIteration()
        #expect(c.state.theta != a.state.theta)
    }

    @Test func learnedTaskCodesAreWhitenedIntoTheFirstLayer() throws {
        // After pre-training with per-trajectory exploration, θ's bias vector is the codes' mean: 0.
        var config = Self.tinyConfig()
        config.exploration = .perTrajectory(latentStd: 1)
        let trainer = try Self.trainer(config)
        try trainer.pretrain()
        let policy = trainer.policy
        #expect(policy.biasVector(ofTail: policy.tail(of: trainer.state.theta)) == [0, 0, 0, 0])
    }

    @Test func secondOrderMetaTrainingRunsAndMovesTheBiasVectorDifferently() throws {
        // Bias-vector adaptation with per-trajectory latents, the default: the exact second-order
        // term acts on the bias vector only (`MetaObjective`), so θ's bias vector differs from
        // first order's after an iteration, and the rest of θ starts from the same step.
        var config = Self.tinyConfig()
        (config.daggerStartIteration, config.iterations, config.outerSteps) = (nil, 1, 1)
        let first = try Self.trainer(config)
        config.secondOrder = true
        let second = try Self.trainer(config)
        for trainer in [first, second] {
            try trainer.pretrain()
            _ = try trainer.runIteration()
        }
        let policy = first.policy, b = policy.biasVectorCount
        let biasFirst = Array(first.state.theta[policy.tailStart..<(policy.tailStart + b)])
        let biasSecond = Array(second.state.theta[policy.tailStart..<(policy.tailStart + b)])
        let finite = second.state.theta.allSatisfy { $0.isFinite }
        #expect(finite)
        #expect(biasFirst != biasSecond)
        #expect(Array(first.state.theta[..<policy.tailStart]) == Array(second.state.theta[..<policy.tailStart]))
    }

    @Test func badConfigurationIsRejectedWithASentence() throws {
        var config = Self.tinyConfig()
        config.trajectoriesPerTask = 1
        #expect(throws: MetaTrainingError.self) { _ = try Self.trainer(config) }
    }
}
