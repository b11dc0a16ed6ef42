import Dispatch

/// Adam (Kingma & Ba 2015) with bias correction, minimising; optional clipping of the
/// gradient's global L2 norm. `Codable` so a checkpoint resumes bit for bit.
///
///   m ← β1 m + (1-β1) g        v ← β2 v + (1-β2) g²
///   θ ← θ - lr · (m / (1-β1ᵗ)) / (sqrt(v / (1-β2ᵗ)) + ε)
public struct Adam: Codable, Equatable, Sendable {
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    /// Gradients with a larger L2 norm are scaled down to it before the update; nil: no clipping.
    public var maxGradientNorm: Float?
    /// Cores one update may use; vectors under 2^17 values are updated on one thread.
    public var threads: Int
    /// Updates taken so far (t).
    public private(set) var step: Int
    /// First and second moment estimates (P).
    public private(set) var m: [Float]
    public private(set) var v: [Float]

    public init(parameterCount: Int, learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, maxGradientNorm: Float? = nil, threads: Int = BLAS.cores) {
        self.learningRate = learningRate; self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon
        self.maxGradientNorm = maxGradientNorm
        self.threads = max(1, threads)
        step = 0
        m = [Float](repeating: 0, count: parameterCount)
        v = [Float](repeating: 0, count: parameterCount)
    }

    /// One update of `parameters` (P) along `gradient` (P) of the loss. Returns the gradient's
    /// L2 norm before clipping when clipping is on (nil otherwise: the norm costs a pass); below
    /// the clip it is summed in SIMD lanes, and may differ from `VectorOps.norm` in the last bit.
    @discardableResult
    public mutating func update(_ parameters: inout [Float], gradient: [Float]) throws -> Float? {
        guard parameters.count == m.count, gradient.count == m.count else {
            throw ConvNetError.shapeMismatch("Adam over \(m.count) parameters got \(parameters.count) parameters and \(gradient.count) gradients")
        }
        var norm: Float? = nil
        var scale: Float = 1
        if let maxNorm = maxGradientNorm {
            // The clip's scale comes from the serial sum of `VectorOps.norm`, one chain of dependent
            // adds. A sum in lanes is within a relative 2P·2⁻⁵³ of it (both sum P non-negative
            // terms), so a lane sum clearly below maxNorm² means no clipping, and no serial sum.
            let squares = Self.sumOfSquaresInLanes(gradient)
            let limit = Double(maxNorm) * Double(maxNorm)
            if squares * (1 + Double(gradient.count) * 0x1p-50) < limit {
                norm = Float(squares.squareRoot())
            } else {
                let n = Float(VectorOps.norm(gradient))
                norm = n
                if n > maxNorm, n > 0 { scale = maxNorm / n }
            }
        }
        step += 1
        let c1 = Float(1 / (1 - pow(Double(beta1), Double(step))))
        let c2 = Float(1 / (1 - pow(Double(beta2), Double(step))))
        let (b1, b2, lr, eps, gScale) = (beta1, beta2, learningRate, epsilon, scale)
        parameters.withUnsafeMutableBufferPointer { p in
            gradient.withUnsafeBufferPointer { g in
                m.withUnsafeMutableBufferPointer { m in
                    v.withUnsafeMutableBufferPointer { v in
                        let ptrs = UncheckedBox((p.baseAddress!, g.baseAddress!, m.baseAddress!, v.baseAddress!))
                        let count = p.count
                        let slices = min(threads, max(1, count >> 17))
                        let body: @Sendable (Int) -> Void = { s in
                            let (p, g, m, v) = ptrs.value
                            Self.updateRange((s * count / slices)..<((s + 1) * count / slices), p: p, g: g, m: m, v: v,
                                             constants: (b1, b2, lr, eps, gScale, c1, c2))
                        }
                        if slices == 1 { body(0) } else { DispatchQueue.concurrentPerform(iterations: slices, execute: body) }
                    }
                }
            }
        }
        return norm
    }

    /// The update of entries `range` of p, m, v from g (all (P)), eight lanes at a time.
    /// Each lane evaluates exactly the scalar expression tree of `referenceUpdate` (no fused
    /// multiply-add in Swift, IEEE sqrt and division), so the result is bit-identical to the
    /// scalar loop, which the tests keep as the reference. The compiler does not vectorise the
    /// scalar loop itself: p, g, m and v might alias.
    ///
    /// Blocks with subnormal moments take `ThroughDouble` lanes (see `Adam+Subnormals.swift`):
    /// the same bits, without the CPU's slow path for subnormal operands.
    @inline(__always)
    static func updateRange(_ range: Range<Int>, p: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>,
                            m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
                            constants: (b1: Float, b2: Float, lr: Float, eps: Float, gScale: Float, c1: Float, c2: Float)) {
        let block = Block(p: p, g: g, m: m, v: v, constants: constants)
        var i = range.lowerBound
        while i + 8 <= range.upperBound {
            if block.hasTinyLane(at: i) {
                block.update(at: i, lanes: ThroughDouble.self)
            } else {
                block.update(at: i, lanes: FloatLanes.self)
            }
            i += 8
        }
        referenceUpdate(i..<range.upperBound, p: p, g: g, m: m, v: v, constants: constants)
    }

    /// Σ x² (P) in Double, in eight lanes: x² is exact in Double, and the lanes add independently
    /// (`VectorOps.dot` adds each term to one running sum, 4 cycles apiece).
    ///
    ///     sumOfSquaresInLanes([3, 4]) == 25
    static func sumOfSquaresInLanes(_ x: [Float]) -> Double {
        x.withUnsafeBufferPointer { x in
            guard let base = x.baseAddress else { return 0 }
            let raw = UnsafeRawPointer(base)
            var low = SIMD4<Double>.zero, high = SIMD4<Double>.zero
            var i = 0
            while i + 8 <= x.count {
                let v = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                let (a, b) = (SIMD4<Double>(v.lowHalf), SIMD4<Double>(v.highHalf))
                low += a * a
                high += b * b
                i += 8
            }
            var sum = (low + high).sum()
            while i < x.count { sum += Double(x[i]) * Double(x[i]); i += 1 }
            return sum
        }
    }

    /// The scalar loop: the tail of `updateRange` and its oracle in the tests.
    static func referenceUpdate(_ range: Range<Int>, p: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>,
                                m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
                                constants: (b1: Float, b2: Float, lr: Float, eps: Float, gScale: Float, c1: Float, c2: Float)) {
        let (b1, b2, lr, eps, gScale, c1, c2) = constants
        for i in range {
            let gi = g[i] * gScale
            m[i] = b1 * m[i] + (1 - b1) * gi
            v[i] = b2 * v[i] + (1 - b2) * gi * gi
            p[i] -= lr * (m[i] * c1) / ((v[i] * c2).squareRoot() + eps)
        }
    }
}

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
