import Foundation
import Testing
@testable import VisionEnvs

/// Reward and success on hand-built states: the formulas of DESIGN.md section 3.
@Suite struct TaskDefinitionTests {
    @Test func pushRewardIsMinusReachPlusHundredTimesProgress() {
        let goal = SIMD2(0.0, 0.8)
        // Block moved from 0.2 m to 0.05 m of the goal, hand 0.03 m from the block.
        let reward = PushTask.reward(hand: SIMD3(0, 0.72, 0.02), block: SIMD3(0, 0.75, 0.02), goal: goal,
                                     initialPlaceDistance: 0.2)
        #expect(abs(reward - (-0.03 + 100 * 0.15)) < 1e-9)
        // Pushing the block away from the goal earns nothing beyond the reach term.
        let away = PushTask.reward(hand: SIMD3(0, 0.5, 0.02), block: SIMD3(0, 0.55, 0.02), goal: goal,
                                   initialPlaceDistance: 0.2)
        #expect(abs(away - (-0.05)) < 1e-9)
    }

    @Test func pushSuccessIsBlockGoalDistanceInThePlaneBelowFiveCentimetres() {
        let goal = SIMD2(0.1, 0.8)
        #expect(PushTask.isSuccess(block: SIMD3(0.1, 0.849, 0.02), goal: goal))
        #expect(!PushTask.isSuccess(block: SIMD3(0.1, 0.851, 0.02), goal: goal))
        // Height does not count: xy distance only.
        #expect(PushTask.isSuccess(block: SIMD3(0.1, 0.8, 0.5), goal: goal))
    }

    @Test func doorPaysProgressOnlyWhileTheHandHoldsTheHandle() {
        let handle = SIMD3(0.1, 0.7, 0.12)
        let holding = SIMD3(0.1, 0.68, 0.12)       // 2 cm away
        let away = SIMD3(0.1, 0.5, 0.12)           // 20 cm away
        let progress = DoorTask.reward(hand: holding, handle: handle, angle: 0.5, target: 0.6)
        #expect(abs(progress - (-0.02 + 100 * (0.6 - 0.1))) < 1e-9)
        #expect(abs(DoorTask.reward(hand: away, handle: handle, angle: 0.5, target: 0.6) - (-0.2)) < 1e-9)
        // Overshooting loses what it gained: at 2 x target, progress is 0.
        #expect(abs(DoorTask.reward(hand: holding, handle: handle, angle: 1.2, target: 0.6) - (-0.02)) < 1e-9)
    }

    @Test func doorSuccessIsAngleWithinPointOneRadianOfTheTarget() {
        #expect(DoorTask.isSuccess(angle: 0.69, target: 0.6))
        #expect(DoorTask.isSuccess(angle: 0.51, target: 0.6))
        #expect(!DoorTask.isSuccess(angle: 0.71, target: 0.6))
        #expect(!DoorTask.isSuccess(angle: 0.0, target: 0.2))
    }

    @Test func reachRewardIsMinusDistanceAndSuccessIsWithinFiveCentimetres() {
        let goal = SIMD3(0.0, 0.8, 0.15)
        #expect(abs(ReachTask.reward(hand: SIMD3(0.03, 0.84, 0.15), goal: goal) - (-0.05)) < 1e-9)
        #expect(ReachTask.isSuccess(hand: SIMD3(0.03, 0.83, 0.15), goal: goal))
        #expect(!ReachTask.isSuccess(hand: SIMD3(0.03, 0.85, 0.15), goal: goal))
    }

    @Test func pushEnvironmentScoresTheSimulatedBlock() throws {
        let env = try ManipulationEnv(.push)
        try env.reset(goal: Goal(.push, [0.0, 0.62]))  // 2 cm from where the block rests
        #expect(env.isSuccess)
        try env.reset(goal: Goal(.push, [0.1, 0.8]))
        #expect(!env.isSuccess)
        let state = env.privilegedState()
        #expect(state.count == EnvironmentName.push.privilegedStateDimension)
        #expect(Array(state[3...4]) == [0, 0.6])
        #expect(Array(state[6...8]) == [0.1, 0.8, Float(PushTask.blockRestingHeight)])
    }

    @Test func privilegedStatesHoldTheGoalAndHaveTheDocumentedLength() throws {
        for name in EnvironmentName.allCases {
            let env = try ManipulationEnv(name)
            let centre = name.goalSamplingRanges.map { ($0.lowerBound + $0.upperBound) / 2 }
            try env.reset(goal: Goal(name, centre))
            let state = env.privilegedState()
            #expect(state.count == name.privilegedStateDimension)
            #expect(Array(state.prefix(3)) == [env.handPosition.x, env.handPosition.y, env.handPosition.z])
            switch name {
            case .push: #expect(Array(state[6...7]) == centre.map(Float.init))
            case .door: #expect(state[7] == Float(centre[0]))
            case .reach: #expect(Array(state[3...5]) == centre.map(Float.init))
            }
        }
    }

    @Test func doneComesExactlyAtTheHorizon() throws {
        for name in EnvironmentName.allCases {
            let env = try ManipulationEnv(name)
            var steps = 0
            var result = StepResult(reward: 0, success: false, done: false)
            while !result.done {
                result = try env.step(SIMD3<Float>(0.3, 0.2, 0))
                steps += 1
            }
            #expect(steps == name.horizon)
        }
        #expect(EnvironmentName.allCases.map(\.horizon) == [50, 100, 50] as [Int])
    }

    @Test func doorGoalMarkerFloatsAboveTheHandlesPlaceAtTheTargetAngle() throws {
        let env = try ManipulationEnv(.door)
        try env.reset(goal: Goal(.door, [0.0]))
        let state = env.privilegedState()
        let closedMarker = env.physics.goalMarkerPosition
        #expect(distance(closedMarker.xy, SIMD2(Double(state[3]), Double(state[4]))) < 1e-6)
        #expect(closedMarker.z == DoorTask.goalMarkerHeight)
        try env.reset(goal: Goal(.door, [0.8]))
        // 0.8 rad about the hinge at (-0.15, 0.7); the handle's centre is 0.2648 m from it.
        let chord = distance(env.physics.goalMarkerPosition, closedMarker)
        #expect(abs(chord - 2 * 0.2648 * sin(0.4)) < 0.005)
        // Placing the marker did not move the door.
        #expect(env.privilegedState()[6] == 0)
    }
}
