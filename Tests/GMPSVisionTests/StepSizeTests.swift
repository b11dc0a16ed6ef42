import ConvNet
import Foundation
import Testing
@testable import GMPSVision

/// Step sizes that learn: α per parameter (today's default) or log α per parameter group, at a
/// learning rate of its own; logged per group, kept by checkpoints, fixed for a run.
struct StepSizeTests {
    static func groupedConfig() -> GMPSConfig {
        var config = PipelineTests.config(iterations: 4)
        config.adaptedParameters = .head
        config.exploration = .perTrajectory(latentStd: 1)   // the head's gradient needs per-step noise
        config.alphaParameterisation = .logPerGroup
        config.alphaLearningRate = 0.05
        return config
    }

    @Test func theTailSplitsIntoFourGroupsThatCoverItOnce() throws {
        let policy = try MetaPolicy(spec: .smallVisionPolicy)
        let groups = policy.alphaGroups
        #expect(groups.map(\.name) == ["bias_vector", "head_weights", "head_biases", "log_std"])
        #expect(groups.flatMap(\.indices).sorted() == Array(0..<policy.tailCount))
        #expect(groups[0].indices == Array(0..<policy.biasVectorCount))
        #expect(groups[3].indices == Array((policy.tailCount - policy.actionCount)..<policy.tailCount))
        // small vision head: 13 → 6 → 3 (weights 6·13 + 3·6, biases 6 + 3).
        #expect(groups[1].indices.count == 6 * 13 + 3 * 6 && groups[2].indices.count == 6 + 3)
    }

    @Test func logAlphaGradientIsTheChainRuleThroughExp() throws {
        // L(α) = Σ_j q_j α_j², α_j = mask_j exp(ℓ_g): the analytic ∂L/∂ℓ against central differences.
        let policy = try MetaPolicy(spec: .smallVisionPolicy)
        let groups = policy.alphaGroups
        var rng = SeededGenerator(seed: 3)
        let q = (0..<policy.tailCount).map { _ in rng.nextGaussian() }
        let mask = policy.alphaMask(.head).enumerated().map { $0.offset % 5 == 4 ? 0 : $0.element }
        let logAlpha: [Float] = [0, -3, -2.5, -4]
        func loss(_ ell: [Float]) -> Double {
            let alpha = MetaTrainerState.expand(ell, groups: groups, mask: mask)
            return zip(q, alpha).reduce(0.0) { $0 + Double($1.0) * Double($1.1) * Double($1.1) }
        }
        let alpha = MetaTrainerState.expand(logAlpha, groups: groups, mask: mask)
        let alphaGradient = zip(q, alpha).enumerated().map { 2 * $0.element.0 * $0.element.1 * mask[$0.offset] }
        let analytic = MetaTrainerState.logAlphaGradient(alphaGradient, alpha: alpha, groups: groups)
        for g in groups.indices {
            var plus = logAlpha, minus = logAlpha
            plus[g] += 1e-3
            minus[g] -= 1e-3
            let numeric = (loss(plus) - loss(minus)) / 2e-3
            #expect(abs(numeric - Double(analytic[g])) < 1e-3 * max(1, abs(numeric)), "group \(groups[g].name)")
        }
        #expect(zip(alpha, mask).allSatisfy { $1 == 0 ? $0 == 0 : $0 > 0 }, "α is positive where adapted, 0 elsewhere")
    }

    @Test func perGroupStepSizesStayTiedAndMoveAtTheirOwnRate() throws {
        let config = Self.groupedConfig()
        let policy = try MetaPolicy(config: config)
        var state = try MetaTrainerState(policy: policy, config: config)
        let groups = policy.alphaGroups
        #expect(state.logAlpha == [logf(config.initialBiasVectorAlpha), logf(0.05), logf(0.05), logf(0.05)])
        #expect(state.alphaOptimizer.m.count == 4)
        state.setLearningRate(1e-4, alpha: config.alphaLearningRate)
        var rng = SeededGenerator(seed: 4)
        let alphaGradient = (0..<policy.tailCount).map { _ in rng.nextGaussian() }
        let before = try #require(state.logAlpha)
        try state.descend(thetaGradient: [Float](repeating: 0, count: policy.parameterCount), alphaGradient: alphaGradient,
                          alphaMask: policy.alphaMask(config.adaptedParameters), alphaGroups: groups, learnAlpha: true,
                          iteration: 0, what: "test")
        let after = try #require(state.logAlpha)
        let expected = MetaTrainerState.logAlphaGradient(alphaGradient, alpha: MetaTrainerState.expand(
            before, groups: groups, mask: policy.alphaMask(config.adaptedParameters)), groups: groups)
        for g in groups.indices {
            // Adam's first step is the learning rate against the gradient's sign.
            #expect(abs((after[g] - before[g]) + 0.05 * (expected[g] > 0 ? 1 : -1)) < 1e-4, "group \(groups[g].name)")
            let values = Set(groups[g].indices.map { state.alpha[$0] })
            #expect(values == [expf(after[g])], "one α per group")
        }
        #expect(state.meanAlpha(by: groups).map { Float($0) } == after.map(expf))
    }

