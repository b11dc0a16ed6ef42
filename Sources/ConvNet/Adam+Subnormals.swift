#if canImport(_Builtin_intrinsics.intel)
import _Builtin_intrinsics.intel
#endif

/// Adam's update eight lanes at a time, and why some blocks go through Double.
///
/// A weight whose gradient stays 0 (a dead ReLU unit) has its first moment decay by β1 each
/// step until it sticks at the smallest subnormal (0.9 · 2^-149 rounds back to 2^-149), and its
/// second moment follows. From then on every multiply, divide and square root of its lane has a
/// subnormal operand, which x86 CPUs handle in microcode at ~100x the cost: with 10-15% of a
/// SAC learner's moments subnormal, Adam took a fifth of an update. Such blocks multiply, divide and
/// take square roots in Double, where these values are normal, rounding each result once to
/// Float: a product of two Floats is exact in Double, and a Double quotient or square root
/// rounded to Float is the Float one (53 ≥ 2·24 + 2 bits; Figueroa 1995). The additions stay
/// Float: they are fast on subnormals. Same bits, ~15x faster on such blocks.
extension Adam {
    /// How a block's lanes multiply, divide and take square roots.
    protocol Lanes {
        static func times(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float>
        static func divided(_ a: SIMD8<Float>, by b: SIMD8<Float>) -> SIMD8<Float>
        static func squareRoot(_ x: SIMD8<Float>) -> SIMD8<Float>
    }

    /// Float's own operations.
    enum FloatLanes: Lanes {
        @inline(__always) static func times(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> { a * b }
        @inline(__always) static func divided(_ a: SIMD8<Float>, by b: SIMD8<Float>) -> SIMD8<Float> { a / b }
        /// `SIMD8.squareRoot()` takes each lane through C's `sqrtf` and its errno check (a
        /// compare and branch per lane); SSE's `sqrtps` rounds as IEEE sqrt does.
        @inline(__always) static func squareRoot(_ x: SIMD8<Float>) -> SIMD8<Float> {
            #if canImport(_Builtin_intrinsics.intel)
            SIMD8(lowHalf: _mm_sqrt_ps(x.lowHalf), highHalf: _mm_sqrt_ps(x.highHalf))
            #else
            x.squareRoot()
            #endif
        }
    }

    /// The operations in Double, each result rounded once to Float: Float's bits.
    enum ThroughDouble: Lanes {
        @inline(__always) static func times(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
            #if canImport(_Builtin_intrinsics.intel)
            lanewise(a, b) { _mm_mul_pd($0, $1) }
            #else
            a * b
            #endif
        }
        @inline(__always) static func divided(_ a: SIMD8<Float>, by b: SIMD8<Float>) -> SIMD8<Float> {
            #if canImport(_Builtin_intrinsics.intel)
            lanewise(a, b) { _mm_div_pd($0, $1) }
            #else
            a / b
            #endif
        }
        @inline(__always) static func squareRoot(_ x: SIMD8<Float>) -> SIMD8<Float> {
            #if canImport(_Builtin_intrinsics.intel)
            lanewise(x, x) { x, _ in _mm_sqrt_pd(x) }
            #else
            x.squareRoot()
            #endif
        }

        #if canImport(_Builtin_intrinsics.intel)
        /// `op` on two lanes at a time in Double. The rounding back is `cvtpd2ps` as an intrinsic:
        /// LLVM folds a plain `Float(Double(a) * Double(b))` back into a Float multiply.
        @inline(__always)
        static func lanewise(_ a: SIMD8<Float>, _ b: SIMD8<Float>,
                             _ op: (SIMD2<Double>, SIMD2<Double>) -> SIMD2<Double>) -> SIMD8<Float> {
            func pair(_ a: SIMD4<Float>, _ b: SIMD4<Float>) -> SIMD4<Float> { _mm_cvtpd_ps(op(_mm_cvtps_pd(a), _mm_cvtps_pd(b))) }
            func four(_ a: SIMD4<Float>, _ b: SIMD4<Float>) -> SIMD4<Float> {
                _mm_movelh_ps(pair(a, b), pair(_mm_movehl_ps(a, a), _mm_movehl_ps(b, b)))
            }
            return SIMD8(lowHalf: four(a.lowHalf, b.lowHalf), highHalf: four(a.highHalf, b.highHalf))
        }
        #endif
    }

