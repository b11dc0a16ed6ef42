import ArgumentParser
import ConvNet
import Foundation
import GMPSVision
import VisionEnvs

/// `gmps-vision baseline`: the baselines GMPS is measured against, on the same environments,
/// goals, evaluation and sample accounting.
struct BaselineCommand: ParsableCommand, RunsOnRanks {
    static let configuration = CommandConfiguration(
        commandName: "baseline",
        abstract: "Train or evaluate a baseline: maml-pg, multitask-bc, pg-scratch or expert.",
        discussion: """
            maml-pg and multitask-bc write a run directory (config.json, progress.csv, \
            checkpoint.json) that `gmps-vision evaluate --run DIR` adapts and reports like a GMPS \
            run. pg-scratch (a fresh policy per held-out goal, trained by policy gradient on the \
            samples GMPS adapts with: K rollouts per step) and expert (the scripted expert, the \
            upper bound) evaluate on the held-out goals directly and print the summary.
            """
    )

    @Option(help: "The baseline.") var algo: BaselineAlgorithm

    @OptionGroup var environment: EnvironmentOrPushOption

    @OptionGroup var reward: RewardOption

    @Option(help: "Run directory (required for maml-pg and multitask-bc; pg-scratch and expert write summary.json there if given).")
    var out: String?

    @Option(help: "maml-pg: meta-iterations (default 20). multitask-bc: behaviour-cloning steps (default 1000).")
    var iterations: Int?

    @OptionGroup var metaBatch: MetaBatchOptions

    @Option(help: "pg-scratch and expert: updates (adaptation steps), each on K fresh rollouts.") var adaptSteps = 1

    @Option(help: "pg-scratch and expert: independent draws per held-out goal.") var draws = 10

    @Option(help: "pg-scratch and expert: held-out goals.") var goalCount = 20

    @Option(help: "Adam learning rate (maml-pg outer step, multitask-bc, pg-scratch; maml-pg --pretrain clones at GMPS's).")
    var learningRate: Float = 1e-3

    @Option(help: "maml-pg: initial inner step size α on every adapted parameter.") var alpha: Float = 0.05

    @Option(help: "maml-pg: adapted parameters.") var adapt = GMPSConfig.AdaptedParameters.head

    @Flag(help: "maml-pg: start from a behaviour-cloned θ instead of random parameters.") var pretrain = false

    @Option(help: "maml-pg: exploration of the pre- and post-update rollouts, as GMPS's --exploration.")
    var exploration = BaselineExplorationArgument.perStep

    @Option(help: "maml-pg: outer Adam steps per iteration on the same post-update rollouts; after the first, on the clipped surrogate (ProMP).")
    var outerSteps = 1

    @Option(help: "maml-pg: the clip ε on the likelihood ratios of outer steps after the first.") var outerClip: Float = 0.2

    @Option(help: "maml-pg --pretrain: behaviour-cloning steps before meta-training.") var pretrainSteps = 300

    @Option(help: "maml-pg: also keep the checkpoint every N iterations in OUT/snapshots/iter-N (each a run directory evaluate reads; 0: none).")
    var snapshotEvery = 0

    @Option(help: "multitask-bc and maml-pg --pretrain: scripted demos per meta-training task. Default: GMPS's.")
    var scriptedDemos = GMPSConfig().demosPerTask

    @Option(help: "Initial per-step action standard deviation. Default: GMPS's.") var std = GMPSConfig().initialStd

    @Flag(help: "pg-scratch: plain gradient ascent instead of Adam.") var sgd = false

    @Option(help: "Policy image size as HxW.") var size = ImageSize(height: 48, width: 64)

    @Option(help: "Worker threads.") var threads = 2

    @Option(help: "Master seed (goal split, initialisation, noise).") var seed: UInt64 = 1

    @OptionGroup var output: JSONOption

    /// The option that sets each configuration field, to name it in a message.
    private var optionSetting: [String: String] {
        MetaBatchOptions.optionSetting.merging(
        ["imageHeight": "--size", "imageWidth": "--size", "initialStd": "--std", "demosPerTask": "--scripted-demos",
         "learningRate": "--learning-rate", "finalLearningRate": "--learning-rate", "pretrainLearningRate": "--learning-rate",
         "scratchLearningRate": "--learning-rate", "initialAlpha": "--alpha", "initialBiasVectorAlpha": "--alpha",
         "iterations": "--iterations", "pretrainSteps": algo == .multitaskBC ? "--iterations" : "--pretrain-steps",
         "threads": "--threads", "seed": "--seed", "reward": "--reward", "exploration": "--exploration",
         "outerSteps": "--outer-steps", "outerClip": "--outer-clip"]) { first, _ in first }
    }

