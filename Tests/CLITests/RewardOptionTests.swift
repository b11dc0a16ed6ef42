import Foundation
import Testing

/// `--reward` through the real entry point: a run keeps the reward it started with, evaluation
/// uses the run's unless told, and the data commands say which they recorded.
struct RewardOptionTests {
    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func aSparseRunKeepsItsRewardAndRefusesAnother() throws {
        let folder = try CLIRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let run = folder + "/run"
        let first = try CLIRunner.run(MPITests.tinyMetaTrain + ["--iterations", "1", "--reward", "sparse", "--out", run])
        #expect(first.status == 0, "stderr: \(first.standardError)")
        let config = try Self.json(String(contentsOfFile: run + "/config.json", encoding: .utf8))
        #expect(config["reward"] as? String == "sparse")

        let dense = try CLIRunner.run(MPITests.tinyMetaTrain + ["--iterations", "2", "--reward", "dense", "--out", run])
        #expect(dense.status != 0)
        #expect(dense.standardError.contains("--reward (reward) \"sparse\" → \"dense\""), "stderr: \(dense.standardError)")

        let own = try CLIRunner.run(["evaluate", "--run", run, "--goal-count", "1", "--draws", "1", "--trajectories", "2", "--json"])
        #expect(own.status == 0, "stderr: \(own.standardError)")
        #expect(try Self.json(own.standardOutput)["reward"] as? String == "sparse", "the run's own reward")
        let told = try CLIRunner.run(["evaluate", "--run", run, "--goal-count", "1", "--draws", "1", "--trajectories", "2",
                                      "--reward", "dense", "--json"])
        #expect(try Self.json(told.standardOutput)["reward"] as? String == "dense", "stderr: \(told.standardError)")
    }

    /// `evaluate --goals validation`: goals for tuning that meta-test never uses. Two validation
    /// goals are the first two of three (the list extends), and none is a meta-test goal.
    @Test func validationGoalsAreDisjointFromMetaTestAndExtend() throws {
        let folder = try CLIRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let run = folder + "/run"
        let trained = try CLIRunner.run(MPITests.tinyMetaTrain + ["--iterations", "1", "--out", run])
        #expect(trained.status == 0, "stderr: \(trained.standardError)")
        func goals(_ split: String, _ count: Int) throws -> [[Double]] {
            let result = try CLIRunner.run(["evaluate", "--run", run, "--goals", split, "--goal-count", "\(count)",
                                            "--draws", "1", "--trajectories", "2", "--json"])
            #expect(result.status == 0, "stderr: \(result.standardError)")
            let perGoal = try #require(try Self.json(result.standardOutput)["per_goal"] as? [[String: Any]])
            return perGoal.compactMap { $0["goal"] as? [Double] }
        }
        let two = try goals("validation", 2), three = try goals("validation", 3), test = try goals("meta-test", 3)
        #expect(two.count == 2 && three.count == 3)
        #expect(Array(three.prefix(2)) == two)
        #expect(Set(three).isDisjoint(with: Set(test)), "validation \(three), meta-test \(test)")
    }

    @Test func demosAndTheExpertBaselineSayWhichRewardTheyUsed() throws {
        let folder = try CLIRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let demos = try CLIRunner.run(["demos", "--env", "push", "--experts", "scripted", "--per-task", "1", "--tasks", "1",
                                       "--size", "12x16", "--reward", "sparse", "--out", folder, "--json"])
        #expect(demos.status == 0, "stderr: \(demos.standardError)")
        #expect(try Self.json(demos.standardOutput)["reward"] as? String == "sparse")
        let manifest = try Self.json(String(contentsOfFile: folder + "/demos.json", encoding: .utf8))
        #expect(manifest["reward"] as? String == "sparse")

        let expert = try CLIRunner.run(["baseline", "--algo", "expert", "--env", "push", "--goal-count", "2", "--draws", "1",
                                        "--reward", "sparse", "--json"])
        #expect(expert.status == 0, "stderr: \(expert.standardError)")
        let summary = try Self.json(expert.standardOutput)
        #expect(summary["reward"] as? String == "sparse")
        let bad = try CLIRunner.run(["baseline", "--algo", "expert", "--reward", "medium"])
        #expect(bad.status != 0 && bad.standardError.contains("'medium' is invalid for '--reward"), "stderr: \(bad.standardError)")
    }
}
