import CMuJoCo

/// What MuJoCo knows about one of our tabletop scenes: a gripper welded to a mocap target,
/// whatever else the model holds, and the hidden goal marker.
///
/// Every model in `assets/` has a mocap body `mocap`, a gripper body `hand` with a site
/// `hand` between its fingers, a world site `goal` and a camera `policy`. Task-specific
/// elements (the block, the door's hinge) are looked up by the tasks.
public final class GripperPhysics {
    public let simulation: MuJoCoSimulation

    /// Physics steps per control step (DESIGN.md: frame-skip 5).
    public static let frameSkip = 5
    /// Metres the mocap target moves per unit of action per control step.
    public static let actionScale = 0.01
    /// Where the mocap target may go: the gripper stays above the table and within reach.
    public static let workspace = (
        lower: SIMD3<Double>(-0.35, 0.30, 0.03),
        upper: SIMD3<Double>(0.35, 1.00, 0.35)
    )

    /// How far (per axis) the new mocap target may run ahead of the gripper. Moving freely at
    /// full speed the gripper trails its target by about 1.2 cm, so a new target lies up to
    /// 2.2 cm ahead of it; the leash only acts when something
    /// blocks the gripper, so that pushing against the block or the door does not wind up a
    /// large hidden offset that keeps pushing after the policy says stop.
    public static let maximumLead = 0.025

    let mocap: Int
    let handSite: Int
    let goalSite: Int

    public init(simulation: MuJoCoSimulation) throws(VisionEnvError) {
        self.simulation = simulation
        let mocapBody = try simulation.id(of: mjOBJ_BODY, named: "mocap")
        let mocapIndex = Int(simulation.model.pointee.body_mocapid[mocapBody])
        guard mocapIndex >= 0 else {
            throw .missingModelElement(path: simulation.path, kind: "mocap body", name: "mocap")
        }
        mocap = mocapIndex
        handSite = try simulation.id(of: mjOBJ_SITE, named: "hand")
        goalSite = try simulation.id(of: mjOBJ_SITE, named: "goal")
    }

    /// The point between the gripper's fingers, world frame.
    public var handPosition: SIMD3<Double> { simulation.sitePosition(handSite) }

    /// Where the weld pulls the gripper to.
    public var mocapPosition: SIMD3<Double> { simulation.mocapPosition(mocap) }

    /// Where the hidden goal marker is (drawn only in frames for people).
    public var goalMarkerPosition: SIMD3<Double> { simulation.sitePosition(goalSite) }

    /// Back to the model's initial state; the goal marker keeps its position.
    public func reset() {
        simulation.reset()
    }

    /// Puts the goal marker at `position` (no physical effect: sites do not collide).
    public func setGoalMarker(_ position: SIMD3<Double>) {
        simulation.setStaticSitePosition(position, of: goalSite)
        simulation.forward()
    }

    /// One control step: moves the mocap target by `action` (already clipped to [-1, 1]^3)
    /// times `actionScale`, keeps it within `maximumLead` of the gripper and inside
    /// `workspace`, then runs `frameSkip` physics steps.
    public func moveHand(by action: SIMD3<Double>) throws(VisionEnvError) {
        let hand = handPosition
        let lead = SIMD3(repeating: Self.maximumLead)
        let target = (mocapPosition + action * Self.actionScale)
            .clamped(lowerBound: hand - lead, upperBound: hand + lead)
        let clamped = target.clamped(lowerBound: Self.workspace.lower, upperBound: Self.workspace.upper)
        simulation.setMocapPosition(clamped, of: mocap)
        try simulation.step(count: Self.frameSkip)
    }
}
