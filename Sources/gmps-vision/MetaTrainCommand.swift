import ArgumentParser
import Foundation
import GMPSVision
import VisionEnvs

/// `gmps-vision meta-train`: GMPS meta-training of the pixel meta-policy into a run directory.
struct MetaTrainCommand: ParsableCommand, RunsOnRanks {
    static let configuration = CommandConfiguration(
        commandName: "meta-train",
        abstract: "Meta-train an image-based policy with Guided Meta-Policy Search.",
        discussion: """
            Behaviour-clones the policy on demonstrations of the experts (--experts: by default \
            SAC experts trained into OUT/experts first; scripted: the hand-written controllers), collected into OUT/demos or given by \
            --demos, then runs meta-iterations, \
            writing config.json, progress.csv and a checkpoint after each. Run it again on the \
            same --out to continue from the checkpoint, on the run's settings (only --iterations and \
            --threads may change). Evaluate with `gmps-vision evaluate --run DIR`. \
            Under mpirun -np N, each rank meta-trains its share of every meta-batch (gradients \
            summed over ranks, one Adam step on all); rank 0 writes the run directory.
            """
    )

    @OptionGroup var environment: EnvironmentOrPushOption

    @Option(help: "Run directory (config.json, progress.csv, checkpoints).") var out: String

    @OptionGroup var options: GMPSOptions

    @OptionGroup var output: JSONOption

    func validate() throws {
        if out.isEmpty { throw ValidationError(OutputFolderOption.emptyPath) }
        _ = try options.configuration(from: GMPSConfig(environment: environment.name))
    }

    func run() throws {
        let started = Date()
        let group = Launch.group
        let name = environment.name
        // Rank 0 owns the run directory: it takes its lock, settles the configuration (a
        // continued run's own) and every rank trains with it.
        var lock: RunLock?
        let settled = try group.broadcast {
            let opened = try RunDirectory.openForWriting(out)
            lock = opened.lock
            return try settleConfiguration(name, in: opened.run)
        }
        defer { withExtendedLifetime(lock) {} }
        let run = RunDirectory(unopened: out)
        var config = settled.config
        config.threads = options.threads(for: config)
        let pipeline = GMPSPipeline(config: config, run: run, group: group)
        let demos = try pipeline.demonstrations()
        let trainer = try pipeline.trainer(demos: demos, resume: settled.resuming)
        let show = group.isRoot
        try pipeline.metaTrain(
            trainer, display: show ? ProgressDisplay(stage: "meta-training", total: config.iterations) : nil,
            pretrainDisplay: show ? ProgressDisplay(stage: "behaviour-cloning pre-training", total: config.pretrainSteps) : nil)
        guard show else { return }
        let last = pipeline.progress.last
        if output.json {
            print(try Self.summaryJSON(config: config, run: run, progress: pipeline.progress,
                                       seconds: Date().timeIntervalSince(started)))
        } else if let last {
            print(String(format: "iteration %d: success %.2f before, %.2f after adaptation; %d on-policy samples",
                         last.iteration, last.preSuccess, last.postSuccess, last.onPolicySamples))
        }
    }

    /// One JSON object for scripts: where the run is, how far it got, its last iteration's
    /// success on its own tasks and the last validation figures (nil until one was taken), and
    /// the environment steps by kind (those of the whole run, a continued run's earlier ones included).
    static func summaryJSON(config: GMPSConfig, run: RunDirectory, progress: [IterationLog], seconds: Double) throws -> String {
        let last = progress.last
        let validated = progress.last { $0.validationPostSuccess != nil }
        let object: [String: Any] = [
            "env": config.environment.rawValue, "reward": config.reward.rawValue, "run_dir": run.url.path,
            "experts": config.experts.description, "iterations": last?.iteration ?? 0,
            "on_policy_samples": last?.onPolicySamples ?? 0, "meta_training_env_steps": last?.metaTrainingEnvSteps ?? 0,
            "expert_env_steps": last?.expertEnvSteps ?? 0, "demo_env_steps": last?.demoEnvSteps ?? 0,
            "pre_success": last?.preSuccess ?? NSNull(), "post_success": last?.postSuccess ?? NSNull(),
            "imitation_loss": last?.imitationLoss ?? NSNull(),
            "validation_iteration": validated?.iteration ?? NSNull(),
            "validation_pre_success": validated?.validationPreSuccess ?? NSNull(),
            "validation_post_success": validated?.validationPostSuccess ?? NSNull(),
            "seconds": seconds,
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    /// The run's configuration (written to config.json) and whether it continues a run: the
    /// options apply over a continued run's own settings, and only --iterations and --threads
    /// may change them.
    private func settleConfiguration(_ name: EnvironmentName, in run: RunDirectory) throws -> SettledRun {
        var requested = try options.configuration(from: GMPSConfig(environment: name))
        if let existing = try run.storedConfiguration(GMPSConfig.self) {
            guard existing.environment == name else {
                throw ValidationError("\(out) holds a \(existing.environment) run, not \(name); choose another --out.")
            }
            requested = try options.configuration(from: existing)
        }
        let (config, resuming) = try run.settle(
            requested, mayChange: GMPSOptions.changeableSettings, options: GMPSOptions.optionSetting,
            hint: "continue it with the same settings (only --iterations and --threads may change), or choose another --out.")
        return SettledRun(path: out, config: config, resuming: resuming)
    }
}
