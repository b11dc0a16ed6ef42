import CMuJoCo

/// push: slide the 4 cm block from (0, 0.60) to a hidden goal xy on the table.
///
/// Privileged state (9): hand xyz, block xyz, goal xyz (goal z = the block's resting height);
/// `PushState` names its parts.
public struct PushTask: ManipulationTask {
    public let environment = EnvironmentName.push
    public private(set) var goal: Goal
    /// Block-goal xy distance at the start of the episode (d0 of the reward).
    public private(set) var initialPlaceDistance: Double = 0

    /// Success when the block's centre is this close to the goal, in the xy plane.
    public static let successRadius = 0.05
    /// Height of the block's centre when it rests on the table.
    public static let blockRestingHeight = 0.02

    let blockBody: Int

    public init(physics: GripperPhysics) throws(VisionEnvError) {
        blockBody = try physics.simulation.id(of: mjOBJ_BODY, named: "block")
        goal = try Goal(.push, [0, 0.8])
    }

    public mutating func begin(goal: Goal, physics: GripperPhysics) throws(VisionEnvError) {
        try checkEnvironment(of: goal)
        self.goal = goal
        physics.setGoalMarker(goalPosition)
        initialPlaceDistance = Self.distanceToGoal(block: blockPosition(physics), goal: goalPosition.xy)
    }

    public var goalPosition: SIMD3<Double> {
        SIMD3(goal.coordinates[0], goal.coordinates[1], Self.blockRestingHeight)
    }

    public func blockPosition(_ physics: GripperPhysics) -> SIMD3<Double> {
        physics.simulation.bodyPosition(blockBody)
    }

    public func reward(_ physics: GripperPhysics) -> Double {
        Self.reward(hand: physics.handPosition, block: blockPosition(physics), goal: goalPosition.xy,
                    initialPlaceDistance: initialPlaceDistance)
    }

    public func isSuccess(_ physics: GripperPhysics) -> Bool {
        Self.isSuccess(block: blockPosition(physics), goal: goalPosition.xy)
    }

    public func privilegedState(_ physics: GripperPhysics) -> [Float] {
        PushState(hand: SIMD3(physics.handPosition), block: SIMD3(blockPosition(physics)),
                  goal: SIMD3(goalPosition)).values
    }

    /// The task's distance: from the block's centre to the goal in the table plane (m).
    public static func distanceToGoal(block: SIMD3<Double>, goal: SIMD2<Double>) -> Double {
        distance(block.xy, goal)
    }

    /// `−reachDist + 100·max(0, d0 − placeDist)`: get to the block, then move it closer to
    /// the goal than it started (the paper's Sawyer push shaping).
    public static func reward(hand: SIMD3<Double>, block: SIMD3<Double>, goal: SIMD2<Double>,
                              initialPlaceDistance: Double) -> Double {
        let reachDistance = distance(hand, block)
        let placeDistance = distanceToGoal(block: block, goal: goal)
        return -reachDistance + 100 * max(0, initialPlaceDistance - placeDistance)
    }

    public static func isSuccess(block: SIMD3<Double>, goal: SIMD2<Double>) -> Bool {
        distanceToGoal(block: block, goal: goal) < successRadius
    }
}

/// A push privileged state by name.
public struct PushState: Equatable, Sendable {
    public var hand: SIMD3<Float>
    public var block: SIMD3<Float>
    /// The goal on the table, at the block's resting height.
    public var goal: SIMD3<Float>

    public init(hand: SIMD3<Float>, block: SIMD3<Float>, goal: SIMD3<Float>) {
        self.hand = hand; self.block = block; self.goal = goal
    }

    /// Reads `state` = [hand xyz, block xyz, goal xyz] (9 numbers).
    public init(_ state: [Float]) {
        precondition(state.count == EnvironmentName.push.privilegedStateDimension, "a push state has 9 numbers")
        self.init(hand: state.vector3(at: 0), block: state.vector3(at: 3), goal: state.vector3(at: 6))
    }

    /// The 9 numbers of the privileged state.
    public var values: [Float] { hand.values + block.values + goal.values }
}
