import Foundation

/// Hand-written demonstrators: each maps an environment's privileged state (goal included)
/// to an action, with no memory, so they can also label states a learner visited (DAgger).
///
/// They are DESIGN.md's "demonstrations are easy to provide" setting and the proof that each
/// task can be solved within its horizon. They know the models' geometry (block and finger
/// sizes, where the handle sits on the door), as a person writing them would.
public struct ScriptedExpert: Sendable {
    public let environment: EnvironmentName

    public init(_ environment: EnvironmentName) {
        self.environment = environment
    }

    /// The action for `state` (`environment.privilegedStateDimension` numbers), in [-1, 1]^3.
    public func action(for state: [Float]) -> SIMD3<Float> {
        // The geometry runs in Double, from the state's Float numbers (exact conversions).
        let action: SIMD3<Double>
        switch environment {
        case .push:
            let push = PushState(state)
            action = Self.push(hand: SIMD3(push.hand), block: SIMD3(push.block), goal: SIMD3(push.goal).xy)
        case .door:
            let door = DoorState(state)
            action = Self.door(hand: SIMD3(door.hand), handle: SIMD3(door.handle), angle: Double(door.angle),
                               target: Double(door.targetAngle))
        case .reach:
            let reach = ReachState(state)
            action = Self.moveTowards(SIMD3(reach.goal), from: SIMD3(reach.hand))
        }
        return SIMD3<Float>(action)
    }

    /// Full speed (one unit = 0.01 m per axis) straight towards `target`, proportional in
    /// the last centimetre. Scaled as a whole, not clipped per axis, so that the direction
    /// survives (clipping each axis would bend a mostly-forward move away from small
    /// sideways corrections).
    static func moveTowards(_ target: SIMD3<Double>, from hand: SIMD3<Double>) -> SIMD3<Double> {
        let action = (target - hand) / GripperPhysics.actionScale
        let largest = max(abs(action.x), abs(action.y), abs(action.z))
        return largest > 1 ? action / largest : action
    }

    // MARK: push

    /// How far behind the block's centre the hand lines up before pushing: block half-size
    /// (0.02) plus finger half-thickness (0.008) plus 1.7 cm of air.
    static let pushStandoff = 0.045
    /// Height of the hand (between the fingers) while pushing: fingers span z 0.005–0.055.
    static let pushHeight = 0.03

    /// Line up behind the block on the line from the goal through the block, then push
    /// along it, re-aiming every step as the block turns, slowing down near the goal because
    /// the block slides on after the hand stops, and stopping 2 cm short.
    static func push(hand: SIMD3<Double>, block: SIMD3<Double>, goal: SIMD2<Double>) -> SIMD3<Double> {
        let toGoal = goal - block.xy
        let remaining = (toGoal * toGoal).sum().squareRoot()
        guard remaining > 0.02 else { return .zero }
        let direction = toGoal / remaining
        let relative = hand.xy - block.xy
        let along = (relative * direction).sum()         // < 0: behind the block
        let lateral = relative - along * direction
        let offLine = (lateral * lateral).sum().squareRoot()

        if along < -0.02 && offLine < 0.02 {
            // Move along the push direction while stepping back onto the line through the
            // block's centre; slow down over the last 12 cm (a block pushed at full speed
            // slides about 3 cm on).
            let target = hand.xy + direction * 0.02 - lateral
            let speed = min(max(remaining / 0.12, 0.15), 1)
            return moveTowards(SIMD3(target.x, target.y, pushHeight), from: hand) * speed
        }
        let behind = block.xy - direction * pushStandoff
        let distanceToBlock = (relative * relative).sum().squareRoot()
        if along > -0.02 && distanceToBlock < 0.07 {
            // Beside or ahead of the block: lift over it before going round.
            if hand.z < 0.08 { return moveTowards(SIMD3(hand.x, hand.y, 0.1), from: hand) }
            return moveTowards(SIMD3(behind.x, behind.y, 0.1), from: hand)
        }
        return moveTowards(SIMD3(behind.x, behind.y, pushHeight), from: hand)
    }

    // MARK: door

    /// The handle bar's centre in the door's frame (xy): along the door from the hinge, and
    /// out towards the robot.
    static let handleOffset = SIMD2(0.26, -0.05)
    /// Handle radius plus the round palm's radius: the hand's centre when touching the bar.
    static let doorContact = 0.012 + 0.024

    /// Go to the robot's side of the handle, then carry it round the hinge: each step aims
    /// the hand at where it touches the handle 0.1 rad further on, never past the target,
    /// slowing down as the door nears it.
    static func door(hand: SIMD3<Double>, handle: SIMD3<Double>, angle: Double,
                     target: Double) -> SIMD3<Double> {
        func rotated(_ v: SIMD2<Double>, by a: Double) -> SIMD2<Double> {
            SIMD2(cos(a) * v.x - sin(a) * v.y, sin(a) * v.x + cos(a) * v.y)
        }
        // The door's normal, pointing away from the robot, at angle `a`.
        func normal(_ a: Double) -> SIMD2<Double> { SIMD2(-sin(a), cos(a)) }
        let hinge = handle.xy - rotated(handleOffset, by: angle)

        let relative = hand.xy - handle.xy
        let depth = (relative * normal(angle)).sum()          // < 0: on the robot's side
        let sideways = abs((relative * rotated(SIMD2(1, 0), by: angle)).sum())
        let aligned = depth < -0.005 && sideways < 0.015 && abs(hand.z - handle.z) < 0.03
        guard aligned else {
            let standoff = handle.xy - normal(angle) * 0.05
            return moveTowards(SIMD3(standoff.x, standoff.y, handle.z), from: hand)
        }
        let next = min(target, angle + 0.1)
        let push = hinge + rotated(handleOffset, by: next) - normal(next) * (doorContact - 0.004)
        // Slow down over the last 0.2 rad: the door and the welded hand coast.
        let speed = min(max((target - angle) / 0.2, 0.25), 1)
        return moveTowards(SIMD3(push.x, push.y, handle.z), from: hand) * speed
    }
}
