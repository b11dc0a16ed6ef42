/// What one control step did.
public struct StepResult: Hashable, Sendable {
    /// The reward of the state after the step, of the environment's `rewardKind`.
    public var reward: Double
    /// Whether the state after the step solves the task (DESIGN.md scores the last step).
    public var success: Bool
    /// True once the episode has reached its horizon.
    public var done: Bool

    public init(reward: Double, success: Bool, done: Bool) {
        self.reward = reward
        self.success = success
        self.done = done
    }
}

/// One environment without pixels: MuJoCo physics plus a task with a hidden goal.
///
/// This is what state-based experts train in. `VisionEnv` wraps it with a camera for the
/// meta-policy. Not thread-safe: one environment per thread.
public final class ManipulationEnv {
    public let name: EnvironmentName
    public let physics: GripperPhysics
    public private(set) var task: any ManipulationTask
    /// What `step` pays: the task's shaped reward, or 1 on success and 0 otherwise.
    public let rewardKind: RewardKind
    /// Control steps taken since the last reset.
    public private(set) var stepCount = 0

    /// Loads `name`'s model from `modelPath`, or finds `<name>.xml` with `assets`.
    /// The environment starts reset, with the centre of the goal ranges as its goal.
    public init(_ name: EnvironmentName, assets: AssetLocator = AssetLocator(),
                modelPath: String? = nil, reward: RewardKind = .dense) throws(VisionEnvError) {
        let path: String
        if let modelPath {
            path = modelPath
        } else {
            path = try assets.path(of: name.modelFileName)
        }
        let physics = try GripperPhysics(simulation: MuJoCoSimulation(contentsOf: path))
        self.name = name
        self.physics = physics
        rewardKind = reward
        switch name {
        case .push: task = try PushTask(physics: physics)
        case .door: task = try DoorTask(physics: physics)
        case .reach: task = try ReachTask(physics: physics)
        }
        let centre = name.goalSamplingRanges.map { ($0.lowerBound + $0.upperBound) / 2 }
        try reset(goal: Goal(name, centre))
    }

    public var horizon: Int { name.horizon }
    public var goal: Goal { task.goal }
    public static let actionDimension = 3

    /// Starts a new episode with `goal` (which must be one of this environment's goals).
    /// The initial state is always the model's: only the goal changes between episodes.
    public func reset(goal: Goal) throws(VisionEnvError) {
        physics.reset()
        try task.begin(goal: goal, physics: physics)
        stepCount = 0
    }

    /// One control step. The action is clipped to [-1, 1]^3; NaN or infinite components are
    /// rejected before anything moves.
    @discardableResult
    public func step(_ action: SIMD3<Float>) throws(VisionEnvError) -> StepResult {
        guard action.x.isFinite, action.y.isFinite, action.z.isFinite else {
            throw .nonFiniteAction([action.x, action.y, action.z])
        }
        let clipped = action.clamped(lowerBound: SIMD3(repeating: -1), upperBound: SIMD3(repeating: 1))
        try physics.moveHand(by: SIMD3<Double>(clipped))
        stepCount += 1
        return StepResult(reward: task.reward(physics, kind: rewardKind), success: task.isSuccess(physics),
                          done: stepCount >= horizon)
    }

    /// `step` for an action given as an array of 3 numbers (a policy's output).
    @discardableResult
    public func step(_ action: [Float]) throws(VisionEnvError) -> StepResult {
        guard action.count == Self.actionDimension else {
            throw .wrongActionCount(expected: Self.actionDimension, got: action.count)
        }
        return try step(SIMD3(action[0], action[1], action[2]))
    }

    /// The meta-policy's proprioception: the point between the gripper's fingers.
    public var handPosition: SIMD3<Float> { SIMD3<Float>(physics.handPosition) }

    /// The expert's low-dimensional state, goal included (`name.privilegedStateDimension`).
    public func privilegedState() -> [Float] { task.privilegedState(physics) }

    public var reward: Double { task.reward(physics, kind: rewardKind) }
    public var isSuccess: Bool { task.isSuccess(physics) }
}
