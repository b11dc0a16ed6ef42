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
            Writes a run directory: config.json, run.json, progress.csv, checkpoint.json + \
            policy-NNNN.safetensors after every iteration, demos/, frames/, plots/ and report.md. The \
            run first trains SAC experts on privileged state for its own meta-training goals into \
            experts/ (resumed per expert; --experts scripted uses the hand-written controllers \
            instead, a folder uses experts trained before); demonstrations are collected from the experts into demos/ \
            (resumed per task) unless --demos gives a dataset, and DAgger labels come from the same \
            experts. --resume DIR continues an interrupted run exactly where its checkpoint left it, on the \
            run's own settings (--quick included; only --iterations and --threads may change). One \
            process writes a run directory at a time. Under mpirun, every \
            rank meta-trains its share of each meta-batch; rank 0 writes the run directory and \
            evaluates. With --experts sac, expert j is trained by rank j mod N into experts/, \
            which must then be on a file system every rank shares.
            """
    )

    @OptionGroup var environment: EnvironmentOrPushOption

    @Option(help: "Run directory (default: runs/ENV-gmps-seedS-TIME).") var out: String?

    @Option(help: "Continue the run in this directory from its last checkpoint.") var resume: String?

    @Flag(help: "Every stage on a tiny budget (about a minute).") var quick = false

    @OptionGroup var output: JSONOption

    @Option(help: "Held-out goals for the evaluation.") var evalGoals: Int?

    @Option(help: "Independent adaptation draws per held-out goal.") var draws: Int?

    @Option(help: "Adaptation steps at evaluation (success is reported after each; default 3).") var adaptSteps: Int?

    @OptionGroup var options: GMPSOptions

    func validate() throws {
        if out == "" { throw ValidationError(OutputFolderOption.emptyPath) }
        if resume != nil && out != nil {
            throw ValidationError("--resume continues an existing run directory; drop --out.")
        }
        if let evalGoals, evalGoals < 1 { throw ValidationError("--eval-goals must be at least 1.") }
        if let draws, draws < 1 { throw ValidationError("--draws must be at least 1.") }
        if let problem = MemoryEstimate.evaluationProblem(goals: evalGoals ?? 20, draws: draws ?? 10, steps: adaptSteps ?? 3,
                                                          goalsOption: "--eval-goals") {
            throw ValidationError(problem)
        }
        if let adaptSteps, !(1...10).contains(adaptSteps) { throw ValidationError("--adapt-steps must be in 1...10.") }
        _ = try newConfiguration()
    }

    func run() throws {
        let started = Date()
        let group = Launch.group
        if group.isRoot { noteKernelOverride() }
        // Rank 0 takes the run directory's lock and settles its configuration; every rank
        // trains with it.
        var lock: RunLock?
        var evaluation = settings(over: nil)
        let settled = try group.broadcast {
            let prepared = try prepareRunDirectory()
            (lock, evaluation) = (prepared.lock, prepared.evaluation)
            return SettledRun(path: prepared.run.url.path, config: prepared.config, resuming: resume != nil)
        }
        defer { withExtendedLifetime(lock) {} }
        let run = RunDirectory(unopened: settled.path)
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

        // Experts on privileged state, then demonstrations from them.
        try timed("experts") {
            let display = show && config.experts != .scripted
                ? ProgressDisplay(stage: "experts (env steps)", total: config.expertSteps * pipeline.expertTaskIndices.count) : nil
            _ = try pipeline.experts { p in
                display?.update(p.envSteps, detail: "\(p.expertsDone)/\(p.experts) experts done · eval success so far \(String(format: "%.2f", p.successSoFar))")
            }
        }
        let demos = try timed("demonstrations") {
            let display = show ? ProgressDisplay(stage: "demonstrations", total: pipeline.collectedTaskIndices.count * config.demosPerTask) : nil
            return try pipeline.demonstrations { p in
                display?.update(p.episodes, detail: "success \(String(format: "%.2f", p.successRate))")
            }
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
        let (goalCount, drawCount, adaptSteps) = (evaluation.evalGoals, evaluation.draws, evaluation.adaptSteps)
        let testGoals = try pipeline.goals(testCount: goalCount).test
        let state = trainer.state
        let gmps = try timed("evaluation") {
            try pipeline.evaluate(theta: state.theta, alpha: state.alpha, latentScales: state.latentScales, goals: testGoals,
                                  adaptationSteps: adaptSteps, draws: drawCount, seed: config.seed &+ 7,
                                  display: ProgressDisplay(stage: "evaluation (goals)", total: testGoals.count))
        }
        var results: [(label: String, summary: EvaluationSummary, samples: Int?)] = [
            ("GMPS (this run)", gmps, state.onPolicySamples),
        ]
        var notes: [String] = []
        if let pretrained = try pipeline.pretrainedTheta() {
            let bc = try timed("multi-task BC evaluation") {
                try pipeline.evaluate(theta: pretrained, alpha: state.alpha, latentScales: [], goals: testGoals, adaptationSteps: 0,
                                      draws: 1, seed: config.seed &+ 7)
            }
            results.append(("multi-task BC, goal-blind (the pre-trained policy)", bc, 0))
        } else {
            notes.append("The multi-task BC row is missing: this run has no \(GMPSPipeline.pretrainedFile) (it was interrupted between pre-training and that file, before gmps-vision wrote the file first).")
            status("note: " + notes[0])
        }
        results.append(("scripted expert (upper bound)", try timed("expert reference") { try pipeline.expertSummary(goals: testGoals) }, nil))

        // Pictures and the report.
        let sheets = try timed("frames") {
            try pipeline.writeEpisodePictures(theta: state.theta, alpha: state.alpha, latentScales: state.latentScales,
                                            goals: Array(testGoals.prefix(2)), seed: config.seed)
        }
        // Where meta-training's time went (parts of its row above).
        let split = pipeline.iterationSeconds
        stages += [("meta-training: behaviour-cloning pre-training", pipeline.pretrainSeconds),
                   ("meta-training: rollouts", split.rollouts), ("meta-training: outer steps", split.outerSteps),
                   ("meta-training: measurement", split.measurement)]
        if pipeline.environmentSteps.evaluation > 0 {
            stages.append(("validation (within meta-training)", pipeline.validationSeconds))
        }
        stages.append(("total", Date().timeIntervalSince(started)))
        let steps = stageSteps(pipeline, goals: goalCount, draws: drawCount, adaptSteps: adaptSteps, sheets: sheets.count / 2,
                               stages: Set(stages.map(\.stage)))
        let report = RunReport(title: "gmps-vision run: \(config.environment), seed \(config.seed)", config: config,
                               progress: pipeline.progress, results: results, evaluationDraws: drawCount,
                               evaluationGoals: goalCount, sheets: sheets, stageSeconds: stages, stageSteps: steps, notes: notes)
        try report.write(to: run)

        if output.json {
            var object: [String: Any] = [
                "env": config.environment.rawValue, "reward": config.reward.rawValue, "run_dir": run.url.path, "goals": goalCount, "draws": drawCount,
                "iterations": state.iteration, "on_policy_samples": state.onPolicySamples,
                "pre_success": gmps.preSuccess, "post_success": gmps.postSuccess.first ?? 0,
                "post_success_by_step": gmps.postSuccess, "post_success_spread": gmps.postSuccessSpread.first ?? 0,
                "seconds": Date().timeIntervalSince(started), "experts": config.experts.description,
                "stage_seconds": Dictionary(stages.map { ($0.stage, $0.seconds) }, uniquingKeysWith: { $0 + $1 }),
                "expert_env_steps": steps["experts"] ?? 0, "demo_env_steps": steps["demonstrations"] ?? 0,
                "meta_training_env_steps": steps["meta-training"] ?? 0,
                "evaluation_env_steps": ["evaluation", "multi-task BC evaluation", "expert reference", "frames", "validation (within meta-training)"].compactMap { steps[$0] }.reduce(0, +),
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

    /// Environment steps of each stage of the report (evaluation's counted from its protocol:
    /// `sheets` goals pictured after one adaptation step, before and after).
    private func stageSteps(_ pipeline: GMPSPipeline, goals: Int, draws: Int, adaptSteps: Int, sheets: Int,
                            stages: Set<String>) -> [String: Int] {
        let config = pipeline.config, horizon = config.environment.horizon, k = config.trajectoriesPerTask
        let counted = pipeline.environmentSteps
        var steps = ["experts": counted.expertTraining, "demonstrations": counted.demonstrations,
                     "meta-training": counted.metaTraining,
                     "evaluation": MetaTestEvaluator.environmentSteps(goals: goals, draws: draws, adaptationSteps: adaptSteps,
                                                                      trajectories: k, horizon: horizon),
                     "expert reference": goals * horizon,
                     "frames": sheets * horizon * (k + 2), "validation (within meta-training)": counted.evaluation]
        if stages.contains("multi-task BC evaluation") { steps["multi-task BC evaluation"] = goals * horizon }
        steps["total"] = steps.values.reduce(0, +)
        return steps
    }

    /// The run directory (locked) and its settings: a resumed run's own, or a new one's.
    private func prepareRunDirectory() throws
        -> (run: RunDirectory, lock: RunLock, config: GMPSConfig, evaluation: RunCommandSettings) {
        if let resume {
            let stored = try RunDirectory.existingRun(resume, hint: "start one with `gmps-vision run --out \(resume)`").config
            let (run, lock) = try RunDirectory.openForWriting(resume)
            let storedEvaluation = try run.exists(RunCommandSettings.file)
                ? run.readJSON(RunCommandSettings.self, from: RunCommandSettings.file) : nil
            let evaluation = settings(over: storedEvaluation)
            let (config, _) = try run.settle(
                try options.configuration(from: stored), mayChange: GMPSOptions.changeableSettings,
                otherChanges: storedEvaluation.map { evaluation.changes(from: $0) } ?? [],
                options: GMPSOptions.optionSetting.merging(RunCommandSettings.options) { $1 },
                hint: "--resume continues it with them (only --iterations and --threads may change); for other settings start a new run with --out.")
            if storedEvaluation == nil { try run.writeJSON(evaluation, to: RunCommandSettings.file) }
            return (run, lock, config, evaluation)
        }
        let name = environment.name
        let config = try newConfiguration()
        let path = out ?? "runs/\(name)-gmps-seed\(config.seed)-\(timestamp())"
        let (run, lock) = try RunDirectory.openForWriting(path)
        if let existing = try run.storedConfiguration(GMPSConfig.self) {
            if existing.environment != name {
                throw ValidationError("\(path) holds a \(existing.environment) run, not \(name); choose another --out.")
            }
            throw ValidationError("\(path) already holds a run; continue it with --resume \(path) or choose another --out.")
        }
        let evaluation = settings(over: nil)
        try run.writeJSON(config, to: RunDirectory.configFile)
        try run.writeJSON(evaluation, to: RunCommandSettings.file)
        return (run, lock, config, evaluation)
    }

    /// The evaluation settings: the options given, over a resumed run's own (`stored`) or the defaults.
    private func settings(over stored: RunCommandSettings?) -> RunCommandSettings {
        let quick = stored?.quick ?? self.quick
        return RunCommandSettings(quick: quick || self.quick, evalGoals: evalGoals ?? stored?.evalGoals ?? (quick ? 3 : 20),
                                  draws: draws ?? stored?.draws ?? (quick ? 2 : 10),
                                  adaptSteps: adaptSteps ?? stored?.adaptSteps ?? 3)
    }

    /// The configuration of a new run: --quick's or the default, with the options applied.
    /// (A resumed run's --quick is its config.json's and run.json's.)
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

/// The run command's settings beyond config.json, in the run directory as `run.json`, so that
/// `--resume` evaluates and reports as the run was started.
struct RunCommandSettings: Codable, Equatable {
    static let file = "run.json"
    /// The option that sets each key, to name it in a message.
    static let options = ["quick": "--quick", "evalGoals": "--eval-goals", "draws": "--draws", "adaptSteps": "--adapt-steps"]

    /// Started with --quick (its evaluation defaults: 3 goals, 2 draws).
    var quick: Bool
    var evalGoals: Int
    var draws: Int
    var adaptSteps: Int

    /// The settings that differ from `stored`.
    func changes(from stored: RunCommandSettings) -> [SettingChange] {
        (try? SettingChange.between(stored, self)) ?? []
    }
}
