import CConvNetKernels
import Testing
@testable import ConvNet

/// Every layer's backward against central finite differences of Σ r ⊙ forward.
struct LayerGradientTests {
    @Test func convolutionGradientsMatchFiniteDifferences() throws {
        let g = try ConvGeometry(channels: 2, height: 7, width: 6, outChannels: 3, kernel: 3, stride: 2, padding: .same)
        var rng = SeededGenerator(seed: 11)
        let x = randomVector(g.inputCount, &rng), w = randomVector(g.oc * g.ckk, &rng)
        let b = randomVector(g.oc, &rng), r = randomVector(g.outputCount, &rng)
        var col = [Float](repeating: 0, count: g.ckk * g.ohw), dcol = col
        func f(_ x: [Float], _ w: [Float], _ b: [Float]) -> Double {
            var out = [Float](repeating: 0, count: g.outputCount)
            var col = [Float](repeating: 0, count: g.ckk * g.ohw)
            Conv2D.forward(g, x: x, weight: w, bias: b, col: &col, out: &out)
            return probe(out, r)
        }
        var dx = [Float](repeating: 0, count: g.inputCount), dw = w, db = b
        Conv2D.backward(g, x: x, weight: w, dout: r, dweight: &dw, dbias: &db, accumulate: false, col: &col, dcol: &dcol, dx: &dx)
        let diff = max(maxDiff(dx, finiteDifferenceGradient(x) { f($0, w, b) }),
                       maxDiff(dw, finiteDifferenceGradient(w) { f(x, $0, b) }),
                       maxDiff(db, finiteDifferenceGradient(b) { f(x, w, $0) }))
        report("conv2d vs finite differences", diff, tolerance: 2e-3)
        #expect(diff < 2e-3)
    }

    @Test(arguments: [3, 1])
    func denseGradientsMatchFiniteDifferences(n: Int) {
        let (d, o) = (5, 4)
        var rng = SeededGenerator(seed: 12)
        let x = randomVector(n * d, &rng), w = randomVector(o * d, &rng), b = randomVector(o, &rng)
        let r = randomVector(n * o, &rng)
        func f(_ x: [Float], _ w: [Float], _ b: [Float]) -> Double {
            var y = [Float](repeating: 0, count: n * o)
            Dense.forward(n: n, d: d, o: o, x: x, weight: w, bias: b, y: &y)
            return probe(y, r)
        }
        var dx = x, dw = w, db = b
        Dense.weightBackward(n: n, d: d, o: o, x: x, dy: r, dweight: &dw, dbias: &db)
        Dense.inputBackward(n: n, d: d, o: o, dy: r, weight: w, dx: &dx)
        let diff = max(maxDiff(dx, finiteDifferenceGradient(x) { f($0, w, b) }),
                       maxDiff(dw, finiteDifferenceGradient(w) { f(x, $0, b) }),
                       maxDiff(db, finiteDifferenceGradient(b) { f(x, w, $0) }))
        report("dense (batch \(n)) vs finite differences", diff, tolerance: 2e-3)
        #expect(diff < 2e-3)
    }

    @Test(arguments: [Activation.relu, .tanh])
    func activationGradientsMatchFiniteDifferences(_ act: Activation) {
        var rng = SeededGenerator(seed: 13)
        // Keep inputs away from relu's kink, where finite differences straddle two slopes.
        let z = randomVector(40, &rng).map { abs($0) < 0.05 ? $0 + 0.2 : $0 }
        let r = randomVector(40, &rng)
        func f(_ z: [Float]) -> Double {
            var y = z
            Activations.forward(act, &y, count: y.count)
            return probe(y, r)
        }
        var y = z
        Activations.forward(act, &y, count: y.count)
        var dz = r
        Activations.backward(act, y: y, dy: &dz, count: dz.count)
        let diff = maxDiff(dz, finiteDifferenceGradient(z, f))
        report("\(act) vs finite differences", diff, tolerance: 1e-3)
        #expect(diff < 1e-3)
    }

    /// Bias gradients eight columns at a time against the scalar row-order sums, bit for bit
    /// (19 columns: two blocks of eight and a scalar tail; a slice starting mid-row too).
    @Test(arguments: [0..<19, 3..<17])
    func denseBiasGradientIsBitIdenticalToRowOrderSums(_ columns: Range<Int>) {
        var rng = SeededGenerator(seed: 16)
        let (n, o) = (37, 19)
        let dy = randomVector(n * o, scale: 100, &rng)
        var fast = [Float](repeating: .nan, count: o)
        Dense.columnSums(n: n, o: o, dy: dy, into: &fast, columns: columns)
        for j in columns {
            var sum: Float = 0
            for i in 0..<n { sum += dy[i * o + j] }
            #expect(fast[j].bitPattern == sum.bitPattern)
        }
    }

