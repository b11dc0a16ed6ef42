import CConvNetKernels

/// The convolution's weight gradient without im2col, on CPUs with AVX-512: dweight (+)= dout ·
/// colᵀ read from the input (or its phase planes) in place, by a C kernel that keeps 32 output
/// channels by 8 taps in registers. The im2col and the GEMM it replaces were a fifth of a
/// batch-64 training step of the reference CNN.
///
/// Same bits as the GEMM path: OpenBLAS's blocked sgemm splits K (here the OHW output
/// columns) into blocks of 320 (the last two split evenly in multiples of 16), computes each
/// block's sum for an entry as one chain of FMAs in order from +0 and adds it to C; the kernel
/// does the same (measured bit for bit on the reference CNN's shapes, whose 676-900 columns
/// make three blocks). Used only where the GEMM path runs that blocked kernel, and only after
/// it reproduced the GEMM path's bits on sample convolutions in this process.
extension DirectConvolution {
    /// Whether `Conv2D.backward` may use the direct weight gradient in this process.
    static let weightGradientEnabled: Bool = gmps_conv_direct_available() == 1 && weightGradientAgreesWithGEMM()

    /// Whether the direct weight gradient replaces im2col + GEMM for `g`: where the forward
    /// pass uses the full-width layout (so scratch holds its phase planes and a (OC, OH·Wp)
    /// buffer for the transposed dout) and the GEMM would run in OpenBLAS's blocked kernel.
    static func computesWeightGradient(_ g: ConvGeometry) -> Bool {
        weightGradientEnabled && !g.isPointwise && g.usesFullWidthIm2col()
            && BLAS.usesBlockedKernel(m: g.oc, n: g.ckk, k: g.ohw)
    }

    /// dweight (+)= dout · im2col(x)ᵀ for one image (overwritten unless `accumulate`).
    /// x is (C,H,W), dout (OC,OHW), dweight (OC,CKK); scratch's planes, taps and wide are used.
    static func weightGradient(_ g: ConvGeometry, x: UnsafePointer<Float>, dout: UnsafePointer<Float>,
                               dweight: UnsafeMutablePointer<Float>, accumulate: Bool, scratch: ConvScratch) {
        let planes = Im2col.phasePlanesOrInput(g, x: x, scratch: scratch.planes)
        writeTapOffsets(g, taps: scratch.taps)
        // Lanes run over output channels: dout (OC,OHW) → (OHW,OC), by 16x16 register
        // transposes (3.5x faster than scattering each row's 16 values down a column).
        let doutT = scratch.wide
        gmps_transpose_columns(dout, g.oc, g.ohw, 0, g.ohw, doutT)
        gmps_conv_weight_gradient(planes, scratch.taps, Int32(g.ckk), Int32(g.phaseWidth), Int32(g.ow), Int32(g.ohw),
                                  doutT, Int32(g.oc), dweight, accumulate ? 1 : 0)
    }

    /// Whether the kernel gives the GEMM path's bits on the reference CNN's stride-2 first and
    /// stride-1 second convolutions, random inputs, over two images (overwrite, then add).
    static func weightGradientAgreesWithGEMM() -> Bool {
        _ = BLAS.configured
        var rng = SeededGenerator(seed: 19)
        for (c, hw, k, s) in [(3, 64, 5, 2), (32, 30, 3, 1)] {
            guard let g = try? ConvGeometry(channels: c, height: hw, width: hw, outChannels: 32, kernel: k, stride: s,
                                            padding: .valid), g.usesFullWidthIm2col() else { return false }
            let images = (0..<2).map { _ in (0..<g.inputCount).map { _ in rng.nextGaussian() } }
            // ReLU-masked output gradients: zeros among them, as in training.
            let douts = (0..<2).map { _ in (0..<g.outputCount).map { _ in max(0, rng.nextGaussian()) - 0.3 } }
            let scratch = ConvScratch.allocate(for: [g])
            defer { scratch.deallocate() }
            var viaGEMM = [Float](repeating: 0, count: g.oc * g.ckk), direct = viaGEMM
            for i in 0..<2 {
                images[i].withUnsafeBufferPointer { x in
                    douts[i].withUnsafeBufferPointer { dout in
                        viaGEMM.withUnsafeMutableBufferPointer { dw in
                            Im2col.im2col(g, x: x.baseAddress!, col: scratch.col)
                            BLAS.sgemm(transA: false, transB: true, m: g.oc, n: g.ckk, k: g.ohw,
                                       a: dout.baseAddress!, lda: g.ohw, b: scratch.col, ldb: g.ohw,
                                       beta: i > 0 ? 1 : 0, c: dw.baseAddress!, ldc: g.ckk)
                        }
                        direct.withUnsafeMutableBufferPointer { dw in
                            weightGradient(g, x: x.baseAddress!, dout: dout.baseAddress!, dweight: dw.baseAddress!,
                                           accumulate: i > 0, scratch: scratch)
                        }
                    }
                }
            }
            guard zip(viaGEMM, direct).allSatisfy({ $0.bitPattern == $1.bitPattern }) else { return false }
        }
        return true
    }
}