    @Test func theDefaultLearnsEachAlphaAtThetasRate() throws {
        let config = PipelineTests.config(iterations: 1)
        let policy = try MetaPolicy(config: config)
        var state = try MetaTrainerState(policy: policy, config: config)
        #expect(state.logAlpha == nil && state.alphaOptimizer.m.count == policy.tailCount)
        state.setLearningRate(3e-5, alpha: config.alphaLearningRate)
        #expect(state.alphaOptimizer.learningRate == 3e-5)
        var grouped = Self.groupedConfig()
        #expect(throws: MetaTrainingError.self) { try state.checkFits(grouped) }
        grouped.alphaParameterisation = .perParameter
        try state.checkFits(grouped)
    }

    @Test func logAlphaNeedsPositiveInitialStepSizes() {
        var config = Self.groupedConfig()
        config.initialAlpha = 0
        #expect(config.invalidSetting()?.field == "initialAlpha")
        config.initialAlpha = 0.05
        config.alphaLearningRate = 0
        #expect(config.invalidSetting()?.field == "alphaLearningRate")
    }

    @Test func twoPlusTwoResumedIterationsEqualFourWithLogAlphaPerGroup() throws {
        let config = Self.groupedConfig()
        let runs = try PipelineTests.trainStraightAndInterrupted(config, stopAfter: 2)
        let (fourTrainer, resumedTrainer, secondHalf) = (runs.straight, runs.resumed, runs.resumedPipeline)
        let (a, b) = (resumedTrainer.state, fourTrainer.state)
        let same = a.theta == b.theta && a.alpha == b.alpha && a.logAlpha == b.logAlpha
            && a.alphaOptimizer == b.alphaOptimizer && a.thetaOptimizer == b.thetaOptimizer
        #expect(same, "bit-identical θ, α, log α and both Adam states")
        // α moved at its own rate: 4 iterations × 2 outer steps at 0.05 reach well past 1e-3.
        let start = try MetaTrainerState(policy: fourTrainer.policy, config: config).logAlpha ?? []
        let moved = zip(b.logAlpha ?? [], start).map { abs($0 - $1) }.max() ?? 0
        print("log α after 4 iterations: \(b.logAlpha ?? []) (moved up to \(moved))")
        #expect(moved > 0.05)
        // progress.csv: each group's mean α, the last row the state's.
        let rows = secondHalf.progress
        #expect(rows.map(\.iteration) == [1, 2, 3, 4])
        let last = try #require(rows.last?.meanAlphaByGroup)
        #expect(zip(last, b.meanAlpha(by: fourTrainer.policy.alphaGroups)).allSatisfy { abs($0 - $1) <= 1e-5 * abs($1) })
    }

    @Test func groupColumnsRoundTripThroughCSV() throws {
        var row = IterationLog(iteration: 2, preSuccess: 0.5, preReturn: -1, postSuccess: 0.5, postReturn: -1,
                               explorationSuccess: 0, imitationLoss: 0.1, meanAlpha: 1, learningRate: 1e-4,
                               onPolicySamples: 10, daggerSamples: 0, seconds: 1)
        row.meanAlphaByGroup = [1.25, 0.05, 0.0625, 0]
        #expect(IterationLog.csvHeader.contains(",alpha_bias_vector,alpha_head_weights,alpha_head_biases,alpha_log_std,latent_scales,"))
        #expect(row.csvRow.hasSuffix(",1.25,0.05,0.0625,0,,,"), "then no latent scales (one meta-trained step), no anchors")
        let parsed = try #require(IterationLog(csvRow: row.csvRow))
        #expect(parsed.meanAlphaByGroup == row.meanAlphaByGroup && parsed.csvRow == row.csvRow)
        #expect(IterationLog(csvRow: row.csvRow + ",1") == nil)
        var fields = row.csvRow.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        fields[fields.count - 4] = ""
        #expect(IterationLog(csvRow: fields.joined(separator: ",")) == nil, "one group's mean missing")
    }

    // MARK: config.json

    @Test func aConfigWrittenBeforeTheStepSizeSettingsLoadsWithTodaysStepSizes() throws {
        let run = try PipelineTests.temporaryRun()
        defer { try? FileManager.default.removeItem(at: run.url) }
        let config = PipelineTests.config(iterations: 1)
        var object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(config)) as? [String: Any])
        #expect(object.removeValue(forKey: "alphaParameterisation") as? String == "per-parameter")
        #expect(object["alphaLearningRate"] == nil, "unset, the rate is not written")
        try run.write(try JSONSerialization.data(withJSONObject: object), to: RunDirectory.configFile)
        #expect(try run.storedConfiguration(GMPSConfig.self) == config)
    }

    @Test func continuingWithOtherStepSizeSettingsIsRefused() throws {
        let run = try PipelineTests.temporaryRun()
        defer { try? FileManager.default.removeItem(at: run.url) }
        let config = PipelineTests.config(iterations: 1)
        _ = try run.settle(config, mayChange: ["iterations", "threads"], hint: "")
        var faster = config
        faster.alphaLearningRate = 0.01
        var grouped = config
        grouped.alphaParameterisation = .logPerGroup
        for (changed, key) in [(faster, "alphaLearningRate"), (grouped, "alphaParameterisation")] {
            do {
                _ = try run.settle(changed, mayChange: ["iterations", "threads"], hint: "")
                Issue.record("a changed \(key) was accepted")
            } catch let RunDirectory.Failure.settingsDiffer(_, changes, _) {
                #expect(changes.map(\.key) == [key])
            }
        }
        #expect(try run.storedConfiguration(GMPSConfig.self) == config)
    }
}
