import Foundation
import Renderer

/// `compare.md` and `compare.png` of a comparison: the table (success before and after
/// adaptation ± spread over seeds, samples by kind, wall time), held-out success after one
/// adaptation step against on-policy samples with a min–max band over seeds per method, the
/// samples each method needs to reach the others' best, and the samples ratio of issue 15.
public struct ComparisonReport {
    public var config: ComparisonConfig
    /// Each method's finished seeds, in the order of `config.methods`.
    public var results: [(method: ComparisonMethod, runs: [MethodRunResult])]
    /// The command that made it, shown so that it can be run again.
    public var command: String

    public static let markdownFile = "compare.md", plotFile = "compare.png"

    public init(config: ComparisonConfig, results: [(method: ComparisonMethod, runs: [MethodRunResult])], command: String) {
        self.config = config
        self.results = results.filter { !$0.runs.isEmpty }
        self.command = command
    }

    // MARK: Figures

    /// A method's figures over its seeds.
    public struct MethodFigures {
        public var method: ComparisonMethod
        public var seeds: Int
        public var band: SeedBand
        /// Mean and spread over seeds of success before, and after each adaptation step.
        public var pre: (mean: Double, spread: Double)
        public var post: [(mean: Double, spread: Double)]
        /// Mean environment steps per seed, by kind.
        public var onPolicy: Int, expert: Int, demo: Int, evaluation: Int
        public var total: Int { onPolicy + expert + demo + evaluation }
        /// Mean wall seconds per seed.
        public var seconds: Double
    }

    public var figures: [MethodFigures] {
        results.map { method, runs in
            func mean(_ values: [Int]) -> Int { values.reduce(0, +) / max(values.count, 1) }
            let steps = runs.map(\.final.postSuccess.count).min() ?? 0
            return MethodFigures(
                method: method, seeds: runs.count, band: SeedBand(seeds: runs.map(\.efficiencyCurve)),
                pre: SeedBand.meanAndSpread(runs.map(\.final.preSuccess)),
                post: (0..<steps).map { step in SeedBand.meanAndSpread(runs.map { $0.final.postSuccess[step] }) },
                onPolicy: mean(runs.map(\.samples.onPolicy)), expert: mean(runs.map(\.samples.expert)),
                demo: mean(runs.map(\.samples.demo)), evaluation: mean(runs.map(\.samples.evaluation)),
                seconds: runs.map(\.totalSeconds).reduce(0, +) / Double(max(runs.count, 1)))
        }
    }

    /// The samples ratio against each MAML variant run (`SampleEfficiency.ratio` on the
    /// seed-mean curves, each method's whole budget its mean on-policy samples).
    public var ratios: [(maml: ComparisonMethod, ratio: SampleEfficiency.Ratio)] {
        let all = figures
        guard let gmps = all.first(where: { $0.method == .gmps }) else { return [] }
        return all.filter(\.method.isMAML).compactMap { maml in
            SampleEfficiency.ratio(gmps: gmps.band.meanCurve, maml: maml.band.meanCurve,
                                   gmpsBudget: gmps.onPolicy, mamlBudget: maml.onPolicy).map { (maml.method, $0) }
        }
    }

    /// The headline ratio: against the strongest MAML (the highest best on its mean curve; the
    /// first in table order on a tie).
    public var headlineRatio: (maml: ComparisonMethod, ratio: SampleEfficiency.Ratio)? {
        let best = Dictionary(uniqueKeysWithValues: figures.map { ($0.method, SampleEfficiency.best($0.band.meanCurve)) })
        var chosen: (maml: ComparisonMethod, ratio: SampleEfficiency.Ratio)?
        for entry in ratios {
            if let current = chosen, (best[entry.maml] ?? 0) <= (best[current.maml] ?? 0) + SampleEfficiency.tolerance { continue }
            chosen = entry
        }
        return chosen
    }

    // MARK: Files

    /// Writes `compare.png` and `compare.md` into `folder`, each whole or not at all.
    public func write(to folder: RunDirectory) throws {
        try folder.write(try PNGFile.encode(chart.render()), to: Self.plotFile)
        try folder.write(Data(markdown.utf8), to: Self.markdownFile)
    }

