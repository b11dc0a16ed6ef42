import ArgumentParser
import GMPSVision

// Options whose value is one of a few names: argument-parser lists them in --help and
// completions, and names them when a user types another.

/// `--exploration`.
enum ExplorationArgument: String, ExpressibleByArgument, CaseIterable {
    case perTrajectory = "per-trajectory"
    case latentOnly = "latent-only"
    case perStep = "per-step"

    /// A latent per rollout drawn with σ_z = 1 (with or without noise on every action), or
    /// Gaussian noise on every action.
    var value: Exploration {
        switch self {
        case .perTrajectory: return .perTrajectory(latentStd: 1)
        case .latentOnly: return .latentOnly(latentStd: 1)
        case .perStep: return .perStep
        }
    }
}

/// `evaluate --exploration`: how a run's latent probes act at meta-test, its σ_z kept.
enum EvaluationExplorationArgument: String, ExpressibleByArgument, CaseIterable {
    case latentOnly = "latent-only"
    case perTrajectory = "per-trajectory"

    func value(latentStd: Float) -> Exploration {
        self == .latentOnly ? .latentOnly(latentStd: latentStd) : .perTrajectory(latentStd: latentStd)
    }
}

/// `baseline --exploration`: MAML's outer policy gradient needs per-step noise, so no latent-only.
enum BaselineExplorationArgument: String, ExpressibleByArgument, CaseIterable {
    case perTrajectory = "per-trajectory"
    case perStep = "per-step"

    var value: Exploration { (self == .perStep ? ExplorationArgument.perStep : .perTrajectory).value }
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
