import Foundation
import Testing

/// `evaluate --task-code-oracle` through the real entry point.
struct TaskCodeOracleCommandTests {
    /// A run keeps pre-training's codes: the oracle runs every meta-training goal at its own and
    /// the held-out goals (meta-test's, as `evaluate` picks them) at fitted ones, the same on
    /// every call. A run that learned no codes (per-step exploration) gets a clear error.
    @Test func theOracleRunsEveryGoalOnceAndNeedsCodes() throws {
        let folder = try CLIRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let run = folder + "/run"
        let trained = try CLIRunner.run(MPITests.tinyMetaTrain + ["--iterations", "1", "--out", run])
        #expect(trained.status == 0, "stderr: \(trained.standardError)")
        let arguments = ["evaluate", "--run", run, "--task-code-oracle", "--goal-count", "2", "--json"]
        let first = try CLIRunner.run(arguments), second = try CLIRunner.run(arguments)
        #expect(first.status == 0, "stderr: \(first.standardError)")
        var json = try RewardOptionTests.json(first.standardOutput), again = try RewardOptionTests.json(second.standardOutput)
        let training = try #require(json["training"] as? [String: Any])
        let heldOut = try #require(json["held_out"] as? [String: Any])
        #expect(training["goals"] as? Int == 4, "the run's four meta-training goals")
        #expect(heldOut["goals"] as? Int == 2)
        #expect(json["code_fit"] as? String == "linear", "four 2-D goals are too few for a quadratic map")
        #expect(json["iteration"] as? Int == 1)
        for part in [training, heldOut] {
            let success = try #require(part["success"] as? Double)
            #expect((0...1).contains(success))
        }
        let evaluated = try CLIRunner.run(["evaluate", "--run", run, "--goal-count", "2", "--draws", "1",
                                           "--trajectories", "2", "--json"])
        let perGoal = try #require(try RewardOptionTests.json(evaluated.standardOutput)["per_goal"] as? [[String: Any]])
        let oracleGoals = try #require(heldOut["per_goal"] as? [[String: Any]])
        #expect(oracleGoals.compactMap { $0["goal"] as? [Double] } == perGoal.compactMap { $0["goal"] as? [Double] })
        (json["seconds"], again["seconds"]) = (nil, nil)
        #expect(NSDictionary(dictionary: json).isEqual(to: again), "the same result on every call")

        let perStep = folder + "/per-step"
        let plain = try CLIRunner.run(MPITests.tinyMetaTrain + ["--iterations", "1", "--exploration", "per-step", "--out", perStep])
        #expect(plain.status == 0, "stderr: \(plain.standardError)")
        let refused = try CLIRunner.run(["evaluate", "--run", perStep, "--task-code-oracle"])
        #expect(refused.status != 0)
        #expect(refused.standardError.contains("holds no task codes"), "stderr: \(refused.standardError)")
    }
}