    /// Colours per method: GMPS red as in a run's report, its pre-trained policy grey, the MAMLs
    /// blue, green, purple and teal.
    static func color(_ method: ComparisonMethod) -> (UInt8, UInt8, UInt8) {
        switch method {
        case .gmps: return (200, 60, 40)
        case .noMetaTraining: return (130, 130, 130)
        case .mamlPG: return (40, 90, 200)
        case .mamlPGPretrained: return (30, 150, 70)
        case .mamlProMP: return (150, 60, 170)
        case .mamlProMPScratch: return (20, 170, 190)
        }
    }

    /// Held-out success after one adaptation step against on-policy samples (a log scale: MAML
    /// runs ten times GMPS's budget, which a linear axis squeezed into its left tenth), a line
    /// per method over a min–max band over seeds. no-meta-training spends no on-policy sample:
    /// a level across the plot. Snapshots at 0 samples sit off a log axis; the table has them.
    public var chart: LineChart {
        let all = figures
        let seeds = all.map(\.seeds).max() ?? 1
        var chart = LineChart(width: 640, height: 400, yRange: 0...1,
                              xTitle: "on-policy samples, log scale" + (seeds > 1 ? " (bands: min-max over \(seeds) seeds)" : ""),
                              yTitle: "\(config.goals.label) success after 1 step")
        chart.logX = true
        let samples = all.flatMap { $0.band.points.map(\.samples) }.filter { $0 > 0 }
        let (left, right) = (samples.min() ?? 1, samples.max() ?? 1)
        chart.series = all.map { figure in
            var points = figure.band.points
            if figure.method == .noMetaTraining, let level = points.first {
                points = [left, right].map { SeedBand.Point(samples: $0, mean: level.mean, min: level.min, max: level.max) }
            }
            return LineChart.Series(points: points.map { (x: Double($0.samples), y: $0.mean) }, color: Self.color(figure.method),
                                    name: figure.method.label,
                                    band: figure.seeds > 1 ? points.map { (x: Double($0.samples), low: $0.min, high: $0.max) } : [])
        }
        return chart
    }

