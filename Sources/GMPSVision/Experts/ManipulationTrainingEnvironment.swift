import ConvNet
import VisionEnvs

/// A `ManipulationEnv` as SAC sees it: features of the privileged state, one task (per-task
/// mode) or a set of goals drawn at each reset (goal-conditioned mode).
public final class ManipulationTrainingEnvironment: TrainingEnvironment {
    public let env: ManipulationEnv
    public let goals: [Goal]
    public let features: StateFeatures

    /// Rewards are multiplied by this in the replay buffer: it brings one step's reward to
    /// order 1 (reach's −distance is a few tenths; push and door pay up to 100 per metre or
    /// radian of progress; door pays nothing until the hand holds the handle, so its approach term must be felt: 0.5 learns, 0.05 hovered next to the handle).
    /// A sparse reward is 0 or 1 already: 1.
    public static func defaultRewardScale(_ environment: EnvironmentName, reward: RewardKind = .dense) -> Float {
        guard reward == .dense else { return 1 }
        switch environment {
        case .reach: return 10
        case .push: return 0.1
        case .door: return 0.5
        }
    }

    public init(_ environment: EnvironmentName, goals: [Goal], assets: AssetLocator = AssetLocator(),
                reward: RewardKind = .dense) throws {
        guard !goals.isEmpty else { throw ExpertError.invalidConfiguration("an expert needs at least one goal") }
        env = try ManipulationEnv(environment, assets: assets, reward: reward)
        self.goals = goals
        features = StateFeatures(environment)
    }

    public var stateDimension: Int { features.count }
    public var actionDimension: Int { 3 }
    public var horizon: Int { env.horizon }
    public var evaluationTasks: Int { goals.count }

    public func reset(using rng: inout SeededGenerator) throws -> [Float] {
        try reset(evaluationTask: goals.count == 1 ? 0 : Int(rng.next() % UInt64(goals.count)))
    }

    public func reset(evaluationTask task: Int) throws -> [Float] {
        try env.reset(goal: goals[task])
        let state = env.privilegedState()
        episodeStates = [state]
        return features(state)
    }

    public func step(_ action: [Float]) throws -> (state: [Float], reward: Float, success: Bool) {
        let result = try env.step(action)
        let state = env.privilegedState()
        episodeStates.append(state)
        return (features(state), Float(result.reward), result.success)
    }

    /// The privileged states of the episode since the last reset, for hindsight relabelling.
    private var episodeStates: [[Float]] = []
}

extension ManipulationTrainingEnvironment: HindsightRelabelling {
    public func hindsightTransitions(actions: [[Float]], relabels: Int, using rng: inout SeededGenerator) -> [Transition] {
        ManipulationHindsight(env.name, reward: env.rewardKind)
            .transitions(states: episodeStates, actions: actions, relabels: relabels, features: features, using: &rng)
    }
}
