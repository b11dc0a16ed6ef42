/// reach: bring the gripper to a hidden goal point in front of it.
///
/// Privileged state (6): hand xyz, goal xyz; `ReachState` names its parts.
public struct ReachTask: ManipulationTask {
    public let environment = EnvironmentName.reach
    public private(set) var goal: Goal

    /// Success when the hand is this close to the goal.
    public static let successRadius = 0.05

    public init(physics: GripperPhysics) throws(VisionEnvError) {
        goal = try Goal(.reach, [0, 0.8, 0.15])
    }

    public mutating func begin(goal: Goal, physics: GripperPhysics) throws(VisionEnvError) {
        try checkEnvironment(of: goal)
        self.goal = goal
        physics.setGoalMarker(goalPosition)
    }

    public var goalPosition: SIMD3<Double> {
        SIMD3(goal.coordinates[0], goal.coordinates[1], goal.coordinates[2])
    }

    public func reward(_ physics: GripperPhysics) -> Double {
        Self.reward(hand: physics.handPosition, goal: goalPosition)
    }

    public func isSuccess(_ physics: GripperPhysics) -> Bool {
        Self.isSuccess(hand: physics.handPosition, goal: goalPosition)
    }

    public func privilegedState(_ physics: GripperPhysics) -> [Float] {
        ReachState(hand: SIMD3(physics.handPosition), goal: SIMD3(goalPosition)).values
    }

    /// The task's distance: from the hand to the goal (m).
    public static func distanceToGoal(hand: SIMD3<Double>, goal: SIMD3<Double>) -> Double {
        distance(hand, goal)
    }

    /// `−distance` between hand and goal.
    public static func reward(hand: SIMD3<Double>, goal: SIMD3<Double>) -> Double {
        -distanceToGoal(hand: hand, goal: goal)
    }

    public static func isSuccess(hand: SIMD3<Double>, goal: SIMD3<Double>) -> Bool {
        distanceToGoal(hand: hand, goal: goal) < successRadius
    }
}

/// A reach privileged state by name.
public struct ReachState: Equatable, Sendable {
    public var hand: SIMD3<Float>
    public var goal: SIMD3<Float>

    public init(hand: SIMD3<Float>, goal: SIMD3<Float>) {
        self.hand = hand; self.goal = goal
    }

    /// Reads `state` = [hand xyz, goal xyz] (6 numbers).
    public init(_ state: [Float]) {
        precondition(state.count == EnvironmentName.reach.privilegedStateDimension, "a reach state has 6 numbers")
        self.init(hand: state.vector3(at: 0), goal: state.vector3(at: 3))
    }

    /// The 6 numbers of the privileged state.
    public var values: [Float] { hand.values + goal.values }
}
