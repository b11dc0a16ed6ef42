import Foundation
import Testing

/// `evaluate --bias-vector-alpha` and `evaluate --exploration` through the real entry point.
struct EvaluateStepSizeTests {
    /// The option replaces the bias vector's α at meta-test: at the run's own α (a run with no
    /// meta-iterations keeps its initial 1.5) the evaluation is the one without it, number for
    /// number; at another α the adapted policies, and so where their episodes end, differ. A
    /// step size that is not positive is refused with a message naming the option.
    @Test func theOptionReplacesTheBiasVectorsStepSize() throws {
        let folder = try CLIRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let run = folder + "/run"
        let trained = try CLIRunner.run(MPITests.tinyMetaTrain + ["--iterations", "0", "--bias-vector-alpha", "1.5", "--out", run])
        #expect(trained.status == 0, "stderr: \(trained.standardError)")
        let evaluate = ["evaluate", "--run", run, "--goal-count", "2", "--draws", "2", "--trajectories", "4", "--json"]
        func perGoal(_ extra: [String]) throws -> [[String: Any]] {
            let result = try CLIRunner.run(evaluate + extra)
            #expect(result.status == 0, "stderr: \(result.standardError)")
            return try #require(try RewardOptionTests.json(result.standardOutput)["per_goal"] as? [[String: Any]])
        }
        func distances(_ goals: [[String: Any]]) -> [Double] { goals.compactMap { $0["post_final_distance"] as? Double } }
        let own = try perGoal([]), same = try perGoal(["--bias-vector-alpha", "1.5"]), other = try perGoal(["--bias-vector-alpha", "6"])
        #expect(distances(own).count == 2)
        #expect(distances(own) == distances(same), "α 1.5 is the run's own")
        #expect(distances(own) != distances(other), "a four times larger step adapts to other policies")

        let refused = try CLIRunner.run(["evaluate", "--run", run, "--bias-vector-alpha", "0"])
        #expect(refused.status != 0)
        #expect(refused.standardError.contains("--bias-vector-alpha must be a positive number"), "stderr: \(refused.standardError)")
    }

    /// `--exploration` replaces how the run's latent probes act at meta-test: naming the run's
    /// own (latent-only, the default) gives the evaluation without it, number for number; noise
    /// on every action (per-trajectory) gives other probes, so other adapted policies. A run
    /// that explores per step has no latent to keep, and is refused with nothing evaluated.
    @Test func theOptionReplacesTheRunsExploration() throws {
        let folder = try CLIRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let run = folder + "/run"
        let trained = try CLIRunner.run(MPITests.tinyMetaTrain + ["--iterations", "0", "--out", run])
        #expect(trained.status == 0, "stderr: \(trained.standardError)")
        let evaluate = ["evaluate", "--run", run, "--goal-count", "2", "--draws", "2", "--trajectories", "4", "--json"]
        func distances(_ extra: [String]) throws -> [Double] {
            let result = try CLIRunner.run(evaluate + extra)
            #expect(result.status == 0, "stderr: \(result.standardError)")
            let goals = try #require(try RewardOptionTests.json(result.standardOutput)["per_goal"] as? [[String: Any]])
            return goals.compactMap { $0["post_final_distance"] as? Double }
        }
        let own = try distances([]), same = try distances(["--exploration", "latent-only"])
        let noisy = try distances(["--exploration", "per-trajectory"])
        #expect(own.count == 2)
        #expect(own == same, "latent-only is the run's own")
        #expect(own != noisy, "noise on every action gives other probes")

        let perStep = folder + "/per-step"
        let stepRun = try CLIRunner.run(MPITests.tinyMetaTrain + ["--iterations", "0", "--exploration", "per-step", "--out", perStep])
        #expect(stepRun.status == 0, "stderr: \(stepRun.standardError)")
        let refused = try CLIRunner.run(["evaluate", "--run", perStep, "--exploration", "latent-only", "--goal-count", "1", "--draws", "1"])
        #expect(refused.status != 0)
        #expect(refused.standardError.contains("explores per step, with no latent"), "stderr: \(refused.standardError)")
        #expect(refused.standardOutput.isEmpty)
    }
}