/// The input gradient of a stride-1 unpadded convolution without dcol, on CPUs with AVX-512:
/// each input position sums, tap by tap, the chain over output channels that the GEMM path's
/// dcol = Wᵀ · dout holds for it, reading dout shifted in place (spread over whole input rows,
/// zeros around). Same bits as the full-width GEMM path it replaces (OpenBLAS's small-matrix
/// kernel computes each dcol entry as one chain of FMAs over the output channels from +0, and
/// col2im adds them in tap order), checked once per process before use.
extension DirectConvolution {
    /// Whether `Conv2D.backward` may use the direct input gradient in this process.
    static let inputGradientEnabled: Bool = gmps_conv_direct_available() == 1 && inputGradientAgreesWithGEMM()

    /// The shapes the kernel handles: those that take the full-width backward-data path.
    static func takesInputGradientShape(_ g: ConvGeometry) -> Bool {
        g.s == 1 && g.inputIsPhasePlanes && g.usesFullWidthIm2col()
    }

    /// Whether the direct input gradient replaces the full-width GEMM and col2im for `g`.
    static func computesInputGradient(_ g: ConvGeometry) -> Bool {
        inputGradientEnabled && takesInputGradientShape(g)
    }

    /// Floats per output channel of the padded dout: the zeros a tap may read before output 0
    /// ((K-1)·(W+1)), the input plane, and one 48-position block past it.
    static func paddedStride(_ g: ConvGeometry) -> Int {
        (g.k - 1) * (g.w + 1) + g.h * g.w + 48
    }

    /// dx = col2im(Wᵀ · dout) for one image. weight (OC,CKK), dout (OC,OHW), dx (C,H,W);
    /// scratch's padded buffer is used.
    static func inputGradient(_ g: ConvGeometry, weight: UnsafePointer<Float>, dout: UnsafePointer<Float>,
                              dx: UnsafeMutablePointer<Float>, scratch: ConvScratch) {
        let stride = paddedStride(g), before = (g.k - 1) * (g.w + 1)
        for o in 0..<g.oc {
            // [zeros before][OH rows: OW outputs, W - OW zeros][zeros to the end of the row]
            var p = scratch.padded + o * stride
            p.update(repeating: 0, count: before)
            p += before
            for oy in 0..<g.oh {
                Im2col.copyRow(from: dout + o * g.ohw + oy * g.ow, to: p, count: g.ow)
                (p + g.ow).update(repeating: 0, count: g.w - g.ow)
                p += g.w
            }
            p.update(repeating: 0, count: stride - before - g.oh * g.w)
        }
        gmps_conv_input_gradient(scratch.padded + before, stride, weight, Int32(g.oc), Int32(g.c), Int32(g.k),
                                 Int32(g.h), Int32(g.w), dx)
    }

    /// Whether the kernel gives the full-width GEMM path's bits on the reference CNN's second
    /// and third convolutions, random weights and ReLU-masked output gradients.
    static func inputGradientAgreesWithGEMM() -> Bool {
        _ = BLAS.configured
        var rng = SeededGenerator(seed: 23)
        for hw in [30, 28] {
            guard let g = try? ConvGeometry(channels: 32, height: hw, width: hw, outChannels: 32, kernel: 3, stride: 1,
                                            padding: .valid), takesInputGradientShape(g) else { return false }
            let w = (0..<(g.oc * g.ckk)).map { _ in rng.nextGaussian() * 0.3 }
            let dout = (0..<g.outputCount).map { _ in max(0, rng.nextGaussian()) - 0.3 }
            let scratch = ConvScratch.allocate(for: [g])
            defer { scratch.deallocate() }
            let dcol = UnsafeMutablePointer<Float>.allocate(capacity: g.ckk * g.fullWidthColumns)
            defer { dcol.deallocate() }
            var viaGEMM = [Float](repeating: .nan, count: g.inputCount), direct = viaGEMM
            w.withUnsafeBufferPointer { w in
                dout.withUnsafeBufferPointer { dout in
                    viaGEMM.withUnsafeMutableBufferPointer { dx in
                        Conv2D.backwardDataFullWidth(g, weight: w.baseAddress!, dout: dout.baseAddress!, wide: scratch.wide,
                                                     dcol: dcol, dx: dx.baseAddress!)
                    }
                    direct.withUnsafeMutableBufferPointer { dx in
                        inputGradient(g, weight: w.baseAddress!, dout: dout.baseAddress!, dx: dx.baseAddress!, scratch: scratch)
                    }
                }
            }
            guard zip(viaGEMM, direct).allSatisfy({ $0.bitPattern == $1.bitPattern }) else { return false }
        }
        return true
    }
}
