import Foundation
import Testing

/// `gmps-vision baseline` end to end on tiny budgets: the real entry point, its JSON, and the
/// run directory that `evaluate` reads.
struct BaselineCommandTests {
    static func json(_ text: String) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
        return object as? [String: Any] ?? [:]
    }

    static let evaluationKeys = ["env", "goals", "adapt_steps", "pre_success", "post_success", "post_success_spread",
                                 "pre_return", "post_return", "post_final_distance", "per_goal"]

    @Test func expertPrintsTheEvaluationKeys() throws {
        let result = try CLIRunner.run(["baseline", "--algo", "expert", "--env", "push", "--goal-count", "3",
                                        "--draws", "2", "--json"])
        #expect(result.status == 0, "\(result.standardError)")
        let object = try Self.json(result.standardOutput)
        for key in Self.evaluationKeys { #expect(object[key] != nil, "missing \(key)") }
        #expect(object["post_success"] as? Double == 1)
        #expect((object["per_goal"] as? [Any])?.count == 3)
    }

    @Test func pgScratchPrintsTheEvaluationKeys() throws {
        let result = try CLIRunner.run(["baseline", "--algo", "pg-scratch", "--env", "reach", "--size", "24x32",
                                        "--goal-count", "2", "--draws", "1", "--trajectories", "2", "--json"])
        #expect(result.status == 0, "\(result.standardError)")
        let object = try Self.json(result.standardOutput)
        for key in Self.evaluationKeys { #expect(object[key] != nil, "missing \(key)") }
        #expect(object["adaptation_samples_per_draw"] as? Int == 2 * 50)
    }

    @Test func mamlRunIsEvaluatedLikeAGMPSRun() throws {
        let folder = try CLIRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let train = try CLIRunner.run(["baseline", "--algo", "maml-pg", "--env", "reach", "--size", "24x32",
                                       "--out", folder, "--iterations", "1", "--tasks", "2", "--tasks-per-iteration", "2",
                                       "--trajectories", "2", "--snapshot-every", "1", "--exploration", "per-trajectory",
                                       "--outer-steps", "2", "--outer-clip", "0.3", "--json"])
        #expect(train.status == 0, "\(train.standardError)")
        #expect(try Self.json(train.standardOutput)["on_policy_samples"] as? Int == 2 * 2 * 2 * 50)
        let config = try Self.json(String(contentsOfFile: folder + "/config.json", encoding: .utf8))
        #expect((config["exploration"] as? [String: Any])?["perTrajectory"] != nil)
        #expect(config["outerSteps"] as? Int == 2)
        #expect(config["outerClip"] as? Double == 0.3)
        #expect(FileManager.default.fileExists(atPath: folder + "/snapshots/iter-0001/checkpoint.json"))
        let progress = try String(contentsOfFile: folder + "/progress.csv", encoding: .utf8)
        #expect(progress.split(separator: "\n").count == 2)
        #expect(progress.hasPrefix("iteration,pre_success,post_success"))
        let evaluate = try CLIRunner.run(["evaluate", "--run", folder, "--goal-count", "2", "--draws", "1", "--json"])
        #expect(evaluate.status == 0, "\(evaluate.standardError)")
        let object = try Self.json(evaluate.standardOutput)
        for key in Self.evaluationKeys { #expect(object[key] != nil, "missing \(key)") }
    }

    @Test func multitaskBCRunIsEvaluatedLikeAGMPSRun() throws {
        let folder = try CLIRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let train = try CLIRunner.run(["baseline", "--algo", "multitask-bc", "--env", "reach", "--size", "24x32",
                                       "--out", folder, "--iterations", "2", "--tasks", "2", "--scripted-demos", "1"])
        #expect(train.status == 0, "\(train.standardError)")
        let evaluate = try CLIRunner.run(["evaluate", "--run", folder, "--goal-count", "2", "--draws", "1",
                                          "--trajectories", "2", "--json"])
        #expect(evaluate.status == 0, "\(evaluate.standardError)")
        let object = try Self.json(evaluate.standardOutput)
        #expect(object["pre_success"] as? Double == object["post_success"] as? Double, "α = 0: no adaptation")
    }

    @Test func unknownAlgorithmOrMissingRunFolderIsASentence() throws {
        let unknown = try CLIRunner.run(["baseline", "--algo", "ppo"])
        #expect(unknown.status != 0)
        #expect(unknown.standardError.contains("'ppo' is invalid for '--algo"))
        #expect(unknown.standardError.contains("'maml-pg', 'multitask-bc', 'pg-scratch' or 'expert'"))
        let noOut = try CLIRunner.run(["baseline", "--algo", "maml-pg"])
        #expect(noOut.status != 0)
        #expect(noOut.standardError.contains("--algo maml-pg writes a run directory: give it with --out DIR."))
        // Bounds come from the configuration, under the baseline's own option names.
        let demos = try CLIRunner.run(["baseline", "--algo", "expert", "--scripted-demos", "0"])
        #expect(demos.status != 0)
        #expect(demos.standardError.contains("--scripted-demos must be at least 1"), "\(demos.standardError)")
        let clip = try CLIRunner.run(["baseline", "--algo", "maml-pg", "--out", "/tmp/unused-maml", "--outer-clip", "1"])
        #expect(clip.status != 0)
        #expect(clip.standardError.contains("--outer-clip must be in (0, 1); got 1.0."), "\(clip.standardError)")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/unused-maml"), "refused before anything is written")
        let size = try CLIRunner.run(["baseline", "--algo", "expert", "--size", "8x8"])
        #expect(size.standardError.contains("--size 8x8 is too small"), "\(size.standardError)")
    }
}
