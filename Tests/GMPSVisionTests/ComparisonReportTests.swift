import Foundation
import Testing
@testable import GMPSVision

/// compare.md, compare.png and --json from hand-made results: spread over seeds, the samples
/// each method needs for the other's best, and the headline ratio against the stronger MAML.
struct ComparisonReportTests {
    static func result(_ method: ComparisonMethod, seed: UInt64, curve: [(Int, Double)], post: [Double]) -> MethodRunResult {
        MethodRunResult(
            method: method, seed: seed,
            curve: curve.enumerated().map { index, point in
                SnapshotEvaluation(iteration: index, onPolicySamples: point.0, preSuccess: 0, postSuccess: point.1,
                                   environmentSteps: 10, seconds: 1)
            },
            final: FinalEvaluation(iteration: curve.count - 1, goals: 2, draws: 1, preSuccess: 0.1, postSuccess: post,
                                   postSuccessSpread: post.map { _ in 0 }, environmentSteps: 100, seconds: 1),
            samples: SampleCounts(onPolicy: curve.last?.0 ?? 0, expert: 0, demo: 50, evaluation: 130),
            seconds: ["meta-training": 60, "evaluation": 5])
    }

    static var report: ComparisonReport {
        var config = ComparisonConfig(environment: .push, budget: 200)
        config.seeds = 2
        config.finalAdaptationSteps = 2
        return ComparisonReport(config: config, results: [
            (.gmps, [result(.gmps, seed: 1, curve: [(0, 0.2), (100, 0.5), (200, 0.8)], post: [0.6, 0.8]),
                     result(.gmps, seed: 2, curve: [(0, 0.2), (100, 0.5), (200, 0.6)], post: [0.4, 0.6])]),
            (.mamlPG, [result(.mamlPG, seed: 1, curve: [(0, 0.0), (1000, 0.1), (2000, 0.1)], post: [0.1, 0.1]),
                       result(.mamlPG, seed: 2, curve: [(0, 0.0), (1000, 0.1), (2000, 0.1)], post: [0.1, 0.1])]),
            (.mamlPGPretrained, [result(.mamlPGPretrained, seed: 1, curve: [(0, 0.1), (1000, 0.5), (2000, 0.4)], post: [0.4, 0.4]),
                                 result(.mamlPGPretrained, seed: 2, curve: [(0, 0.1), (1000, 0.5), (2000, 0.4)], post: [0.4, 0.4])]),
        ], command: "gmps-vision compare --env push")
    }

    @Test func theTableShowsSuccessAsMeanAndSpreadOverSeedsAndSamplesByKind() {
        let markdown = Self.report.markdown
        #expect(markdown.contains("| GMPS | 2 | 0.10 ± 0.00 | 0.50 ± 0.10 | 0.70 ± 0.10 | 200 | 0 | 50 | 130 | 380 | 1 min 5 s |"), "\(markdown)")
        #expect(markdown.contains("| MAML-PG | 2 | 0.10 ± 0.00 | 0.10 ± 0.00 | 0.10 ± 0.00 | 2,000 |"))
        #expect(markdown.contains("`gmps-vision compare --env push`"))
    }

    @Test func theHeadlineRatioIsAgainstTheStrongerMAMLAndSaysItsBound() throws {
        let report = Self.report
        let headline = try #require(report.headlineRatio)
        #expect(headline.maml == .mamlPGPretrained, "its best (0.5) beats plain MAML's (0.1)")
        // MAML's best 0.5 < GMPS's 0.7: MAML's whole 2000 over GMPS's 200 to pass 0.5.
        #expect(headline.ratio.value == 10 && headline.ratio.bound == .lower)
        let object = report.jsonObject(folder: RunDirectory(unopened: "/tmp/x"))
        #expect(object["samples_ratio"] as? Double == 10)
        #expect(object["samples_ratio_is_lower_bound"] as? Bool == true)
        #expect(object["samples_ratio_against"] as? String == "maml-pg-pretrained")
        let methods = try #require(object["methods"] as? [[String: Any]])
        #expect(methods.map { $0["name"] as? String } == ["gmps", "maml-pg", "maml-pg-pretrained"])
        #expect(methods[0]["post_success"] as? Double == 0.5)
        #expect(methods[0]["total_env_steps"] as? Int == 380)
        #expect(JSONSerialization.isValidJSONObject(object))
        let markdown = report.markdown
        #expect(markdown.contains("**Samples ratio, MAML-PG, BC start / GMPS**: at least 10"), "\(markdown)")
        #expect(markdown.contains("GMPS reaches MAML-PG, BC start's best held-out success (0.50, at 1,000 on-policy samples) at 100 on-policy samples."))
        #expect(markdown.contains("MAML-PG never reaches GMPS's best held-out success (0.70, at 200 on-policy samples) within its 2,000"))
    }

    @Test func aRowWithoutOnPolicySamplesIsSaidOnceWithWhereGMPSPassesIt() {
        var config = ComparisonConfig(environment: .push, budget: 200)
        config.seeds = 1
        config.finalAdaptationSteps = 2
        func report(start: Double) -> String {
            ComparisonReport(config: config, results: [
                (.gmps, [Self.result(.gmps, seed: 1, curve: [(0, 0.2), (100, 0.5), (200, 0.8)], post: [0.6, 0.8])]),
                (.noMetaTraining, [Self.result(.noMetaTraining, seed: 1, curve: [(0, start)], post: [start, start])]),
            ], command: "gmps-vision compare --env push").markdown
        }
        let passed = report(start: 0.5)
        #expect(passed.contains("- no meta-training (BC + latent search) takes no on-policy samples (held-out success 0.50 after one step); GMPS passes it at 200 on-policy samples."), "\(passed)")
        #expect(!passed.contains("reaches no meta-training") && !passed.contains("no meta-training (BC + latent search) reaches"))
        let never = report(start: 0.8)
        #expect(never.contains("GMPS never passes it within its 200 (its best: 0.80)."), "\(never)")
    }

    @Test func thePlotDrawsABandPerMethodOverItsSeeds() throws {
        let chart = Self.report.chart
        #expect(chart.series.map(\.name) == ["GMPS", "MAML-PG", "MAML-PG, BC start"])
        let gmps = chart.series[0]
        #expect(gmps.band.count == 3)
        #expect(gmps.band[2].low == 0.6 && gmps.band[2].high == 0.8)
        #expect(chart.xTitle?.contains("min-max over 2 seeds") == true)
        #expect(chart.logX, "MAML's ten-fold budget would squeeze GMPS into a linear axis's left tenth")
        let image = chart.render()
        var tinted = 0
        for y in 0..<image.height { for x in 0..<image.width where image[x, y] == gmps.bandColor { tinted += 1 } }
        #expect(tinted > 100, "GMPS's band is drawn (\(tinted) pixels)")
    }

    /// A comparison on validation goals says so in its text, axis and JSON; one on meta-test
    /// goals calls them held-out.
    @Test func theReportNamesTheGoalsItWasEvaluatedOn() throws {
        var report = Self.report
        #expect(report.markdown.contains("Held-out goals of each seed's meta-test split: the table adapts on 20 goals"))
        #expect(report.chart.yTitle == "held-out success after 1 step")
        report.config.goals = .validation
        #expect(report.markdown.contains("Validation goals of each seed (disjoint from meta-training and meta-test: the goals to tune on): the table adapts on 20 goals"))
        #expect(report.chart.yTitle == "validation success after 1 step")
        #expect(report.jsonObject(folder: RunDirectory(unopened: "/tmp/x"))["goals"] as? String == "validation")
    }
}
