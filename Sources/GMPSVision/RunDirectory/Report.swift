import Foundation
import Renderer

/// `report.md` of a run: the configuration in brief, the results table, learning curves, and
/// held-out episodes before and after adaptation as contact sheets and animations (written
/// beside it as PNG and GIF).
public struct RunReport {
    public var title: String
    public var config: GMPSConfig
    public var progress: [IterationLog]
    /// (label, summary) rows of the results table, e.g. ("GMPS", …), ("multi-task BC", …).
    public var results: [(label: String, summary: EvaluationSummary, samples: Int?)]
    public var evaluationDraws: Int
    public var evaluationGoals: Int
    /// Episode pictures already written into the run directory.
    public var sheets: [EpisodePictures]
    public var stageSeconds: [(stage: String, seconds: Double)]
    /// Environment steps of each stage (by the stage's name in `stageSeconds`), by kind.
    public var stageSteps: [String: Int]
    /// Sentences under the results table: what is missing from it, and why.
    public var notes: [String]

    public init(title: String, config: GMPSConfig, progress: [IterationLog],
                results: [(label: String, summary: EvaluationSummary, samples: Int?)], evaluationDraws: Int,
                evaluationGoals: Int, sheets: [EpisodePictures],
                stageSeconds: [(stage: String, seconds: Double)], stageSteps: [String: Int] = [:], notes: [String] = []) {
        self.title = title
        self.config = config
        self.progress = progress
        self.results = results
        self.evaluationDraws = evaluationDraws
        self.evaluationGoals = evaluationGoals
        self.sheets = sheets
        self.stageSeconds = stageSeconds
        self.stageSteps = stageSteps
        self.notes = notes
    }

    /// Writes the plots and `report.md` into `run`.
    public func write(to run: RunDirectory) throws {
        let samples = progress.map { Double($0.onPolicySamples) }
        var success = LineChart(yRange: 0...1, xTitle: "on-policy samples", yTitle: "success (meta-training tasks)")
        success.series = [
            .init(points: Array(zip(samples, progress.map(\.preSuccess))).map { (x: $0.0, y: $0.1) }, color: Self.beforeColor,
                  name: "before adaptation"),
            .init(points: Array(zip(samples, progress.map(\.postSuccess))).map { (x: $0.0, y: $0.1) }, color: Self.afterColor,
                  name: "after 1 step"),
        ]
        var loss = LineChart(xTitle: "on-policy samples", yTitle: "imitation loss")
        loss.series = [.init(points: Array(zip(samples, progress.map(\.imitationLoss))).map { (x: $0.0, y: $0.1) },
                             color: (40, 90, 200), name: "adapted policies")]
        // The anchors' own losses (unweighted), on the rows that have them.
        let anchors: [(String, KeyPath<IterationLog, Double?>, (UInt8, UInt8, UInt8))] = [
            ("anchor: θ", \.anchorLoss, (200, 120, 40)),
            ("code anchor: θ with each task's code", \.codeAnchorLoss, (120, 60, 160))]
        for (name, keyPath, color) in anchors {
            let points: [(x: Double, y: Double)] = zip(samples, progress).compactMap { x, row in
                row[keyPath: keyPath].map { (x: x, y: $0) }
            }
            if !points.isEmpty { loss.series.append(LineChart.Series(points: points, color: color, name: name)) }
        }
        if !progress.isEmpty {
            try run.write(try PNGFile.encode(success.render()), to: "plots/success.png")
            try run.write(try PNGFile.encode(loss.render()), to: "plots/imitation_loss.png")
        }
        if !validations.isEmpty {
            var validation = LineChart(yRange: 0...1, xTitle: "meta-iteration", yTitle: "success (validation goals)")
            let steps = config.validationAdaptationSteps
            validation.series = [
                .init(points: validations.map { (x: Double($0.iteration), y: $0.pre) }, color: Self.beforeColor,
                      name: "before adaptation"),
                .init(points: validations.map { (x: Double($0.iteration), y: $0.post) }, color: Self.afterColor,
                      name: "after \(steps) step\(steps == 1 ? "" : "s")"),
            ]
            try run.write(try PNGFile.encode(validation.render()), to: "plots/validation_success.png")
        }
        try run.write(Data(markdown.utf8), to: "report.md")
    }

    /// Curves before adaptation are grey, after it red, in every plot.
    static let beforeColor: (UInt8, UInt8, UInt8) = (150, 150, 150), afterColor: (UInt8, UInt8, UInt8) = (200, 60, 40)