    /// The eight-lane backward against the scalar formula it vectorises, bit for bit, on an odd
    /// length with zeros of both signs and a NaN among the activations.
    @Test(arguments: [Activation.relu, .tanh])
    func activationBackwardIsBitIdenticalToTheScalarFormula(_ act: Activation) {
        var rng = SeededGenerator(seed: 15)
        var y = randomVector(37, &rng)
        y[3] = 0; y[4] = -0.0; y[9] = .nan
        if act == .tanh { y = y.map { $0 / (1 + abs($0)) } }   // in (-1, 1), like tanh
        let dy = randomVector(37, &rng)
        var fast = dy
        Activations.backward(act, y: y, dy: &fast, count: fast.count)
        let scalar = zip(y, dy).map { y, d in act == .relu ? (y > 0 ? d : 0) : d * (1 - y * y) }
        #expect(fast.map(\.bitPattern) == scalar.map(\.bitPattern))
    }

    @Test(arguments: [Float(0), 0.7])
    func spatialSoftmaxGradientsMatchFiniteDifferences(_ logT: Float) {
        let (c, h, w) = (3, 5, 6)
        var rng = SeededGenerator(seed: 14)
        let x = randomVector(c * h * w, scale: 2, &rng), r = randomVector(2 * c, &rng)
        func f(_ x: [Float], _ logT: Float) -> Double {
            var p = [Float](repeating: 0, count: c * h * w), out = [Float](repeating: 0, count: 2 * c)
            SpatialSoftmax.forward(c: c, h: h, w: w, logTemperature: logT, x: x, p: &p, out: &out)
            return probe(out, r)
        }
        var p = [Float](repeating: 0, count: c * h * w), out = [Float](repeating: 0, count: 2 * c)
        SpatialSoftmax.forward(c: c, h: h, w: w, logTemperature: logT, x: x, p: &p, out: &out)
        var dx = x
        let dLogT = SpatialSoftmax.backward(c: c, h: h, w: w, logTemperature: logT, x: x, p: p, dout: r, dx: &dx)
        let fdT = finiteDifferenceGradient([logT]) { f(x, $0[0]) }
        let diff = max(maxDiff(dx, finiteDifferenceGradient(x) { f($0, logT) }), maxDiff([dLogT], fdT))
        report("spatial softmax (log T \(logT)) vs finite differences", diff, tolerance: 1e-3)
        #expect(diff < 1e-3)
        // Keypoints are expected coordinates: inside [-1, 1].
        #expect(out.allSatisfy { abs($0) <= 1 })
    }

    @Test func spatialSoftmaxOfAPeakIsItsCoordinate() {
        // One channel 3x5 with a sharp peak at row 2, column 1 → x = -1 + 2·1/4 = -0.5, y = 1.
        var x = [Float](repeating: 0, count: 15)
        x[2 * 5 + 1] = 50
        var p = x, out: [Float] = [0, 0]
        SpatialSoftmax.forward(c: 1, h: 3, w: 5, logTemperature: 0, x: x, p: &p, out: &out)
        #expect(abs(out[0] - -0.5) < 1e-6 && abs(out[1] - 1) < 1e-6)
    }

    @Test func concatGradientsMatchFiniteDifferences() {
        let (n, f, e, b) = (3, 4, 2, 3)
        var rng = SeededGenerator(seed: 15)
        let feats = randomVector(n * f, &rng), ex = randomVector(n * e, &rng), bv = randomVector(b, &rng)
        let r = randomVector(n * (f + e + b), &rng)
        func fn(_ feats: [Float], _ ex: [Float], _ bv: [Float]) -> Double {
            var h0 = [Float](repeating: 0, count: n * (f + e + b))
            Concat.forward(n: n, f: f, e: e, b: b, features: feats, extras: ex, biasVector: bv, h0: &h0)
            return probe(h0, r)
        }
        var df = feats, de = ex, db = bv
        Concat.backward(n: n, f: f, e: e, b: b, dh0: r, dfeatures: &df, dextras: &de, dbiasVector: &db)
        let diff = max(maxDiff(df, finiteDifferenceGradient(feats) { fn($0, ex, bv) }),
                       maxDiff(de, finiteDifferenceGradient(ex) { fn(feats, $0, bv) }),
                       maxDiff(db, finiteDifferenceGradient(bv) { fn(feats, ex, $0) }))
        report("concat vs finite differences", diff, tolerance: 1e-3)
        #expect(diff < 1e-3)
    }
}

