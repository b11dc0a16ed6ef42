import Foundation
import Testing

/// Smoke tests of `gmps-vision scene` and `gmps-vision bench render` on tiny budgets.
struct RendererCommandTests {
    @Test func sceneCommandWritesAPNGOfTheRequestedSize() throws {
        let folder = try CLIRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let result = try CLIRunner.run(["scene", "--out", folder, "--size", "30x40", "--shadows"])
        #expect(result.status == 0, "stderr: \(result.standardError)")
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/push.png")))
        #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        // IHDR: width then height, big-endian, at bytes 16..<24.
        let width = bytes[16..<20].reduce(0) { $0 << 8 | Int($1) }
        let height = bytes[20..<24].reduce(0) { $0 << 8 | Int($1) }
        #expect((width, height) == (40, 30))
    }

    @Test func sceneCommandRejectsABadSizeWithAClearMessage() throws {
        let result = try CLIRunner.run(["scene", "--out", "/tmp", "--size", "64by64"])
        #expect(result.status != 0)
        #expect(result.standardError.contains("--size"))
    }

    @Test func sceneCommandReportsAnUnwritableFolder() throws {
        let result = try CLIRunner.run(["scene", "--out", "/proc/gmps-vision-cannot-exist"])
        #expect(result.status != 0)
        #expect(result.standardError.contains("gmps-vision-cannot-exist"))
        #expect(!result.standardError.contains("Fatal error"))
    }

    @Test func benchRenderPrintsOneJSONObjectWithTheRequiredKeys() throws {
        let result = try CLIRunner.run(["bench", "render", "--json", "--repetitions", "1", "--frames", "5"])
        #expect(result.status == 0, "stderr: \(result.standardError)")
        let object = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any]
        let json = try #require(object)
        for key in ["scene", "width", "height", "threads", "frames_per_second"] {
            #expect(json[key] != nil, "missing \(key)")
        }
        #expect(json["width"] as? Int == 64 && json["height"] as? Int == 64 && json["threads"] as? Int == 1)
        #expect((json["frames_per_second"] as? Double ?? 0) > 0)
    }
}
