/// reach: bring the gripper to a hidden goal point in front of it.
///
/// Privileged state (6): hand xyz, goal xyz.
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
        physics.handPosition.floats + goalPosition.floats
    }

    /// `−distance` between hand and goal.
    public static func reward(hand: SIMD3<Double>, goal: SIMD3<Double>) -> Double {
        -distance(hand, goal)
    }

    public static func isSuccess(hand: SIMD3<Double>, goal: SIMD3<Double>) -> Bool {
        distance(hand, goal) < successRadius
    }
}