    /// maml-pg splits each meta-batch over the ranks as GMPS does; the other baselines run as one process.
    var splitsOverRanks: Bool { algo == .mamlPG }

    func validate() throws {
        if out == "" { throw ValidationError(OutputFolderOption.emptyPath) }
        if algo == .mamlPG || algo == .multitaskBC, out == nil {
            throw ValidationError("--algo \(algo.rawValue) writes a run directory: give it with --out DIR.")
        }
        // The evaluation and snapshot settings are not part of the configuration.
        guard goalCount >= 1, adaptSteps >= 1, draws >= 1 else {
            throw ValidationError("--goal-count, --adapt-steps and --draws must be at least 1.")
        }
        guard snapshotEvery >= 0 else { throw ValidationError("--snapshot-every must be at least 0.") }
        guard pretrainSteps >= 1 else { throw ValidationError("--pretrain-steps must be at least 1.") }
        if let invalid = configuration().invalidSetting() { throw ValidationError(invalid, options: optionSetting) }
    }

    /// The run's configuration: GMPS's defaults with the options applied, and what the
    /// algorithm fixes (multitask-bc only clones).
    private func configuration() -> BaselineConfig {
        var gmps = GMPSConfig(environment: environment.name)
        gmps.reward = reward.value()
        gmps.seed = seed
        gmps.threads = threads
        metaBatch.apply(to: &gmps)
        gmps.tasksPerIteration = min(gmps.tasksPerIteration, gmps.metaTrainTasks)
        gmps.imageHeight = size.height
        gmps.imageWidth = size.width
        gmps.exploration = exploration.value
        gmps.initialStd = std
        gmps.demosPerTask = scriptedDemos
        gmps.learningRate = learningRate
        gmps.finalLearningRate = learningRate
        gmps.adaptedParameters = adapt
        gmps.initialAlpha = alpha
        gmps.initialBiasVectorAlpha = alpha
        gmps.outerSteps = outerSteps
        var config = BaselineConfig(algorithm: algo, gmps: gmps)
        config.outerClip = outerClip
        config.scratchLearningRate = learningRate
        config.scratchAdam = !sgd
        config.pretrainInit = pretrain
        switch algo {
        case .mamlPG:
            config.gmps.iterations = iterations ?? 20
        case .multitaskBC:
            config.gmps.pretrainSteps = iterations ?? 1000
            config.gmps.pretrainLearningRate = learningRate
            config.gmps.iterations = 0
            config.gmps.initialAlpha = 0
            config.gmps.initialBiasVectorAlpha = 0
            config.gmps.learnAlpha = false
        case .pgScratch, .expert:
            break
        }
        return config
    }

    func run() throws {
        let config = configuration()
        let split = try TaskDistribution(environment.name).metaSplit(seed: seed, trainCount: config.gmps.metaTrainTasks, testCount: goalCount)
        switch algo {
        case .mamlPG: try trainMAML(config, goals: split.train)
        case .multitaskBC: try trainBehaviourCloning(config, goals: split.train)
        case .pgScratch, .expert: try evaluateDirectly(config, goals: split.test)
        }
    }

    // MARK: Run-directory baselines

    private func trainMAML(_ config: BaselineConfig, goals: [Goal]) throws {
        let group = Launch.group
        var config = config
        if config.pretrainInit { config.gmps.pretrainSteps = pretrainSteps }
        let (run, lock) = try openRunDirectory(config)
        defer { withExtendedLifetime(lock) {} }
        var initialTheta: [Float]?
        if config.pretrainInit {
            initialTheta = try MultiTaskBehaviourCloning.clonedParameters(config: config, goals: goals, group: group) { step, loss in
                if step % 100 == 0, group.isRoot { log("pretrain step \(step): loss \(loss)") }
            }
        }
        let trainer = try MAMLPolicyGradientTrainer(config: config, goals: goals, initialTheta: initialTheta, group: group)
        let display = group.isRoot ? ProgressDisplay(stage: "maml-pg", total: config.gmps.iterations) : nil
        let last = try trainer.train(in: run, snapshotEvery: snapshotEvery) { entry in
            display?.update(entry.iteration, detail: String(format: "pre %.2f post %.2f explore %.2f · %d samples",
                                                            entry.preSuccess, entry.postSuccess,
                                                            entry.postExplorationSuccess, entry.onPolicySamples))
        }
        guard group.isRoot else { return }
        try report(["algorithm": config.algorithm.rawValue, "run": run.url.path,
                    "iterations": trainer.state.iteration, "on_policy_samples": trainer.state.onPolicySamples,
                    "post_success": last?.postSuccess ?? 0, "seconds": trainer.state.seconds],
                   text: "maml-pg: \(trainer.state.iteration) iterations, \(trainer.state.onPolicySamples) on-policy samples; evaluate with `gmps-vision evaluate --run \(run.url.path)`")
    }

