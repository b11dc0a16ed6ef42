import ArgumentParser
import Foundation
import GMPSVision

/// Where a run's experts and demonstrations come from, shared by meta-train and run. Each maps
/// onto a `GMPSConfig` field and is left at the configuration's default when not given; folders
/// are stored as absolute paths, so that a run continues from any working folder.
struct ExpertOptions: ParsableArguments {
    /// `config.experts`: parsed by `ExpertSource(_:)`, so a folder named like a keyword needs `./`.
    @Option(help: "Experts: scripted, sac (per-task SAC experts on privileged state, trained by the run into RUN/experts), sac:goal-conditioned, or a folder written by `gmps-vision experts` for the run's goals (default: sac).")
    var experts: String?
    /// `config.expertSteps`.
    @Option(help: "SAC environment steps per expert with --experts sac (per-task), or in all (goal-conditioned) (default: 40000 for push and reach, 100000 for door).")
    var expertSteps: Int?
    /// `config.demos`.
    @Option(help: "A dataset written by `gmps-vision demos` for the run's goals, used instead of collecting demonstrations into RUN/demos (with --demo-only-tasks: the demo-only tasks' demonstrations).")
    var demos: String?
    /// `config.demoOnlyTasks`; its bounds and its need of --demos are the configuration's.
    @Option(help: "Fraction of the meta-training tasks with demonstrations only (from --demos): no expert, no DAgger labels; drawn from the seed.")
    var demoOnlyTasks: Float?

    /// The option that sets each of these configuration fields, to name it in a message.
    static let optionSetting = ["experts": "--experts", "expertSteps": "--expert-steps", "demos": "--demos",
                                "demoOnlyTasks": "--demo-only-tasks"]

    /// Sets the given options' fields of `config`.
    func apply(to config: inout GMPSConfig) {
        if let experts {
            let source = ExpertSource(experts)
            if case .folder(let path) = source, !path.isEmpty {
                config.experts = .folder(URL(fileURLWithPath: path).standardizedFileURL.path)
            } else {
                config.experts = source
            }
        }
        if let expertSteps { config.expertSteps = expertSteps }
        if let demos { config.demos = demos.isEmpty ? demos : URL(fileURLWithPath: demos).standardizedFileURL.path }
        if let demoOnlyTasks { config.demoOnlyTasks = demoOnlyTasks }
    }
}
