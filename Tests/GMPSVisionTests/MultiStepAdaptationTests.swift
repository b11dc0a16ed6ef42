import ConvNet
import Foundation
import Testing
@testable import GMPSVision
import VisionEnvs

/// Multi-step meta-training (issue 14): the outer loss after N adaptation steps, each on fresh
/// rollouts of the policy the step before adapted, with the latent's spread per step learned.
struct MultiStepAdaptationTests {
    // MARK: The objective

    /// With one step, the multi-step objective is the one-step objective, first order.
    @Test func oneMetaTrainedStepIsTheOneStepObjective() throws {
        let problem = try ExactMetaGradientTests.makeProblem()
        let objective = MetaObjective(inner: problem.inner)
        let alpha = ExactMetaGradientTests.alpha(problem, head: true)
        let workspace = problem.policy.network.makeWorkspace(maxBatch: problem.demos.count)
        let headWorkspace = problem.policy.head.makeWorkspace(maxBatch: problem.data.sampleCount)
        let one = try objective.taskGradient(theta: problem.theta, alpha: alpha, data: problem.data, demos: problem.demos,
                                             headWorkspace: headWorkspace, workspace: workspace)
        let chain = try objective.multiStepTaskGradient(
            theta: problem.theta, alpha: alpha, schedule: AdaptationSchedule(learnedScales: [], decay: 0.5),
            data: [problem.data], exploration: .perTrajectory(latentStd: problem.inner.latentStd ?? 1),
            demos: problem.demos, headWorkspace: headWorkspace, workspace: workspace)
        #expect(chain.loss == one.loss && chain.theta == one.theta && chain.alpha == one.alpha)
        #expect(chain.latentScales.isEmpty)
    }

    /// ∂L/∂log s_1 against central differences of L(log s_1) after two steps, where step 1's
    /// probes move with the scale (z = μ_1 + s_1 σ_z ε, ε held) and are on-policy at φ_1 (the
    /// behaviour log-probabilities recomputed with the moved z), their advantages held: there
    /// the pathwise derivative is exact. It checks which step, which slice and which sign.
    @Test func latentScaleGradientMatchesFiniteDifferencesWithTheProbesNoiseHeld() throws {
        let problem = try ExactMetaGradientTests.makeProblem()
        let policy = problem.policy
        let sigma = problem.inner.latentStd ?? 1
        let objective = MetaObjective(inner: problem.inner)
        let alpha = ExactMetaGradientTests.alpha(problem, head: false)
        let workspace = policy.network.makeWorkspace(maxBatch: problem.demos.count)
        let headWorkspace = policy.head.makeWorkspace(maxBatch: problem.data.sampleCount)
        let exploration = Exploration.perTrajectory(latentStd: sigma)
        // φ_1 does not depend on s_1 (step 0 explores at s_0 = 1).
        let phi1 = try objective.inner.adapt(theta: problem.theta, alpha: alpha, data: problem.data,
                                             workspace: headWorkspace).phi
        let tail1 = policy.tail(of: phi1)
        let b = policy.biasVectorCount, f = policy.headInputCount, a = policy.actionCount
        let (k, t) = (problem.data.trajectoryCount, problem.data.trajectoryLength)
        var rng = SeededGenerator(seed: 77)
        let noise = (0..<(k * b)).map { _ in rng.nextGaussian() }
        let trajectoryAdvantages = (0..<k).map { _ in rng.nextGaussian() }
        let advantages = (0..<(k * t)).map { _ in rng.nextGaussian() }
        let stepWorkspace = policy.head.makeWorkspace(maxBatch: t)

        /// Step 1's data at log s_1 = ℓ: the same observations and actions, probes at scale e^ℓ.
        func stepOneData(_ logScale: Float) throws -> InnerStepData {
            let scale = expf(logScale)
            let mean = Array(tail1[0..<b])
            var latents: [Float] = [], behaviour: [Float] = []
            for trajectory in 0..<k {
                let z = (0..<b).map { mean[$0] + sigma * scale * noise[trajectory * b + $0] }
                var parameters = tail1
                parameters.replaceSubrange(0..<b, with: z)
                let range = (trajectory * t)..<((trajectory + 1) * t)
                behaviour += try policy.headPolicy.logProbabilities(
                    parameters: parameters, extras: slice(problem.data.headInputs, range, f),
                    actions: slice(problem.data.actions, range, a), batch: t, workspace: stepWorkspace)
                latents += z
            }
            return InnerStepData(headInputs: problem.data.headInputs, actions: problem.data.actions,
                                 behaviourLogProbabilities: behaviour, advantages: advantages, trajectoryLength: t,
                                 latents: latents, behaviourLatentMean: mean, trajectoryAdvantages: trajectoryAdvantages)
        }
        func gradient(_ logScale: Float) throws -> TaskMetaGradient {
            try objective.multiStepTaskGradient(
                theta: problem.theta, alpha: alpha, schedule: AdaptationSchedule(learnedScales: [expf(logScale)], decay: 0.5),
                data: [problem.data, try stepOneData(logScale)], exploration: exploration, demos: problem.demos,
                headWorkspace: headWorkspace, workspace: workspace)
        }
        let logScale = logf(0.6)
        let analytic = try gradient(logScale)
        #expect(analytic.latentScales.count == 1)
        let h: Float = 1e-2
        let numeric = (Double(try gradient(logScale + h).loss) - Double(try gradient(logScale - h).loss)) / Double(2 * h)
        print("∂L/∂log s_1: analytic \(analytic.latentScales[0]), central difference \(numeric)")
        #expect(abs(numeric) > 1e-4, "the test must move the loss")
        #expect(abs(Double(analytic.latentScales[0]) - numeric) <= 0.02 * abs(numeric))
    }