    public var markdown: String {
        let all = figures
        let gmps = config.gmps(seed: 1)
        let mamlIterations = config.maml(seed: 1, method: .mamlPG).gmps.iterations
        var lines = [
            "# gmps-vision compare: \(config.environment), \(config.reward) reward, \(config.seeds) seed\(config.seeds == 1 ? "" : "s")\(config.quick ? " (quick)" : "")",
            "",
            "`\(command)`",
            "",
            "GMPS's on-policy budget: \(Self.count(config.budget)) samples (\(gmps.iterations) meta-iterations, experts: \(gmps.experts)); "
                + "MAML's: \(config.mamlBudgetFactor)× that, \(Self.count(config.mamlBudget)) (\(mamlIterations) iterations). "
                + (config.goals == .metaTest ? "Held-out goals of each seed's meta-test split" : "Validation goals of each seed (disjoint from meta-training and meta-test: the goals to tune on)")
                + ": the table adapts on \(config.finalGoals) goals × \(config.finalDraws) draw(s) each, "
                + "the curve on \(config.curveGoals) × \(config.curveDraws) after one step, at \(config.curvePoints + 1) or so snapshots.",
            "",
            "| method | seeds | before | after 1 step | after \(config.finalAdaptationSteps) steps | on-policy | expert | demo | evaluation | all steps | wall time |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        func success(_ value: (mean: Double, spread: Double)?) -> String {
            value.map { String(format: "%.2f ± %.2f", $0.mean, $0.spread) } ?? "–"
        }
        for figure in all {
            lines.append("| \(figure.method.label) | \(figure.seeds) | \(success(figure.pre)) | \(success(figure.post.first)) | "
                         + "\(success(figure.post.count >= config.finalAdaptationSteps ? figure.post[config.finalAdaptationSteps - 1] : nil)) | "
                         + "\(Self.count(figure.onPolicy)) | \(Self.count(figure.expert)) | \(Self.count(figure.demo)) | "
                         + "\(Self.count(figure.evaluation)) | \(Self.count(figure.total)) | \(Self.duration(figure.seconds)) |")
        }
        lines += [
            "",
            "Success: mean over seeds ± standard deviation over seeds of the last snapshot's held-out success. "
                + "Samples (environment steps) and wall time: per seed, mean over seeds. On-policy: the method's own training rollouts; "
                + "expert: SAC training of the experts; demo: demonstration episodes; evaluation: training's measurement rollouts and "
                + "this comparison's evaluations. The no-meta-training row is GMPS's pre-trained policy: its experts, demonstrations "
                + "and pre-training are GMPS's own, counted in both rows.",
            "",
            "![held-out success after one adaptation step against on-policy samples](\(Self.plotFile))",
            "",
            "## Samples to reach the other's best",
            "",
            "First crossing on the measured snapshots of the seed-mean curve (no interpolation: a count is at most the snapshot spacing late).",
            "",
        ]
        if let gmpsFigure = all.first(where: { $0.method == .gmps }) {
            for other in all where other.method != .gmps {
                guard other.onPolicy > 0 else {
                    lines.append("- " + passSentence(gmpsFigure, start: other))
                    continue
                }
                lines.append("- " + reachSentence(gmpsFigure, toBestOf: other))
                lines.append("- " + reachSentence(other, toBestOf: gmpsFigure))
            }
            lines.append("")
        }
        for (maml, ratio) in ratios {
            let bold = headlineRatio?.maml == maml ? "**" : ""
            lines.append("- \(bold)Samples ratio, \(maml.label) / GMPS\(bold): \(Self.ratioText(ratio)).")
        }
        if let headline = headlineRatio {
            lines += ["", "The headline ratio (`samples_ratio` in `--json`) is against \(headline.maml.label), the MAML with the higher best held-out success."]
        }
        lines += ["", "## Runs", ""]
        for (method, runs) in results {
            lines.append("- \(method.label): " + runs.map { "`\(Comparison.runName(method, seed: $0.seed))/`" }.joined(separator: ", "))
        }
        lines.append("")
        lines.append("Each run directory holds `config.json`, its checkpoint, `snapshots/iter-NNNN/` (each a run that "
                     + "`gmps-vision evaluate --run` reads, with its curve point in `evaluation.json`), `final.json` and `result.json`.")
        return lines.joined(separator: "\n") + "\n"
    }

    /// "A reaches B's best (0.40, at 12k on-policy samples) at 3.2k samples" or "never within its budget".
    private func reachSentence(_ method: MethodFigures, toBestOf other: MethodFigures) -> String {
        let otherCurve = other.band.meanCurve
        let level = SampleEfficiency.best(otherCurve)
        let otherSamples = SampleEfficiency.samplesToReach(level, on: otherCurve) ?? 0
        let reached = SampleEfficiency.samplesToReach(level, on: method.band.meanCurve)
        let what = "\(other.method.label)'s best held-out success (\(String(format: "%.2f", level)), at \(Self.count(otherSamples)) on-policy samples)"
        if let reached { return "\(method.method.label) reaches \(what) at \(Self.count(reached)) on-policy samples." }
        return "\(method.method.label) never reaches \(what) within its \(Self.count(method.onPolicy)) (its best: "
            + "\(String(format: "%.2f", SampleEfficiency.best(method.band.meanCurve))))."
    }

    /// For a row without on-policy samples (no meta-training: a flat line): whether and where
    /// `method`'s curve passes it (strictly above), "reaches … at 0" saying nothing.
    private func passSentence(_ method: MethodFigures, start: MethodFigures) -> String {
        let level = SampleEfficiency.best(start.band.meanCurve), curve = method.band.meanCurve
        let what = "\(start.method.label) takes no on-policy samples (held-out success \(String(format: "%.2f", level)) after one step)"
        if let passed = SampleEfficiency.samplesToPass(level, on: curve) {
            return "\(what); \(method.method.label) passes it at \(Self.count(passed)) on-policy samples."
        }
        return "\(what); \(method.method.label) never passes it within its \(Self.count(method.onPolicy)) (its best: "
            + "\(String(format: "%.2f", SampleEfficiency.best(curve))))."
    }

