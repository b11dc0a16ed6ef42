import ArgumentParser
import GMPSVision
import VisionEnvs

/// Meta-training settings shared by `meta-train` and `run`; each maps onto a `GMPSConfig` field
/// and is left at the configuration's default when not given. Their bounds are the
/// configuration's (`GMPSConfig.invalidSetting()`).
struct GMPSOptions: ParsableArguments {
    @OptionGroup var reward: RewardOption

    @OptionGroup var metaBatch: MetaBatchOptions

    @OptionGroup var sources: ExpertOptions

    @Option(help: "Demonstrations per meta-training task.") var demosPerTask: Int?

    @Option(help: "Standard deviation of the Gaussian noise on the experts' executed actions while they demonstrate; the label stays the clean action (default 0.3).")
    var demoNoise: Float?

    @Option(help: "Which demonstration episodes behaviour cloning and the outer loss imitate: all, or each task's successful ones (a task with none keeps all) (default all).")
    var demoEpisodes: DemoEpisodeSelection?

    @Option(help: "Meta-iterations.") var iterations: Int?

    @Option(help: "Outer Adam steps per iteration.") var outerSteps: Int?

    @Option(help: "Behaviour-cloning pre-training steps.") var pretrainSteps: Int?

    @Option(help: "How pre-training whitens the task codes that latent probes explore: per dimension, or in full (probes drawn from the Gaussian fitted to the codes, correlations included) (default per-dimension).")
    var taskCodeWhitening: GMPSConfig.TaskCodeWhitening?

    @Option(help: "Outer Adam learning rate at the first iteration (decays linearly to a tenth).") var learningRate: Float?

    @Option(help: "Exploration: a latent per rollout with noise on every action (per-trajectory), a latent per rollout and mean actions (latent-only), or noise on every action alone (per-step). Default: latent-only.")
    var exploration: ExplorationArgument?

    @Option(help: "Adapted parameters (head: exploration per-trajectory unless --exploration is given).") var adapt: GMPSConfig.AdaptedParameters?

    @Option(help: "Initial inner step size α of the head's weights, biases and log-std, which adapt with --adapt head (default 0.05).")
    var headAlpha: Float?

    @Option(help: "Initial inner step size α of the bias vector (default 1.5: 1 makes the step the probes' return-weighted mean offset, which falls short of the tasks' codes).")
    var biasVectorAlpha: Float?

    @Option(help: "Length of the bias vector beside the keypoints: the latent that exploration probes and the inner step adapts (default 4).")
    var biasVectorLength: Int?

    @Option(help: "Image size as HxW.") var size: ImageSize?

    @Option(help: "First DAgger iteration (0-based); off when not given.") var daggerStart: Int?

    @Option(help: "Largest share of each task's outer minibatch drawn from DAgger-relabelled states, in [0, 1] (default 0.3).") var daggerShare: Float?

    @Option(help: "Weight of behaviour cloning of the pre-update policy on demos in the outer loss (default 0: no anchor).") var anchorWeight: Float?

    @Option(help: "Weight of behaviour cloning with each task's own code (pre-training's task codes, kept and learned on) in the outer loss (default 1 where pre-training learns codes, else 0: none).") var codeAnchorWeight: Float?

    @Option(help: "Outer steps between re-encoding the rollouts' frames with the current encoder (default 0: never; the keypoints recorded at collection serve every outer step).") var featureRefreshEvery: Int?

    @Option(help: "What the outer loop learns of the inner step sizes α: each α, or one log α per parameter group (default per-parameter).") var alphaParameterisation: GMPSConfig.AlphaParameterisation?

    @Option(help: "Adam learning rate of α, or of log α per group, constant (default: θ's, decaying with it).") var alphaLearningRate: Float?

    @Flag(help: "Use the second-order meta-gradient.") var secondOrder = false

    @Option(help: "Adaptation steps the outer loss is taken after, each on fresh rollouts of the policy the step before adapted, with the latent's spread per step learned (default 1).") var metaTrainedSteps: Int?

    @Option(help: "Adam learning rate of the learned per-step latent scales (log scale), constant (default 0.01).") var latentScaleLearningRate: Float?

    @Option(help: "Master seed.") var seed: UInt64?

    @Option(help: "Worker threads per process (default: the configuration's; under MPI, the cores shared among this machine's ranks). Results do not depend on it.")
    var threads: Int?

    /// The option that sets each configuration field, to name it in a message.
    static let optionSetting = MetaBatchOptions.optionSetting.merging(ExpertOptions.optionSetting) { first, _ in first }.merging([
        "demosPerTask": "--demos-per-task", "demoNoise": "--demo-noise", "demoEpisodes": "--demo-episodes", "iterations": "--iterations",
        "outerSteps": "--outer-steps", "pretrainSteps": "--pretrain-steps", "taskCodeWhitening": "--task-code-whitening", "learningRate": "--learning-rate",
        "finalLearningRate": "--learning-rate", "exploration": "--exploration", "imageHeight": "--size",
        "imageWidth": "--size", "daggerStartIteration": "--dagger-start",
        "daggerShare": "--dagger-share", "anchorWeight": "--anchor-weight", "codeAnchorWeight": "--code-anchor-weight", "featureRefreshEvery": "--feature-refresh-every", "seed": "--seed", "threads": "--threads",
        "adaptedParameters": "--adapt", "initialAlpha": "--head-alpha", "initialBiasVectorAlpha": "--bias-vector-alpha", "biasVectorLength": "--bias-vector-length", "secondOrder": "--second-order", "reward": "--reward",
        "alphaParameterisation": "--alpha-parameterisation", "alphaLearningRate": "--alpha-learning-rate",
        "metaTrainedSteps": "--meta-trained-steps", "latentScaleLearningRate": "--latent-scale-learning-rate",
    ]) { first, _ in first }

