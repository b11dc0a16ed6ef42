import Dispatch
import CConvNetKernels
import COpenBLAS

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// OpenBLAS, used for the matrix products (NATIVE.md: its sgemm reaches ~85 GFLOP/s per core
/// here; hand-written Swift SIMD does not come close without `-target-cpu`), but for the
/// AVX-512 kernels in C that reproduce its bits (`DirectConvolution`, `dot`, `axpy`).
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
///   and measured 110 GFLOP/s per core on the reference CNN's conv shapes (one thread). Both
///   ways measured again for a batch-64 forward (2 cores shared with other jobs, load 10-11):
///   conv1's GEMM per image, one per worker, 56-68 GFLOP/s per CPU-second; one GEMM over the
///   whole batch's columns (32 x 53760 x 288, a 62 MB col) on OpenBLAS's 2 threads, 40-45.
///   The first dense layer sliced by outputs over the workers 60-62; the whole layer
///   (64 x 256 x 21632) on OpenBLAS's 2 threads 33-60, its threads waiting on each other.
///   On CPUs with AVX-512 the convolutions (forward, weight and input gradients) run direct
///   kernels per worker instead of GEMMs (`DirectConvolution`), batched dense layers an
///   AVX-512 product (`DirectDense`), and batch-1 dense layers AVX-512 loops (`dot`, `axpy`).
/// - Where a piece's result does not depend on who computes it (an image's forward pass or
///   input gradient, a piece of a large dense layer, a chunk's sum of weight gradients), workers
///   take pieces from a shared counter rather than fixed halves: on a shared host the two cores
///   ran up to 40% apart in speed within a minute, and fixed halves wait for the slower one.
///   The encoder's weight gradients stay summed per chunk of images (the chunks are in the
///   bits), but any worker may compute a chunk's sum.
/// - The reference CNN's first dense layer (22 MB of weights) is bound by memory bandwidth at
///   batch 1 (6.6 GFLOP/s on one core); slicing it over both cores nearly doubles batch-1
///   throughput, which a BLAS call at M = 1 does not do as well.
/// - Workers that wait on each other must not spin on a busy machine: PyTorch's two OpenMP
///   threads fell from ~80 to 6-12 SAC updates/s when other processes loaded the two cores
///   (load 4-5), where these one-thread-per-worker passes kept ~95. Coarse work (a chunk of
///   images, one of SAC's twin critics per worker) costs one dispatch per phase.
/// OpenBLAS's pthread build may be called from several threads at once when it runs with one
/// thread (each call then works in its caller's thread). Tests that call layers directly
/// touch `BLAS.configured` first: a multi-threaded sgemm racing with another test's call is
/// not safe in 0.3.21.
public enum BLAS {
    /// Sets OpenBLAS to one thread, on the kernels this CPU can run (`BLAS+Kernels.swift`).
    /// Runs once, before the first matrix product (every `sgemm` call touches it).
    public static let configured: Bool = {
        _ = (environmentCoreType, loadedCoreType)   // as they were before a selection changes them
        if let core = replacementCoreType { gmps_openblas_select_core(core) }
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
        _ = configured
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Whether OpenBLAS 0.3.21 runs an sgemm of this size in its blocked kernel: above 100³
    /// multiply-adds (its small-matrix threshold on this CPU family). There each entry of C is
    /// the same chain of FMAs over K whatever N and the entry's column, so a GEMM over extra
    /// columns gives the shared columns' bits (the full-width im2col relies on it; tested on
    /// the reference CNN's shapes). The small-matrix kernels' results change with N.
    static func usesBlockedKernel(m: Int, n: Int, k: Int) -> Bool {
        Double(m) * Double(n) * Double(k) > 1e6
    }

    /// y[M] = alpha * op(A) * x + beta * y, row-major A (M,N) with lda; op(A) = Aᵀ (N,M) when
    /// `trans` (then x has M entries and y N). At batch 1 a dense layer is a matrix-vector
    /// product, bound by reading the weights once: a plain SIMD loop reads them ~3.6x faster than
    /// sgemm with M = 1 (measured on the reference CNN's 256 x 21632 layer).
    ///
    /// Not OpenBLAS's sgemv: in Debian's OpenBLAS 0.3.21 (pthread build) concurrent sgemv calls
    /// from two threads corrupted the heap (parallel rollout workers crashed inside unrelated
    /// code; with this loop, or with one worker, they do not). sgemm is safe to call concurrently.
    @inline(__always)
    static func sgemv(trans: Bool, m: Int, n: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                      x: UnsafePointer<Float>, beta: Float, y: UnsafeMutablePointer<Float>) {
        if trans {
            // y (N) = beta y + alpha Σ_i x[i] A[i, :]
            for j in 0..<n { y[j] = beta == 0 ? 0 : beta * y[j] }
            for i in 0..<m { axpy(alpha * x[i], a + i * lda, y, count: n) }
        } else {
            // y[i] = beta y[i] + alpha A[i, :] · x
            for i in 0..<m {
                let product = dot(a + i * lda, x, count: n)
                y[i] = (beta == 0 ? 0 : beta * y[i]) + alpha * product
            }
        }
    }

    /// Whether `dot` and `axpy` run the AVX-512 kernels (`dense_vector.h`): the same bits as
    /// the eight-lane loops, with loads wide enough to read a batch-1 dense layer's weights
    /// from cache about twice as fast (the reference CNN's first layer was four fifths of a
    /// batch-1 forward).
    static let wideVectorKernels: Bool = gmps_dense_vector_available() == 1

    /// Σ a[k] b[k] over `count` entries: `dotEightLanes`, by the AVX-512 kernel where it runs.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        wideVectorKernels ? gmps_dot(a, b, count) : dotEightLanes(a, b, count: count)
    }

