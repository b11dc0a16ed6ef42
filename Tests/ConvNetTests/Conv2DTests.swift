import CConvNetKernels
import Testing
@testable import ConvNet

/// im2col + sgemm against the direct convolution oracle, forward and backward.
struct Conv2DTests {
    static let cases: [(c: Int, h: Int, w: Int, oc: Int, k: Int, s: Int, p: Padding)] = [
        (1, 5, 5, 1, 3, 1, .valid),
        (2, 7, 9, 3, 3, 2, .same),
        (3, 8, 6, 2, 5, 3, .same),
        (2, 9, 7, 4, 1, 1, .valid),   // pointwise fast path
        (3, 10, 11, 2, 4, 2, .same),  // even kernel: asymmetric padding
        (2, 6, 6, 3, 3, 3, .valid),
        (1, 5, 7, 2, 5, 2, .same),
        (3, 13, 11, 5, 5, 2, .valid),
        (2, 4, 4, 2, 1, 2, .same),    // strided 1x1
        (2, 40, 37, 3, 5, 2, .valid), // rows long enough for the eight-lane stride-2 gather
        (2, 21, 20, 3, 3, 1, .valid), // and for the eight-lane row copy and col2im add
    ]

    @Test func im2colConvolutionMatchesDirectConvolutionForwardAndBackward() throws {
        var rng = SeededGenerator(seed: 7)
        var worst = (fwd: 0.0, dx: 0.0, dw: 0.0, db: 0.0)
        for cs in Self.cases {
            let g = try ConvGeometry(channels: cs.c, height: cs.h, width: cs.w, outChannels: cs.oc,
                                     kernel: cs.k, stride: cs.s, padding: cs.p)
            let x = randomVector(g.inputCount, &rng)
            let weight = randomVector(g.oc * g.ckk, &rng)
            let bias = randomVector(g.oc, &rng)
            let dout = randomVector(g.outputCount, &rng)
            var out = [Float](repeating: 0, count: g.outputCount)
            var col = [Float](repeating: .nan, count: g.ckk * g.ohw)
            var dcol = [Float](repeating: .nan, count: g.ckk * g.ohw)
            var dx = [Float](repeating: .nan, count: g.inputCount)
            var dw = [Float](repeating: .nan, count: g.oc * g.ckk)
            var db = [Float](repeating: .nan, count: g.oc)
            Conv2D.forward(g, x: x, weight: weight, bias: bias, col: &col, out: &out)
            Conv2D.backward(g, x: x, weight: weight, dout: dout, dweight: &dw, dbias: &db, accumulate: false,
                            col: &col, dcol: &dcol, dx: &dx)
            let ref = Conv2D.naiveForward(g, x: x, weight: weight, bias: bias)
            let refB = Conv2D.naiveBackward(g, x: x, weight: weight, dout: dout)
            worst.fwd = max(worst.fwd, maxDiff(out, ref))
            worst.dx = max(worst.dx, maxDiff(dx, refB.dx))
            worst.dw = max(worst.dw, maxDiff(dw, refB.dweight))
            worst.db = max(worst.db, maxDiff(db, refB.dbias))
            #expect(g.oh == (cs.p == .same ? (cs.h + cs.s - 1) / cs.s : (cs.h - cs.k) / cs.s + 1))
        }
        let tol = 1e-5
        report("conv forward vs direct", worst.fwd, tolerance: tol)
        report("conv dx vs direct", worst.dx, tolerance: tol)
        report("conv dweight vs direct", worst.dw, tolerance: tol)
        report("conv dbias vs direct", worst.db, tolerance: tol)
        #expect(worst.fwd < tol && worst.dx < tol && worst.dw < tol && worst.db < tol)
    }

