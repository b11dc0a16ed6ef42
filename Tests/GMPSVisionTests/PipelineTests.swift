import Foundation
import Testing
import VisionEnvs
@testable import GMPSVision

/// Run directories: checkpoints resume bit for bit, and the report is written.
struct PipelineTests {
    static func temporaryRun() throws -> RunDirectory {
        try RunDirectory(path: NSTemporaryDirectory() + "gmps-pipeline-\(UUID().uuidString)")
    }

    static func config(iterations: Int) -> GMPSConfig {
        var config = GMPSConfig.quick(.reach)
        config.imageHeight = 24
        config.imageWidth = 32
        config.iterations = iterations
        config.pretrainSteps = 4
        return config
    }

    /// `config` trained straight through in one run directory and, in another, stopped after
    /// `stopAfter` iterations and continued by a new pipeline (everything back from the run
    /// directory, as a new process would). Both directories are removed before it returns.
    struct Interrupted {
        var straight: MetaTrainer
        var resumed: MetaTrainer
        /// The pipeline that continued (its `progress` holds every row).
        var resumedPipeline: GMPSPipeline
        /// Iterations the resumed trainer found done.
        var iterationAtResume: Int
    }

    static func trainStraightAndInterrupted(_ config: GMPSConfig, stopAfter: Int) throws -> Interrupted {
        let straight = try temporaryRun(), resumed = try temporaryRun()
        defer {
            try? FileManager.default.removeItem(at: straight.url)
            try? FileManager.default.removeItem(at: resumed.url)
        }
        let whole = GMPSPipeline(config: config, run: straight)
        let wholeTrainer = try whole.trainer(demos: whole.demonstrations(), resume: false)
        try whole.metaTrain(wholeTrainer)
        let firstPart = GMPSPipeline(config: config, run: resumed)
        try firstPart.metaTrain(try firstPart.trainer(demos: firstPart.demonstrations(), resume: false), stopAfter: stopAfter)
        let rest = GMPSPipeline(config: config, run: resumed)
        let resumedTrainer = try rest.trainer(demos: rest.demonstrations(), resume: true)
        let iterationAtResume = resumedTrainer.state.iteration
        try rest.metaTrain(resumedTrainer)
        return Interrupted(straight: wholeTrainer, resumed: resumedTrainer, resumedPipeline: rest,
                           iterationAtResume: iterationAtResume)
    }

    @Test(arguments: [false, true])
    func twoPlusTwoResumedIterationsEqualFourUninterrupted(dagger: Bool) throws {
        // With DAgger from the first iteration, the relabelled states of iterations 1–2 shape
        // iterations 3–4: they must come back from the run directory too.
        var config = Self.config(iterations: 4)
        if dagger { config.daggerStartIteration = 0 }
        let runs = try Self.trainStraightAndInterrupted(config, stopAfter: 2)
        let (fourTrainer, resumedTrainer, secondHalf) = (runs.straight, runs.resumed, runs.resumedPipeline)
        #expect(runs.iterationAtResume == 2)
        #expect(resumedTrainer.state.iteration == 4)
        let sameTheta = resumedTrainer.state.theta == fourTrainer.state.theta
        let sameAlpha = resumedTrainer.state.alpha == fourTrainer.state.alpha
        let sameAdam = resumedTrainer.state.thetaOptimizer == fourTrainer.state.thetaOptimizer
        #expect(sameTheta, "bit-identical parameters")
        #expect(sameAlpha && sameAdam)
        #expect(secondHalf.progress.map(\.iteration) == [1, 2, 3, 4], "progress.csv keeps the first half")
        if dagger {
            #expect(resumedTrainer.dagger.map(\.count) == fourTrainer.dagger.map(\.count))
            let sameImages = resumedTrainer.dagger.map(\.images) == fourTrainer.dagger.map(\.images)
            #expect(sameImages, "the same relabelled images")
            #expect(fourTrainer.dagger.map(\.count).reduce(0, +) > 0)
        }
    }

    @Test func aDamagedDaggerFileGivesAClearErrorOnResume() throws {
        let run = try Self.temporaryRun()
        defer { try? FileManager.default.removeItem(at: run.url) }
        var config = Self.config(iterations: 1)
        config.daggerStartIteration = 0
        let pipeline = GMPSPipeline(config: config, run: run)
        try pipeline.metaTrain(try pipeline.trainer(demos: pipeline.demonstrations(), resume: false))
        let file = DaggerCheckpoint.fileName(iteration: 0)
        #expect(run.exists(file))
        try run.write(Data("not a tensor file".utf8), to: file)
        do {
            _ = try pipeline.trainer(demos: pipeline.demonstrations(), resume: true)
            Issue.record("a damaged DAgger file was accepted")
        } catch {
            #expect("\(error)".contains("DAgger data"), "\(error)")
            #expect("\(error)".contains(file))
        }
    }

