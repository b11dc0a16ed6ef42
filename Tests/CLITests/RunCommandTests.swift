import Foundation
import Testing

/// The whole pipeline on its tiny budget, through the real entry point, and its errors.
struct RunCommandTests {
    @Test func quickRunWritesARunDirectoryAndJSON() throws {
        let folder = try CLIRunner.temporaryFolder() + "/run"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let result = try CLIRunner.run(["run", "--quick", "--env", "reach", "--out", folder, "--json",
                                        "--size", "24x32", "--adapt-steps", "1"])
        #expect(result.status == 0, "stderr: \(result.standardError)")
        let object = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any]
        let json = try #require(object)
        for key in ["env", "pre_success", "post_success", "on_policy_samples", "multitask_bc_success", "expert_success"] {
            #expect(json[key] != nil, "missing \(key)")
        }
        #expect(json["env"] as? String == "reach")
        for file in ["config.json", "progress.csv", "checkpoint.json", "policy.safetensors", "report.md",
                     "plots/success.png", "frames/goal-1-before.png", "frames/goal-1-after.png"] {
            #expect(FileManager.default.fileExists(atPath: folder + "/" + file), "missing \(file)")
        }
        let progress = try String(contentsOfFile: folder + "/progress.csv", encoding: .utf8)
        #expect(progress.split(separator: "\n").count == 3, "a header and one row per iteration")

        // The run's meta-policy, adapted to a goal, through the render command.
        let frames = folder + "-frames"
        defer { try? FileManager.default.removeItem(atPath: frames) }
        let render = try CLIRunner.run(["render", "--env", "reach", "--policy", "meta:" + folder, "--adapted",
                                        "--out", frames, "--show-goal"])
        #expect(render.status == 0, "stderr: \(render.standardError)")
        #expect(FileManager.default.fileExists(atPath: frames + "/episode-000-sheet.png"))
        let wrongEnv = try CLIRunner.run(["render", "--env", "push", "--policy", "meta:" + folder, "--out", frames])
        #expect(wrongEnv.standardError.contains("holds a reach run"))

        // The same --out again is refused; --resume of a finished run does no more iterations.
        let again = try CLIRunner.run(["run", "--quick", "--env", "reach", "--out", folder])
        #expect(again.status != 0)
        #expect(again.standardError.contains("--resume"))
        let otherEnv = try CLIRunner.run(["run", "--quick", "--env", "push", "--out", folder])
        #expect(otherEnv.standardError.contains("holds a reach run"))
    }

    @Test func unknownEnvironmentAndBadNumbersAreClearErrors() throws {
        let env = try CLIRunner.run(["run", "--quick", "--env", "pong", "--out", "/tmp/unused-gmps-run"])
        #expect(env.status != 0)
        #expect(env.standardError.contains("pong"))
        let trajectories = try CLIRunner.run(["run", "--quick", "--trajectories", "1"])
        #expect(trajectories.status != 0)
        #expect(trajectories.standardError.contains("--trajectories"))
        let size = try CLIRunner.run(["run", "--quick", "--size", "8x8"])
        #expect(size.standardError.contains("--size"))
    }

    @Test func resumingAFolderWithoutARunSaysWhatToDo() throws {
        let folder = try CLIRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let result = try CLIRunner.run(["run", "--resume", folder])
        #expect(result.status != 0)
        #expect(result.standardError.contains("no run"))
    }
}
