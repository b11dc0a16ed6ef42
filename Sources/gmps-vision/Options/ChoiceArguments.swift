import ArgumentParser
import GMPSVision

// Options whose value is one of a few names: argument-parser lists them in --help and
// completions, and names them when a user types another.

/// `--exploration`.
enum ExplorationArgument: String, ExpressibleByArgument, CaseIterable {
    case perTrajectory = "per-trajectory"
    case perStep = "per-step"

    /// A latent per rollout drawn with σ_z = 1, or Gaussian noise on every action.
    var value: Exploration { self == .perStep ? .perStep : .perTrajectory(latentStd: 1) }
}

/// `--adapt`: bias-vector or head.
extension GMPSConfig.AdaptedParameters: ExpressibleByArgument {}

/// `--alpha-parameterisation`: per-parameter or log-per-group.
extension GMPSConfig.AlphaParameterisation: ExpressibleByArgument {}

/// `--task-code-whitening`: per-dimension or full.
extension GMPSConfig.TaskCodeWhitening: ExpressibleByArgument {}

/// `--demo-episodes`: all or successful.
extension DemoEpisodeSelection: ExpressibleByArgument {}

/// `baseline --algo`.
extension BaselineAlgorithm: ExpressibleByArgument {}

/// `compare --goals`: meta-test or validation.
extension ComparisonGoals: ExpressibleByArgument {}

/// `experts --mode`.
enum ExpertModeArgument: String, ExpressibleByArgument, CaseIterable {
    case perTask = "per-task"
    case goalConditioned = "goal-conditioned"

    var value: ExpertMode { self == .perTask ? .perTask : .goalConditioned }
}
