import ArgumentParser
import GMPSVision

/// The meta-batch, shared by meta-train, run and baseline: how many meta-training tasks, how
/// many of them per iteration, and K rollouts per task. Each maps onto a `GMPSConfig` field and
/// is left at the configuration's default when not given.
struct MetaBatchOptions: ParsableArguments {
    @Option(help: "Meta-training tasks (goals of the seeded meta-train split; held-out goals follow them).") var tasks: Int?

    @Option(help: "Tasks per meta-iteration.") var tasksPerIteration: Int?

    @Option(help: "Rollouts per task and iteration (K).") var trajectories: Int?

    /// The option that sets each of these configuration fields, to name it in a message.
    static let optionSetting = ["metaTrainTasks": "--tasks", "tasksPerIteration": "--tasks-per-iteration",
                                "trajectoriesPerTask": "--trajectories"]

    /// Sets the given options' fields of `config`.
    func apply(to config: inout GMPSConfig) {
        if let tasks { config.metaTrainTasks = tasks }
        if let tasksPerIteration { config.tasksPerIteration = tasksPerIteration }
        if let trajectories { config.trajectoriesPerTask = trajectories }
    }
}

/// `--goal-seed`: which seeded meta-training split the experts and demonstrations are for. The
/// default is a run's default seed, so that with the defaults they serve `run`'s first goals
/// (the split draws goals in order: the first N of a run's goals are N tasks' goals).
struct GoalSeedOption: ParsableArguments {
    @Option(help: "Seed of the meta-training goals (the environment's meta split; a run's --seed).")
    var goalSeed: UInt64 = GMPSConfig().seed
}
