import Testing
@testable import VisionEnvs

/// The tasks' typed views of the privileged state and their distance to the goal.
@Suite struct TaskGeometryTests {
    /// A state after a few random steps, so that hand, object and goal all differ.
    func stateAfterRandomSteps(_ env: ManipulationEnv, goal: Goal, seed: UInt64) throws -> [Float] {
        try env.reset(goal: goal)
        var generator = SplitMix64(seed: seed)
        for _ in 0..<8 {
            _ = try env.step(SIMD3(Float.random(in: -1...1, using: &generator), Float.random(in: -1...1, using: &generator),
                                   Float.random(in: -1...1, using: &generator)))
        }
        return env.privilegedState()
    }

    @Test func stateViewsNameWhatThePhysicsHolds() throws {
        let goals = try TaskDistribution(.push).metaSplit(seed: 2, trainCount: 1, testCount: 0).train
        let push = try ManipulationEnv(.push)
        let pushState = try stateAfterRandomSteps(push, goal: goals[0], seed: 1)
        let p = PushState(pushState)
        #expect(p.values == pushState)
        #expect(p.hand == push.handPosition)
        #expect(p.goal == SIMD3(Float(goals[0].coordinates[0]), Float(goals[0].coordinates[1]), Float(PushTask.blockRestingHeight)))
        let pushTask = try #require(push.task as? PushTask)
        #expect(p.block == SIMD3<Float>(pushTask.blockPosition(push.physics)))

        let door = try ManipulationEnv(.door)
        let doorGoal = try Goal(.door, [0.7])
        let d = DoorState(try stateAfterRandomSteps(door, goal: doorGoal, seed: 2))
        let doorTask = try #require(door.task as? DoorTask)
        #expect(d.hand == door.handPosition)
        #expect(d.handle == SIMD3<Float>(doorTask.handlePosition(door.physics)))
        #expect(d.angle == Float(doorTask.angle(door.physics)))
        #expect(d.targetAngle == 0.7)

        let reach = try ManipulationEnv(.reach)
        let reachGoal = try Goal(.reach, [0.05, 0.8, 0.2])
        let r = ReachState(try stateAfterRandomSteps(reach, goal: reachGoal, seed: 3))
        #expect(r.hand == reach.handPosition)
        #expect(r.goal == SIMD3<Float>(0.05, 0.8, 0.2))
    }

    /// The final distance as evaluation computed it before the tasks owned it: the oracle.
    static func referenceFinalDistance(state: [Float], goal: Goal) -> Double {
        let s = state.map(Double.init), g = goal.coordinates
        switch goal.environment {
        case .push: return ((s[3] - g[0]) * (s[3] - g[0]) + (s[4] - g[1]) * (s[4] - g[1])).squareRoot()
        case .door: return abs(s[6] - g[0])
        case .reach: return (0..<3).map { (s[$0] - g[$0]) * (s[$0] - g[$0]) }.reduce(0, +).squareRoot()
        }
    }

    @Test func distanceToGoalIsTheReferenceFinalDistanceBitForBit() throws {
        var generator = SplitMix64(seed: 11)
        var compared = 0
        for environment in EnvironmentName.allCases {
            let goals = try TaskDistribution(environment).metaSplit(seed: 5, trainCount: 50, testCount: 0).train
            for goal in goals {
                let state = (0..<environment.privilegedStateDimension).map { _ in Float.random(in: -1...1, using: &generator) }
                let distance = goal.distance(inPrivilegedState: state)
                #expect(distance.bitPattern == Self.referenceFinalDistance(state: state, goal: goal).bitPattern,
                        "\(goal) in \(state)")
                compared += 1
            }
        }
        #expect(compared == 150)
        // Worked examples: a 3-4-5 triangle in the table plane (height ignored), an angle gap, a 3-D gap.
        let push = PushState(hand: .zero, block: SIMD3(0.03, 0.84, 0.5), goal: .zero)
        #expect(abs(try Goal(.push, [0, 0.8]).distance(inPrivilegedState: push.values) - 0.05) < 1e-7)
        let door = DoorState(hand: .zero, handle: .zero, angle: 0.25, targetAngle: 0)
        #expect(abs(try Goal(.door, [0.75]).distance(inPrivilegedState: door.values) - 0.5) < 1e-7)
        let reach = ReachState(hand: SIMD3(0.1, 0.8, 0.3), goal: .zero)
        #expect(abs(try Goal(.reach, [0.1, 0.8, 0.1]).distance(inPrivilegedState: reach.values) - 0.2) < 1e-7)
    }
}
