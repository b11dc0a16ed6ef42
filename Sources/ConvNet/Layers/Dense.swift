/// Fully connected layer over a batch; the weight is (O,D) as in PyTorch's `nn.Linear`.
enum Dense {
    /// y = x · weightᵀ + bias.
    /// x is (N,D), weight (O,D), bias (O), y (N,O).
    static func forward(n: Int, d: Int, o: Int, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                        bias: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        for i in 0..<n { (y + i * o).update(from: bias, count: o) }
        BLAS.sgemm(transA: false, transB: true, m: n, n: o, k: d,
                   a: x, lda: d, b: weight, ldb: d, beta: 1, c: y, ldc: o)
    }

    /// Backward of `y = x · weightᵀ + bias`:
    ///   dweight = dyᵀ · x        dbias = colsum(dy)        dx = dy · weight
    /// dy is (N,O), x (N,D), weight (O,D); dweight (O,D) and dbias (O) are overwritten;
    /// dx (N,D) is overwritten, or skipped when nil.
    static func backward(n: Int, d: Int, o: Int, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                         dy: UnsafePointer<Float>, dweight: UnsafeMutablePointer<Float>,
                         dbias: UnsafeMutablePointer<Float>, dx: UnsafeMutablePointer<Float>?) {
        BLAS.sgemm(transA: true, transB: false, m: o, n: d, k: n,
                   a: dy, lda: o, b: x, ldb: d, beta: 0, c: dweight, ldc: d)
        dbias.update(repeating: 0, count: o)
        for i in 0..<n {
            let row = dy + i * o
            for j in 0..<o { dbias[j] += row[j] }
        }
        if let dx {
            BLAS.sgemm(transA: false, transB: false, m: n, n: d, k: o,
                       a: dy, lda: o, b: weight, ldb: d, beta: 0, c: dx, ldc: d)
        }
    }
}
