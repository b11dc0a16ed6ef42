import Foundation
import Testing
@testable import VisionEnvs

/// `--reward sparse`: 1 at a step exactly when the task's success test holds, 0 otherwise;
/// the physics and success are the dense environment's, step for step.
@Suite struct SparseRewardTests {
    /// How the twin environments are driven.
    enum Driver: CaseIterable {
        /// Uniform actions in [-1, 1]³: mostly failing states.
        case random
        /// The scripted expert with N(0, 0.3²) on its actions: success reached, sometimes lost.
        case noisyExpert
        /// The scripted expert as is: success reached and held.
        case expert
    }

    /// Drives a dense and a sparse environment of `name` with the same actions over `goals`
    /// episodes; checks every step and returns how many steps were successes and failures.
    static func compareTwins(_ name: EnvironmentName, driver: Driver, goals: Int,
                             seed: UInt64) throws -> (successes: Int, failures: Int) {
        let dense = try ManipulationEnv(name)
        let sparse = try ManipulationEnv(name, reward: .sparse)
        #expect(dense.rewardKind == .dense && sparse.rewardKind == .sparse)
        let expert = ScriptedExpert(name)
        var generator = SplitMix64(seed: seed)
        var counts = (successes: 0, failures: 0)
        for _ in 0..<goals {
            let goal = TaskDistribution(name).sample(using: &generator)
            try dense.reset(goal: goal)
            try sparse.reset(goal: goal)
            var done = false
            while !done {
                var action = expert.action(for: dense.privilegedState())
                switch driver {
                case .random:
                    action = SIMD3(Float.random(in: -1...1, using: &generator), Float.random(in: -1...1, using: &generator),
                                   Float.random(in: -1...1, using: &generator))
                case .noisyExpert:
                    action += SIMD3(gaussian(&generator), gaussian(&generator), gaussian(&generator)) * 0.3
                case .expert:
                    break
                }
                let denseStep = try dense.step(action)
                let sparseStep = try sparse.step(action)
                #expect(sparse.privilegedState() == dense.privilegedState(), "the reward changes nothing physical")
                #expect(sparseStep.success == denseStep.success && sparseStep.done == denseStep.done)
                #expect(denseStep.reward == dense.task.reward(dense.physics), "dense stays the shaped reward")
                // The task's own success test, asked of the dense twin.
                let solved = dense.task.isSuccess(dense.physics)
                #expect(sparseStep.reward == (solved ? 1 : 0), "\(name) step \(dense.stepCount): success \(solved), reward \(sparseStep.reward)")
                #expect(sparse.reward == sparseStep.reward)
                if solved { counts.successes += 1 } else { counts.failures += 1 }
                done = denseStep.done
            }
        }
        return counts
    }

    @Test(arguments: [EnvironmentName.push, .door])
    func sparseRewardIsOneExactlyWhenTheTaskSucceeds(_ name: EnvironmentName) throws {
        var total = (successes: 0, failures: 0)
        for (index, driver) in Driver.allCases.enumerated() {
            let counts = try Self.compareTwins(name, driver: driver, goals: 4, seed: 40 + UInt64(index))
            total = (total.successes + counts.successes, total.failures + counts.failures)
            if driver == .expert { #expect(counts.successes > 0, "\(name): the expert reaches success") }
        }
        // Both branches were exercised, many times.
        #expect(total.successes >= 20 && total.failures >= 100, "\(name): \(total)")
    }

    @Test func reachTakesTheSparseRewardToo() throws {
        let counts = try Self.compareTwins(.reach, driver: .expert, goals: 2, seed: 7)
        #expect(counts.successes > 0 && counts.failures > 0)
    }

    @Test func rewardKindsAreTheirCommandLineWords() {
        #expect(RewardKind.allCases.map(\.description) == ["dense", "sparse"])
        #expect(RewardKind(rawValue: "sparse") == .sparse)
    }
}

/// A standard normal draw (Box–Muller).
private func gaussian(_ generator: inout SplitMix64) -> Float {
    let u = Float.random(in: Float.ulpOfOne..<1, using: &generator), v = Float.random(in: 0..<1, using: &generator)
    return (-2 * logf(u)).squareRoot() * cosf(2 * .pi * v)
}
