import ConvNet
import VisionEnvs

/// One transition (s, a, r, s′) as SAC stores it: state features (S), action (A), the
/// environment's reward (before any control cost or scale) and the next state's features (S).
public struct Transition: Equatable, Sendable {
    public var state: [Float], action: [Float], reward: Float, nextState: [Float]

    public init(state: [Float], action: [Float], reward: Float, nextState: [Float]) {
        self.state = state; self.action = action; self.reward = reward; self.nextState = nextState
    }
}

/// Hindsight experience replay (Andrychowicz et al. 2017, "future" strategy): an environment
/// whose finished episode can be replayed with goals it achieved later in that episode, so a
/// goal-conditioned learner sees rewarded transitions for the goals it reaches by accident.
public protocol HindsightRelabelling: TrainingEnvironment {
    /// For each step t of the episode since the last reset (`actions` (T) of (A), the actions
    /// it took in order), `relabels` copies of transition t with the goal replaced by the goal
    /// achieved at a step f drawn uniformly from t+1…T, the reward recomputed for that goal.
    /// Empty when the episode has no step.
    func hindsightTransitions(actions: [[Float]], relabels: Int, using rng: inout SeededGenerator) -> [Transition]
}

/// The goal a manipulation state achieves and its reward for another goal: what relabelling
/// needs of each environment. States are privileged states (`privilegedStateDimension`).
public struct ManipulationHindsight: Sendable {
    public let environment: EnvironmentName
    public let reward: RewardKind

    public init(_ environment: EnvironmentName, reward: RewardKind = .dense) {
        self.environment = environment
        self.reward = reward
    }

    /// The state with its goal replaced by the goal `achiever` achieves: push's block xy on the
    /// goal's table height, reach's hand position, door's angle as the target angle.
    public func relabelled(_ state: [Float], toGoalOf achiever: [Float]) -> [Float] {
        switch environment {
        case .push:
            var s = PushState(state), a = PushState(achiever)
            s.goal = SIMD3(a.block.x, a.block.y, s.goal.z)
            return s.values
        case .reach:
            var s = ReachState(state)
            s.goal = ReachState(achiever).hand
            return s.values
        case .door:
            var s = DoorState(state)
            s.targetAngle = DoorState(achiever).angle
            return s.values
        }
    }

    /// The reward of reaching `state` (goal included) in an episode that started at `first`
    /// (push's place term pays progress from the block's first distance to the goal): the
    /// task's own formula, or 1 / 0 by its success test when sparse.
    public func reward(of state: [Float], episodeStart first: [Float]) -> Float {
        func d(_ v: SIMD3<Float>) -> SIMD3<Double> { SIMD3<Double>(v) }
        switch environment {
        case .push:
            let s = PushState(state), start = PushState(first)
            let goal = SIMD2(Double(s.goal.x), Double(s.goal.y))
            if reward == .sparse { return PushTask.isSuccess(block: d(s.block), goal: goal) ? 1 : 0 }
            let initial = PushTask.distanceToGoal(block: d(start.block), goal: goal)
            return Float(PushTask.reward(hand: d(s.hand), block: d(s.block), goal: goal, initialPlaceDistance: initial))
        case .reach:
            let s = ReachState(state)
            if reward == .sparse { return ReachTask.isSuccess(hand: d(s.hand), goal: d(s.goal)) ? 1 : 0 }
            return Float(ReachTask.reward(hand: d(s.hand), goal: d(s.goal)))
        case .door:
            let s = DoorState(state)
            if reward == .sparse { return DoorTask.isSuccess(angle: Double(s.angle), target: Double(s.targetAngle)) ? 1 : 0 }
            return Float(DoorTask.reward(hand: d(s.hand), handle: d(s.handle), angle: Double(s.angle), target: Double(s.targetAngle)))
        }
    }

    /// The relabelled transitions of one episode: `states` (T+1 privileged states, the first
    /// after the reset, state t+1 after action t), `actions` (T), `features` the learner's map.
    /// Relabel j of step t uses the goal achieved at step f = t+1 + (draw mod (T − t)).
    public func transitions(states: [[Float]], actions: [[Float]], relabels: Int, features: StateFeatures,
                            using rng: inout SeededGenerator) -> [Transition] {
        let steps = min(actions.count, states.count - 1)
        guard steps > 0, relabels > 0 else { return [] }
        var out: [Transition] = []
        out.reserveCapacity(steps * relabels)
        for t in 0..<steps {
            for _ in 0..<relabels {
                let f = t + 1 + Int(rng.next() % UInt64(steps - t))
                let before = relabelled(states[t], toGoalOf: states[f])
                let after = relabelled(states[t + 1], toGoalOf: states[f])
                out.append(Transition(state: features(before), action: actions[t],
                                      reward: reward(of: after, episodeStart: states[0]),
                                      nextState: features(after)))
            }
        }
        return out
    }
}
