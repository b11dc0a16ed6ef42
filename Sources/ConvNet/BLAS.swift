import COpenBLAS

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// OpenBLAS, used for every matrix product (NATIVE.md: its sgemm reaches ~85 GFLOP/s per core
/// here; hand-written Swift SIMD does not come close without `-target-cpu`).
///
/// Threading decision: OpenBLAS runs single-threaded, and ConvNet decides itself how a pass
/// uses the cores (`Network.threads`, default `BLAS.cores`, 2 on the project's machines): the batch-parallel
/// encoder gives each worker a chunk of images; each large dense layer is split into one
/// slice of outputs (or inputs) per worker. Why:
/// - Rollouts call the policy at batch 1 from many environments in parallel. Such callers use
///   `threads: 1` networks (or workspaces) per env worker; with OpenBLAS threads every call
///   would fan out onto cores already busy with other envs (oversubscription, spin-waiting).
/// - The convolution GEMMs are small (M = 16-32 output channels): splitting one image's GEMM
///   over BLAS threads pays a synchronisation per call; splitting the batch pays one per pass,
///   and measured 110 GFLOP/s per core on the reference CNN's conv shapes (one thread).
/// - The reference CNN's first dense layer (22 MB of weights) is bound by memory bandwidth at
///   batch 1 (6.6 GFLOP/s on one core); slicing it over both cores nearly doubles batch-1
///   throughput, which a BLAS call at M = 1 does not do as well.
/// OpenBLAS's pthread build may be called from several threads at once when it runs with one
/// thread (each call then works in its caller's thread).
public enum BLAS {
    /// Sets OpenBLAS to one thread. Runs once, the first time any network is built.
    public static let configured: Bool = {
        openblas_set_num_threads(1)
        return true
    }()

    /// Online processors: the default worker count of networks and Adam (2 on the project's
    /// machines). Callers that run their own parallelism (rollout workers) pass `threads: 1`.
    public static let cores: Int = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))

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

    /// y[M] = alpha * op(A) * x + beta * y, row-major A (M,N) with lda; op(A) = Aᵀ (N,M) when
    /// `trans` (then x has M entries and y N). At batch 1 a dense layer is a matrix-vector
    /// product, where sgemv reads the weights ~3.6x faster than sgemm with M = 1 (measured on
    /// the reference CNN's 256 x 21632 layer: 463 µs against 1674 µs, one thread).
    @inline(__always)
    static func sgemv(trans: Bool, m: Int, n: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                      x: UnsafePointer<Float>, beta: Float, y: UnsafeMutablePointer<Float>) {
        cblas_sgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), alpha, a, Int32(lda),
                    x, 1, beta, y, 1)
    }
}
