import CConvNetKernels

/// The dense layers' backward products at batch > 1 on CPUs with AVX-512, without OpenBLAS's
/// packing: dW = dyᵀ · x and dx = dy · W read x's and W's rows in place, lanes over their
/// columns, dy's entries broadcast (`gmps_dense_product`). On the reference CNN's first layer
/// (21632 x 256) these are the two largest products of a training step after the convolutions.
///
/// Same bits as the GEMM path: OpenBLAS's blocked sgemm computes each entry as chains of FMAs
/// over its K blocks (one block up to 320), each from +0, added to C in order; the kernel does
/// the same. Used only where the GEMM would run that blocked kernel, and only after it
/// reproduced the GEMM's bits on sample products in this process.
enum DirectDense {
    /// Whether `Dense` uses the kernel in this process.
    static let enabled: Bool = gmps_conv_direct_available() == 1 && agreesWithGEMM()

    /// dweight[o0..<o1, :] = dy[:, o0..<o1]ᵀ · x, when the kernel applies (else false, nothing
    /// written). dy is (N,O), x (N,D), dweight (O,D).
    static func weightGradient(n: Int, d: Int, o: Int, x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                               dweight: UnsafeMutablePointer<Float>, outputs r: Range<Int>) -> Bool {
        guard enabled, BLAS.usesBlockedKernel(m: r.count, n: d, k: n) else { return false }
        gmps_dense_product(r.count, d, n, dy + r.lowerBound, 1, o, x, d, dweight + r.lowerBound * d, d, 0)
        return true
    }

    /// dweight[:, d0..<d1] = dyᵀ · x[:, d0..<d1], when the kernel applies (else false, nothing
    /// written).
    static func weightGradient(n: Int, d: Int, o: Int, x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                               dweight: UnsafeMutablePointer<Float>, inputs r: Range<Int>) -> Bool {
        guard enabled, BLAS.usesBlockedKernel(m: o, n: r.count, k: n) else { return false }
        gmps_dense_product(o, r.count, n, dy, 1, o, x + r.lowerBound, d, dweight + r.lowerBound, d, 0)
        return true
    }

    /// dx[:, d0..<d1] = dy · W[:, d0..<d1], when the kernel applies (else false, nothing
    /// written). dy is (N,O), weight (O,D), dx (N,D).
    static func inputGradient(n: Int, d: Int, o: Int, dy: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                              dx: UnsafeMutablePointer<Float>, inputs r: Range<Int>) -> Bool {
        guard enabled, BLAS.usesBlockedKernel(m: n, n: r.count, k: o) else { return false }
        gmps_dense_product(n, r.count, o, dy, o, 1, weight + r.lowerBound, d, dx + r.lowerBound, d, 0)
        return true
    }

    /// Whether the dense forward of (n x d) · Wᵀ, split over `workers` output slices on the GEMM
    /// path, runs through the kernel instead: where each slice's GEMM would run OpenBLAS's
    /// blocked kernel, whose bits the kernel reproduces whatever the slicing.
    static func computesForward(n: Int, d: Int, o: Int, workers: Int) -> Bool {
        enabled && n > 1 && BLAS.usesBlockedKernel(m: n, n: o / max(1, workers), k: d)
    }

    /// y = x · Wᵀ + b for outputs `r` through the transposes: yT[r, :] = b[r] + W[r, :] · xT, the
    /// chains over d the GEMM's (y preset to the bias, sgemm with beta 1). x is given transposed,
    /// xT (D,N); yT is (O,N). Reading W's rows and xT's in place needs no packing: xT's rows
    /// (N floats) lie within a page of each other.
    ///
    /// With `inputs`, only the K blocks that start there: calls over consecutive ranges from 0,
    /// in order, give the whole product's bits (`inputGroupLength` says how long a range).
    static func forwardTransposed(n: Int, d: Int, xT: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                  bias: UnsafePointer<Float>, yT: UnsafeMutablePointer<Float>, outputs r: Range<Int>,
                                  inputs k: Range<Int>? = nil) {
        let k = k ?? 0..<d
        if k.lowerBound == 0 {
            for j in r { (yT + j * n).update(repeating: bias[j], count: n) }
        }
        gmps_dense_product_blocks(r.count, n, d, k.lowerBound, k.upperBound, weight + r.lowerBound * d, d, 1, xT, n,
                                  yT + r.lowerBound * n, n, 1)
    }

