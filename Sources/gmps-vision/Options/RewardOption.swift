import ArgumentParser
import VisionEnvs

/// `--reward dense|sparse`.
extension RewardKind: ExpressibleByArgument {}

/// `--reward`, shared by run, meta-train, evaluate, baseline, experts and demos. Optional, so
/// that a continued or evaluated run keeps its own reward unless told otherwise.
struct RewardOption: ParsableArguments {
    @Option(help: "Reward per step: dense (the task's shaped reward) or sparse (1 while the task's success test holds, else 0). Default: a run's own, else dense.")
    var reward: RewardKind?

    /// The reward given, else `fallback` (a run's own, or dense).
    func value(or fallback: RewardKind = .dense) -> RewardKind { reward ?? fallback }
}
