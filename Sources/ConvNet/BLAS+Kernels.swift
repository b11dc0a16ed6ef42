import CConvNetKernels
import COpenBLAS

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Which kernels OpenBLAS runs, and the fix for a CPU it does not recognise.
///
/// OpenBLAS picks its kernel family when the library loads, by CPU model. Debian 12's 0.3.21
/// does not know models newer than itself and falls back to "Prescott" (SSE3): on an Intel Xeon
/// of family 6, model 207 (AVX-512 with BF16) its sgemm 1024³ ran at 15 GFLOP/s on one core,
/// against 130 with its Cooperlake kernels (the family it picks by itself on the project's AMD
/// machines, where ConvNet's direct kernels were checked against its bits; with Prescott's
/// kernels a product's bits also change with its width, which the full-width im2col relies
/// on not doing). `BLAS.configured` therefore selects the family this CPU's features support
/// when OpenBLAS fell back to an older one, before the first product; an `OPENBLAS_CORETYPE`
/// in the environment is the user's choice and is kept.
extension BLAS {
    /// The kernel family OpenBLAS is running ("Cooperlake", "SkylakeX", "Haswell", "Prescott", …).
    public static var coreName: String {
        _ = configured
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// Families with AVX2 or wider: OpenBLAS's choice stands when it picked one of these.
    static let modernCores: Set<String> = ["haswell", "zen", "excavator", "skylakex", "cooperlake", "sapphirerapids"]

    /// The family to select instead of the one OpenBLAS chose at load time: the best this CPU's
    /// features support (`gmps_openblas_core_for_cpu`), when OpenBLAS fell back to an older one
    /// and the environment does not choose. nil when OpenBLAS's choice stands.
    static var replacementCoreType: String? {
        guard getenv("OPENBLAS_CORETYPE") == nil, let loaded = openblas_get_corename() else { return nil }
        return replacementCoreType(detected: String(cString: loaded), supported: gmps_openblas_core_for_cpu().map { String(cString: $0) })
    }

    /// A sentence for people when the environment's `OPENBLAS_CORETYPE` runs narrower kernels than
    /// this CPU supports, else nil. Kept (the user's choice), but a seed's figures then differ in
    /// rounding from runs on the wider kernels: on an AMD EPYC whose environment set Haswell, the
    /// sparse-push seed-1 comparison gave 0.25 / 0.455 before / after three steps, and 0.05 /
    /// 0.595 without it, as on the Xeon's Cooperlake kernels (December 7).
    public static var environmentNarrowingNote: String? {
        guard let chosen = getenv("OPENBLAS_CORETYPE").map({ String(cString: $0) }) else { return nil }
        return narrowingNote(environment: chosen, supported: gmps_openblas_core_for_cpu().map { String(cString: $0) })
    }

    /// The rule behind `environmentNarrowingNote`.
    static func narrowingNote(environment chosen: String, supported: String?) -> String? {
        guard let supported, width(ofCore: chosen) < width(ofCore: supported) else { return nil }
        return "OPENBLAS_CORETYPE=\(chosen) in the environment runs OpenBLAS's \(chosen) kernels, narrower than the "
            + "\(supported) ones this CPU supports: figures differ in float rounding from runs on \(supported) kernels "
            + "(the README's); unset it to reproduce those."
    }

    /// How wide a family's kernels are: 0 before AVX2 (or unknown), 1 AVX2 (Haswell, Zen,
    /// Excavator), 2 AVX-512 (SkylakeX), 3 AVX-512 with BF16 (Cooperlake, Sapphire Rapids).
    static func width(ofCore name: String) -> Int {
        switch name.lowercased() {
        case "cooperlake", "sapphirerapids": return 3
        case "skylakex": return 2
        case let other where modernCores.contains(other): return 1
        default: return 0
        }
    }

    /// The rule behind `replacementCoreType`: replace a pre-AVX2 `detected` family by `supported`.
    static func replacementCoreType(detected: String, supported: String?) -> String? {
        guard let supported, !modernCores.contains(detected.lowercased()) else { return nil }
        return supported
    }
}