    private func trainBehaviourCloning(_ config: BaselineConfig, goals: [Goal]) throws {
        let (run, lock) = try openRunDirectory(config)
        defer { withExtendedLifetime(lock) {} }
        let display = ProgressDisplay(stage: "multitask-bc", total: config.gmps.pretrainSteps)
        let (state, loss) = try MultiTaskBehaviourCloning.train(config: config, goals: goals, in: run) { step, loss in
            display.update(step + 1, detail: String(format: "loss %.4f", loss))
        }
        try report(["algorithm": config.algorithm.rawValue, "run": run.url.path, "loss": Double(loss),
                    "steps": config.gmps.pretrainSteps, "on_policy_samples": 0, "seconds": state.seconds],
                   text: "multitask-bc: \(config.gmps.pretrainSteps) steps, loss \(loss); evaluate with `gmps-vision evaluate --run \(run.url.path)`")
    }

    // MARK: Direct evaluations

    private func evaluateDirectly(_ config: BaselineConfig, goals: [Goal]) throws {
        let gmps = config.gmps
        let started = Date()
        let results: [GoalEvaluation]
        if config.algorithm == .expert {
            results = try ExpertEvaluation.evaluate(environment: gmps.environment, goals: goals, draws: draws,
                                                    steps: adaptSteps, reward: gmps.reward)
        } else {
            let policy = try MetaPolicy(config: gmps)
            let scratch = PolicyGradientFromScratch(policy: policy, trajectories: gmps.trajectoriesPerTask, steps: adaptSteps,
                                                    learningRate: config.scratchLearningRate,
                                                    useAdam: config.scratchAdam, discount: gmps.discount)
            let workers = try (0..<threads).map { _ in
                try RolloutWorker(policy: policy, environment: gmps.environment, imageHeight: gmps.imageHeight,
                                  imageWidth: gmps.imageWidth, maxTrajectories: gmps.trajectoriesPerTask, reward: gmps.reward)
            }
            let workspaces = (0..<threads).map { _ in policy.network.makeWorkspace(maxBatch: gmps.environment.horizon) }
            results = try scratch.evaluate(goals: goals, draws: draws, seed: seed, workers: workers, workspaces: workspaces)
        }
        let summary = EvaluationSummary(results, adaptationSteps: adaptSteps)
        var object = summary.jsonObject
        object["algorithm"] = config.algorithm.rawValue
        object["env"] = gmps.environment.rawValue
        object["reward"] = gmps.reward.rawValue
        object["goals"] = goals.count
        object["draws"] = draws
        object["trajectories"] = gmps.trajectoriesPerTask
        object["adaptation_samples_per_draw"] = config.algorithm == .expert ? 0
            : gmps.trajectoriesPerTask * gmps.environment.horizon * adaptSteps
        object["seconds"] = Date().timeIntervalSince(started)
        if out != nil {
            let (run, lock) = try openRunDirectory(config)
            defer { withExtendedLifetime(lock) {} }
            try run.write(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted]),
                          to: "summary.json")
        }
        try report(object, text: "\(config.algorithm.rawValue)\n" + summary.table(environment: gmps.environment,
                                                                                    goals: goals.count, draws: draws))
    }

    /// The run directory, its lock taken and `config` settled in it (rank 0; the other ranks
    /// of maml-pg only name it). A baseline starts over; in a folder that holds a run, only on
    /// that run's settings (--threads aside).
    private func openRunDirectory(_ config: BaselineConfig) throws -> (run: RunDirectory, lock: RunLock?) {
        guard let out else { throw ValidationError("--algo \(algo.rawValue) writes a run directory: give it with --out DIR.") }
        guard Launch.group.isRoot else { return (RunDirectory(unopened: out), nil) }
        let (run, lock) = try RunDirectory.openForWriting(out)
        _ = try run.settle(config, mayChange: ["threads"], options: optionSetting,
                           hint: "a baseline reruns in it on these settings only; choose another --out for others.")
        return (run, lock)
    }

    private func report(_ object: [String: Any], text: String) throws {
        if output.json {
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(text)
        }
    }

    private func log(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
