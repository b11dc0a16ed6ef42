import ConvNet
import Foundation
import Testing
@testable import GMPSVision

/// The code anchor (issue 14): behaviour cloning with each task's own code, kept from
/// pre-training and learned on beside θ, added to the outer loss.
struct CodeAnchorTests {
    /// BC with a code in the bias-vector slot: the code's gradient is the loss's slope along the
    /// code (central differences), θ's gradient is BC's at θ with the code in place, and θ's own
    /// bias vector gets none of it.
    @Test func theCodesGradientIsTheLossSlopeAlongTheCodeAndThetasBiasVectorGetsNone() throws {
        let problem = try MetaGradientTests.makeProblem(latents: true)
        let policy = problem.policy
        let workspace = policy.network.makeWorkspace(maxBatch: 8)
        let b = policy.biasVectorCount, slot = policy.tailStart
        let code: [Float] = [0.7, -1.2]
        #expect(b == code.count)
        let coded = try policy.imitationLoss(parameters: problem.theta, code: code[...], demos: problem.demos,
                                             workspace: workspace)
        var withCode = problem.theta
        withCode.replaceSubrange(slot..<(slot + b), with: code)
        let plain = try policy.imitationLoss(parameters: withCode, demos: problem.demos, workspace: workspace)
        #expect(coded.loss == plain.loss)
        for j in 0..<policy.parameterCount {
            #expect(coded.gradient[j] == ((slot..<(slot + b)).contains(j) ? 0 : plain.gradient[j]))
        }
        let h: Float = 1e-2
        for j in 0..<b {
            var (up, down) = (code, code)
            up[j] += h
            down[j] -= h
            let lossUp = try policy.imitationLoss(parameters: problem.theta, code: up[...], demos: problem.demos,
                                                  workspace: workspace).loss
            let lossDown = try policy.imitationLoss(parameters: problem.theta, code: down[...], demos: problem.demos,
                                                    workspace: workspace).loss
            let finite = (lossUp - lossDown) / (2 * h)
            #expect(abs(coded.codeGradient[j]) > 2e-4, "a code that matters")
            #expect(abs(coded.codeGradient[j] - finite) <= 0.02 * abs(finite) + 2e-5,
                    "∂BC/∂code_\(j): analytic \(coded.codeGradient[j]), finite differences \(finite)")
        }
    }

    static func config(weight: Float) -> GMPSConfig {
        var config = PipelineTests.config(iterations: 2)
        config.codeAnchorWeight = weight
        return config
    }

    /// Pre-training keeps the whitened codes (one per task, zero-mean and unit spread per
    /// dimension); the anchor moves them and θ away from the run without it, which keeps them
    /// unmoved; a run interrupted after one iteration resumes to the same bits, codes and their
    /// Adam state included.
    @Test func theAnchorKeepsLearnsAndResumesTheTaskCodes() throws {
        let config = Self.config(weight: 1)
        let runs = try PipelineTests.trainStraightAndInterrupted(config, stopAfter: 1)
        let (a, b) = (runs.resumed.state, runs.straight.state)
        #expect(a.theta == b.theta && a.alpha == b.alpha && a.taskCodes == b.taskCodes
                && a.taskCodeOptimizer == b.taskCodeOptimizer, "bit-identical θ, α, codes and their Adam state")

        let policy = runs.straight.policy
        let width = policy.biasVectorCount
        let pretrained = GMPSPipeline(config: config, run: try PipelineTests.temporaryRun())
        defer { try? FileManager.default.removeItem(at: pretrained.run.url) }
        let trainer = try pretrained.trainer(demos: pretrained.demonstrations(), resume: false)
        try trainer.pretrain()
        let start = try #require(trainer.state.taskCodes)
        #expect(start.count == config.metaTrainTasks * width)
        for j in 0..<width {
            let values = (0..<config.metaTrainTasks).map { start[$0 * width + j] }
            let (mean, spread) = meanAndStandardDeviation(values)
            #expect(abs(mean) < 1e-4 && abs(spread - 1) < 1e-3, "whitened codes, dimension \(j): \(mean), \(spread)")
        }
        let learned = try #require(b.taskCodes)
        let moved = zip(start, learned).map { abs($0 - $1) }.max() ?? 0
        #expect(moved > 1e-4, "the anchor moves the codes (largest move \(moved))")

        let without = GMPSPipeline(config: Self.config(weight: 0), run: try PipelineTests.temporaryRun())
        defer { try? FileManager.default.removeItem(at: without.run.url) }
        let plainTrainer = try without.trainer(demos: without.demonstrations(), resume: false)
        try without.metaTrain(plainTrainer)
        #expect(plainTrainer.state.taskCodes == start, "no anchor: pre-training's codes kept (for the task-code oracle), unmoved")
        #expect(plainTrainer.state.taskCodeOptimizer == nil)
        #expect(plainTrainer.state.theta != b.theta, "the anchor changes θ's steps")
    }

    /// Both anchors at once: each adds its own term (θ differs from either alone) and the codes
    /// still learn, so neither part of the summed gradient is read in the other's place; each
    /// anchor's loss gets its own progress.csv column, empty where that anchor is off.
    @Test func bothAnchorsTogetherEachAddTheirOwnTerm() throws {
        func trained(anchor: Float, code: Float) throws -> (state: MetaTrainerState, log: IterationLog) {
            var config = PipelineTests.config(iterations: 1)
            (config.anchorWeight, config.codeAnchorWeight) = (anchor, code)
            let pipeline = GMPSPipeline(config: config, run: try PipelineTests.temporaryRun())
            defer { try? FileManager.default.removeItem(at: pipeline.run.url) }
            let trainer = try pipeline.trainer(demos: pipeline.demonstrations(), resume: false)
            try pipeline.metaTrain(trainer)
            let written = try String(contentsOf: pipeline.run.file("progress.csv"), encoding: .utf8)
            let row = try #require(written.split(separator: "\n").last.flatMap { IterationLog(csvRow: String($0)) })
            return (trainer.state, row)
        }
        let both = try trained(anchor: 0.5, code: 1)
        let codeOnly = try trained(anchor: 0, code: 1)
        let anchorOnly = try trained(anchor: 0.5, code: 0)
        #expect(both.state.theta != codeOnly.state.theta && both.state.theta != anchorOnly.state.theta)
        #expect(both.state.taskCodes != nil && both.state.taskCodes != codeOnly.state.taskCodes,
                "the codes learn, from θ's steps as they went with both anchors")

        #expect(codeOnly.log.anchorLoss == nil && anchorOnly.log.codeAnchorLoss == nil, "no column for an anchor that is off")
        let losses = [both.log.anchorLoss, both.log.codeAnchorLoss, codeOnly.log.codeAnchorLoss, anchorOnly.log.anchorLoss]
        #expect(losses.allSatisfy { ($0 ?? -1) > 0 }, "each anchor's loss where it is on: \(losses)")
        #expect(both.log.anchorLoss != both.log.codeAnchorLoss,
                "BC at θ's bias vector and BC with each task's code are different losses")
    }

    @Test func theAnchorNeedsCodesAndAFiniteWeight() throws {
        var config = Self.config(weight: -1)
        #expect(config.invalidSetting()?.field == "codeAnchorWeight")
        config.codeAnchorWeight = .nan
        #expect(config.invalidSetting()?.field == "codeAnchorWeight")
        config.codeAnchorWeight = 1
        #expect(config.invalidSetting() == nil)
        config.exploration = .perStep
        #expect(config.invalidSetting()?.field == "codeAnchorWeight", "per-step exploration learns no codes")
        config.exploration = .perTrajectory(latentStd: 1)
        config.pretrainSteps = 0
        #expect(config.invalidSetting()?.field == "codeAnchorWeight", "no pre-training, no codes")

        // A checkpoint pre-trained without the anchor holds no codes: refused, not started blank.
        let policy = try MetaPolicy(config: Self.config(weight: 1))
        var state = try MetaTrainerState(policy: policy, config: Self.config(weight: 0))
        state.pretrained = true
        #expect(throws: MetaTrainingError.self) { try state.checkFits(Self.config(weight: 1)) }
        try state.checkFits(Self.config(weight: 0))
    }
}
