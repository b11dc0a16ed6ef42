import CConvNetKernels
import Testing
@testable import ConvNet

/// Which OpenBLAS kernel family a process should run: OpenBLAS's choice (by CPU model or the
/// environment) stands unless it is narrower than the CPU's features support.
struct BLASKernelsTests {
    @Test func aFallbackToPrescottIsReplacedByWhatTheCPUSupports() {
        #expect(BLAS.replacementCoreType(detected: "Prescott", supported: "Cooperlake") == "Cooperlake")
        #expect(BLAS.replacementCoreType(detected: "Nehalem", supported: "Haswell") == "Haswell")
        #expect(BLAS.replacementCoreType(detected: "Sandybridge", supported: "SkylakeX") == "SkylakeX")
    }

    @Test func aChoiceAsWideAsTheCPUsStands() {
        for detected in ["Cooperlake", "SkylakeX", "COOPERLAKE", "SapphireRapids"] {
            #expect(BLAS.replacementCoreType(detected: detected, supported: "Cooperlake") == nil, "\(detected)")
        }
        for detected in ["Haswell", "Zen", "Excavator"] {
            #expect(BLAS.replacementCoreType(detected: detected, supported: "Haswell") == nil, "\(detected)")
        }
    }

    /// A narrower choice, OpenBLAS's own or the environment's (an AMD EPYC's environment set
    /// Haswell), is replaced by the CPU's widest, and the environment's replacement is said.
    @Test func aNarrowerChoiceIsWidenedToWhatTheCPUSupports() throws {
        #expect(BLAS.replacementCoreType(detected: "Haswell", supported: "Cooperlake") == "Cooperlake")
        #expect(BLAS.replacementCoreType(detected: "Zen", supported: "SkylakeX") == "SkylakeX")
        let note = try #require(BLAS.overrideNote(environment: "Haswell", supported: "Cooperlake"))
        #expect(note.contains("OPENBLAS_CORETYPE=Haswell") && note.contains("Cooperlake"))
        #expect(BLAS.overrideNote(environment: "SkylakeX", supported: "Cooperlake") == nil, "as wide: kept")
        #expect(BLAS.overrideNote(environment: "Haswell", supported: "Haswell") == nil)
        #expect(BLAS.overrideNote(environment: "Haswell", supported: nil) == nil)
    }

    @Test func aCPUWithoutAVX2KeepsOpenBLASsChoice() {
        #expect(BLAS.replacementCoreType(detected: "Prescott", supported: nil) == nil)
    }

    /// In this process too, whatever the environment says (the tests' bit-identity checks of the
    /// full-width im2col need a blocked kernel whose bits do not change with a product's width).
    @Test func thisProcessRunsKernelsAsWideAsTheCPUs() throws {
        guard let supported = gmps_openblas_core_for_cpu().map({ String(cString: $0) }) else { return }
        let running = BLAS.coreName
        #expect(BLAS.width(ofCore: running) >= BLAS.width(ofCore: supported), "OpenBLAS runs \(running); this CPU supports \(supported)")
    }

    /// The CPU's features and the family named for them agree with what /proc/cpuinfo says.
    @Test func theFamilyForThisCPUMatchesItsFlags() throws {
        let supported = gmps_openblas_core_for_cpu().map { String(cString: $0) }
        guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flagsLine = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return }
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        let avx512 = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains)
        let expected = avx512 && flags.contains("avx512_bf16") ? "Cooperlake"
            : avx512 ? "SkylakeX" : flags.contains("avx2") && flags.contains("fma") ? "Haswell" : nil
        #expect(supported == expected)
    }

    /// The bench's denominator is a throughput, not a constant: positive and finite on one and
    /// on two workers (its size is the machine's business, not the test's).
    @Test func sgemmThroughputIsMeasured() {
        for workers in [1, 2] {
            let gflops = BLAS.measuredSGEMMGFLOPs(workers: workers, repetitions: 1)
            #expect(gflops.isFinite && gflops > 0, "\(workers) worker(s): \(gflops) GFLOP/s")
        }
    }
}
