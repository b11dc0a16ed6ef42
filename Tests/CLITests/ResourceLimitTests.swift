import Foundation
import Testing

/// Settings that cannot work are refused at once with a sentence that names the limit, and
/// nothing is written or allocated first.
struct ResourceLimitTests {
    @Test func absurdTrajectoriesAreRefusedWithTheMemoryEstimateBeforeAnythingRuns() throws {
        let folder = try CLIRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let started = Date()
        let result = try CLIRunner.run(["meta-train", "--out", folder + "/run", "--trajectories", "1000000000000"])
        #expect(Date().timeIntervalSince(started) < 10, "refused before collecting anything")
        #expect(result.status != 0)
        #expect(result.standardError.contains("--trajectories needs about"), "stderr: \(result.standardError)")
        #expect(result.standardError.contains("this machine has"))
        #expect(!FileManager.default.fileExists(atPath: folder + "/run/config.json"))
    }

    @Test func aNegativeSeedInConfigJSONIsNamedNotCalledInvalidJSON() throws {
        let folder = try CLIRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Data(#"{"environment": "reach", "seed": -1}"#.utf8).write(to: URL(fileURLWithPath: folder + "/config.json"))
        let result = try CLIRunner.run(["evaluate", "--run", folder])
        #expect(result.status != 0)
        #expect(result.standardError.contains("seed: -1 is out of range; expected a whole number from 0"),
                "stderr: \(result.standardError)")
        #expect(!result.standardError.contains("not valid JSON"))
    }

    @Test func configJSONIsHeldToTheOptionsBoundsAndNoRawNSErrorReachesTheUser() throws {
        let folder = try CLIRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Data(#"{"environment": "reach", "threads": 0}"#.utf8).write(to: URL(fileURLWithPath: folder + "/config.json"))
        let threads = try CLIRunner.run(["evaluate", "--run", folder])
        #expect(threads.status == 1)
        #expect(threads.standardError.contains("threads: must be between 1 and 256; got 0."), "stderr: \(threads.standardError)")

        let file = folder + "/file"
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        for arguments in [["scene", "--out", file], ["meta-train", "--out", file + "/run", "--tasks", "2"]] {
            let result = try CLIRunner.run(arguments)
            #expect(result.status != 0)
            #expect(result.standardError.contains("is a file"), "\(arguments): \(result.standardError)")
            #expect(!result.standardError.contains("Domain="), "\(arguments): \(result.standardError)")
        }
    }

    /// A model with NaN gravity: MuJoCo's warnings go to stderr (stdout stays for --json), each
    /// kind once, and the episode stops with an error naming the model file.
    @Test func mujocoWarningsGoToStandardErrorAndAnUnstableModelStops() throws {
        let folder = try CLIRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let assets = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("assets")
        let model = try String(contentsOf: assets.appendingPathComponent("push.xml"), encoding: .utf8)
        let broken = model.replacingOccurrences(of: #"<option timestep="0.0025"/>"#,
                                                with: #"<option timestep="0.0025" gravity="nan nan nan"/>"#)
        #expect(broken != model, "the test edits push.xml's <option>")
        try broken.write(toFile: folder + "/push.xml", atomically: true, encoding: .utf8)

        let result = try CLIRunner.run(["render", "--env", "push", "--assets", folder, "--out", folder + "/frames"])
        #expect(result.status == 1)
        #expect(result.standardOutput.isEmpty, "stdout: \(result.standardOutput)")
        #expect(result.standardError.contains("MuJoCo warning: Nan, Inf or huge value"))
        #expect(result.standardError.components(separatedBy: "\n").count < 10, "stderr: \(result.standardError)")
        #expect(result.standardError.contains("the simulation of \(folder)/push.xml became unstable"))
    }
}
