import Foundation
import Testing

/// Smoke tests of `gmps-vision experts` and `gmps-vision demos` on tiny budgets.
struct ExpertsAndDemosCommandTests {
    @Test func demosWithScriptedExpertsWriteALoadableDatasetAndOneJSONObject() throws {
        let folder = try CLIRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let result = try CLIRunner.run(["demos", "--env", "reach", "--experts", "scripted", "--per-task", "2", "--tasks", "2",
                                        "--size", "12x16", "--out", folder, "--json"])
        #expect(result.status == 0, "stderr: \(result.standardError)")
        let object = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any]
        let json = try #require(object)
        #expect(json["env"] as? String == "reach" && json["tasks"] as? Int == 2 && json["episodes"] as? Int == 4)
        #expect(json["env_steps"] as? Int == 200)
        #expect(FileManager.default.fileExists(atPath: folder + "/demos.json"))
        #expect(FileManager.default.fileExists(atPath: folder + "/task-001.safetensors"))
        #expect(result.standardError.contains("4/4"))
    }

    @Test func expertsTrainsEvaluatesAndReportsTheRequiredKeys() throws {
        let folder = try CLIRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let result = try CLIRunner.run(["experts", "--env", "reach", "--tasks", "2", "--steps", "150", "--out", folder, "--json"])
        #expect(result.status == 0, "stderr: \(result.standardError)")
        let object = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any]
        let json = try #require(object)
        for key in ["env", "experts", "mean_success", "env_steps"] { #expect(json[key] != nil, "missing \(key)") }
        #expect((json["experts"] as? [Any])?.count == 2 && json["env_steps"] as? Int == 300)
        // The folder it wrote labels demos.
        let demos = try CLIRunner.run(["demos", "--env", "reach", "--experts", folder, "--per-task", "1", "--size", "8x8",
                                       "--out", folder + "/demos"])
        #expect(demos.status == 0, "stderr: \(demos.standardError)")
    }

    @Test func badArgumentsGetASentenceNotACrash() throws {
        let unknown = try CLIRunner.run(["demos", "--env", "pushh", "--experts", "scripted", "--per-task", "1", "--out", "/tmp/x"])
        #expect(unknown.status != 0 && unknown.standardError.contains("'pushh' is invalid for '--env")
                && unknown.standardError.contains("'push', 'door' or 'reach'"))
        let missing = try CLIRunner.run(["demos", "--env", "push", "--experts", "/nonexistent/experts", "--per-task", "1", "--out", "/tmp/x"])
        #expect(missing.status != 0 && missing.standardError.contains("experts.json"))
        #expect(!missing.standardError.contains("Fatal error"))
    }
}
