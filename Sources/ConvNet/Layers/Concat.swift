/// Concatenation of per-sample image features, extra vector inputs (proprioception) and a
/// learned bias-transformation vector (Finn et al. 2017) shared by all samples:
/// h0[i] = [features[i], extras[i], biasVector].
enum Concat {
    /// features (N,F), extras (N,E), biasVector (B) → h0 (N,F+E+B).
    static func forward(n: Int, f: Int, e: Int, b: Int, features: UnsafePointer<Float>?,
                        extras: UnsafePointer<Float>?, biasVector: UnsafePointer<Float>,
                        h0: UnsafeMutablePointer<Float>) {
        let d = f + e + b
        for i in 0..<n {
            let row = h0 + i * d
            if let features { row.update(from: features + i * f, count: f) }
            if let extras { (row + f).update(from: extras + i * e, count: e) }
            (row + f + e).update(from: biasVector, count: b)
        }
    }

    /// Backward of the concatenation: the gradient splits back into its parts; the bias vector,
    /// shared by every sample (`row[f+e..] = biasVector`), sums its rows.
    /// dh0 (N,F+E+B) → dfeatures (N,F) or nil, dextras (N,E) or nil, dbiasVector (B) overwritten.
    static func backward(n: Int, f: Int, e: Int, b: Int, dh0: UnsafePointer<Float>,
                         dfeatures: UnsafeMutablePointer<Float>?, dextras: UnsafeMutablePointer<Float>?,
                         dbiasVector: UnsafeMutablePointer<Float>) {
        let d = f + e + b
        dbiasVector.update(repeating: 0, count: b)
        for i in 0..<n {
            let row = dh0 + i * d
            if let dfeatures { (dfeatures + i * f).update(from: row, count: f) }
            if let dextras { (dextras + i * e).update(from: row + f, count: e) }
            for j in 0..<b { dbiasVector[j] += row[f + e + j] }
        }
    }
}