    /// Inputs per group of the transposed forward at batch `n`: whole K blocks (OpenBLAS's 320,
    /// `openblas_blocking.h`) whose rows of xT fill about 1 MB, which stays in L2 while every
    /// piece of the outputs reads it. Pieces that each swept all of xT read the reference CNN's
    /// 22 MB features from memory once per piece; by groups the forward ran 1.6x faster.
    static func inputGroupLength(n: Int) -> Int {
        let kBlock = 320
        return kBlock * max(1, (1 << 20) / (kBlock * n * MemoryLayout<Float>.size))
    }

    /// Whether the kernel gives OpenBLAS's bits for weight gradients over one and over three K
    /// blocks (batches 64 and 700) and for an input gradient, on columns that do not fill the
    /// last 64-column block and rows that do not fill the last six.
    static func agreesWithGEMM() -> Bool {
        _ = BLAS.configured
        var rng = SeededGenerator(seed: 37)
        func random(_ count: Int) -> [Float] { (0..<count).map { _ in rng.nextGaussian() } }
        for (n, d, o) in [(64, 1000, 131), (700, 300, 40), (64, 999, 256)] {
            let x = random(n * d), w = random(o * d)
            // ReLU-masked output gradients: zeros among them, as in training.
            let dy = random(n * o).map { max(0, $0) - 0.2 }
            var viaGEMM = [Float](repeating: .nan, count: o * d), direct = viaGEMM
            var dxGEMM = [Float](repeating: .nan, count: n * d), dxDirect = dxGEMM
            let outputs = 3..<o, inputs = 5..<d
            x.withUnsafeBufferPointer { x in
                dy.withUnsafeBufferPointer { dy in
                    w.withUnsafeBufferPointer { w in
                        viaGEMM.withUnsafeMutableBufferPointer { dw in
                            BLAS.sgemm(transA: true, transB: false, m: outputs.count, n: d, k: n, a: dy.baseAddress! + outputs.lowerBound,
                                       lda: o, b: x.baseAddress!, ldb: d, beta: 0, c: dw.baseAddress! + outputs.lowerBound * d, ldc: d)
                        }
                        direct.withUnsafeMutableBufferPointer { dw in
                            gmps_dense_product(outputs.count, d, n, dy.baseAddress! + outputs.lowerBound, 1, o, x.baseAddress!, d,
                                               dw.baseAddress! + outputs.lowerBound * d, d, 0)
                        }
                        dxGEMM.withUnsafeMutableBufferPointer { dx in
                            BLAS.sgemm(transA: false, transB: false, m: n, n: inputs.count, k: o, a: dy.baseAddress!, lda: o,
                                       b: w.baseAddress! + inputs.lowerBound, ldb: d, beta: 0, c: dx.baseAddress! + inputs.lowerBound, ldc: d)
                        }
                        dxDirect.withUnsafeMutableBufferPointer { dx in
                            gmps_dense_product(n, inputs.count, o, dy.baseAddress!, o, 1, w.baseAddress! + inputs.lowerBound, d,
                                               dx.baseAddress! + inputs.lowerBound, d, 0)
                        }
                    }
                }
            }
            guard zip(viaGEMM, direct).allSatisfy({ $0.bitPattern == $1.bitPattern }),
                  zip(dxGEMM, dxDirect).allSatisfy({ $0.bitPattern == $1.bitPattern }) else { return false }
        }
        // The forward: y preset to the bias, sgemm with beta 1, against the transposed product.
        let (n, d, o) = (64, 1000, 131)
        let x = random(n * d), w = random(o * d), bias = random(o)
        var viaGEMM = (0..<n).flatMap { _ in bias }
        var xT = [Float](repeating: 0, count: n * d), yT = [Float](repeating: .nan, count: o * n)
        var direct = [Float](repeating: .nan, count: n * o)
        BLAS.sgemm(transA: false, transB: true, m: n, n: o, k: d, a: x, lda: d, b: w, ldb: d, beta: 1, c: &viaGEMM, ldc: o)
        gmps_transpose_columns(x, Int(n), Int(d), 0, Int(d), &xT)
        forwardTransposed(n: n, d: d, xT: xT, weight: w, bias: bias, yT: &yT, outputs: 0..<o)
        gmps_transpose_columns(yT, Int(o), Int(n), 0, Int(n), &direct)
        return zip(viaGEMM, direct).allSatisfy { $0.bitPattern == $1.bitPattern }
    }
}