    func validate() throws {
        // The library takes any positive rate (a test drives training to divergence with 1e30);
        // on the command line a rate of 1 or more is a slip.
        if let learningRate, learningRate >= 1 {
            throw ValidationError("--learning-rate must be in (0, 1); got \(learningRate).")
        }
    }

    /// Threads for this launch: --threads, else under an MPI launcher the cores this rank may
    /// use, else the configuration's.
    func threads(for config: GMPSConfig) -> Int {
        threads ?? (MPIProcessGroup.isLaunched ? Launch.threadsPerRank : config.threads)
    }

    /// `config` with every given option applied, or the error naming the option out of range.
    func configuration(from config: GMPSConfig) throws -> GMPSConfig {
        let config = apply(to: config)
        if let invalid = config.invalidSetting() { throw ValidationError(invalid, options: Self.optionSetting) }
        return config
    }

    /// `config` with every given option applied.
    private func apply(to config: GMPSConfig) -> GMPSConfig {
        var config = config
        if let reward = reward.reward { config.reward = reward }
        metaBatch.apply(to: &config)
        sources.apply(to: &config)
        if let demosPerTask { config.demosPerTask = demosPerTask }
        if let demoNoise { config.demoNoise = demoNoise }
        if let demoEpisodes { config.demoEpisodes = demoEpisodes }
        if let iterations { config.iterations = iterations }
        if let outerSteps { config.outerSteps = outerSteps }
        if let pretrainSteps { config.pretrainSteps = pretrainSteps }
        if let taskCodeWhitening { config.taskCodeWhitening = taskCodeWhitening }
        if let learningRate { (config.learningRate, config.finalLearningRate) = (learningRate, learningRate / 10) }
        if let exploration { config.exploration = exploration.value }
        if let adapt { config.adaptedParameters = adapt }
        // The head's inner policy gradient needs per-step noise: latent-only (the default)
        // becomes per-trajectory with the same latents unless --exploration says otherwise.
        if adapt == .head, exploration == nil, case let .latentOnly(std) = config.exploration {
            config.exploration = .perTrajectory(latentStd: std)
        }
        if let headAlpha { config.initialAlpha = headAlpha }
        if let biasVectorAlpha { config.initialBiasVectorAlpha = biasVectorAlpha }
        if let biasVectorLength { config.biasVectorLength = biasVectorLength }
        if let size { (config.imageHeight, config.imageWidth) = (size.height, size.width) }
        if let daggerStart { config.daggerStartIteration = daggerStart }
        if let daggerShare { config.daggerShare = daggerShare }
        if let anchorWeight { config.anchorWeight = anchorWeight }
        // The code anchor is on by default where pre-training learns codes, off where it learns
        // none (per-step exploration, no bias vector, no pre-training) unless asked for.
        if let codeAnchorWeight { config.codeAnchorWeight = codeAnchorWeight } else if !config.learnsTaskCodes { config.codeAnchorWeight = 0 }
        if let featureRefreshEvery { config.featureRefreshEvery = featureRefreshEvery }
        if let alphaParameterisation { config.alphaParameterisation = alphaParameterisation }
        if let alphaLearningRate { config.alphaLearningRate = alphaLearningRate }
        if secondOrder { config.secondOrder = true }
        if let metaTrainedSteps { config.metaTrainedSteps = metaTrainedSteps }
        if let latentScaleLearningRate { config.latentScaleLearningRate = latentScaleLearningRate }
        if let seed { config.seed = seed }
        if let threads { config.threads = threads }
        return config
    }
}

extension GMPSOptions {
    /// The settings a continued run may change: results do not depend on the threads, and
    /// more iterations is how a run goes on.
    static let changeableSettings: Set<String> = ["iterations", "threads"]
}

extension RunDirectory {
    /// `requested` settled in the run (`settle`); a refusal is a usage error naming each
    /// setting by the option that sets it (`options`: config.json key → option).
    func settle<C: RunConfiguration>(_ requested: C, mayChange: Set<String>, otherChanges: [SettingChange] = [],
                                     options: [String: String], hint: String) throws -> (config: C, continuing: Bool) {
        do {
            return try settle(requested, mayChange: mayChange, otherChanges: otherChanges, hint: hint)
        } catch let failure as RunDirectory.Failure {
            guard case .settingsDiffer = failure else { throw failure }
            throw ValidationError(failure.sentence(naming: options))
        }
    }
}

extension ValidationError {
    /// A setting out of range, named by the option that set it (`options`: field → option),
    /// or by its config.json key when no option did.
    init(_ invalid: InvalidSetting, options: [String: String]) {
        self.init(invalid.sentence(naming: options[invalid.field] ?? invalid.field))
    }
}
