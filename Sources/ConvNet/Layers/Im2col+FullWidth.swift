/// Full-width im2col: the convolution's columns run over whole rows of the input (its phase
/// planes, below) instead of the OW outputs of each row, so that each row of col is one
/// contiguous copy instead of OH short ones. The GEMM then computes OH·Wp columns, of which
/// ox ≥ OW are discarded by the epilogue; the kept ones are the same K-long dot products of
/// the same values, and OpenBLAS's blocked kernel computes each the same way whatever N (see
/// `BLAS.usesBlockedKernel`), so the outputs are bit-identical to `Im2col.im2col`'s (tested).
/// On the reference CNN it costs 7-8% more GEMM columns and removes most of im2col, which was
/// a fifth of a batch-64 forward.
///
/// Phase planes: with stride S, output (oy, ox) reads padded input pixel (oy·S + kh, ox·S + kw),
/// which is pixel (oy + kh/S, ox + kw/S) of phase plane (kh mod S, kw mod S), where
///   plane[c, py, px][i, j] = x[c, i·S + py - padTop, j·S + px - padLeft]   (0 outside x).
/// A plane is (Hp, Wp): the padded extent that outputs read, every S-th pixel. With stride 1
/// and no padding the only plane of a channel is its input plane, and x is used in place.
extension ConvGeometry {
    /// Hp: rows of a phase plane.
    var phaseHeight: Int { ((oh - 1) * s + k + s - 1) / s }
    /// Wp: columns of a phase plane, and the stride of an output row in the full-width layout.
    var phaseWidth: Int { ((ow - 1) * s + k + s - 1) / s }
    /// OH·Wp: columns of the full-width col and GEMM output.
    var fullWidthColumns: Int { oh * phaseWidth }
    /// Whether x itself is the phase planes (stride 1, no padding).
    var inputIsPhasePlanes: Bool { s == 1 && padTop == 0 && padLeft == 0 && phaseWidth == w && phaseHeight <= h }
    /// Floats of the phase planes (C·S·S·Hp·Wp), 0 when x is used in place.
    var phasePlaneCount: Int { inputIsPhasePlanes ? 0 : c * s * s * phaseHeight * phaseWidth }
    /// 1x1, stride 1, no padding: x is already the col matrix.
    var isPointwise: Bool { k == 1 && s == 1 && padTop == 0 && padLeft == 0 }
    /// Whether `Conv2D.forward(_:x:weight:bias:scratch:...)` over `outputRows` rows (all by
    /// default) takes the full-width path: when it adds at most 1/8 to the GEMM's columns (7-8%
    /// on the reference CNN; a narrow map with a wide kernel, where Wp ≫ OW, keeps the compact
    /// im2col), and when both GEMMs run in OpenBLAS's blocked kernel, so that they agree to
    /// the bit (the vision policy's small convolutions do not, and keep the compact im2col).
    func usesFullWidthIm2col(outputRows: Int? = nil) -> Bool {
        !isPointwise && 8 * fullWidthColumns <= 9 * ohw
            && BLAS.usesBlockedKernel(m: oc, n: (outputRows ?? oh) * ow, k: ckk)
    }
}

extension Im2col {
    /// The phase planes of x: x itself where it is its own (stride 1, no padding), else written
    /// into `scratch` (C·S·S·Hp·Wp floats).
    static func phasePlanesOrInput(_ g: ConvGeometry, x: UnsafePointer<Float>,
                                   scratch: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
        if g.inputIsPhasePlanes { return x }
        phasePlanes(g, x: x, planes: scratch)
        return UnsafePointer(scratch)
    }

    /// planes[((c·S + py)·S + px), i, j] = x[c, i·S + py - padTop, j·S + px - padLeft], 0 outside x.
    /// x is (C,H,W), planes is (C·S·S, Hp, Wp).
    static func phasePlanes(_ g: ConvGeometry, x: UnsafePointer<Float>, planes: UnsafeMutablePointer<Float>) {
        let hp = g.phaseHeight, wp = g.phaseWidth
        var dst = planes
        for c in 0..<g.c {
            let plane = x + c * g.h * g.w
            for py in 0..<g.s {
                for px in 0..<g.s {
                    // Columns j whose pixel j·S + px - padLeft lies inside the image row.
                    let first = min(wp, max(0, (g.padLeft - px + g.s - 1) / g.s))
                    let end = max(first, min(wp, (g.w - px + g.padLeft + g.s - 1) / g.s))
                    for i in 0..<hp {
                        let out = dst + i * wp
                        let iy = i * g.s + py - g.padTop
                        guard iy >= 0 && iy < g.h else {
                            out.update(repeating: 0, count: wp)
                            continue
                        }
                        if first > 0 { out.update(repeating: 0, count: first) }
                        if end < wp { (out + end).update(repeating: 0, count: wp - end) }
                        let src = plane + iy * g.w + first * g.s + px - g.padLeft
                        let count = end - first
                        if g.s == 1 {
                            copyRow(from: src, to: out + first, count: count)
                        } else {
                            var j = 0
                            if g.s == 2 {
                                j = copyEvenLanes(from: src, available: g.w - (first * g.s + px - g.padLeft),
                                                  to: out + first, count: count)
                            }
                            while j < count { out[first + j] = src[j * g.s]; j += 1 }
                        }
                    }
                    dst += hp * wp
                }
            }
        }
    }

    /// col[(c·K + kh)·K + kw, oy·Wp + j] = planes[(c·S + kh mod S)·S + kw mod S, oy + kh/S, j + kw/S]
    /// for the output rows `outputRows` (all by default). Columns j ≥ OW hold pixels that no
    /// output reads (or 0 past the plane's end). planes is (C·S·S, Hp, Wp) or, when
    /// `g.inputIsPhasePlanes`, x (C,H,W); col is (CKK, OH·Wp).
    static func im2colFullWidth(_ g: ConvGeometry, planes: UnsafePointer<Float>, col: UnsafeMutablePointer<Float>,
                                outputRows: Range<Int>? = nil) {
        let rows = outputRows ?? 0..<g.oh
        let hp = g.phaseHeight, wp = g.phaseWidth, columns = g.fullWidthColumns
        // A row's source holds (OH-1)·Wp + OW floats before its plane ends (the last (kh, kw)
        // shift starts within Wp of the end); the columns past that are zeroed.
        let readable = (g.oh - 1) * wp + g.ow
        let first = rows.lowerBound * wp, end = rows.upperBound * wp
        let copied = min(end, readable) - first
        var row = col
        for c in 0..<g.c {
            for kh in 0..<g.k {
                for kw in 0..<g.k {
                    let plane = planes + ((c * g.s + kh % g.s) * g.s + kw % g.s) * hp * wp
                    let src = plane + (kh / g.s) * wp + kw / g.s
                    (row + first).update(from: src + first, count: copied)
                    if first + copied < end { (row + first + copied).update(repeating: 0, count: end - first - copied) }
                    row += columns
                }
            }
        }
    }
}