    // MARK: The schedule

    @Test func learnedScalesComeFirstThenTheDecayGoesOnFromTheLast() {
        let schedule = AdaptationSchedule(learnedScales: [0.7, 0.3], decay: 0.5)
        #expect(schedule.scale(step: 0) == 1)
        #expect(schedule.scale(step: 1) == 0.7 && schedule.scale(step: 2) == 0.3)
        #expect(schedule.scale(step: 3) == 0.15 && schedule.scale(step: 5) == 0.0375)
        #expect(schedule.scale(step: 200) == AdaptationSchedule.smallestScale)
        let heuristic = AdaptationSchedule(learnedScales: [], decay: 0.5)
        #expect((0..<6).map(heuristic.scale(step:)) == [1, 0.5, 0.25, 0.125, 0.0625, 0.03125], "nothing learned: d^k")
    }

    // MARK: Meta-training

    static func config(steps: Int) -> GMPSConfig {
        var config = PipelineTests.config(iterations: 2)
        config.metaTrainedSteps = steps
        config.latentScaleLearningRate = 0.05
        return config
    }

    /// Two meta-trained steps: twice the exploring rollouts, a latent scale that learns and is
    /// logged, and a run interrupted after one iteration resumes to the same bits.
    @Test func twoMetaTrainedStepsCostTwiceTheRolloutsLearnTheScaleAndResumeExactly() throws {
        let config = Self.config(steps: 2)
        let runs = try PipelineTests.trainStraightAndInterrupted(config, stopAfter: 1)
        let (twoTrainer, resumedTrainer, secondHalf) = (runs.straight, runs.resumed, runs.resumedPipeline)
        let (a, b) = (resumedTrainer.state, twoTrainer.state)
        #expect(a.theta == b.theta && a.alpha == b.alpha && a.logLatentScales == b.logLatentScales
                && a.latentScaleOptimizer == b.latentScaleOptimizer, "bit-identical θ, α, scales and their Adam state")
        let start = try #require(try MetaTrainerState(policy: twoTrainer.policy, config: config).logLatentScales)
        #expect(start == [logf(config.adaptationLatentDecay)], "s_1 starts at meta-test's decay")
        let learned = try #require(b.logLatentScales)
        #expect(learned.count == 1 && abs(learned[0] - start[0]) > 0.05, "s_1 learned: \(start) → \(learned)")

