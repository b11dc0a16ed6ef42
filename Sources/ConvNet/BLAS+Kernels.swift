import CConvNetKernels
import COpenBLAS

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Which kernels OpenBLAS runs, and the fix for a CPU it does not recognise or an environment
/// that narrows them.
///
/// OpenBLAS picks its kernel family when the library loads, by CPU model. Debian 12's 0.3.21
/// does not know models newer than itself and falls back to "Prescott" (SSE3): on an Intel Xeon
/// of family 6, model 207 (AVX-512 with BF16) its sgemm 1024³ ran at 15 GFLOP/s on one core,
/// against 130 with its Cooperlake kernels (the family it picks by itself on the project's AMD
/// machines, where ConvNet's direct kernels were checked against its bits). With narrower
/// kernels a product's bits change with its width, which the full-width im2col and the batch
/// split over workers rely on not doing: with Haswell's (an `OPENBLAS_CORETYPE=Haswell` that an
/// AMD EPYC's environment set, December 7) the bit-identity tests fail and a seed's figures
/// differ (sparse-push seed 1 gave 0.25 / 0.455 before / after three steps, against 0.05 /
/// 0.595, the Xeon's, on AVX-512 kernels). `BLAS.configured` therefore selects the widest family
/// this CPU's features support whenever OpenBLAS runs a narrower one, before the first product,
/// whether its own detection or the environment chose it; a choice as wide is kept.
extension BLAS {
    /// The kernel family OpenBLAS is running ("Cooperlake", "SkylakeX", "Haswell", "Prescott", …).
    public static var coreName: String {
        _ = configured
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// Families with AVX2 or wider.
    static let modernCores: Set<String> = ["haswell", "zen", "excavator", "skylakex", "cooperlake", "sapphirerapids"]

    /// How wide a family's sgemm kernels are: 0 before AVX2 (or unknown), 1 AVX2 (Haswell, Zen,
    /// Excavator), 2 AVX-512 (SkylakeX, Cooperlake, Sapphire Rapids; SkylakeX's and Cooperlake's
    /// runs gave the same bytes, December 7).
    static func width(ofCore name: String) -> Int {
        switch name.lowercased() {
        case "skylakex", "cooperlake", "sapphirerapids": return 2
        case let other where modernCores.contains(other): return 1
        default: return 0
        }
    }

    /// The CPU's widest family (`gmps_openblas_core_for_cpu`), or nil without AVX2.
    static var supportedCoreType: String? { gmps_openblas_core_for_cpu().map { String(cString: $0) } }

    /// The family OpenBLAS chose when the library loaded (by CPU model or `OPENBLAS_CORETYPE`),
    /// read once before `configured` changes it.
    static let loadedCoreType: String? = openblas_get_corename().map { String(cString: $0) }

    /// The family to select instead of the one OpenBLAS chose at load time, or nil when that
    /// choice stands.
    static var replacementCoreType: String? {
        loadedCoreType.flatMap { replacementCoreType(detected: $0, supported: supportedCoreType) }
    }

    /// The rule behind `replacementCoreType`: replace a `detected` family narrower than `supported`.
    static func replacementCoreType(detected: String, supported: String?) -> String? {
        guard let supported, width(ofCore: detected) < width(ofCore: supported) else { return nil }
        return supported
    }

    /// A sentence for people when the environment's `OPENBLAS_CORETYPE` was narrower than this
    /// CPU supports and so was replaced, else nil.
    public static var environmentOverrideNote: String? {
        guard let chosen = environmentCoreType else { return nil }
        return overrideNote(environment: chosen, supported: supportedCoreType)
    }

    /// The environment's `OPENBLAS_CORETYPE`, read before a selection sets it.
    static let environmentCoreType: String? = getenv("OPENBLAS_CORETYPE").map { String(cString: $0) }

    /// The rule behind `environmentOverrideNote`.
    static func overrideNote(environment chosen: String, supported: String?) -> String? {
        guard let supported, replacementCoreType(detected: chosen, supported: supported) != nil else { return nil }
        return "OPENBLAS_CORETYPE=\(chosen) in the environment is narrower than the \(supported) kernels this CPU "
            + "supports, on which results do not depend on batch splits and match other machines': running those."
    }
}