    @Test func aCheckpointOfAnotherArchitectureIsRejected() throws {
        let run = try Self.temporaryRun()
        defer { try? FileManager.default.removeItem(at: run.url) }
        let pipeline = GMPSPipeline(config: Self.config(iterations: 1), run: run)
        try pipeline.metaTrain(try pipeline.trainer(demos: pipeline.demonstrations(), resume: false))
        var state = try run.readJSON(MetaTrainerState.self, from: MetaCheckpoint.stateFile)
        state.theta.removeLast()
        try run.writeJSON(state, to: MetaCheckpoint.stateFile)
        do {
            _ = try pipeline.trainer(demos: pipeline.demonstrations(), resume: true)
            Issue.record("a checkpoint with the wrong number of parameters was accepted")
        } catch {
            #expect("\(error)".contains("parameters"))
        }
    }

    @Test func aCorruptCheckpointGivesAClearError() throws {
        let run = try Self.temporaryRun()
        defer { try? FileManager.default.removeItem(at: run.url) }
        try run.write(Data("{\"iteration\": 3, \"theta\": [".utf8), to: MetaCheckpoint.stateFile)
        let pipeline = GMPSPipeline(config: Self.config(iterations: 1), run: run)
        do {
            _ = try pipeline.trainer(demos: pipeline.demonstrations(), resume: true)
            Issue.record("a truncated checkpoint was accepted")
        } catch {
            #expect("\(error)".contains(MetaCheckpoint.stateFile))
        }
    }

    @Test func progressRowsRoundTripThroughCSV() {
        let log = IterationLog(iteration: 3, preSuccess: 0.25, preReturn: 12.5, postSuccess: 0.5, postReturn: 20,
                               explorationSuccess: 0.1, imitationLoss: 0.0625, meanAlpha: 1, learningRate: 0.001,
                               onPolicySamples: 3000, daggerSamples: 0, seconds: 4.25)
        let parsed = IterationLog(csvRow: log.csvRow)
        #expect(parsed?.iteration == 3 && parsed?.postSuccess == 0.5 && parsed?.onPolicySamples == 3000)
        #expect(IterationLog(csvRow: "1,2,three") == nil)
    }
}

struct ConfigurationFileTests {
    @Test func missingFieldsTakeTheirDefaults() throws {
        let config = try JSONDecoder().decode(GMPSConfig.self, from: Data(#"{"iterations": 5, "environment": "door"}"#.utf8))
        #expect(config.iterations == 5 && config.environment == .door)
        #expect(config.trajectoriesPerTask == GMPSConfig().trajectoriesPerTask)
        #expect(GMPSConfig().codeAnchorWeight == 1 && config.codeAnchorWeight == 0,
                "a file without the code anchor's weight was written before the anchor existed: it had none")
    }

    @Test func aConfigurationRoundTripsThroughJSON() throws {
        var config = GMPSConfig.quick(.reach)
        config.exploration = .perStep
        config.codeAnchorWeight = 0
        config.daggerStartIteration = 3
        let decoded = try JSONDecoder().decode(GMPSConfig.self, from: JSONEncoder().encode(config))
        #expect(decoded == config)
    }
}

struct NonFiniteTrainingTests {
    @Test func aDivergingRunStopsWithAMessageAndKeepsTheLastGoodCheckpoint() throws {
        let run = try PipelineTests.temporaryRun()
        defer { try? FileManager.default.removeItem(at: run.url) }
        var config = PipelineTests.config(iterations: 1)
        let good = GMPSPipeline(config: config, run: run)
        try good.metaTrain(try good.trainer(demos: good.demonstrations(), resume: false))
        let saved = try run.readJSON(MetaTrainerState.self, from: MetaCheckpoint.stateFile)

        // An absurd learning rate sends θ to infinity within a few outer steps.
        config.iterations = 5
        config.learningRate = 1e30
        config.finalLearningRate = 1e30
        let diverging = GMPSPipeline(config: config, run: run)
        do {
            try diverging.metaTrain(try diverging.trainer(demos: diverging.demonstrations(), resume: true))
            Issue.record("training on with NaN parameters")
        } catch let error as MetaTrainingError {
            #expect(error.description.contains("NaN or infinite"))
            #expect(error.description.contains("iteration 2"), "the first iteration after the good one diverges")
            #expect(error.description.contains("checkpoint"))
        }
        let kept = try run.readJSON(MetaTrainerState.self, from: MetaCheckpoint.stateFile)
        #expect(kept.iteration == saved.iteration, "nothing written after the divergence")
        #expect(kept.theta == saved.theta && kept.alpha == saved.alpha, "the checkpoint on disk is the last good one")
        let policy = try MetaPolicy(spec: .visionPolicy(imageHeight: config.imageHeight, imageWidth: config.imageWidth))
        #expect(throws: Never.self) { _ = try MetaCheckpoint.load(from: run, policy: policy, iterations: 1) }
    }
}