        let rows = secondHalf.progress
        let perStep = config.tasksPerIteration * config.trajectoriesPerTask * config.environment.horizon
        #expect(rows.map(\.onPolicySamples) == [2 * perStep, 4 * perStep], "each step explores on fresh rollouts")
        let logged = try #require(rows.last?.latentScales)
        #expect(logged.count == 1 && abs(logged[0] - Double(b.latentScales[0])) <= 1e-4 * logged[0])
    }

    @Test func oneMetaTrainedStepKeepsNoScalesAndACheckpointOfOtherStepsIsRefused() throws {
        let policy = try MetaPolicy(config: Self.config(steps: 1))
        let one = try MetaTrainerState(policy: policy, config: Self.config(steps: 1))
        #expect(one.logLatentScales == nil && one.latentScales.isEmpty)
        let three = try MetaTrainerState(policy: policy, config: Self.config(steps: 3))
        #expect(three.latentScales.count == 2)
        #expect(throws: MetaTrainingError.self) { try three.checkFits(Self.config(steps: 2)) }
        #expect(throws: MetaTrainingError.self) { try one.checkFits(Self.config(steps: 2)) }
        try three.checkFits(Self.config(steps: 3))
    }

    @Test func settingsThatCannotGoWithSeveralStepsAreRefused() {
        var config = Self.config(steps: 0)
        #expect(config.invalidSetting()?.field == "metaTrainedSteps")
        config.metaTrainedSteps = 2
        config.secondOrder = true
        #expect(config.invalidSetting()?.field == "secondOrder")
        config.secondOrder = false
        config.featureRefreshEvery = 1
        #expect(config.invalidSetting()?.field == "featureRefreshEvery")
        config.featureRefreshEvery = 0
        config.latentScaleLearningRate = 0
        #expect(config.invalidSetting()?.field == "latentScaleLearningRate")
        config.latentScaleLearningRate = 0.01
        #expect(config.invalidSetting() == nil)
        #expect(BaselineConfig(algorithm: .mamlPG, gmps: config).invalidSetting()?.field == "metaTrainedSteps")
    }

    @Test func theScalesColumnRoundTripsThroughCSV() throws {
        var row = IterationLog(iteration: 3, preSuccess: 0.5, preReturn: -1, postSuccess: 0.5, postReturn: -1,
                               explorationSuccess: 0, imitationLoss: 0.1, meanAlpha: 1, learningRate: 1e-4,
                               onPolicySamples: 10, daggerSamples: 0, seconds: 1)
        row.meanAlphaByGroup = [1.25, 0.05, 0.0625, 0]
        row.latentScales = [0.5, 0.125]
        #expect(IterationLog.csvHeader.hasSuffix(",alpha_log_std,latent_scales,anchor_loss,code_anchor_loss"))
        #expect(row.csvRow.hasSuffix(",0,0.5;0.125,,"))
        let parsed = try #require(IterationLog(csvRow: row.csvRow))
        #expect(parsed.latentScales == row.latentScales && parsed.csvRow == row.csvRow)
        // A row written before the column: no scales.
        let older = try #require(IterationLog(csvRow: String(row.csvRow.dropLast(",0.5;0.125,,".count))))
        #expect(older.latentScales == nil && older.meanAlphaByGroup == row.meanAlphaByGroup)
        // One written before the anchors' columns keeps its scales.
        let beforeAnchors = try #require(IterationLog(csvRow: String(row.csvRow.dropLast(2))))
        #expect(beforeAnchors.latentScales == row.latentScales && beforeAnchors.anchorLoss == nil)
        #expect(IterationLog(csvRow: String(row.csvRow.dropLast(7)) + "x,,") == nil, "a scale that is not a number")
    }

    @Test func theAnchorLossColumnsRoundTripThroughCSV() throws {
        var row = IterationLog(iteration: 3, preSuccess: 0.5, preReturn: -1, postSuccess: 0.5, postReturn: -1,
                               explorationSuccess: 0, imitationLoss: 0.1, meanAlpha: 1, learningRate: 1e-4,
                               onPolicySamples: 10, daggerSamples: 0, seconds: 1)
        row.codeAnchorLoss = 0.25
        #expect(row.csvRow.hasSuffix(",,,0.25"), "no scales, no DAgger anchor, the code anchor's loss")
        let parsed = try #require(IterationLog(csvRow: row.csvRow))
        #expect(parsed.codeAnchorLoss == 0.25 && parsed.anchorLoss == nil && parsed.csvRow == row.csvRow)
        #expect(IterationLog(csvRow: String(row.csvRow.dropLast(4)) + "loss") == nil, "a loss that is not a number")
    }
}