    @Test func convolutionBackwardAccumulatesOverImages() throws {
        let g = try ConvGeometry(channels: 2, height: 6, width: 5, outChannels: 3, kernel: 3, stride: 2, padding: .same)
        var rng = SeededGenerator(seed: 3)
        let x1 = randomVector(g.inputCount, &rng), x2 = randomVector(g.inputCount, &rng)
        let w = randomVector(g.oc * g.ckk, &rng)
        let d1 = randomVector(g.outputCount, &rng), d2 = randomVector(g.outputCount, &rng)
        var col = [Float](repeating: 0, count: g.ckk * g.ohw), dcol = col
        var dw = [Float](repeating: 0, count: g.oc * g.ckk), db = [Float](repeating: 0, count: g.oc)
        Conv2D.backward(g, x: x1, weight: w, dout: d1, dweight: &dw, dbias: &db, accumulate: false, col: &col, dcol: &dcol, dx: nil)
        Conv2D.backward(g, x: x2, weight: w, dout: d2, dweight: &dw, dbias: &db, accumulate: true, col: &col, dcol: &dcol, dx: nil)
        let r1 = Conv2D.naiveBackward(g, x: x1, weight: w, dout: d1), r2 = Conv2D.naiveBackward(g, x: x2, weight: w, dout: d2)
        let expected = zip(r1.dweight, r2.dweight).map { $0 + $1 }
        #expect(maxDiff(dw, expected) < 1e-5)
    }

    /// The backward-data path in blocks of input channels must give the same bits as one GEMM
    /// over all of dcol (and so as before blocking), on the reference CNN's conv1 and conv0.
    @Test(arguments: [(32, 30, 3, 1), (3, 64, 5, 2)])
    func blockedBackwardDataIsBitIdenticalToOneBlock(_ shape: (c: Int, hw: Int, k: Int, s: Int)) throws {
        // OpenBLAS on one thread, as networks run it: a multi-threaded sgemm racing with another
        // test's call is not safe in OpenBLAS 0.3.21.
        _ = BLAS.configured
        let g = try ConvGeometry(channels: shape.c, height: shape.hw, width: shape.hw, outChannels: 32, kernel: shape.k,
                                 stride: shape.s, padding: .valid)
        var rng = SeededGenerator(seed: 8)
        let x = randomVector(g.inputCount, &rng), w = randomVector(g.oc * g.ckk, &rng), d = randomVector(g.outputCount, &rng)
        var results: [[Float]] = []
        for block in [g.c, 16, 8, Conv2D.channelBlock(g), 3, 1] {
            var col = [Float](repeating: 0, count: g.ckk * g.ohw), dcol = col
            var dw = [Float](repeating: 0, count: g.oc * g.ckk), db = [Float](repeating: 0, count: g.oc)
            var dx = [Float](repeating: .nan, count: g.inputCount)
            Conv2D.backward(g, x: x, weight: w, dout: d, dweight: &dw, dbias: &db, accumulate: false,
                            col: &col, dcol: &dcol, dx: &dx, channelBlock: block)
            results.append(dx + dw + db)
        }
        #expect(results.allSatisfy { $0 == results[0] })
    }

    @Test func blockedBackwardDataMatchesTheDirectOracle() throws {
        let g = try ConvGeometry(channels: 5, height: 9, width: 8, outChannels: 3, kernel: 3, stride: 2, padding: .same)
        var rng = SeededGenerator(seed: 9)
        let x = randomVector(g.inputCount, &rng), w = randomVector(g.oc * g.ckk, &rng), d = randomVector(g.outputCount, &rng)
        var col = [Float](repeating: 0, count: g.ckk * g.ohw), dcol = col
        var dw = [Float](repeating: 0, count: g.oc * g.ckk), db = [Float](repeating: 0, count: g.oc)
        var dx = [Float](repeating: .nan, count: g.inputCount)
        Conv2D.backward(g, x: x, weight: w, dout: d, dweight: &dw, dbias: &db, accumulate: false,
                        col: &col, dcol: &dcol, dx: &dx, channelBlock: 2)
        let reference = Conv2D.naiveBackward(g, x: x, weight: w, dout: d)
        #expect(maxDiff(dx, reference.dx) < 1e-5)
    }

    @Test func validKernelLargerThanInputIsRejected() {
        #expect(throws: ConvNetError.self) {
            try ConvGeometry(channels: 1, height: 3, width: 3, outChannels: 1, kernel: 5, stride: 1, padding: .valid)
        }
    }
}

extension Conv2DTests {
    @Test func fusedReluForwardIsReluOfTheConvolution() throws {
        let g = try ConvGeometry(channels: 3, height: 11, width: 9, outChannels: 4, kernel: 5, stride: 2, padding: .valid)
        var rng = SeededGenerator(seed: 17)
        let x = randomVector(g.inputCount, &rng), w = randomVector(g.oc * g.ckk, &rng), b = randomVector(g.oc, &rng)
        var col = [Float](repeating: 0, count: g.ckk * g.ohw), out = [Float](repeating: 0, count: g.outputCount)
        Conv2D.forward(g, x: x, weight: w, bias: b, col: &col, out: &out, relu: true)
        let ref = Conv2D.naiveForward(g, x: x, weight: w, bias: b).map { max($0, 0) }
        #expect(maxDiff(out, ref) < 1e-5)
    }
}

