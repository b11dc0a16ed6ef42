import ArgumentParser
import GMPSVision
import VisionEnvs

/// Meta-training settings shared by `meta-train` and `run`; each maps onto a `GMPSConfig` field
/// and is left at the configuration's default when not given.
struct GMPSOptions: ParsableArguments {
    @Option(help: "Meta-training tasks (goals of the seeded meta-train split).")
    var tasks: Int?

    @Option(help: "Scripted demonstrations per meta-training task.")
    var demosPerTask: Int?

    @Option(help: "Meta-iterations.")
    var iterations: Int?

    @Option(help: "Tasks per meta-iteration.")
    var tasksPerIteration: Int?

    @Option(help: "Rollouts per task and iteration (K).")
    var trajectories: Int?

    @Option(help: "Outer Adam steps per iteration.")
    var outerSteps: Int?

    @Option(help: "Behaviour-cloning pre-training steps.")
    var pretrainSteps: Int?

    @Option(help: "Outer Adam learning rate at the first iteration (decays linearly to a tenth).")
    var learningRate: Float?

    @Option(help: "Exploration: per-trajectory (a latent per rollout) or per-step.")
    var exploration: String?

    @Option(help: "Adapted parameters: bias-vector or head.")
    var adapt: String?

    @Option(help: "Image size as HxW.")
    var size: ImageSize?

    @Option(help: "First DAgger iteration (0-based); off when not given.")
    var daggerStart: Int?

    @Flag(help: "Use the second-order meta-gradient.")
    var secondOrder = false

    @Option(help: "Master seed.")
    var seed: UInt64?

    @Option(help: "Worker threads per process (default: the configuration's; under MPI, the cores shared among this machine's ranks). Results do not depend on it.")
    var threads: Int?

    func validate() throws {
        for (name, value) in [("--tasks", tasks), ("--iterations", iterations), ("--tasks-per-iteration", tasksPerIteration),
                              ("--outer-steps", outerSteps), ("--demos-per-task", demosPerTask)] {
            if let value, value < (name == "--iterations" ? 0 : 1) {
                throw ValidationError("\(name) must be at least \(name == "--iterations" ? 0 : 1); got \(value).")
            }
        }
        if let threads, !(1...256).contains(threads) {
            throw ValidationError("--threads must be between 1 and 256; got \(threads).")
        }
        if let learningRate, !(learningRate > 0 && learningRate < 1) {
            throw ValidationError("--learning-rate must be in (0, 1); got \(learningRate).")
        }
        if let trajectories, trajectories < 2 {
            throw ValidationError("--trajectories must be at least 2: advantages need more than one rollout.")
        }
        if let exploration, !["per-trajectory", "per-step"].contains(exploration) {
            throw ValidationError("--exploration must be per-trajectory or per-step; got \(exploration).")
        }
        if let adapt, GMPSConfig.AdaptedParameters(rawValue: adapt) == nil {
            throw ValidationError("--adapt must be bias-vector or head; got \(adapt).")
        }
        if let size, size.height < 16 || size.width < 16 {
            throw ValidationError("--size \(size) is too small for the policy's three convolutions; use at least 16x16 (default 48x64).")
        }
    }

    /// Threads for this launch: --threads, else under an MPI launcher the cores this rank may
    /// use, else the configuration's.
    func threads(for config: GMPSConfig) -> Int {
        threads ?? (MPIProcessGroup.isLaunched ? Launch.threadsPerRank : config.threads)
    }

    /// `config` with every given option applied.
    func apply(to config: GMPSConfig) -> GMPSConfig {
        var config = config
        if let tasks { config.metaTrainTasks = tasks }
        if let iterations { config.iterations = iterations }
        if let tasksPerIteration { config.tasksPerIteration = tasksPerIteration }
        if let trajectories { config.trajectoriesPerTask = trajectories }
        if let outerSteps { config.outerSteps = outerSteps }
        if let pretrainSteps { config.pretrainSteps = pretrainSteps }
        if let learningRate { (config.learningRate, config.finalLearningRate) = (learningRate, learningRate / 10) }
        if let exploration { config.exploration = exploration == "per-step" ? .perStep : .perTrajectory(latentStd: 1) }
        if let adapt, let adapted = GMPSConfig.AdaptedParameters(rawValue: adapt) { config.adaptedParameters = adapted }
        if let size { (config.imageHeight, config.imageWidth) = (size.height, size.width) }
        if let daggerStart { config.daggerStartIteration = daggerStart }
        if secondOrder { config.secondOrder = true }
        if let seed { config.seed = seed }
        if let threads { config.threads = threads }
        return config
    }
}
