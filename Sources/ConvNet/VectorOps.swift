/// Elementwise operations on flat parameter vectors (θ, gradients, step sizes). Each is one
/// pass over contiguous memory, which the compiler vectorises with SSE2.
public enum VectorOps {
    /// The MAML-style inner step `φ = θ + α ⊙ g` (all of length P).
    ///
    ///     adapted(theta: [1, 2], alpha: [0.1, 0], gradient: [10, 10]) == [2, 2]
    public static func adapted(theta: [Float], alpha: [Float], gradient: [Float]) -> [Float] {
        precondition(theta.count == alpha.count && theta.count == gradient.count,
                     "adapted: θ, α and g must have the same length")
        var out = [Float](repeating: 0, count: theta.count)
        theta.withUnsafeBufferPointer { t in
            alpha.withUnsafeBufferPointer { a in
                gradient.withUnsafeBufferPointer { g in
                    out.withUnsafeMutableBufferPointer { o in
                        for i in 0..<o.count { o[i] = t[i] + a[i] * g[i] }
                    }
                }
            }
        }
        return out
    }

    /// y += a * x (length P).
    public static func axpy(_ a: Float, _ x: [Float], _ y: inout [Float]) {
        precondition(x.count == y.count, "axpy: length mismatch")
        x.withUnsafeBufferPointer { xs in
            y.withUnsafeMutableBufferPointer { ys in
                for i in 0..<ys.count { ys[i] += a * xs[i] }
            }
        }
    }

    /// x · y, accumulated in Double.
    public static func dot(_ x: [Float], _ y: [Float]) -> Double {
        precondition(x.count == y.count, "dot: length mismatch")
        var s = 0.0
        for i in 0..<x.count { s += Double(x[i]) * Double(y[i]) }
        return s
    }

    /// Euclidean norm, accumulated in Double.
    public static func norm(_ x: [Float]) -> Double { dot(x, x).squareRoot() }

    /// Σ p[0..<n] with sixteen partial sums (a plain loop is one serial chain of dependent
    /// adds; this one runs at SSE2 width). Used for bias gradients.
    @inline(__always)
    static func sum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        let raw = UnsafeRawPointer(p)
        var a0 = SIMD8<Float>.zero, a1 = SIMD8<Float>.zero
        var i = 0
        while i + 16 <= n {
            a0 += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            a1 += raw.loadUnaligned(fromByteOffset: (i + 8) * 4, as: SIMD8<Float>.self)
            i += 16
        }
        var s = (a0 + a1).sum()
        while i < n { s += p[i]; i += 1 }
        return s
    }
}