extension Conv2DTests {
    /// The full-width im2col (phase planes, whole-row copies, wider GEMM) and the direct kernel
    /// (on CPUs that run it) against the compact im2col they replace: the same bits, whole
    /// images and split into output rows (as workers share one image), on the oracle's shapes,
    /// the reference CNN's and vision policy's convolutions and a few larger ones.
    @Test func fullWidthForwardIsBitIdenticalToCompactIm2col() throws {
        _ = BLAS.configured
        let shapes = Self.cases + [
            (3, 64, 64, 32, 5, 2, .valid), (32, 30, 30, 32, 3, 1, .valid), (32, 28, 28, 32, 3, 1, .valid),
            (3, 48, 64, 16, 5, 3, .same), (16, 16, 22, 16, 3, 3, .same),
            (8, 40, 37, 16, 3, 1, .valid), (4, 50, 41, 24, 5, 2, .valid), (5, 61, 47, 12, 5, 3, .same),
            (16, 36, 36, 16, 3, 1, .same), (3, 90, 70, 7, 4, 2, .same), (24, 33, 31, 40, 3, 1, .valid),
        ]
        var rng = SeededGenerator(seed: 21)
        var fullWidthShapes = 0, fullWidthHalves = 0
        for cs in shapes {
            let g = try ConvGeometry(channels: cs.c, height: cs.h, width: cs.w, outChannels: cs.oc,
                                     kernel: cs.k, stride: cs.s, padding: cs.p)
            if g.usesFullWidthIm2col() { fullWidthShapes += 1 }
            if g.usesFullWidthIm2col(outputRows: g.oh / 2) { fullWidthHalves += 1 }
            let x = randomVector(g.inputCount, &rng), w = randomVector(g.oc * g.ckk, &rng), b = randomVector(g.oc, &rng)
            var col = [Float](repeating: .nan, count: g.ckk * g.fullWidthColumns)
            // Scratch left full of NaN: a path that read an entry it did not write would show.
            let scratch = ConvScratch.allocate(for: [g])
            defer { scratch.deallocate() }
            let counts = ConvScratch.counts([g])
            scratch.col.update(repeating: .nan, count: counts.col)
            scratch.planes.update(repeating: .nan, count: counts.planes)
            scratch.wide.update(repeating: .nan, count: counts.wide)
            for relu in [false, true] {
                var compact = [Float](repeating: .nan, count: g.outputCount), compactHalves = compact
                let middle = g.oh / 2
                Conv2D.forward(g, x: x, weight: w, bias: b, col: &col, out: &compact, relu: relu)
                for rows in [0..<middle, middle..<g.oh] {
                    Conv2D.forward(g, x: x, weight: w, bias: b, col: &col, out: &compactHalves, relu: relu, outputRows: rows)
                }
                for direct in [false, true] {
                    var full = [Float](repeating: .nan, count: g.outputCount), halves = full
                    Conv2D.forward(g, x: x, weight: w, bias: b, scratch: scratch, out: &full, relu: relu, direct: direct)
                    for rows in [0..<middle, middle..<g.oh] {
                        Conv2D.forward(g, x: x, weight: w, bias: b, scratch: scratch, out: &halves, relu: relu,
                                       outputRows: rows, direct: direct)
                    }
                    let differing = zip(full, compact).filter { $0.bitPattern != $1.bitPattern }.count
                    let differingSplit = zip(halves, compactHalves).filter { $0.bitPattern != $1.bitPattern }.count
                    let path = "relu \(relu), direct \(direct && DirectConvolution.enabled)"
                    #expect(differing == 0, "\(cs) \(path): \(differing) of \(g.outputCount) outputs differ")
                    #expect(differingSplit == 0, "\(cs) \(path), split rows: \(differingSplit) of \(g.outputCount) outputs differ")
                }
            }
        }
        #expect(fullWidthShapes >= 7 && fullWidthHalves >= 5, "\(fullWidthShapes) shapes, \(fullWidthHalves) halves")
    }
}

