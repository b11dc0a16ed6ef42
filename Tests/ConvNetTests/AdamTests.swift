import Testing
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
@testable import ConvNet

struct AdamTests {
    @Test func firstStepMovesEachParameterByTheLearningRate() throws {
        var adam = Adam(parameterCount: 2, learningRate: 0.1)
        var theta: [Float] = [1, -2]
        try adam.update(&theta, gradient: [0.5, -1])
        // m̂ = g, v̂ = g² → step = lr · g / |g|.
        #expect(abs(theta[0] - 0.9) < 1e-6 && abs(theta[1] - -1.9) < 1e-6)
    }

    @Test func stepsMatchHandComputedValues() throws {
        var adam = Adam(parameterCount: 2, learningRate: 0.1)
        var theta: [Float] = [1, -2]
        try adam.update(&theta, gradient: [0.5, -1])
        try adam.update(&theta, gradient: [0.2, 0.3])
        // Parameter 0, step 2: m = 0.9·0.05 + 0.1·0.2 = 0.065, v = 0.999·0.00025 + 0.001·0.04 = 0.00028975,
        // m̂ = 0.065 / 0.19 = 0.342105, v̂ = 0.00028975 / 0.001999 = 0.144947, step = 0.1·0.342105/0.380719 = 0.089858.
        #expect(abs(theta[0] - (0.9 - 0.089858)) < 2e-6)
        // Parameter 1: m = -0.09 + 0.03 = -0.06, v = 0.000999 + 0.00009 = 0.001089,
        // m̂ = -0.315789, v̂ = 0.544772, step = 0.1·(-0.315789)/0.738087 = -0.042785.
        #expect(abs(theta[1] - (-1.9 + 0.042785)) < 2e-6)
        #expect(adam.step == 2)
    }

    @Test func clippingScalesTheGradientToTheMaximumNorm() throws {
        var clipped = Adam(parameterCount: 2, learningRate: 0.1, maxGradientNorm: 1)
        var reference = Adam(parameterCount: 2, learningRate: 0.1)
        var a: [Float] = [0, 0], b: [Float] = [0, 0]
        let norm = try clipped.update(&a, gradient: [3, 4])
        let unclipped = try reference.update(&b, gradient: [0.6, 0.8])
        #expect(norm == 5 && unclipped == nil)
        #expect(clipped.m == reference.m && clipped.v == reference.v)
    }

    @Test func threadedUpdateOfALargeVectorEqualsTheSingleThreadedOne() throws {
        var rng = SeededGenerator(seed: 6)
        let n = 300_000
        var x1 = randomVector(n, &rng), x2 = x1
        let g = randomVector(n, &rng)
        var one = Adam(parameterCount: n, threads: 1), two = Adam(parameterCount: n, threads: 2)
        for _ in 0..<2 {
            try one.update(&x1, gradient: g)
            try two.update(&x2, gradient: g)
        }
        #expect(x1 == x2 && one.m == two.m && one.v == two.v)
    }

    @Test func adamMinimisesAQuadratic() throws {
        var adam = Adam(parameterCount: 3, learningRate: 0.05)
        var x: [Float] = [2, -3, 1]
        for _ in 0..<500 { try adam.update(&x, gradient: x.map { 2 * $0 }) }
        #expect(x.allSatisfy { abs($0) < 1e-2 })
        #expect(throws: ConvNetError.self) { try adam.update(&x, gradient: [1]) }
    }
}

extension AdamTests {
    @Test func adamFitsASmallConvNetToABatch() throws {
        // End to end: forward, MSE, backward, Adam on one fixed batch; the loss must collapse.
        let net = try Network(spec: NetworkGradientTests.smallFlatten)
        var theta = net.initialParameters(seed: 3)
        var rng = SeededGenerator(seed: 4)
        let batch = 8
        let images = (0..<(batch * net.imageInputCount)).map { _ in rng.nextUniformFloat() }
        let targets = randomVector(batch * net.outputCount, scale: 0.5, &rng)
        let ws = net.makeWorkspace(maxBatch: batch)
        var adam = Adam(parameterCount: net.parameterCount, learningRate: 1e-2)
        var gradient = theta
        var first: Float = 0, last: Float = 0
        for step in 0..<150 {
            let out = try net.forward(parameters: theta, images: images, batch: batch, workspace: ws)
            let (loss, dOut) = try MSELoss.valueAndGradient(output: out, target: targets)
            if step == 0 { first = loss }
            last = loss
            try net.backward(parameters: theta, outputGradient: dOut, workspace: ws, into: &gradient)
            try adam.update(&theta, gradient: gradient)
        }
        print("Adam on a small conv net: MSE \(first) → \(last)")
        #expect(last < first / 20)
    }
}

