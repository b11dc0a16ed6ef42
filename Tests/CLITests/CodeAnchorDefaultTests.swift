import Foundation
import Testing

/// The code anchor's default through the real entry point: on where pre-training learns task
/// codes, off where it learns none, and refused only when asked for without codes.
struct CodeAnchorDefaultTests {
    @Test func theAnchorIsOnWhereThereAreCodes() throws {
        let folder = try CLIRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        func weight(_ options: [String], _ name: String) throws -> Double? {
            let run = folder + "/" + name
            let result = try CLIRunner.run(MPITests.tinyMetaTrain + ["--iterations", "0", "--out", run] + options)
            #expect(result.status == 0, "stderr: \(result.standardError)")
            let text = try String(contentsOfFile: run + "/config.json", encoding: .utf8)
            return try RewardOptionTests.json(text)["codeAnchorWeight"] as? Double
        }
        #expect(try weight([], "default") == 1, "latent-only exploration learns codes")
        #expect(try weight(["--exploration", "per-step"], "per-step") == 0, "per-step exploration learns none")
        #expect(try weight(["--code-anchor-weight", "0.5"], "given") == 0.5)

        let refused = try CLIRunner.run(MPITests.tinyMetaTrain + ["--iterations", "0", "--out", folder + "/refused",
                                                                 "--exploration", "per-step", "--code-anchor-weight", "1"])
        #expect(refused.status != 0)
        #expect(refused.standardError.contains("--code-anchor-weight needs the task codes that pre-training learns"),
                "stderr: \(refused.standardError)")
        #expect(!FileManager.default.fileExists(atPath: folder + "/refused/config.json"), "nothing written")
    }
}
