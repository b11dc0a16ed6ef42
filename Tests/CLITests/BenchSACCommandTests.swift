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

/// The tool runs OpenBLAS's kernels for this CPU's features even where OpenBLAS 0.3.21 does not
/// know the CPU model (it then falls back to SSE3 kernels, 3-8x slower): ConvNet selects them
/// before the first product. A family set by the caller in OPENBLAS_CORETYPE is kept unless
/// narrower than the CPU supports.
struct OpenBLASKernelsTests {
    static var cpuHasAVX2: Bool { CLIRunner.cpuHas(["avx2", "fma"]) }

    static func blasCore(environment: [String: String] = [:]) throws -> String? {
        let result = try CLIRunner.run(["bench", "sac", "--json", "--hidden", "8", "--batch", "4", "--threads", "1", "--updates", "2"],
                                       environment: environment)
        #expect(result.status == 0, "stderr: \(result.standardError)")
        let object = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any]
        return object?["blas_core"] as? String
    }

    @Test(.enabled(if: cpuHasAVX2, "without AVX2 OpenBLAS's own choice stands"))
    func theToolRunsKernelsWithAtLeastAVX2WhereTheCPUHasIt() throws {
        let core = try #require(try Self.blasCore())
        #expect(["haswell", "zen", "excavator", "skylakex", "cooperlake", "sapphirerapids"].contains(core.lowercased()),
                "OpenBLAS runs its \(core) kernels")
    }

    static var cpuHasAVX512: Bool { CLIRunner.cpuHas(["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]) }

    /// The environment's Haswell on an AVX-512 CPU (as an AMD EPYC's environment set) is
    /// replaced by AVX-512 kernels; on an AVX2 CPU it is as wide as the CPU's and kept.
    @Test(.enabled(if: cpuHasAVX2, "Haswell kernels need AVX2"))
    func aCoreTypeSetByTheCallerIsKeptUnlessNarrowerThanTheCPUs() throws {
        let core = try #require(try Self.blasCore(environment: ["OPENBLAS_CORETYPE": "Haswell"]))
        if Self.cpuHasAVX512 {
            #expect(["skylakex", "cooperlake", "sapphirerapids"].contains(core.lowercased()), "OpenBLAS runs its \(core) kernels")
            #expect(try Self.blasCore(environment: ["OPENBLAS_CORETYPE": "SkylakeX"]) == "SkylakeX", "as wide: kept")
        } else {
            #expect(core == "Haswell")
        }
    }
}
