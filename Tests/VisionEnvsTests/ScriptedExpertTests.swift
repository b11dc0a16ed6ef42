import Testing
@testable import VisionEnvs

/// Runs the scripted expert for one episode of `goal`; returns the last step's result.
@discardableResult
func runScriptedEpisode(_ env: ManipulationEnv, goal: Goal) throws -> StepResult {
    try env.reset(goal: goal)
    let expert = ScriptedExpert(env.name)
    var last = StepResult(reward: 0, success: false, done: false)
    while !last.done {
        last = try env.step(expert.action(for: env.privilegedState()))
    }
    return last
}

/// Share of `count` random goals (drawn with `seed`) on which the scripted expert succeeds.
func scriptedSuccessRate(_ name: EnvironmentName, count: Int, seed: UInt64) throws -> Double {
    let env = try ManipulationEnv(name)
    var generator = SplitMix64(seed: seed)
    let distribution = TaskDistribution(name)
    var successes = 0
    for _ in 0..<count where try runScriptedEpisode(env, goal: distribution.sample(using: &generator)).success {
        successes += 1
    }
    return Double(successes) / Double(count)
}

@Suite struct ScriptedExpertTests {
    @Test func scriptedPusherMovesTheBlockIntoTheGoalRegion() throws {
        let env = try ManipulationEnv(.push)
        let goal = try Goal(.push, [0.12, 0.83])
        let last = try runScriptedEpisode(env, goal: goal)
        let state = env.privilegedState()
        let block = SIMD2<Double>(Double(state[3]), Double(state[4]))
        #expect(last.success)
        #expect(distance(block, SIMD2(0.12, 0.83)) < PushTask.successRadius)
        // It really moved: the block started 0.26 m from this goal.
        #expect(distance(block, SIMD2(0, 0.6)) > 0.2)
    }

    @Test func scriptedDoorOpenerOpensTheDoorToTheTargetAngle() throws {
        let env = try ManipulationEnv(.door)
        for target in [0.25, 0.95] {
            let last = try runScriptedEpisode(env, goal: Goal(.door, [target]))
            let angle = Double(env.privilegedState()[6])
            #expect(last.success)
            #expect(abs(angle - target) < DoorTask.successTolerance, "angle \(angle), target \(target)")
        }
    }

    @Test func scriptedReacherReachesTheGoal() throws {
        let env = try ManipulationEnv(.reach)
        let last = try runScriptedEpisode(env, goal: Goal(.reach, [-0.14, 0.88, 0.24]))
        #expect(last.success)
        #expect(distance(env.physics.handPosition, SIMD3(-0.14, 0.88, 0.24)) < ReachTask.successRadius)
    }

    /// The bar: each demonstrator succeeds on at least 95% of random goals.
    @Test(arguments: EnvironmentName.allCases)
    func scriptedExpertSucceedsOnAtLeast95PercentOfRandomGoals(_ name: EnvironmentName) throws {
        let rate = try scriptedSuccessRate(name, count: 100, seed: 11)
        #expect(rate >= 0.95, "\(name): \(rate)")
    }

    @Test func doingNothingFailsEveryTask() throws {
        for name in EnvironmentName.allCases {
            let env = try ManipulationEnv(name)
            var last = StepResult(reward: 0, success: false, done: false)
            while !last.done { last = try env.step(SIMD3<Float>.zero) }
            #expect(!last.success, "\(name) counted as solved without acting")
        }
    }
}