extension Conv2DTests {
    /// The full-width backward-data path (dout spread over whole rows, contiguous col2im runs)
    /// against the compact one: the same bits of dx, dweight and dbias on the stride-1 unpadded
    /// shapes that take it, with the default channel block and with blocks of 1 and 3.
    @Test func fullWidthBackwardDataIsBitIdenticalToCompact() throws {
        _ = BLAS.configured
        let shapes: [(c: Int, hw: Int, w: Int, oc: Int, k: Int)] = [
            (32, 30, 30, 32, 3), (32, 28, 28, 32, 3), (8, 40, 37, 16, 3), (24, 33, 31, 40, 3), (6, 44, 44, 16, 5),
        ]
        var rng = SeededGenerator(seed: 23)
        for shape in shapes {
            let g = try ConvGeometry(channels: shape.c, height: shape.hw, width: shape.w, outChannels: shape.oc,
                                     kernel: shape.k, stride: 1, padding: .valid)
            #expect(g.inputIsPhasePlanes && g.usesFullWidthIm2col(), "\(shape) takes the full-width path")
            let x = randomVector(g.inputCount, &rng), w = randomVector(g.oc * g.ckk, &rng), d = randomVector(g.outputCount, &rng)
            var results: [[Float]] = []
            for (fullWidth, block) in [(false, nil), (true, nil), (true, 1), (true, 3)] as [(Bool, Int?)] {
                var col = [Float](repeating: .nan, count: g.ckk * g.fullWidthColumns), dcol = col
                var wide = [Float](repeating: .nan, count: g.oc * g.fullWidthColumns)
                var dw = [Float](repeating: .nan, count: g.oc * g.ckk), db = [Float](repeating: .nan, count: g.oc)
                var dx = [Float](repeating: .nan, count: g.inputCount)
                wide.withUnsafeMutableBufferPointer { wide in
                    Conv2D.backward(g, x: x, weight: w, dout: d, dweight: &dw, dbias: &db, accumulate: false,
                                    col: &col, dcol: &dcol, dx: &dx, channelBlock: block,
                                    wide: fullWidth ? wide.baseAddress! : nil)
                }
                results.append(dx + dw + db)
            }
            for r in results.dropFirst() {
                let differing = zip(r, results[0]).filter { $0.bitPattern != $1.bitPattern }.count
                #expect(differing == 0, "\(shape): \(differing) of \(r.count) gradient entries differ")
            }
        }
    }
}

extension Conv2DTests {
    /// Where the CPU has AVX-512 the direct kernel should be on: off means its start-up check
    /// found another OpenBLAS kernel than the one it reproduces (slower, same results).
    @Test func directKernelAvailability() {
        print("direct convolution kernel: CPU \(gmps_conv_direct_available() == 1 ? "has" : "lacks") AVX-512, "
              + "kernel \(DirectConvolution.enabled ? "enabled" : "disabled")")
        if DirectConvolution.enabled { #expect(gmps_conv_direct_available() == 1) }
        #expect(DirectConvolution.agreesWithGEMM() == DirectConvolution.enabled || gmps_conv_direct_available() == 0)
    }
}

extension Conv2DTests {
    /// The direct weight gradient (no im2col, lanes over output channels) against im2col + GEMM:
    /// the same bits of dweight over three images (overwrite, then add), on shapes whose OHW
    /// columns make one, two and three of OpenBLAS's K blocks, output channels that are not a
    /// multiple of 32 or 16, taps not a multiple of 8, stride 2 with padding (phase planes).
    @Test func directWeightGradientIsBitIdenticalToGEMM() throws {
        _ = BLAS.configured
        let shapes: [(c: Int, h: Int, w: Int, oc: Int, k: Int, s: Int, p: Padding)] = [
            (3, 64, 64, 32, 5, 2, .valid), (32, 30, 30, 32, 3, 1, .valid), (32, 22, 22, 32, 3, 1, .valid),
            (32, 18, 18, 32, 3, 1, .valid), (8, 40, 37, 16, 3, 1, .valid), (24, 33, 31, 40, 3, 1, .valid),
            (6, 44, 44, 20, 5, 1, .valid), (16, 45, 45, 24, 3, 2, .same),
        ]
        var rng = SeededGenerator(seed: 29)
        for shape in shapes {
            let g = try ConvGeometry(channels: shape.c, height: shape.h, width: shape.w, outChannels: shape.oc,
                                     kernel: shape.k, stride: shape.s, padding: shape.p)
            #expect(!DirectConvolution.weightGradientEnabled || DirectConvolution.computesWeightGradient(g),
                    "\(shape) takes the direct weight gradient")
            let w = randomVector(g.oc * g.ckk, &rng)
            let images = (0..<3).map { _ in randomVector(g.inputCount, &rng) }
            // Output gradients after a ReLU mask: many exact zeros, as in training.
            let douts = (0..<3).map { _ in randomVector(g.outputCount, &rng).map { $0 < 0 ? 0 : $0 } }
            let scratch = ConvScratch.allocate(for: [g])
            defer { scratch.deallocate() }
            var results: [[Float]] = []
            for direct in [nil, scratch] as [ConvScratch?] {
                var col = [Float](repeating: .nan, count: g.ckk * g.ohw), dcol = col
                var dw = [Float](repeating: .nan, count: g.oc * g.ckk), db = [Float](repeating: .nan, count: g.oc)
                for i in 0..<3 {
                    Conv2D.backward(g, x: images[i], weight: w, dout: douts[i], dweight: &dw, dbias: &db, accumulate: i > 0,
                                    col: &col, dcol: &dcol, dx: nil, direct: direct)
                }
                results.append(dw + db)
            }
            let differing = zip(results[0], results[1]).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(differing == 0, "\(shape): \(differing) of \(results[0].count) entries differ")
        }
        print("direct weight gradient: \(DirectConvolution.weightGradientEnabled ? "enabled" : "disabled")")
        if gmps_conv_direct_available() == 1 && DirectConvolution.enabled {
            #expect(DirectConvolution.weightGradientEnabled, "the start-up check should pass where the forward kernel's does")
        }
    }
}

