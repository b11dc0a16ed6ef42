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
        let planes: UnsafePointer<Float>
        if g.inputIsPhasePlanes {
            planes = x
        } else {
            Im2col.phasePlanes(g, x: x, planes: scratch.planes)
            planes = UnsafePointer(scratch.planes)
        }
        writeTapOffsets(g, taps: scratch.taps)
        // Lanes run over output channels: dout (OC,OHW) → (OHW,OC).
        let doutT = scratch.wide
        gmps_transpose(dout, g.oc, g.ohw, doutT)
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