/// The dense layers' direct backward products against OpenBLAS: the same bits.
struct DirectDenseTests {
    /// `Dense.weightBackward` and `inputBackward` with the kernel (where it applies) against the
    /// same products by sgemm, on whole layers and on worker slices, batches of one and of two K
    /// blocks, widths that do not fill the last 64 columns or six rows.
    @Test func directBackwardProductsAreBitIdenticalToOpenBLAS() {
        _ = BLAS.configured
        var rng = SeededGenerator(seed: 41)
        for (n, d, o) in [(64, 2000, 256), (64, 300, 256), (256, 333, 100), (500, 130, 70), (7, 5000, 37)] {
            let x = randomVector(n * d, &rng), w = randomVector(o * d, &rng)
            let dy = randomVector(n * o, &rng).map { $0 < 0 ? 0 : $0 }
            for (outputs, inputs) in [(0..<o, 0..<d), (o / 2..<o, d / 3..<d)] {
                var dw = [Float](repeating: .nan, count: o * d), dwGEMM = dw
                var db = [Float](repeating: .nan, count: o)
                var dx = [Float](repeating: .nan, count: n * d), dxGEMM = dx
                Dense.weightBackward(n: n, d: d, o: o, x: x, dy: dy, dweight: &dw, dbias: &db, outputs: outputs)
                Dense.inputBackward(n: n, d: d, o: o, dy: dy, weight: w, dx: &dx, inputs: inputs)
                BLAS.sgemm(transA: true, transB: false, m: outputs.count, n: d, k: n, a: Array(dy[outputs.lowerBound...]), lda: o,
                           b: x, ldb: d, beta: 0, c: &dwGEMM[outputs.lowerBound * d], ldc: d)
                BLAS.sgemm(transA: false, transB: false, m: n, n: inputs.count, k: o, a: dy, lda: o,
                           b: Array(w[inputs.lowerBound...]), ldb: d, beta: 0, c: &dxGEMM[inputs.lowerBound], ldc: d)
                let wrongW = zip(dw, dwGEMM).filter { $0.bitPattern != $1.bitPattern }.count
                let wrongX = zip(dx, dxGEMM).filter { $0.bitPattern != $1.bitPattern }.count
                #expect(wrongW == 0 && wrongX == 0, "\(n)x\(d)x\(o) \(outputs) \(inputs): \(wrongW) dW, \(wrongX) dx entries differ")
            }
        }
        print("direct dense backward: \(DirectDense.enabled ? "enabled" : "disabled")")
        if gmps_conv_direct_available() == 1 { #expect(DirectDense.enabled) }
    }
}

extension DirectDenseTests {
    /// The weight gradient split by inputs (`Dense.weightGradient`), as the workers take its
    /// pieces, against one sgemm over the whole layer: the same bits wherever every piece runs
    /// in OpenBLAS's blocked kernel (batches of one and of two K blocks, ragged pieces).
    @Test func weightGradientByInputsIsBitIdenticalToOneGEMM() {
        _ = BLAS.configured
        var rng = SeededGenerator(seed: 47)
        for (n, d, o) in [(64, 21632 / 4, 256), (4, 21632, 256), (500, 3001, 70)] {
            let pieces = 7
            guard BLAS.usesBlockedKernel(m: o, n: d / pieces, k: n) else { Issue.record("\(n)x\(d)x\(o) too small"); continue }
            let x = randomVector(n * d, &rng)
            let dy = randomVector(n * o, &rng).map { $0 < 0 ? 0 : $0 }
            var dw = [Float](repeating: .nan, count: o * d), dwGEMM = dw
            for piece in 0..<pieces {
                Dense.weightGradient(n: n, d: d, o: o, x: x, dy: dy, dweight: &dw,
                                     inputs: (piece * d / pieces)..<((piece + 1) * d / pieces))
            }
            BLAS.sgemm(transA: true, transB: false, m: o, n: d, k: n, a: dy, lda: o, b: x, ldb: d, beta: 0, c: &dwGEMM, ldc: d)
            let differing = zip(dw, dwGEMM).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(differing == 0, "\(n)x\(d)x\(o): \(differing) entries differ")
        }
    }