    public var markdown: String {
        var lines = ["# \(title)", ""]
        lines += [
            "## Configuration", "",
            "| setting | value |", "|---|---|",
            "| environment | \(config.environment) |",
            "| reward | \(config.reward == .dense ? "dense (shaped)" : "sparse (1 while the success test holds, else 0)") |",
            "| experts, demonstrations | \(config.experts)\(config.experts == .scripted ? "" : " (\(config.expertSteps) steps per expert)"), \(config.demos ?? "collected into demos/")\(config.demoOnlyTasks > 0 ? "; \(config.demoOnlyTaskIndices.count) demo-only tasks" : "") |",
            "| image | \(config.imageHeight) × \(config.imageWidth) |",
            "| meta-training tasks | \(config.metaTrainTasks) |",
            "| iterations × tasks per iteration × rollouts | \(config.iterations) × \(config.tasksPerIteration) × \(config.trajectoriesPerTask) |",
            "| outer steps per iteration, learning rate | \(config.outerSteps), \(config.learningRate) → \(config.finalLearningRate) |",
            "| exploration | \(describe(config.exploration)) |",
            "| adapted parameters, initial α | \(config.adaptedParameters.rawValue), \(config.initialBiasVectorAlpha) (bias vector) / \(config.initialAlpha) |",
            "| meta-gradient | \(config.secondOrder ? "second order" : "first order")\(config.metaTrainedSteps > 1 ? ", the outer loss after \(config.metaTrainedSteps) adaptation steps (latent spread per step learned: `latent_scales` in progress.csv)" : "") |",
            "| behaviour-cloning pre-training | \(config.pretrainSteps) steps |",
            "| DAgger | \(config.daggerStartIteration.map { "from iteration \($0), ≤ \(Int(config.daggerShare * 100))% of each minibatch" } ?? "off") |",
            "| validation | \(config.validationEvery > 0 ? "\(config.validationGoals) goals × \(config.validationDraws) draws, every \(config.validationEvery) iterations" : "off") |",
            "| seed | \(config.seed) |", "",
        ]
        lines += [
            "## Results on held-out goals", "",
            "\(evaluationGoals) meta-test goals × \(evaluationDraws) independent adaptation draws; success at the last step, mean-action rollouts. ± is the spread across draws.", "",
            "| method | before | after 1 step | after last step | return before → after | final distance after | on-policy meta-training samples |",
            "|---|---|---|---|---|---|---|",
        ]
        for row in results {
            let s = row.summary
            let first = s.postSuccess.first.map { String(format: "%.2f ± %.2f", $0, s.postSuccessSpread.first ?? 0) } ?? "–"
            let last = s.postSuccess.last.map { String(format: "%.2f ± %.2f (%d steps)", $0, s.postSuccessSpread.last ?? 0, s.postSuccess.count) } ?? "–"
            let returns = String(format: "%.1f → %.1f", s.preReturn, s.postReturn.last ?? s.preReturn)
            let distance = String(format: "%.3f m", s.postFinalDistance.last ?? s.preFinalDistance)
            lines.append("| \(row.label) | \(String(format: "%.2f", s.preSuccess)) | \(first) | \(last) | \(returns) | \(distance) | \(row.samples.map(String.init) ?? "–") |")
        }
        lines.append("")
        for note in notes { lines += ["Note: \(note)", ""] }
        if !progress.isEmpty {
            lines += [
                "## Learning curves", "",
                "Success on the meta-training tasks of each iteration against on-policy samples: grey before adaptation, red after one adaptation step on fresh rollouts.", "",
                "![success](plots/success.png)", "",
                "Imitation loss of the adapted policies against on-policy samples:", "",
                "![imitation loss](plots/imitation_loss.png)", "",
            ]
        }
        if let last = validations.last {
            lines += [
                "## Validation on held-out goals", "",
                "Success on \(config.validationGoals) validation goals (held out from meta-training and meta-test) × \(config.validationDraws) adaptation draws, "
                + "every \(config.validationEvery) iterations and after the last: y success (0 to 1) against x meta-iteration; "
                + "grey before adaptation, red after \(config.validationAdaptationSteps) adaptation step\(config.validationAdaptationSteps == 1 ? "" : "s") on fresh rollouts. "
                + String(format: "Last (iteration %d): %.2f → %.2f.", last.iteration, last.pre, last.post), "",
                "![validation success](plots/validation_success.png)", "",
                "| iteration | on-policy samples | before | after |", "|---|---|---|---|",
            ]
            lines += validations.map { String(format: "| %d | %d | %.2f | %.2f |", $0.iteration, $0.samples, $0.pre, $0.post) }
            lines.append("")
        }
        if !sheets.isEmpty {
            lines += ["## Held-out episodes", "",
                      "The goal marker is drawn for people; the policy never sees it. Each episode as a contact sheet "
                      + "(every \(EpisodePictures.sheetStride)th step) and, beside it, as an animation (every step, "
                      + "\(100 / GIFFile.defaultFrameDelay) frames per second).", ""]
            for sheet in sheets {
                lines += ["\(sheet.caption)", "",
                          "![\(sheet.caption), contact sheet](\(sheet.sheet)) ![\(sheet.caption), animation](\(sheet.animation))", ""]
            }
        }
        if !stageSeconds.isEmpty {
            lines += ["## Environment steps and wall time by stage", "",
                      "Expert training is off-policy (SAC on privileged state); meta-training counts pre-update, measurement and DAgger rollouts. Seconds are this process's (a resumed run's earlier stages took theirs before).", "",
                      "| stage | environment steps | seconds |", "|---|---|---|"]
            lines += stageSeconds.map { "| \($0.stage) | \(stageSteps[$0.stage].map(String.init) ?? "–") | \(String(format: "%.1f", $0.seconds)) |" }
            lines.append("")
        }
        return lines.joined(separator: "\n")
    }

    /// The iterations that ended with a validation, with its success before and after adaptation.
    private var validations: [(iteration: Int, samples: Int, pre: Double, post: Double)] {
        progress.compactMap { row in
            guard let pre = row.validationPreSuccess, let post = row.validationPostSuccess else { return nil }
            return (row.iteration, row.onPolicySamples, pre, post)
        }
    }

    private func describe(_ exploration: Exploration) -> String {
        switch exploration {
        case .none: return "none"
        case .perStep: return "per-step Gaussian, σ₀ = \(config.initialStd)"
        case let .perTrajectory(std): return "per-trajectory latent (σ_z = \(std)) + per-step σ₀ = \(config.initialStd)"
        case let .latentOnly(std): return "per-trajectory latent (σ_z = \(std)), mean actions"
        }
    }
}
