import ArgumentParser
import ConvNet
import Foundation
import GMPSVision
import VisionEnvs

/// `gmps-vision experts`: trains SAC experts on privileged state for the meta-training tasks,
/// evaluates each on its task, and writes an expert folder for `demos` and GMPS.
struct ExpertsCommand: ParsableCommand, RunsOnRanks {
    static let configuration = CommandConfiguration(
        commandName: "experts",
        abstract: "Train SAC experts on privileged state for the meta-training tasks.",
        discussion: """
            The meta-training tasks are the first --tasks goals of the environment's meta split \
            drawn with --goal-seed (the goals `demos` and GMPS use with the same seed). Per-task \
            mode trains one expert per task, --workers at a time, each for up to --steps \
            environment steps (stopping early once solved); goal-conditioned mode trains one \
            expert on all tasks for --steps steps. Writes OUT/experts.json (manifest and each \
            task's evaluation), OUT/expert-NNN.safetensors (the actor) and OUT/expert-NNN.csv \
            (its learning curve). Same seeds, same bytes. Under mpirun -np N, task j is trained \
            by rank j mod N and rank 0 writes the manifest (OUT must be shared by the ranks).
            """
    )

    @OptionGroup var environment: EnvironmentOption

    @OptionGroup var reward: RewardOption

    @OptionGroup var folder: OutputFolderOption

    @Option(help: "per-task (one expert per task) or goal-conditioned (one for all tasks).") var mode: ExpertModeArgument = .perTask

    @Option(help: "Number of meta-training tasks.") var tasks = 10

    @Option(help: "Environment steps per expert (per-task) or in all (goal-conditioned).") var steps = 60_000

    @Option(help: "Seed of the networks, exploration and replay sampling.") var seed: UInt64 = 0

    @OptionGroup var goalSplit: GoalSeedOption

    @Option(help: "Experts trained at once (per-task), or threads of the one expert (goal-conditioned).")
    var workers = Launch.threadsPerRank

    @Option(name: .customLong("sac"), help: ArgumentHelp(
        "JSON file of SAC settings to change, the others keeping their defaults (e.g. {\"hidden\": [128, 128]}).",
        valueName: "file"))
    var sacSettings: String?

    @OptionGroup var models: AssetsOption

    @OptionGroup var output: JSONOption

    func validate() throws {
        guard (1...1000).contains(tasks) else { throw ValidationError("--tasks must be between 1 and 1000; got \(tasks).") }
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1; got \(steps).") }
        guard (1...256).contains(workers) else { throw ValidationError("--workers must be between 1 and 256; got \(workers).") }
    }

    func run() throws {
        let name = environment.name, out = folder.path
        let goals = try TaskDistribution(name).metaSplit(seed: goalSplit.goalSeed, trainCount: tasks, testCount: 0).train
        var config = SACConfig()
        if let path = sacSettings {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ValidationError("cannot read the SAC settings file \(path); give a JSON file such as {\"batchSize\": 256}.")
            }
            config = try config.changing(json: data)
        }
        let training = ExpertTraining(environment: name, mode: mode.value, goals: goals, stepsPerExpert: steps, seed: seed,
                                      config: config, reward: reward.value(), workers: workers, assets: models.locator)
        // Environment steps of this rank's experts; one that stops early counts its whole budget.
        let group = Launch.group
        let jobs = group.share(of: mode == .perTask ? tasks : 1).count
        let display = group.isRoot ? ProgressDisplay(stage: "experts \(name) (env steps\(group.size > 1 ? " of rank 0's experts" : ""))", total: steps * jobs) : nil
        let started = Date()
        let manifest = try training.run(output: URL(fileURLWithPath: out), group: group) { p in
            display?.update(p.envSteps, detail: "\(p.expertsDone)/\(p.experts) experts done · eval success so far \(String(format: "%.2f", p.successSoFar))")
        }
        guard group.isRoot else { return }
        let seconds = Date().timeIntervalSince(started)
        let meanSuccess = Double(manifest.tasks.filter(\.success).count) / Double(max(manifest.tasks.count, 1))
        let envSteps = manifest.experts.map(\.envSteps).reduce(0, +)
        if output.json {
            let object: [String: Any] = [
                "env": name.rawValue, "reward": reward.value().rawValue, "mode": mode.value.rawValue, "out": out,
                "experts": manifest.tasks.map { t -> [String: Any] in
                    ["task": t.task, "goal": t.goal.coordinates, "success": t.success, "return": t.episodeReturn,
                     "noisy_success": t.noisySuccess]
                },
                "mean_success": meanSuccess, "mean_return": manifest.tasks.map(\.episodeReturn).reduce(0, +) / Double(max(manifest.tasks.count, 1)),
                "mean_noisy_success": manifest.tasks.map(\.noisySuccess).reduce(0, +) / Double(max(manifest.tasks.count, 1)),
                "env_steps": envSteps, "seconds": seconds,
            ]
            try printJSON(object)
        } else {
            for t in manifest.tasks {
                let goal = t.goal.coordinates.map { String(format: "%.4f", $0) }.joined(separator: ", ")
                print("task \(t.task): goal [\(goal)], success \(t.success), return \(String(format: "%.2f", t.episodeReturn)), "
                      + "success with action noise \(String(format: "%.2f", t.noisySuccess))")
            }
            print("\(name) \(mode.value.rawValue) experts: mean success \(String(format: "%.2f", meanSuccess)), "
                  + "\(envSteps) environment steps, \(String(format: "%.0f", seconds)) s, written to \(out)")
        }
    }
}