    /// The transposed forward (bias preset, the kernel over xT, yT transposed back) against
    /// `Dense.forward`'s sgemm with beta 1: the same bits, batches of 2 to 300, two to nine K
    /// blocks, output pieces over groups of inputs as the workers take them.
    @Test func transposedForwardIsBitIdenticalToOpenBLAS() {
        _ = BLAS.configured
        var rng = SeededGenerator(seed: 53)
        for (n, d, o) in [(64, 21632 / 8, 256), (2, 4000, 300), (300, 700, 64), (17, 650, 131)] {
            guard DirectDense.computesForward(n: n, d: d, o: o, workers: 2) else {
                #expect(!DirectDense.enabled || !BLAS.usesBlockedKernel(m: n, n: o / 2, k: d), "\(n)x\(d)x\(o) skipped")
                continue
            }
            let x = randomVector(n * d, &rng), w = randomVector(o * d, &rng), bias = randomVector(o, &rng)
            var viaGEMM = [Float](repeating: .nan, count: n * o)
            Dense.forward(n: n, d: d, o: o, x: x, weight: w, bias: bias, y: &viaGEMM)
            var xT = [Float](repeating: .nan, count: n * d), yT = [Float](repeating: .nan, count: o * n)
            var direct = [Float](repeating: .nan, count: n * o)
            gmps_transpose_columns(x, n, d, 0, d / 3, &xT)
            gmps_transpose_columns(x, n, d, d / 3, d, &xT)
            // Group by group over the inputs, as the workers take the items (groups of two K
            // blocks here, so that every shape has several).
            let groupLength = 640
            for group in stride(from: 0, to: d, by: groupLength) {
                for piece in 0..<5 {
                    DirectDense.forwardTransposed(n: n, d: d, xT: xT, weight: w, bias: bias, yT: &yT,
                                                  outputs: (piece * o / 5)..<((piece + 1) * o / 5),
                                                  inputs: group..<min(d, group + groupLength))
                }
            }
            gmps_transpose_columns(yT, o, n, 0, n, &direct)
            let differing = zip(viaGEMM, direct).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(differing == 0, "\(n)x\(d)x\(o): \(differing) outputs differ")
        }
    }
}

/// The ReLU kernels and the bias fill against their scalar definitions, bit for bit, on values
/// that tell the comparisons apart: -0, +0, NaN, ±∞, tiny and ordinary values, odd lengths.
struct ActivationKernelTests {
    @Test func reluForwardAndBackwardAreTheScalarExpressions() {
        var rng = SeededGenerator(seed: 43)
        let specials: [Float] = [-0.0, 0, .nan, .infinity, -.infinity, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, 1, -1]
        for count in [1, 15, 16, 37, 100] {
            let y = (0..<count).map { i in i % 3 == 0 ? specials[i % specials.count] : rng.nextGaussian() }
            let dy = randomVector(count, &rng)
            var forward = y, backward = dy
            forward.withUnsafeMutableBufferPointer { Activations.forward(.relu, $0.baseAddress!, count: count) }
            backward.withUnsafeMutableBufferPointer { Activations.backward(.relu, y: y, dy: $0.baseAddress!, count: count) }
            #expect(forward.map(\.bitPattern) == y.map { max($0, 0).bitPattern }, "forward, \(count) values")
            #expect(backward.map(\.bitPattern) == zip(y, dy).map { ($0 > 0 ? $1 : 0).bitPattern }, "backward, \(count) values")
        }
    }

    @Test func denseForwardStartsEveryRowFromTheBias() {
        var rng = SeededGenerator(seed: 47)
        let (n, d, o) = (3, 5, 21)
        let x = randomVector(n * d, &rng), bias = randomVector(o, &rng)
        let zeros = [Float](repeating: 0, count: o * d)
        var y = [Float](repeating: .nan, count: n * o)
        Dense.forward(n: n, d: d, o: o, x: x, weight: zeros, bias: bias, y: &y, outputs: 2..<19)
        for i in 0..<n {
            #expect(Array(y[(i * o + 2)..<(i * o + 19)]) == Array(bias[2..<19]))
            #expect(y[i * o].isNaN && y[i * o + 20].isNaN, "columns outside the slice are left alone")
        }
    }
}
