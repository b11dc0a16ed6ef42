import Foundation
import Testing
import VisionEnvs
@testable import GMPSVision

/// The held-out learning curve: validation records success on its own goals and leaves
/// training exactly as it was.
struct ValidationTests {
    /// Validation after every iteration, none, and validation across a resume: the same θ, α
    /// and Adam state each time; the validation columns are rates, the same straight and resumed.
    @Test func validationLeavesTrainingUntouchedAndResumesIdentically() throws {
        let runs = try (0..<3).map { _ in try PipelineTests.temporaryRun() }
        defer { for run in runs { try? FileManager.default.removeItem(at: run.url) } }
        var validated = PipelineTests.config(iterations: 2)
        validated.validationEvery = 1
        var unvalidated = validated
        unvalidated.validationEvery = 0

        let on = GMPSPipeline(config: validated, run: runs[0])
        let onTrainer = try on.trainer(demos: on.demonstrations(), resume: false)
        try on.metaTrain(onTrainer)
        let off = GMPSPipeline(config: unvalidated, run: runs[1])
        let offTrainer = try off.trainer(demos: off.demonstrations(), resume: false)
        try off.metaTrain(offTrainer)

        let sameTheta = onTrainer.state.theta == offTrainer.state.theta
        let sameAlpha = onTrainer.state.alpha == offTrainer.state.alpha
        let sameAdam = onTrainer.state.thetaOptimizer == offTrainer.state.thetaOptimizer
        #expect(sameTheta, "validation changed θ")
        #expect(sameAlpha && sameAdam)
        #expect(onTrainer.state.onPolicySamples == offTrainer.state.onPolicySamples)
        #expect(onTrainer.state.evaluationSamples == offTrainer.state.evaluationSamples)

        let rows = try Self.progressRows(runs[0])
        #expect(rows.map(\.iteration) == [1, 2])
        for row in rows {
            let (pre, post) = (try #require(row.validationPreSuccess), try #require(row.validationPostSuccess))
            #expect((0...1).contains(pre) && (0...1).contains(post))
        }
        #expect(try Self.progressRows(runs[1]).allSatisfy { $0.validationPreSuccess == nil && $0.validationPostSuccess == nil })
        let perValidation = MetaTestEvaluator.environmentSteps(
            goals: validated.validationGoals, draws: validated.validationDraws,
            adaptationSteps: validated.validationAdaptationSteps, trajectories: validated.trajectoriesPerTask,
            horizon: validated.environment.horizon)
        #expect(on.environmentSteps.evaluation == 2 * perValidation && off.environmentSteps.evaluation == 0)
        #expect(on.environmentSteps.metaTraining == off.environmentSteps.metaTraining, "validation steps are not meta-training's")

        // Interrupted after the first iteration and resumed in a new process.
        let first = GMPSPipeline(config: validated, run: runs[2])
        try first.metaTrain(try first.trainer(demos: first.demonstrations(), resume: false), stopAfter: 1)
        let second = GMPSPipeline(config: validated, run: runs[2])
        let resumed = try second.trainer(demos: second.demonstrations(), resume: true)
        try second.metaTrain(resumed)
        let resumedTheta = resumed.state.theta == onTrainer.state.theta
        #expect(resumedTheta, "bit-identical parameters after a resume")
        let resumedRows = try Self.progressRows(runs[2])
        #expect(resumedRows.map(\.validationPreSuccess) == rows.map(\.validationPreSuccess))
        #expect(resumedRows.map(\.validationPostSuccess) == rows.map(\.validationPostSuccess))
        #expect(second.environmentSteps.evaluation == on.environmentSteps.evaluation, "counted from progress.csv on resume")
    }

    @Test func validationIsPlottedInTheReport() throws {
        let run = try PipelineTests.temporaryRun()
        defer { try? FileManager.default.removeItem(at: run.url) }
        var rows = [IterationLog(iteration: 1, preSuccess: 0.1, preReturn: -5, postSuccess: 0.2, postReturn: -4,
                                 explorationSuccess: 0, imitationLoss: 0.3, meanAlpha: 0.05, learningRate: 1e-4,
                                 onPolicySamples: 100, daggerSamples: 0, seconds: 1)]
        rows.append(rows[0])
        rows[1].iteration = 2
        (rows[1].validationPreSuccess, rows[1].validationPostSuccess) = (0.25, 0.5)
        let report = RunReport(title: "t", config: GMPSConfig(), progress: rows, results: [], evaluationDraws: 1,
                               evaluationGoals: 1, sheets: [], stageSeconds: [])
        try report.write(to: run)
        #expect(run.exists("plots/validation_success.png"))
        #expect(report.markdown.contains("| 2 | 100 | 0.25 | 0.50 |"))
        #expect(report.markdown.contains("![validation success](plots/validation_success.png)"))
    }

    /// progress.csv rows with and without validation figures, and rows of files written before
    /// the validation columns (16 fields) or the step columns (12) existed.
    @Test func progressRowsRoundTripWithAndWithoutValidation() throws {
        var row = IterationLog(iteration: 3, preSuccess: 0.5, preReturn: -12.5, postSuccess: 0.75, postReturn: -8,
                               explorationSuccess: 0.25, imitationLoss: 0.0123, meanAlpha: 0.05, learningRate: 1e-4,
                               onPolicySamples: 1200, daggerSamples: 0, seconds: 2.5, measurementSamples: 300,
                               expertEnvSteps: 7, demoEnvSteps: 9)
        #expect(IterationLog.csvHeader.contains(",demo_env_steps,validation_pre_success,validation_post_success,"))
        #expect(row.csvRow.hasSuffix(",7,9,,,,,,,,,"), "empty validation, α-group, latent-scale and anchor columns: \(row.csvRow)")
        let without = try #require(IterationLog(csvRow: row.csvRow))
        #expect(without.validationPreSuccess == nil && without.validationPostSuccess == nil)
        #expect(without.csvRow == row.csvRow)

        (row.validationPreSuccess, row.validationPostSuccess) = (0.1, 0.6)
        let with = try #require(IterationLog(csvRow: row.csvRow))
        #expect(with.validationPreSuccess == 0.1 && with.validationPostSuccess == 0.6)
        #expect(with.csvRow == row.csvRow && with.measurementSamples == 300 && with.demoEnvSteps == 9)

        let fields = row.csvRow.split(separator: ",", omittingEmptySubsequences: false)
        let old = try #require(IterationLog(csvRow: fields.prefix(16).joined(separator: ",")))
        #expect(old.validationPreSuccess == nil && old.expertEnvSteps == 7)
        #expect(IterationLog(csvRow: fields.prefix(12).joined(separator: ","))?.measurementSamples == 0)
        #expect(IterationLog(csvRow: fields.prefix(17).joined(separator: ",")) == nil, "a truncated row")
        #expect(IterationLog(csvRow: fields.prefix(17).joined(separator: ",") + ",") == nil, "one validation figure of two")
        #expect(IterationLog(csvRow: fields.prefix(16).joined(separator: ",") + ",0.1,x") == nil)
    }

    @Test func validationSettingsOutOfRangeAreNamed() {
        var config = GMPSConfig.quick(.door)
        config.validationDraws = 0
        #expect(config.invalidSetting()?.field == "validationDraws")
        config = GMPSConfig.quick(.door)
        config.metaTrainTasks = 7_000
        #expect(config.invalidSetting()?.field == "validationGoals", "7,000 + 1,000 reserved + 2 > 8,001 door goals")
        config.validationEvery = 0
        #expect(config.invalidSetting() == nil, "no validation, no validation goals needed")
        config.anchorWeight = -1
        #expect(config.invalidSetting()?.field == "anchorWeight")
    }

    private static func progressRows(_ run: RunDirectory) throws -> [IterationLog] {
        let text = try String(contentsOf: run.file("progress.csv"), encoding: .utf8)
        return text.split(separator: "\n").dropFirst().compactMap { IterationLog(csvRow: String($0)) }
    }
}