extension AdamTests {
    @Test func simdUpdateIsBitIdenticalToTheScalarReference() {
        // An odd length exercises the scalar tail; gradients span many magnitudes.
        var rng = SeededGenerator(seed: 11)
        let n = 1_003
        let g = (0..<n).map { _ in rng.nextGaussian() * ([1e-6, 1e-3, 1, 1e3] as [Float])[Int(rng.next() % 4)] }
        var p1 = randomVector(n, &rng), m1 = randomVector(n, scale: 0.01, &rng)
        var v1 = (0..<n).map { _ in abs(rng.nextGaussian()) * 1e-4 }
        var (p2, m2, v2) = (p1, m1, v1)
        let constants: (Float, Float, Float, Float, Float, Float, Float) = (0.9, 0.999, 3e-4, 1e-8, 0.7, 1.9, 27.3)
        p1.withUnsafeMutableBufferPointer { p in m1.withUnsafeMutableBufferPointer { m in v1.withUnsafeMutableBufferPointer { v in
            g.withUnsafeBufferPointer { g in
                Adam.updateRange(0..<n, p: p.baseAddress!, g: g.baseAddress!, m: m.baseAddress!, v: v.baseAddress!, constants: constants)
            }
        } } }
        p2.withUnsafeMutableBufferPointer { p in m2.withUnsafeMutableBufferPointer { m in v2.withUnsafeMutableBufferPointer { v in
            g.withUnsafeBufferPointer { g in
                Adam.referenceUpdate(0..<n, p: p.baseAddress!, g: g.baseAddress!, m: m.baseAddress!, v: v.baseAddress!, constants: constants)
            }
        } } }
        #expect(p1 == p2 && m1 == m2 && v1 == v2)
    }
}

extension AdamTests {
    /// A Float over every magnitude: zeros, subnormals, tiny and ordinary normals, either sign.
    static func anyMagnitude(_ rng: inout SeededGenerator, maxExponent: UInt32 = 160) -> Float {
        let sign: UInt32 = rng.next() & 1 == 0 ? 0 : 0x8000_0000
        let significand = UInt32(truncatingIfNeeded: rng.next()) & 0x007f_ffff
        switch rng.next() % 8 {
        case 0: return 0
        case 1, 2: return Float(bitPattern: sign | significand)
        case 3: return Float(bitPattern: sign | UInt32(1 + rng.next() % 30) << 23 | significand)
        default: return Float(bitPattern: sign | UInt32(1 + rng.next() % UInt64(maxExponent)) << 23 | significand)
        }
    }

