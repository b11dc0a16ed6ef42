import CConvNetKernels

/// Fully connected layer over a batch; the weight is (O,D) as in PyTorch's `nn.Linear`.
/// Each function can work on a slice of the outputs (forward, weight gradient) or of the
/// inputs (input gradient), so that workers can share one layer (see `Network+Passes`).
enum Dense {
    /// y[:, o0..<o1] = x · W[o0..<o1, :]ᵀ + b[o0..<o1]   (the whole layer for outputs = 0..<O).
    /// x is (N,D), weight (O,D), bias (O), y (N,O).
    static func forward(n: Int, d: Int, o: Int, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                        bias: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, outputs: Range<Int>? = nil) {
        let r = outputs ?? 0..<o
        if BLAS.wideVectorKernels {
            gmps_fill_rows(y + r.lowerBound, o, n, bias + r.lowerBound, r.count)
        } else {
            for i in 0..<n { (y + i * o + r.lowerBound).update(from: bias + r.lowerBound, count: r.count) }
        }
        if n == 1 {
            BLAS.sgemv(trans: false, m: r.count, n: d, a: weight + r.lowerBound * d, lda: d, x: x, beta: 1, y: y + r.lowerBound)
            return
        }
        BLAS.sgemm(transA: false, transB: true, m: n, n: r.count, k: d, a: x, lda: d,
                   b: weight + r.lowerBound * d, ldb: d, beta: 1, c: y + r.lowerBound, ldc: o)
    }

    /// Backward of `y = x · Wᵀ + b` for the parameters of outputs o0..<o1:
    ///   dW[o0..<o1, :] = dy[:, o0..<o1]ᵀ · x        db[o0..<o1] = colsum dy[:, o0..<o1]
    /// dy is (N,O), x (N,D); dweight (O,D) and dbias (O) are overwritten on those rows.
    static func weightBackward(n: Int, d: Int, o: Int, x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                               dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>,
                               outputs: Range<Int>? = nil) {
        let r = outputs ?? 0..<o
        if n == 1 {
            // An outer product: dW[j, :] = dy[j] · x.
            for j in r {
                let row = dweight + j * d, scale = dy[j]
                for k in 0..<d { row[k] = scale * x[k] }
            }
        } else if !DirectDense.weightGradient(n: n, d: d, o: o, x: x, dy: dy, dweight: dweight, outputs: r) {
            BLAS.sgemm(transA: true, transB: false, m: r.count, n: d, k: n, a: dy + r.lowerBound, lda: o,
                       b: x, ldb: d, beta: 0, c: dweight + r.lowerBound * d, ldc: d)
        }
        columnSums(n: n, o: o, dy: dy, into: dbias, columns: r)
    }

    /// dW[:, d0..<d1] = dyᵀ · x[:, d0..<d1] for every output; the bias gradient is left alone
    /// (`columnSums`). Split by inputs, pieces of the weight gradient read disjoint columns of
    /// x; split by outputs (`weightBackward`), every piece read all of x, 22 MB on the
    /// reference CNN at batch 256, once per piece. Each entry is the same chain over the batch
    /// either way where the GEMM runs OpenBLAS's blocked kernel (`BLAS.usesBlockedKernel`).
    static func weightGradient(n: Int, d: Int, o: Int, x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                               dweight: UnsafeMutablePointer<Float>, inputs r: Range<Int>) {
        if DirectDense.weightGradient(n: n, d: d, o: o, x: x, dy: dy, dweight: dweight, inputs: r) { return }
        BLAS.sgemm(transA: true, transB: false, m: o, n: r.count, k: n, a: dy, lda: o,
                   b: x + r.lowerBound, ldb: d, beta: 0, c: dweight + r.lowerBound, ldc: d)
    }

    /// dbias[j] = Σ_i dy[i, j] for j in `columns`, each sum taken in row order i = 0, 1, …
    /// Eight columns at a time, one lane per column: the same additions in the same order as
    /// the scalar loop (bit-identical), but eight independent chains instead of one serial chain
    /// of strided loads, which was a tenth of a small MLP's SAC update. dy is (N,O).
    @inline(__always)
    static func columnSums(n: Int, o: Int, dy: UnsafePointer<Float>, into dbias: UnsafeMutablePointer<Float>,
                           columns r: Range<Int>) {
        let raw = UnsafeRawPointer(dy)
        var j = r.lowerBound
        while j + 8 <= r.upperBound {
            var sum = SIMD8<Float>.zero
            for i in 0..<n { sum += raw.loadUnaligned(fromByteOffset: (i * o + j) * 4, as: SIMD8<Float>.self) }
            UnsafeMutableRawPointer(dbias + j).storeBytes(of: sum, as: SIMD8<Float>.self)
            j += 8
        }
        while j < r.upperBound {
            var sum: Float = 0
            for i in 0..<n { sum += dy[i * o + j] }
            dbias[j] = sum
            j += 1
        }
    }

    /// Backward of `y = x · Wᵀ + b` for inputs d0..<d1:   dx[:, d0..<d1] = dy · W[:, d0..<d1]
    /// dy is (N,O), weight (O,D); dx (N,D) is overwritten on those columns.
    static func inputBackward(n: Int, d: Int, o: Int, dy: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                              dx: UnsafeMutablePointer<Float>, inputs: Range<Int>? = nil) {
        let r = inputs ?? 0..<d
        if n == 1 {
            BLAS.sgemv(trans: true, m: o, n: r.count, a: weight + r.lowerBound, lda: d, x: dy, beta: 0, y: dx + r.lowerBound)
            return
        }
        if DirectDense.inputGradient(n: n, d: d, o: o, dy: dy, weight: weight, dx: dx, inputs: r) { return }
        BLAS.sgemm(transA: false, transB: false, m: n, n: r.count, k: o, a: dy, lda: o,
                   b: weight + r.lowerBound, ldb: d, beta: 0, c: dx + r.lowerBound, ldc: d)
    }
}
