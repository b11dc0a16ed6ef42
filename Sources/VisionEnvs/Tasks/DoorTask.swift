import CMuJoCo

/// door: push the hinged door open to a hidden target angle and leave it there.
///
/// Privileged state (8): hand xyz, handle xyz, door angle, target angle; `DoorState` names
/// its parts.
public struct DoorTask: ManipulationTask {
    public let environment = EnvironmentName.door
    public private(set) var goal: Goal

    /// Success when the door's angle is this close to the target (radians).
    public static let successTolerance = 0.1
    /// The hand "holds" the handle when it is this close to it; only then does opening pay.
    public static let holdRadius = 0.05

    let hinge: Int
    let handleSite: Int

    public init(physics: GripperPhysics) throws(VisionEnvError) {
        let simulation = physics.simulation
        hinge = try simulation.id(of: mjOBJ_JOINT, named: "hinge")
        handleSite = try simulation.id(of: mjOBJ_SITE, named: "handle")
        goal = try Goal(.door, [0.6])
    }

    public var targetAngle: Double { goal.coordinates[0] }

    /// Height of the goal marker: above the door (whose top is at 0.317 m), so that frames
    /// for people show it even while the closed door stands in front of the target.
    public static let goalMarkerHeight = 0.36

    /// Places the goal marker above where the handle would be at the target angle, found by
    /// posing the door there for one kinematics pass and back.
    public mutating func begin(goal: Goal, physics: GripperPhysics) throws(VisionEnvError) {
        try checkEnvironment(of: goal)
        self.goal = goal
        let simulation = physics.simulation
        let start = simulation.jointPosition(hinge)
        simulation.setJointPosition(targetAngle, of: hinge)
        simulation.forward()
        let handleAtTarget = simulation.sitePosition(handleSite)
        simulation.setJointPosition(start, of: hinge)
        physics.setGoalMarker(SIMD3(handleAtTarget.x, handleAtTarget.y, Self.goalMarkerHeight))
    }

    public func angle(_ physics: GripperPhysics) -> Double {
        physics.simulation.jointPosition(hinge)
    }

    public func handlePosition(_ physics: GripperPhysics) -> SIMD3<Double> {
        physics.simulation.sitePosition(handleSite)
    }

    public func reward(_ physics: GripperPhysics) -> Double {
        Self.reward(hand: physics.handPosition, handle: handlePosition(physics), angle: angle(physics),
                    target: targetAngle)
    }

    public func isSuccess(_ physics: GripperPhysics) -> Bool {
        Self.isSuccess(angle: angle(physics), target: targetAngle)
    }

    public func privilegedState(_ physics: GripperPhysics) -> [Float] {
        DoorState(hand: SIMD3(physics.handPosition), handle: SIMD3(handlePosition(physics)),
                  angle: Float(angle(physics)), targetAngle: Float(targetAngle)).values
    }

    /// The task's distance: how far the door's angle is from the target (radians).
    public static func distanceToGoal(angle: Double, target: Double) -> Double {
        abs(angle - target)
    }

    /// `−reachDist + 100·max(0, target − |angle − target|)` while the hand holds the handle
    /// (`reachDist < holdRadius`), `−reachDist` otherwise: progress from the closed door
    /// (angle 0) towards the target, paid only for opening it by the handle.
    public static func reward(hand: SIMD3<Double>, handle: SIMD3<Double>, angle: Double,
                              target: Double) -> Double {
        let reachDistance = distance(hand, handle)
        guard reachDistance < holdRadius else { return -reachDistance }
        return -reachDistance + 100 * max(0, target - distanceToGoal(angle: angle, target: target))
    }

    public static func isSuccess(angle: Double, target: Double) -> Bool {
        distanceToGoal(angle: angle, target: target) < successTolerance
    }
}

/// A door privileged state by name.
public struct DoorState: Equatable, Sendable {
    public var hand: SIMD3<Float>
    public var handle: SIMD3<Float>
    /// The door's hinge angle and the hidden target angle (radians; 0 = closed).
    public var angle: Float, targetAngle: Float

    public init(hand: SIMD3<Float>, handle: SIMD3<Float>, angle: Float, targetAngle: Float) {
        self.hand = hand; self.handle = handle; self.angle = angle; self.targetAngle = targetAngle
    }

    /// Reads `state` = [hand xyz, handle xyz, angle, target angle] (8 numbers).
    public init(_ state: [Float]) {
        precondition(state.count == EnvironmentName.door.privilegedStateDimension, "a door state has 8 numbers")
        self.init(hand: state.vector3(at: 0), handle: state.vector3(at: 3), angle: state[6], targetAngle: state[7])
    }

    /// The 8 numbers of the privileged state.
    public var values: [Float] { hand.values + handle.values + [angle, targetAngle] }
}