    /// y += alpha x over `count` entries: `axpyEightLanes`, by the AVX-512 kernel where it runs.
    @inline(__always)
    static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        if wideVectorKernels { gmps_axpy(alpha, x, y, count) } else { axpyEightLanes(alpha, x, y, count: count) }
    }

    /// Σ a[k] b[k] over `count` entries, eight lanes at a time (two partial sums, each lane
    /// k mod 16; then the lanes of their sum added in order, then the tail).
    @inline(__always)
    static func dotEightLanes(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var sum0 = SIMD8<Float>(), sum1 = SIMD8<Float>()
        var k = 0
        let rawA = UnsafeRawPointer(a), rawB = UnsafeRawPointer(b)
        while k + 16 <= count {
            sum0 += rawA.loadUnaligned(fromByteOffset: k * 4, as: SIMD8<Float>.self)
                * rawB.loadUnaligned(fromByteOffset: k * 4, as: SIMD8<Float>.self)
            sum1 += rawA.loadUnaligned(fromByteOffset: (k + 8) * 4, as: SIMD8<Float>.self)
                * rawB.loadUnaligned(fromByteOffset: (k + 8) * 4, as: SIMD8<Float>.self)
            k += 16
        }
        var total = (sum0 + sum1).sum()
        while k < count {
            total += a[k] * b[k]
            k += 1
        }
        return total
    }

    /// y += alpha x over `count` entries, eight lanes at a time.
    @inline(__always)
    static func axpyEightLanes(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        var k = 0
        let rawX = UnsafeRawPointer(x), rawY = UnsafeMutableRawPointer(y)
        let scale = SIMD8<Float>(repeating: alpha)
        while k + 8 <= count {
            let updated = rawY.loadUnaligned(fromByteOffset: k * 4, as: SIMD8<Float>.self)
                + scale * rawX.loadUnaligned(fromByteOffset: k * 4, as: SIMD8<Float>.self)
            rawY.storeBytes(of: updated, toByteOffset: k * 4, as: SIMD8<Float>.self)
            k += 8
        }
        while k < count {
            y[k] += alpha * x[k]
            k += 1
        }
    }

    /// What OpenBLAS's sgemm reaches on this machine now, in GFLOP/s over `workers` threads that
    /// each multiply their own 1024 x 1024 matrices at once (one OpenBLAS thread each, as the
    /// networks run it): the best of `repetitions` timings of one product per worker. The
    /// denominator of the "fraction of peak" figures, measured rather than assumed: shared
    /// machines run the same binary at different speeds from hour to hour.
    public static func measuredSGEMMGFLOPs(workers: Int, repetitions: Int = 5) -> Double {
        _ = configured
        let n = 1024, products = 1
        let matrices = (0..<max(1, workers)).map { w in
            (a: [Float](repeating: 0.5 + Float(w), count: n * n), b: [Float](repeating: 0.25, count: n * n))
        }
        var best = Double.infinity
        for _ in 0..<max(1, repetitions) {
            let start = DispatchTime.now().uptimeNanoseconds
            DispatchQueue.concurrentPerform(iterations: matrices.count) { w in
                var c = [Float](repeating: 0, count: n * n)
                matrices[w].a.withUnsafeBufferPointer { a in
                    matrices[w].b.withUnsafeBufferPointer { b in
                        c.withUnsafeMutableBufferPointer { c in
                            for _ in 0..<products {
                                sgemm(transA: false, transB: false, m: n, n: n, k: n, a: a.baseAddress!, lda: n,
                                      b: b.baseAddress!, ldb: n, beta: 0, c: c.baseAddress!, ldc: n)
                            }
                        }
                    }
                }
            }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return 2 * Double(n * n * n * products * matrices.count) / best / 1e9
    }
}
