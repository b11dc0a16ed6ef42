import CConvNetKernels

/// The forward convolution without im2col, on CPUs with AVX-512: a C kernel (Swift cannot
/// compile one function for AVX-512 and the rest for any x86-64) reads the input, or its phase
/// planes, in place and keeps eight output channels by 32 columns in registers.
///
/// Same bits as the GEMM path: OpenBLAS's blocked sgemm kernel computes each entry of
/// weight · col as one chain of FMAs over the CKK taps in order from +0 (checked bit for bit on
/// the reference CNN's shapes), which is the kernel's loop; the bias and ReLU follow as in the
/// GEMM path's epilogue. The kernel is used only where the GEMM path would run that blocked
/// kernel (`usesFullWidthIm2col`), and only after it reproduced the GEMM path's bits on sample
/// convolutions in this process (another CPU model may get another OpenBLAS kernel).
enum DirectConvolution {
    /// Whether `Conv2D.forward` uses the direct kernel in this process.
    static let enabled: Bool = gmps_conv_direct_available() == 1 && agreesWithGEMM()

    /// out[o, oy, ox] for oy in `rows` (see `Conv2D.forward`). planes are the phase planes of
    /// the input, or x itself when `g.inputIsPhasePlanes`; taps is CKK scratch.
    static func forward(_ g: ConvGeometry, planes: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                        bias: UnsafePointer<Float>, taps: UnsafeMutablePointer<Int32>,
                        out: UnsafeMutablePointer<Float>, relu: Bool, outputRows rows: Range<Int>) {
        writeTapOffsets(g, taps: taps)
        gmps_conv_direct(planes, taps, Int32(g.ckk), Int32(g.phaseWidth), weight, bias, Int32(g.oc),
                         out, Int32(g.ohw), Int32(g.ow), Int32(rows.lowerBound), Int32(rows.upperBound), relu ? 1 : 0)
    }

    /// taps[r] (CKK): where tap r = (c, kh, kw) of output (0, 0) reads the phase planes: plane
    /// (c, kh mod S, kw mod S) at (kh/S, kw/S).
    static func writeTapOffsets(_ g: ConvGeometry, taps: UnsafeMutablePointer<Int32>) {
        let hp = g.phaseHeight, wp = g.phaseWidth
        var r = 0
        for c in 0..<g.c {
            for kh in 0..<g.k {
                for kw in 0..<g.k {
                    taps[r] = Int32(((c * g.s + kh % g.s) * g.s + kw % g.s) * hp * wp + (kh / g.s) * wp + kw / g.s)
                    r += 1
                }
            }
        }
    }

    /// Whether the kernel gives the GEMM path's bits on the reference CNN's stride-2 first and
    /// stride-1 second convolutions, random inputs, whole and split into rows.
    static func agreesWithGEMM() -> Bool {
        _ = BLAS.configured
        var rng = SeededGenerator(seed: 17)
        for (c, hw, k, s) in [(3, 64, 5, 2), (32, 30, 3, 1)] {
            guard let g = try? ConvGeometry(channels: c, height: hw, width: hw, outChannels: 32, kernel: k, stride: s,
                                            padding: .valid), g.usesFullWidthIm2col() else { return false }
            let x = (0..<g.inputCount).map { _ in rng.nextGaussian() }
            let w = (0..<(g.oc * g.ckk)).map { _ in rng.nextGaussian() * 0.3 }
            let b = (0..<g.oc).map { _ in rng.nextGaussian() }
            var viaGEMM = [Float](repeating: 0, count: g.outputCount), direct = viaGEMM
            let scratch = ConvScratch.allocate(for: [g])
            defer { scratch.deallocate() }
            Conv2D.forward(g, x: x, weight: w, bias: b, scratch: scratch, out: &viaGEMM, relu: true, direct: false)
            x.withUnsafeBufferPointer { xp in
                w.withUnsafeBufferPointer { wp in
                    b.withUnsafeBufferPointer { bp in
                        direct.withUnsafeMutableBufferPointer { out in
                            let planes: UnsafePointer<Float>
                            if g.inputIsPhasePlanes {
                                planes = xp.baseAddress!
                            } else {
                                Im2col.phasePlanes(g, x: xp.baseAddress!, planes: scratch.planes)
                                planes = UnsafePointer(scratch.planes)
                            }
                            for rows in [0..<(g.oh / 2), (g.oh / 2)..<g.oh] {
                                forward(g, planes: planes, weight: wp.baseAddress!, bias: bp.baseAddress!, taps: scratch.taps,
                                        out: out.baseAddress!, relu: true, outputRows: rows)
                            }
                        }
                    }
                }
            }
            guard zip(viaGEMM, direct).allSatisfy({ $0.bitPattern == $1.bitPattern }) else { return false }
        }
        return true
    }
}