    static func ratioText(_ ratio: SampleEfficiency.Ratio) -> String {
        guard let value = ratio.value else {
            return "undefined: both reach \(String(format: "%.2f", ratio.level)) without an on-policy sample"
        }
        let figure = String(format: value >= 10 ? "%.0f" : "%.2g", value)
        switch ratio.bound {
        case .exact:
            return "\(figure) (MAML \(count(ratio.mamlSamples)) / GMPS \(count(ratio.gmpsSamples)) samples to \(String(format: "%.2f", ratio.level)))"
        case .lower:
            return "at least \(figure) (MAML never reaches GMPS's level: its \(count(ratio.mamlSamples)) samples / GMPS's \(count(ratio.gmpsSamples)) to pass \(String(format: "%.2f", ratio.level)))"
        case .upper:
            return "at most \(figure) (GMPS never reaches MAML's best \(String(format: "%.2f", ratio.level)): MAML's \(count(ratio.mamlSamples)) samples / GMPS's whole \(count(ratio.gmpsSamples)))"
        }
    }

    /// 1234567 → "1,234,567".
    static func count(_ value: Int) -> String {
        let digits = String(abs(value))
        var groups: [String] = []
        var end = digits.endIndex
        while end > digits.startIndex {
            let start = digits.index(end, offsetBy: -3, limitedBy: digits.startIndex) ?? digits.startIndex
            groups.insert(String(digits[start..<end]), at: 0)
            end = start
        }
        return (value < 0 ? "-" : "") + groups.joined(separator: ",")
    }

    /// 42 → "42 s", 250 → "4 min 10 s", 4000 → "1 h 6 min".
    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded())
        if whole < 60 { return "\(whole) s" }
        if whole < 3600 { return "\(whole / 60) min \(whole % 60) s" }
        return "\(whole / 3600) h \(whole % 3600 / 60) min"
    }

    // MARK: --json

    /// The `--json` object: `methods` (name, post_success after one step, on_policy_samples,
    /// total_env_steps, …), `samples_ratio` (nil as JSON null) and its bound, and the files.
    public func jsonObject(folder: RunDirectory) -> [String: Any] {
        let methods: [[String: Any]] = figures.map { figure in
            [
                "name": figure.method.rawValue, "label": figure.method.label, "seeds": figure.seeds,
                "pre_success": figure.pre.mean, "pre_success_spread": figure.pre.spread,
                "post_success": figure.post.first?.mean ?? 0, "post_success_spread": figure.post.first?.spread ?? 0,
                "post_success_by_step": figure.post.map(\.mean), "post_success_spread_by_step": figure.post.map(\.spread),
                "on_policy_samples": figure.onPolicy, "expert_env_steps": figure.expert, "demo_env_steps": figure.demo,
                "evaluation_env_steps": figure.evaluation, "total_env_steps": figure.total, "seconds": figure.seconds,
                "curve": figure.band.points.map { ["on_policy_samples": $0.samples, "post_success": $0.mean, "min": $0.min, "max": $0.max] },
            ]
        }
        var object: [String: Any] = [
            "env": config.environment.rawValue, "reward": config.reward.rawValue, "seeds": config.seeds,
            "goals": config.goals.rawValue, "budget": config.budget, "maml_budget": config.mamlBudget, "quick": config.quick, "out": folder.url.path,
            "report": folder.file(Self.markdownFile).path, "plot": folder.file(Self.plotFile).path, "methods": methods,
            "samples_ratio": NSNull(), "samples_ratio_is_lower_bound": false, "samples_ratio_is_upper_bound": false,
        ]
        if let (maml, ratio) = headlineRatio {
            object["samples_ratio"] = ratio.value.map { $0 as Any } ?? NSNull()
            object["samples_ratio_is_lower_bound"] = ratio.bound == .lower
            object["samples_ratio_is_upper_bound"] = ratio.bound == .upper
            object["samples_ratio_against"] = maml.rawValue
            object["samples_ratio_level"] = ratio.level
            object["samples_ratio_maml_samples"] = ratio.mamlSamples
            object["samples_ratio_gmps_samples"] = ratio.gmpsSamples
        }
        return object
    }
}
