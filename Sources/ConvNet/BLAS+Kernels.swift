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

    /// The rule behind `replacementCoreType`: replace a pre-AVX2 `detected` family by `supported`.
    static func replacementCoreType(detected: String, supported: String?) -> String? {
        guard let supported, !modernCores.contains(detected.lowercased()) else { return nil }
        return supported
    }
}