extension Conv2DTests {
    /// The direct input gradient (dout shifted in place, tap by tap) against the full-width GEMM
    /// path: the same bits of dx on the stride-1 unpadded shapes that take it, with input
    /// channels in blocks of four and a remainder, kernels of 3 and 5, planes that do not fill
    /// the last 48-position block, ReLU-masked output gradients.
    @Test func directInputGradientIsBitIdenticalToFullWidth() throws {
        _ = BLAS.configured
        let shapes: [(c: Int, hw: Int, w: Int, oc: Int, k: Int)] = [
            (32, 30, 30, 32, 3), (32, 28, 28, 32, 3), (8, 40, 37, 16, 3), (24, 33, 31, 40, 3), (6, 44, 44, 16, 5),
            (7, 36, 29, 20, 3),
        ]
        var rng = SeededGenerator(seed: 31)
        for shape in shapes {
            let g = try ConvGeometry(channels: shape.c, height: shape.hw, width: shape.w, outChannels: shape.oc,
                                     kernel: shape.k, stride: 1, padding: .valid)
            #expect(DirectConvolution.takesInputGradientShape(g), "\(shape) takes the direct input gradient")
            let x = randomVector(g.inputCount, &rng), w = randomVector(g.oc * g.ckk, &rng)
            let d = randomVector(g.outputCount, &rng).map { $0 < 0 ? 0 : $0 }
            let scratch = ConvScratch.allocate(for: [g])
            defer { scratch.deallocate() }
            var results: [[Float]] = []
            for direct in [nil, scratch] as [ConvScratch?] {
                var col = [Float](repeating: .nan, count: g.ckk * g.fullWidthColumns), dcol = col
                var dw = [Float](repeating: .nan, count: g.oc * g.ckk), db = [Float](repeating: .nan, count: g.oc)
                var dx = [Float](repeating: .nan, count: g.inputCount)
                Conv2D.backward(g, x: x, weight: w, dout: d, dweight: &dw, dbias: &db, accumulate: false,
                                col: &col, dcol: &dcol, dx: &dx, wide: scratch.wide, direct: direct)
                results.append(dx)
            }
            let differing = zip(results[0], results[1]).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(differing == 0, "\(shape): \(differing) of \(results[0].count) entries of dx differ")
        }
        print("direct input gradient: \(DirectConvolution.inputGradientEnabled ? "enabled" : "disabled")")
        if gmps_conv_direct_available() == 1 && DirectConvolution.enabled {
            #expect(DirectConvolution.inputGradientEnabled, "the start-up check should pass where the forward kernel's does")
        }
    }
}
