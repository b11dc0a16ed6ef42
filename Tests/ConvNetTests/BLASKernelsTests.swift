import CConvNetKernels
import Testing
@testable import ConvNet

/// Which OpenBLAS kernel family a process should run: OpenBLAS's own choice stands unless it
/// fell back to a family older than the CPU's features support.
struct BLASKernelsTests {
    @Test func aFallbackToPrescottIsReplacedByWhatTheCPUSupports() {
        #expect(BLAS.replacementCoreType(detected: "Prescott", supported: "Cooperlake") == "Cooperlake")
        #expect(BLAS.replacementCoreType(detected: "Nehalem", supported: "Haswell") == "Haswell")
        #expect(BLAS.replacementCoreType(detected: "Sandybridge", supported: "SkylakeX") == "SkylakeX")
    }

    @Test func aModernChoiceOfOpenBLASStands() {
        for detected in ["Cooperlake", "SkylakeX", "Haswell", "Zen", "COOPERLAKE"] {
            #expect(BLAS.replacementCoreType(detected: detected, supported: "Cooperlake") == nil, "\(detected)")
        }
    }

    /// An environment's OPENBLAS_CORETYPE is kept, and said when narrower than the CPU's.
    @Test func anEnvironmentThatNarrowsTheKernelsIsSaid() throws {
        let note = try #require(BLAS.narrowingNote(environment: "Haswell", supported: "Cooperlake"))
        #expect(note.contains("OPENBLAS_CORETYPE=Haswell") && note.contains("Cooperlake") && note.contains("unset it"))
        #expect(BLAS.narrowingNote(environment: "SkylakeX", supported: "Cooperlake") != nil)
        #expect(BLAS.narrowingNote(environment: "Prescott", supported: "Haswell") != nil)
        for chosen in ["Cooperlake", "COOPERLAKE", "SapphireRapids"] {
            #expect(BLAS.narrowingNote(environment: chosen, supported: "Cooperlake") == nil, "\(chosen)")
        }
        #expect(BLAS.narrowingNote(environment: "Zen", supported: "Haswell") == nil, "as wide")
        #expect(BLAS.narrowingNote(environment: "Haswell", supported: nil) == nil)
    }

    @Test func aCPUWithoutAVX2KeepsOpenBLASsChoice() {
        #expect(BLAS.replacementCoreType(detected: "Prescott", supported: nil) == nil)
    }

    /// In this process too (the tests' bit-identity checks of the full-width im2col need a
    /// blocked kernel whose bits do not change with a product's width).
    @Test func thisProcessRunsKernelsWithAtLeastAVX2WhereTheCPUHasIt() throws {
        guard let supported = gmps_openblas_core_for_cpu().map({ String(cString: $0) }) else { return }
        let running = BLAS.coreName
        #expect(BLAS.modernCores.contains(running.lowercased()), "OpenBLAS runs \(running); this CPU supports \(supported)")
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