    @Test func throughDoubleLanesGiveFloatsBits() {
        // Every lane through Double, on operands of every magnitude: a lane that rounded once
        // too often, or lost a subnormal, would differ from the Float reference.
        var rng = SeededGenerator(seed: 12)
        let n = 1 << 16
        for (b1, b2, lr, gScale): (Float, Float, Float, Float) in [(0.9, 0.999, 1e-3, 1), (0.5, 0.9, 1, 0.37), (0.99, 0.9999, 3e-4, 1e-5)] {
            let g = (0..<n).map { _ in Self.anyMagnitude(&rng) }
            var p1 = (0..<n).map { _ in Self.anyMagnitude(&rng, maxExponent: 140) }, m1 = (0..<n).map { _ in Self.anyMagnitude(&rng) }
            var v1 = (0..<n).map { _ in abs(Self.anyMagnitude(&rng)) }
            var (p2, m2, v2) = (p1, m1, v1)
            let step = 1 + Double(rng.next() % 10_000)
            let constants = (b1: b1, b2: b2, lr: lr, eps: Float(1e-8), gScale: gScale,
                             c1: Float(1 / (1 - pow(Double(b1), step))), c2: Float(1 / (1 - pow(Double(b2), step))))
            p1.withUnsafeMutableBufferPointer { p in m1.withUnsafeMutableBufferPointer { m in v1.withUnsafeMutableBufferPointer { v in
                g.withUnsafeBufferPointer { g in
                    let block = Adam.Block(p: p.baseAddress!, g: g.baseAddress!, m: m.baseAddress!, v: v.baseAddress!, constants: constants)
                    for i in stride(from: 0, to: n, by: 8) { block.update(at: i, lanes: Adam.ThroughDouble.self) }
                }
            } } }
            p2.withUnsafeMutableBufferPointer { p in m2.withUnsafeMutableBufferPointer { m in v2.withUnsafeMutableBufferPointer { v in
                g.withUnsafeBufferPointer { g in
                    Adam.referenceUpdate(0..<n, p: p.baseAddress!, g: g.baseAddress!, m: m.baseAddress!, v: v.baseAddress!, constants: constants)
                }
            } } }
            #expect(p1.map(\.bitPattern) == p2.map(\.bitPattern) && m1.map(\.bitPattern) == m2.map(\.bitPattern)
                    && v1.map(\.bitPattern) == v2.map(\.bitPattern))
        }
    }

    @Test func blocksWithSubnormalMomentsAreFoundAndUpdatedAsTheReference() throws {
        // Stuck moments of a weight whose gradient stays 0, in every other block of eight.
        var rng = SeededGenerator(seed: 13)
        let n = 1_003
        var g = randomVector(n, scale: 0.01, &rng), m1 = randomVector(n, scale: 0.01, &rng)
        var v1 = (0..<n).map { _ in abs(rng.nextGaussian()) * 1e-4 }
        for i in 0..<n where (i / 8) % 2 == 1 { (g[i], m1[i], v1[i]) = (0, .leastNonzeroMagnitude, .leastNormalMagnitude * 0x1p-10) }
        var p1 = randomVector(n, &rng)
        var (p2, m2, v2) = (p1, m1, v1)
        let constants: (Float, Float, Float, Float, Float, Float, Float) = (0.9, 0.999, 1e-3, 1e-8, 1, 1.01, 1.3)
        p1.withUnsafeMutableBufferPointer { p in m1.withUnsafeMutableBufferPointer { m in v1.withUnsafeMutableBufferPointer { v in
            g.withUnsafeBufferPointer { g in
                let block = Adam.Block(p: p.baseAddress!, g: g.baseAddress!, m: m.baseAddress!, v: v.baseAddress!, constants: constants)
                #expect(!block.hasTinyLane(at: 0) && block.hasTinyLane(at: 8) && !block.hasTinyLane(at: 16))
                Adam.updateRange(0..<n, p: p.baseAddress!, g: g.baseAddress!, m: m.baseAddress!, v: v.baseAddress!, constants: constants)
            }
        } } }
        p2.withUnsafeMutableBufferPointer { p in m2.withUnsafeMutableBufferPointer { m in v2.withUnsafeMutableBufferPointer { v in
            g.withUnsafeBufferPointer { g in
                Adam.referenceUpdate(0..<n, p: p.baseAddress!, g: g.baseAddress!, m: m.baseAddress!, v: v.baseAddress!, constants: constants)
            }
        } } }
        #expect(p1 == p2 && m1.map(\.bitPattern) == m2.map(\.bitPattern) && v1.map(\.bitPattern) == v2.map(\.bitPattern))
        #expect(m1[8] == .leastNonzeroMagnitude)   // 0.9 · 2^-149 rounds back to 2^-149
    }
}

extension AdamTests {
    @Test func theClipIsDecidedByTheSerialNormEvenAtItsEdge() throws {
        // Gradients whose norm is maxNorm give or take a few ulps: the lane sum must hand the
        // decision to the serial sum there, so the step equals one scaled by `VectorOps.norm`.
        var rng = SeededGenerator(seed: 14)
        let n = 5_441
        let direction = randomVector(n, &rng)
        let unit = Float(VectorOps.norm(direction))
        let targets: [Float] = [10, Float(10).nextDown, Float(10).nextUp, 9.99999, 10.00001, 3, 30]
        for target in targets {
            let g = direction.map { $0 * (target / unit) }
            var adam = Adam(parameterCount: n, maxGradientNorm: 10)
            var theta = randomVector(n, &rng)
            var expected = theta, (m, v) = ([Float](repeating: 0, count: n), [Float](repeating: 0, count: n))
            let serial = Float(VectorOps.norm(g))
            let scale: Float = serial > 10 ? 10 / serial : 1
            let constants = (b1: Float(0.9), b2: Float(0.999), lr: Float(1e-3), eps: Float(1e-8), gScale: scale,
                             c1: Float(1 / (1 - Double(Float(0.9)))), c2: Float(1 / (1 - Double(Float(0.999)))))
            expected.withUnsafeMutableBufferPointer { p in m.withUnsafeMutableBufferPointer { m in v.withUnsafeMutableBufferPointer { v in
                g.withUnsafeBufferPointer { g in
                    Adam.referenceUpdate(0..<n, p: p.baseAddress!, g: g.baseAddress!, m: m.baseAddress!, v: v.baseAddress!, constants: constants)
                }
            } } }
            let norm = try adam.update(&theta, gradient: g)
            let same = theta.map(\.bitPattern) == expected.map(\.bitPattern)
            #expect(same, "norm \(serial)")
            #expect(abs(norm! - serial) <= serial.ulp)
        }
        #expect(Adam.sumOfSquaresInLanes([3, 4]) == 25 && Adam.sumOfSquaresInLanes([]) == 0)
    }
}
