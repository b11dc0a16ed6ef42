import CMuJoCo

/// door: push the hinged door open to a hidden target angle and leave it there.
///
/// Privileged state (8): hand xyz, handle xyz, door angle, target angle.
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
        physics.handPosition.floats + handlePosition(physics).floats
            + [Float(angle(physics)), Float(targetAngle)]
    }

    /// `−reachDist + 100·max(0, target − |angle − target|)` while the hand holds the handle
    /// (`reachDist < holdRadius`), `−reachDist` otherwise: progress from the closed door
    /// (angle 0) towards the target, paid only for opening it by the handle.
    public static func reward(hand: SIMD3<Double>, handle: SIMD3<Double>, angle: Double,
                              target: Double) -> Double {
        let reachDistance = distance(hand, handle)
        guard reachDistance < holdRadius else { return -reachDistance }
        return -reachDistance + 100 * max(0, target - abs(angle - target))
    }

    public static func isSuccess(angle: Double, target: Double) -> Bool {
        abs(angle - target) < successTolerance
    }
}
