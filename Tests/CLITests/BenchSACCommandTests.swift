import Foundation
import Testing

/// Smoke tests of `gmps-vision bench sac` on a tiny budget.
struct BenchSACCommandTests {
    @Test func benchSACPrintsOneJSONObjectWithTheSizesItRan() throws {
        let result = try CLIRunner.run(["bench", "sac", "--json", "--hidden", "8", "--batch", "4", "--threads", "2", "--updates", "2"])
        #expect(result.status == 0, "stderr: \(result.standardError)")
        let object = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any]
        let json = try #require(object)
        #expect(json["hidden"] as? Int == 8 && json["batch"] as? Int == 4 && json["threads"] as? Int == 2)
        #expect((json["updates_per_second"] as? Double).map { $0 > 0 } == true)
    }

    @Test func benchSACRejectsAZeroBatchWithAClearMessage() throws {
        let result = try CLIRunner.run(["bench", "sac", "--batch", "0"])
        #expect(result.status != 0)
        #expect(result.standardError.contains("--batch"))
    }
}
