import Foundation
import Testing

/// `--help` of every command, compared with golden text in Tests/CLITests/Golden. After an
/// intended change, regenerate with `GMPS_UPDATE_GOLDEN=1 swift test --filter HelpGoldenTests`
/// and review the diff.
struct HelpGoldenTests {
    static let commands: [[String]] = [
        [], ["run"], ["meta-train"], ["evaluate"], ["baseline"], ["compare"], ["render"], ["scene"], ["experts"], ["demos"],
        ["bench"], ["bench", "render"], ["bench", "convnet"], ["bench", "sac"], ["bench", "env"], ["bench", "meta-train"],
    ]

    static var goldenFolder: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
    }

    @Test(arguments: commands)
    func helpMatchesGoldenText(_ command: [String]) throws {
        let result = try CLIRunner.run(command + ["--help"], environment: ["COLUMNS": "100"])
        #expect(result.status == 0)
        let name = (["gmps-vision"] + command).joined(separator: "-") + ".txt"
        let golden = Self.goldenFolder.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["GMPS_UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: Self.goldenFolder, withIntermediateDirectories: true)
            try Data(result.standardOutput.utf8).write(to: golden)
            return
        }
        let expected = try String(contentsOf: golden, encoding: .utf8)
        #expect(result.standardOutput == expected, "`gmps-vision \(command.joined(separator: " ")) --help` changed; see \(name)")
    }
}
