import ArgumentParser
import Foundation
import GMPSVision
import VisionEnvs

/// `gmps-vision run`: the whole pipeline on the embedded default configuration.
struct RunCommand: ParsableCommand, RunsOnRanks {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Experts → demonstrations → GMPS meta-training → evaluation on held-out goals → report.",
        discussion: """
            Writes a run directory: config.json, progress.csv, checkpoint.json + policy.safetensors \
            after every iteration, frames/, plots/ and report.md. The experts are the scripted \
            demonstrators (DESIGN.md's "demonstrations are easy to provide" setting). --resume DIR \
            continues an interrupted run exactly where its checkpoint left it. Under mpirun, every \
            rank meta-trains its share of each meta-batch; rank 0 writes the run directory and \
            evaluates.
            """
    )

    @OptionGroup var environment: EnvironmentOrPushOption

    @Option(help: "Run directory (default: runs/ENV-gmps-seedS-TIME).")
    var out: String?

    @Option(help: "Continue the run in this directory from its last checkpoint.")
    var resume: String?

    @Flag(help: "Every stage on a tiny budget (about a minute).")
    var quick = false

    @OptionGroup var output: JSONOption

    @Option(help: "Held-out goals for the evaluation.")
    var evalGoals: Int?

    @Option(help: "Independent adaptation draws per held-out goal.")
    var draws: Int?

    @Option(help: "Adaptation steps at evaluation (success is reported after each).")
    var adaptSteps = 3

    @OptionGroup var options: GMPSOptions

    func validate() throws {
        if resume != nil && out != nil {
            throw ValidationError("--resume continues an existing run directory; drop --out.")
        }
        if let evalGoals, evalGoals < 1 { throw ValidationError("--eval-goals must be at least 1.") }
        if let draws, draws < 1 { throw ValidationError("--draws must be at least 1.") }
        if let problem = MemoryEstimate.evaluationProblem(goals: evalGoals ?? 20, draws: draws ?? 10, steps: adaptSteps,
                                                          goalsOption: "--eval-goals") {
            throw ValidationError(problem)
        }
        guard (1...10).contains(adaptSteps) else { throw ValidationError("--adapt-steps must be in 1...10.") }
        _ = try newConfiguration()
    }

    func run() throws {
        let started = Date()
        let group = Launch.group
        // Rank 0 settles the run directory and its configuration; every rank trains with it.
        let settled = try group.broadcast {
            let (run, config) = try prepareRunDirectory()
            return SettledRun(path: run.url.path, config: config, resuming: resume != nil)
        }
        let run = try RunDirectory(path: settled.path)
        var config = settled.config
        config.threads = options.threads(for: config)
        let pipeline = GMPSPipeline(config: config, run: run, group: group)
        let show = group.isRoot
        var stages: [(stage: String, seconds: Double)] = []
        func timed<T>(_ stage: String, _ body: () throws -> T) rethrows -> T {
            let start = Date()
            defer { stages.append((stage, Date().timeIntervalSince(start))) }
            return try body()
        }
        if show { status("run directory: \(run.url.path)") }

        // Experts and demonstrations (scripted experts: demonstrations are easy to provide).
        let demos = try timed("demonstrations") {
            let display = show ? ProgressDisplay(stage: "demonstrations", total: 1) : nil
            defer { display?.update(1, detail: "\(config.metaTrainTasks) tasks × \(config.demosPerTask) episodes") }
            return try pipeline.demonstrations()
        }

        // GMPS meta-training.
        let trainer = try pipeline.trainer(demos: demos, resume: settled.resuming)
        try timed("meta-training") {
            try pipeline.metaTrain(
                trainer, display: show ? ProgressDisplay(stage: "meta-training", total: config.iterations) : nil,
                pretrainDisplay: show ? ProgressDisplay(stage: "behaviour-cloning pre-training", total: config.pretrainSteps) : nil)
        }
        // Evaluation, pictures and the report are rank 0's.
        guard show else { return }

        // Evaluation on held-out goals, with the reference points.
        let goalCount = evalGoals ?? (quick ? 3 : 20)
        let drawCount = draws ?? (quick ? 2 : 10)
        let testGoals = try pipeline.goals(testCount: goalCount).test
        let state = trainer.state
        let gmps = try timed("evaluation") {
            try pipeline.evaluate(theta: state.theta, alpha: state.alpha, goals: testGoals,
                                  adaptationSteps: adaptSteps, draws: drawCount, seed: config.seed &+ 7,
                                  display: ProgressDisplay(stage: "evaluation (goals)", total: testGoals.count))
        }
        var results: [(label: String, summary: EvaluationSummary, samples: Int?)] = [
            ("GMPS (this run)", gmps, state.onPolicySamples),
        ]
        if let pretrained = try? run.readJSON([Float].self, from: "pretrained_theta.json") {
            let bc = try timed("multi-task BC evaluation") {
                try pipeline.evaluate(theta: pretrained, alpha: state.alpha, goals: testGoals, adaptationSteps: 0,
                                      draws: 1, seed: config.seed &+ 7)
            }
            results.append(("multi-task BC, goal-blind (the pre-trained policy)", bc, 0))
        }
        results.append(("scripted expert (upper bound)", try pipeline.expertSummary(goals: testGoals), nil))

        // Pictures and the report.
        let sheets = try timed("frames") {
            try pipeline.writeContactSheets(theta: state.theta, alpha: state.alpha,
                                            goals: Array(testGoals.prefix(2)), seed: config.seed)
        }
        stages.append(("total", Date().timeIntervalSince(started)))
        let report = RunReport(title: "gmps-vision run: \(config.environment), seed \(config.seed)", config: config,
                               progress: pipeline.progress, results: results, evaluationDraws: drawCount,
                               evaluationGoals: goalCount, sheets: sheets, stageSeconds: stages)
        try report.write(to: run)

        if output.json {
            var object: [String: Any] = [
                "env": config.environment.rawValue, "run_dir": run.url.path, "goals": goalCount, "draws": drawCount,
                "iterations": state.iteration, "on_policy_samples": state.onPolicySamples,
                "pre_success": gmps.preSuccess, "post_success": gmps.postSuccess.first ?? 0,
                "post_success_by_step": gmps.postSuccess, "post_success_spread": gmps.postSuccessSpread.first ?? 0,
                "seconds": Date().timeIntervalSince(started),
            ]
            for (label, summary, _) in results.dropFirst() {
                object[label.hasPrefix("multi-task") ? "multitask_bc_success" : "expert_success"] = summary.preSuccess
            }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(gmps.table(environment: config.environment, goals: goalCount, draws: drawCount))
            print("report: \(run.file("report.md").path)")
        }
    }

    /// The run directory and its configuration: a resumed run's own, or a new one.
    private func prepareRunDirectory() throws -> (RunDirectory, GMPSConfig) {
        if let resume {
            let run = try RunDirectory(path: resume)
            guard run.exists("config.json") else {
                throw ValidationError("\(resume) holds no run (no config.json); start one with `gmps-vision run --out \(resume)`.")
            }
            return (run, try run.readJSON(GMPSConfig.self, from: "config.json"))
        }
        let name = environment.name
        let config = try newConfiguration()
        let path = out ?? "runs/\(name)-gmps-seed\(config.seed)-\(timestamp())"
        let run = try RunDirectory(path: path)
        if run.exists("config.json") {
            let existing = try run.readJSON(GMPSConfig.self, from: "config.json")
            if existing.environment != name {
                throw ValidationError("\(path) holds a \(existing.environment) run, not \(name); choose another --out.")
            }
            throw ValidationError("\(path) already holds a run; continue it with --resume \(path) or choose another --out.")
        }
        try run.writeJSON(config, to: "config.json")
        return (run, config)
    }

    /// The configuration of a new run: --quick's or the default, with the options applied.
    private func newConfiguration() throws -> GMPSConfig {
        try options.configuration(from: quick ? .quick(environment.name) : GMPSConfig(environment: environment.name))
    }

    private func timestamp() -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date())
    }

    private func status(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
