import COpenBLAS

/// OpenBLAS, used for every matrix product (NATIVE.md: its sgemm reaches ~85 GFLOP/s per core
/// here; hand-written Swift SIMD does not come close without `-target-cpu`).
///
/// Threading decision: OpenBLAS runs single-threaded, and ConvNet parallelises itself by
/// splitting a batch into one chunk per worker (`Network.threads`), each chunk with its own
/// workspace. Why:
/// - Rollouts call the policy at batch 1 from many environments in parallel. With OpenBLAS
///   threads each of those calls would fan out onto cores already busy with other envs
///   (oversubscription, spin-waiting BLAS threads); single-threaded BLAS lets the caller's own
///   parallelism own the cores.
/// - The convolution GEMMs are small (M = 16–32 output channels): a per-image GEMM split across
///   BLAS threads pays a synchronisation per call, while a batch split across workers pays one
///   per pass. Measured by `gmps-vision bench convnet`.
/// OpenBLAS's pthread build is safe to call from several threads at once when it runs with one
/// thread (each call then works in its caller's thread).
public enum BLAS {
    /// Sets OpenBLAS to one thread. Runs once, the first time any network is built.
    public static let configured: Bool = {
        openblas_set_num_threads(1)
        return true
    }()

    /// The number of threads OpenBLAS uses now.
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// C[M,N] = alpha * op(A) * op(B) + beta * C, row-major.
    /// op(A) is (M,K): A is (M,K) with lda, or (K,M) when `transA`. op(B) is (K,N) likewise.
    @inline(__always)
    static func sgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
