import Testing
@testable import VisionEnvs

/// Runs `expert` for one episode on `goal`; returns whether the last step succeeded.
func runScriptedEpisode(_ env: ManipulationEnv, goal: Goal, trace: Bool = false) throws -> Bool {
    try env.reset(goal: goal)
    let expert = ScriptedExpert(env.name)
    var last = StepResult(reward: 0, success: false, done: false)
    while !last.done {
        let state = env.privilegedState()
        let action = expert.action(for: state)
        last = try env.step(action)
        if trace { print(env.stepCount, state.map { ($0 * 1000).rounded() / 1000 }, action, last.reward) }
    }
    return last.success
}

/// Success rate of the scripted expert on `count` random goals.
func scriptedSuccessRate(_ name: EnvironmentName, count: Int, seed: UInt64) throws -> (rate: Double, failures: [Goal]) {
    let env = try ManipulationEnv(name)
    var generator = SplitMix64(seed: seed)
    let distribution = TaskDistribution(name)
    var failures: [Goal] = []
    for _ in 0..<count {
        let goal = distribution.sample(using: &generator)
        if try !runScriptedEpisode(env, goal: goal) { failures.append(goal) }
    }
    return (Double(count - failures.count) / Double(count), failures)
}

@Test func probe() throws {
    for name in EnvironmentName.allCases {
        let (rate, failures) = try scriptedSuccessRate(name, count: 300, seed: 7)
        print(name, rate, failures.prefix(5))
    }
}
@Test func probeTrace() throws {
    let env = try ManipulationEnv(.push)
    _ = try runScriptedEpisode(env, goal: Goal(.push, [-0.1015, 0.8323]), trace: true)
}
@Test func probeLag() throws {
    let env = try ManipulationEnv(.reach)
    for i in 0..<12 {
        try env.step(SIMD3<Float>(1, 1, i < 6 ? 1 : 0))
        let lead = env.physics.mocapPosition - env.physics.handPosition
        print(i, lead)
    }
    for i in 0..<6 {
        try env.step(SIMD3<Float>(0, 0, 0))
        print("rest", i, env.physics.mocapPosition - env.physics.handPosition)
    }
}
