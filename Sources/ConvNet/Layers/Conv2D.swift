/// One worker's scratch for a convolution's forward pass, sized for the largest of a network's
/// convolutions.
struct ConvScratch {
    /// im2col matrix: (CKK, OHW), or (CKK, OH·Wp) in the full-width layout.
    let col: UnsafeMutablePointer<Float>
    /// Phase planes of the full-width layout, (C·S·S, Hp, Wp).
    let planes: UnsafeMutablePointer<Float>
    /// The full-width GEMM's output, (OC, OH·Wp).
    let wide: UnsafeMutablePointer<Float>
    /// The direct kernels' tap offsets, (CKK).
    let taps: UnsafeMutablePointer<Int32>
    /// dout spread over whole input rows with zeros around, for the direct input gradient:
    /// (OC, `DirectConvolution.paddedStride`).
    let padded: UnsafeMutablePointer<Float>

    /// Entries of col, planes, wide, taps and padded for convolutions `convs` (at least 1 each).
    static func counts(_ convs: [ConvGeometry]) -> (col: Int, planes: Int, wide: Int, taps: Int, padded: Int) {
        let col = convs.map { $0.ckk * ($0.usesFullWidthIm2col() ? $0.fullWidthColumns : $0.ohw) }.max() ?? 0
        let planes = convs.map { $0.usesFullWidthIm2col() ? $0.phasePlaneCount : 0 }.max() ?? 0
        let wide = convs.map { $0.usesFullWidthIm2col() ? $0.oc * $0.fullWidthColumns : 0 }.max() ?? 0
        let taps = convs.map(\.ckk).max() ?? 0
        let padded = convs.map { DirectConvolution.takesInputGradientShape($0) ? $0.oc * DirectConvolution.paddedStride($0) : 0 }
            .max() ?? 0
        return (max(1, col), max(1, planes), max(1, wide), max(1, taps), max(1, padded))
    }

    /// Zeroed scratch for `convs`; release it with `deallocate()`.
    static func allocate(for convs: [ConvGeometry]) -> ConvScratch {
        let n = counts(convs)
        func floats(_ count: Int) -> UnsafeMutablePointer<Float> { .allocateLineAligned(count) }
        let taps = UnsafeMutablePointer<Int32>.allocate(capacity: n.taps)
        taps.initialize(repeating: 0, count: n.taps)
        return ConvScratch(col: floats(n.col), planes: floats(n.planes), wide: floats(n.wide), taps: taps,
                           padded: floats(n.padded))
    }

    func deallocate() {
        col.deallocate(); planes.deallocate(); wide.deallocate(); taps.deallocate(); padded.deallocate()
    }
}

/// 2-D convolution of one image by im2col + sgemm; the weight is (OC,C,K,K) as in PyTorch.
enum Conv2D {
    /// out = weight · im2col(x) + bias, then max(out, 0) when `relu`. Where
    /// `g.usesFullWidthIm2col`, by the direct kernel when `direct` and the CPU runs it
    /// (`DirectConvolution`), else by the full-width im2col (`Im2col+FullWidth`); elsewhere by
    /// `forward(_:x:…col:…)`. All give the same bits (tested). x is (C,H,W), weight (OC,CKK),
    /// bias (OC), out (OC,OHW). `outputRows` as there.
    static func forward(_ g: ConvGeometry, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                        bias: UnsafePointer<Float>, scratch: ConvScratch,
                        out: UnsafeMutablePointer<Float>, relu: Bool = false, outputRows: Range<Int>? = nil,
                        direct: Bool = true) {
        let rows = outputRows ?? 0..<g.oh
        guard g.usesFullWidthIm2col(outputRows: rows.count) else {
            forward(g, x: x, weight: weight, bias: bias, col: scratch.col, out: out, relu: relu, outputRows: outputRows)
            return
        }
        let wp = g.phaseWidth, columns = g.fullWidthColumns
        let planes = Im2col.phasePlanesOrInput(g, x: x, scratch: scratch.planes)
        if direct && DirectConvolution.enabled {
            DirectConvolution.forward(g, planes: planes, weight: weight, bias: bias, taps: scratch.taps, out: out,
                                      relu: relu, outputRows: rows)
            return
        }
        Im2col.im2colFullWidth(g, planes: planes, col: scratch.col, outputRows: rows)
        let first = rows.lowerBound * wp
        BLAS.sgemm(transA: false, transB: false, m: g.oc, n: rows.count * wp, k: g.ckk,
                   a: weight, lda: g.ckk, b: scratch.col + first, ldb: columns,
                   beta: 0, c: scratch.wide + first, ldc: columns)
        // Epilogue: drop the columns ox ≥ OW, add the bias, ReLU.
        for o in 0..<g.oc {
            let b = bias[o]
            for oy in rows {
                biasRelu(from: scratch.wide + o * columns + oy * wp, bias: b, relu: relu,
                         to: out + o * g.ohw + oy * g.ow, count: g.ow)
            }
        }
    }