    /// p, g, m, v (all (P)) and the step's constants: the operands of `update(at:lanes:)`.
    struct Block {
        let p: UnsafeMutableRawPointer, g: UnsafeRawPointer, m: UnsafeMutableRawPointer, v: UnsafeMutableRawPointer
        let b1: SIMD8<Float>, b2: SIMD8<Float>, oneMinusB1: SIMD8<Float>, oneMinusB2: SIMD8<Float>
        let lr: SIMD8<Float>, eps: SIMD8<Float>, gScale: SIMD8<Float>, c1: SIMD8<Float>, c2: SIMD8<Float>

        @inline(__always)
        init(p: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
             constants: (b1: Float, b2: Float, lr: Float, eps: Float, gScale: Float, c1: Float, c2: Float)) {
            self.p = UnsafeMutableRawPointer(p); self.g = UnsafeRawPointer(g)
            self.m = UnsafeMutableRawPointer(m); self.v = UnsafeMutableRawPointer(v)
            let k = constants
            (b1, b2, oneMinusB1, oneMinusB2) = (.init(repeating: k.b1), .init(repeating: k.b2), .init(repeating: 1 - k.b1), .init(repeating: 1 - k.b2))
            (lr, eps, gScale, c1, c2) = (.init(repeating: k.lr), .init(repeating: k.eps), .init(repeating: k.gScale),
                                         .init(repeating: k.c1), .init(repeating: k.c2))
        }

        /// Entries i..<i+8: `referenceUpdate`'s expression tree, with `L`'s operations.
        @inline(__always)
        func update<L: Lanes>(at i: Int, lanes: L.Type) {
            typealias V = SIMD8<Float>
            let o = i * 4
            let gi = L.times(g.loadUnaligned(fromByteOffset: o, as: V.self), gScale)
            let mi = L.times(b1, m.loadUnaligned(fromByteOffset: o, as: V.self)) + L.times(oneMinusB1, gi)
            let vi = L.times(b2, v.loadUnaligned(fromByteOffset: o, as: V.self)) + L.times(L.times(oneMinusB2, gi), gi)
            let step = L.divided(L.times(lr, L.times(mi, c1)), by: L.squareRoot(L.times(vi, c2)) + eps)
            let pi = p.loadUnaligned(fromByteOffset: o, as: V.self) - step
            m.storeBytes(of: mi, toByteOffset: o, as: V.self)
            v.storeBytes(of: vi, toByteOffset: o, as: V.self)
            p.storeBytes(of: pi, toByteOffset: o, as: V.self)
        }

        /// Whether a lane of entries i..<i+8 has 0 < |m| or |v| < 2^-100, or 0 < |g| < 2^-50: then
        /// some operation of the Float update would see a subnormal. Integer tests on the bits:
        /// SIMD comparisons into masks compile lane by lane.
        @inline(__always)
        func hasTinyLane(at i: Int) -> Bool {
            typealias I = SIMD8<Int32>
            // For x = |bits| - 1: x and (T - 2) - x both have the sign bit clear iff 0 < |bits| < T.
            @inline(__always) func outside(_ raw: UnsafeRawPointer, below exponent: Int32) -> I {
                let x = (raw.loadUnaligned(fromByteOffset: i * 4, as: I.self) & I(repeating: 0x7fff_ffff)) &- I(repeating: 1)
                return x | (I(repeating: ((127 + exponent) << 23) &- 2) &- x)
            }
            let all = outside(m, below: -100) & outside(v, below: -100) & outside(g, below: -50)
            let four = all.lowHalf & all.highHalf
            return (four[0] & four[1] & four[2] & four[3]) >= 0
        }
    }
}