    /// out[i] = max(src[i] + bias, 0) (or src[i] + bias), eight lanes at a time. Each lane is
    /// the scalar expression: Swift's `max(v, 0)` is `0 >= v ? 0 : v` (-0 and NaN included).
    /// A row that is not a multiple of eight ends with eight lanes that overlap the previous
    /// ones (rewriting the same values) rather than a scalar tail.
    @inline(__always)
    static func biasRelu(from src: UnsafePointer<Float>, bias: Float, relu: Bool,
                         to out: UnsafeMutablePointer<Float>, count: Int) {
        let from = UnsafeRawPointer(src), to = UnsafeMutableRawPointer(out)
        let b = SIMD8<Float>(repeating: bias)
        @inline(__always) func lanes(_ i: Int) {
            var v = from.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) + b
            if relu { v.replace(with: 0, where: v .<= 0) }
            to.storeBytes(of: v, toByteOffset: i * 4, as: SIMD8<Float>.self)
        }
        guard count >= 8 else {
            for i in 0..<count { out[i] = relu ? max(src[i] + bias, 0) : src[i] + bias }
            return
        }
        var i = 0
        while i + 8 <= count { lanes(i); i += 8 }
        if i < count { lanes(count - 8) }
    }

    /// out = weight · im2col(x) + bias, then max(out, 0) when `relu` (fused: one pass over out).
    /// x is (C,H,W), weight is (OC,CKK), bias is (OC), col is scratch (CKK,OHW), out is (OC,OHW).
    /// With `outputRows`, computes only those output rows oy (columns oy*OW..<(oy+1)*OW of out
    /// and col), so that workers can share one image at batch 1.
    static func forward(_ g: ConvGeometry, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                        bias: UnsafePointer<Float>, col: UnsafeMutablePointer<Float>,
                        out: UnsafeMutablePointer<Float>, relu: Bool = false, outputRows: Range<Int>? = nil) {
        let rows = outputRows ?? 0..<g.oh
        let first = rows.lowerBound * g.ow, count = rows.count * g.ow
        let pointwise = g.k == 1 && g.s == 1 && g.padTop == 0 && g.padLeft == 0
        if !pointwise { Im2col.im2col(g, x: x, col: col, outputRows: rows) }
        BLAS.sgemm(transA: false, transB: false, m: g.oc, n: count, k: g.ckk,
                   a: weight, lda: g.ckk, b: (pointwise ? x : UnsafePointer(col)) + first, ldb: g.ohw,
                   beta: 0, c: out + first, ldc: g.ohw)
        for o in 0..<g.oc {
            let row = out + o * g.ohw + first, b = bias[o]
            if relu {
                for i in 0..<count { row[i] = max(row[i] + b, 0) }
            } else {
                for i in 0..<count { row[i] += b }
            }
        }
    }

    /// Backward of `out = weight · col + bias`:
    ///   dweight (+)= dout · colᵀ        dbias (+)= rowsum(dout)        dcol = weightᵀ · dout → dx = col2im(dcol)
    /// `accumulate` false overwrites dweight and dbias (first image of a chunk), true adds.
    /// x is (C,H,W), dout is (OC,OHW), dweight is (OC,CKK), dbias (OC), col/dcol scratch (CKK,OHW),
    /// dx (C,H,W) or nil when the input gradient is not needed. `channelBlock` overrides the
    /// block of input channels of the backward-data path (the tests compare blocks). With
    /// `wide` (OC,OH·W) scratch, a stride-1 unpadded convolution takes the full-width
    /// backward-data path (`backwardDataFullWidth`; dcol is then (CKK,OH·W)). With `direct`
    /// scratch (the forward pass's), the weight and input gradients are the direct kernels'
    /// where they apply (`DirectConvolution.computesWeightGradient`, `computesInputGradient`).
    static func backward(_ g: ConvGeometry, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                         dout: UnsafePointer<Float>, dweight: UnsafeMutablePointer<Float>,
                         dbias: UnsafeMutablePointer<Float>, accumulate: Bool,
                         col: UnsafeMutablePointer<Float>, dcol: UnsafeMutablePointer<Float>,
                         dx: UnsafeMutablePointer<Float>?, channelBlock block: Int? = nil,
                         wide: UnsafeMutablePointer<Float>? = nil, direct: ConvScratch? = nil) {
        weightBackward(g, x: x, dout: dout, dweight: dweight, dbias: dbias, accumulate: accumulate, col: col, direct: direct)
        guard let dx else { return }
        inputBackward(g, weight: weight, dout: dout, dcol: dcol, dx: dx, channelBlock: block, wide: wide, direct: direct)
    }

    /// The parameter half of `backward`: dweight (OC,CKK) and dbias (OC), overwritten or, with
    /// `accumulate`, added to. Independent of `inputBackward`, so workers may run the two halves
    /// of one image's backward apart.
    static func weightBackward(_ g: ConvGeometry, x: UnsafePointer<Float>, dout: UnsafePointer<Float>,
                               dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>,
                               accumulate: Bool, col: UnsafeMutablePointer<Float>, direct: ConvScratch? = nil) {
        let pointwise = g.k == 1 && g.s == 1 && g.padTop == 0 && g.padLeft == 0
        if let direct, DirectConvolution.computesWeightGradient(g) {
            DirectConvolution.weightGradient(g, x: x, dout: dout, dweight: dweight, accumulate: accumulate, scratch: direct)
        } else {
            let colIn: UnsafePointer<Float>
            if pointwise {
                colIn = x
            } else {
                Im2col.im2col(g, x: x, col: col)
                colIn = UnsafePointer(col)
            }
            BLAS.sgemm(transA: false, transB: true, m: g.oc, n: g.ckk, k: g.ohw,
                       a: dout, lda: g.ohw, b: colIn, ldb: g.ohw,
                       beta: accumulate ? 1 : 0, c: dweight, ldc: g.ckk)
        }
        for o in 0..<g.oc {
            let s = VectorOps.sum(dout + o * g.ohw, g.ohw)
            dbias[o] = accumulate ? dbias[o] + s : s
        }
    }

    /// The input half of `backward`: dx (C,H,W), overwritten.
    static func inputBackward(_ g: ConvGeometry, weight: UnsafePointer<Float>, dout: UnsafePointer<Float>,
                              dcol: UnsafeMutablePointer<Float>, dx: UnsafeMutablePointer<Float>, channelBlock block: Int? = nil,
                              wide: UnsafeMutablePointer<Float>? = nil, direct: ConvScratch? = nil) {
        let pointwise = g.k == 1 && g.s == 1 && g.padTop == 0 && g.padLeft == 0
        if pointwise {
            BLAS.sgemm(transA: true, transB: false, m: g.ckk, n: g.ohw, k: g.oc,
                       a: weight, lda: g.ckk, b: dout, ldb: g.ohw, beta: 0, c: dx, ldc: g.ohw)
            return
        }
        if let direct, DirectConvolution.computesInputGradient(g) {
            DirectConvolution.inputGradient(g, weight: weight, dout: dout, dx: dx, scratch: direct)
            return
        }
        if let wide, g.inputIsPhasePlanes && g.usesFullWidthIm2col() {
            backwardDataFullWidth(g, weight: weight, dout: dout, wide: wide, dcol: dcol, dx: dx, channelBlock: block)
            return
        }
        // dcol = Wᵀ · dout and col2im, a block of input channels at a time: the block's rows of
        // dcol (CB·K·K, OHW) stay in L2 between the GEMM that writes them and the col2im that
        // reads them (the whole dcol of the reference CNN's conv1 is 0.9 MB). Bit-identical to
        // one GEMM over all rows: each dcol entry is the same K = OC dot product, and col2im adds
        // into a channel's plane in the same order (channels never share a plane).
        let block = block ?? channelBlock(g)
        for c0 in stride(from: 0, to: g.c, by: block) {
            let channels = c0..<min(g.c, c0 + block)
            BLAS.sgemm(transA: true, transB: false, m: channels.count * g.k * g.k, n: g.ohw, k: g.oc,
                       a: weight + c0 * g.k * g.k, lda: g.ckk, b: dout, ldb: g.ohw, beta: 0, c: dcol, ldc: g.ohw)
            Im2col.col2im(g, dcol: dcol, dx: dx, channels: channels)
        }
    }

    /// Input channels per block of the backward-data path: as many as keep the block's dcol
    /// rows under 128 KB (L2 holds them with room for dout), at least one.
    static func channelBlock(_ g: ConvGeometry, bytes: Int = 128 << 10) -> Int {
        max(1, min(g.c, bytes / (4 * g.k * g.k * g.ohw)))
    }

    /// Input channels per block of the full-width backward-data path: as `channelBlock`, and
    /// few enough that the block's GEMM (K = OC) stays in OpenBLAS's small-matrix kernel, which
    /// ran these short-K products 10-20% faster than its blocked one (the reference CNN's
    /// conv2 at 5 channels crossed over).
    static func fullWidthChannelBlock(_ g: ConvGeometry, bytes: Int = 128 << 10) -> Int {
        let perChannel = g.k * g.k * g.fullWidthColumns
        var block = max(1, min(g.c, bytes / (4 * perChannel)))
        while block > 1 && BLAS.usesBlockedKernel(m: block * g.k * g.k, n: g.fullWidthColumns, k: g.oc) { block -= 1 }
        return block
    }

    /// dx = col2im(Wᵀ · dout) in the full-width layout of a stride-1 unpadded convolution
    /// (Wp = W, see `Im2col+FullWidth`): dout is spread over whole rows with zeros at ox ≥ OW,
    /// so each row of dcol is added into dx as one contiguous run instead of OH short ones.
    /// Bit-identical to the compact path: each kept dcol entry is the same K = OC dot product,
    /// each dx entry receives its contributions in the same (kh, kw) order, and the extra ones
    /// are exact zeros (Σ w·0), which leave a sum unchanged (dx starts at +0 and so is never
    /// -0). dout is (OC,OHW), wide scratch (OC,OH·W), dcol scratch (CKK,OH·W), dx (C,H,W).
    static func backwardDataFullWidth(_ g: ConvGeometry, weight: UnsafePointer<Float>, dout: UnsafePointer<Float>,
                                      wide: UnsafeMutablePointer<Float>, dcol: UnsafeMutablePointer<Float>,
                                      dx: UnsafeMutablePointer<Float>, channelBlock block: Int? = nil) {
        let columns = g.fullWidthColumns, wp = g.phaseWidth
        for o in 0..<g.oc {
            for oy in 0..<g.oh {
                let row = wide + o * columns + oy * wp
                Im2col.copyRow(from: dout + o * g.ohw + oy * g.ow, to: row, count: g.ow)
                (row + g.ow).update(repeating: 0, count: wp - g.ow)
            }
        }
        // Columns a dcol row adds into dx before its shifted run would pass the plane's end
        // (its last Wp - OW columns are zeros).
        let run = (g.oh - 1) * wp + g.ow
        let block = block ?? fullWidthChannelBlock(g)
        for c0 in stride(from: 0, to: g.c, by: block) {
            let channels = c0..<min(g.c, c0 + block)
            BLAS.sgemm(transA: true, transB: false, m: channels.count * g.k * g.k, n: columns, k: g.oc,
                       a: weight + c0 * g.k * g.k, lda: g.ckk, b: wide, ldb: columns, beta: 0, c: dcol, ldc: columns)
            (dx + c0 * g.h * g.w).update(repeating: 0, count: channels.count * g.h * g.w)
            var row = UnsafePointer(dcol)
            for c in channels {
                let plane = dx + c * g.h * g.w
                for kh in 0..<g.k {
                    for kw in 0..<g.k {
                        Im2col.addRun(from: row, to: plane + kh * g.w + kw, count: run)
                        row += columns
                    }
                }
            }
        }
    }

    /// Direct convolution, the slow obviously-correct oracle of `forward` for the tests.
    /// x is (C,H,W), weight (OC,C,K,K), bias (OC); returns (OC,OH,OW).
    static func naiveForward(_ g: ConvGeometry, x: [Float], weight: [Float], bias: [Float]) -> [Float] {
        var out = [Float](repeating: 0, count: g.outputCount)
        for o in 0..<g.oc {
            for oy in 0..<g.oh {
                for ox in 0..<g.ow {
                    var s = Double(bias[o])
                    for c in 0..<g.c {
                        for kh in 0..<g.k {
                            for kw in 0..<g.k {
                                let iy = oy * g.s + kh - g.padTop, ix = ox * g.s + kw - g.padLeft
                                guard iy >= 0, iy < g.h, ix >= 0, ix < g.w else { continue }
                                s += Double(weight[((o * g.c + c) * g.k + kh) * g.k + kw])
                                    * Double(x[(c * g.h + iy) * g.w + ix])
                            }
                        }
                    }
                    out[(o * g.oh + oy) * g.ow + ox] = Float(s)
                }
            }
        }
        return out
    }

    /// Direct backward, the oracle of `backward`: each output gradient scattered to the inputs
    /// and weights that produced it. Returns (dx (C,H,W), dweight (OC,C,K,K), dbias (OC)).
    static func naiveBackward(_ g: ConvGeometry, x: [Float], weight: [Float], dout: [Float])
        -> (dx: [Float], dweight: [Float], dbias: [Float]) {
        var dx = [Double](repeating: 0, count: g.inputCount)
        var dw = [Double](repeating: 0, count: g.oc * g.ckk)
        var db = [Double](repeating: 0, count: g.oc)
        for o in 0..<g.oc {
            for oy in 0..<g.oh {
                for ox in 0..<g.ow {
                    let d = Double(dout[(o * g.oh + oy) * g.ow + ox])
                    db[o] += d
                    for c in 0..<g.c {
                        for kh in 0..<g.k {
                            for kw in 0..<g.k {
                                let iy = oy * g.s + kh - g.padTop, ix = ox * g.s + kw - g.padLeft
                                guard iy >= 0, iy < g.h, ix >= 0, ix < g.w else { continue }
                                let wi = ((o * g.c + c) * g.k + kh) * g.k + kw
                                let xi = (c * g.h + iy) * g.w + ix
                                dw[wi] += d * Double(x[xi])
                                dx[xi] += d * Double(weight[wi])
                            }
                        }
                    }
                }
            }
        }
        return (dx.map(Float.init), dw.map(Float.init), db.map(Float.init))
    }
}
