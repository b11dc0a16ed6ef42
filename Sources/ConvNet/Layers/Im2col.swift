/// Padding of a convolution.
public enum Padding: String, Codable, Sendable {
    /// Output OH = ceil(H / S); zeros added around the input, the extra one at the bottom/right
    /// (TensorFlow's convention).
    case same
    /// No padding: OH = (H - K) / S + 1.
    case valid
}

/// The sizes of one 2-D convolution over a single image.
public struct ConvGeometry: Equatable, Sendable {
    public let c: Int, h: Int, w: Int
    public let oc: Int, k: Int, s: Int
    public let padTop: Int, padLeft: Int
    public let oh: Int, ow: Int

    public init(channels c: Int, height h: Int, width w: Int,
                outChannels oc: Int, kernel k: Int, stride s: Int, padding: Padding) throws {
        guard c > 0, h > 0, w > 0, oc > 0, k > 0, s > 0 else {
            throw ConvNetError.invalidArchitecture(
                "convolution sizes must be positive (C \(c), H \(h), W \(w), OC \(oc), K \(k), S \(s))")
        }
        switch padding {
        case .valid:
            guard k <= h, k <= w else {
                throw ConvNetError.invalidArchitecture("kernel \(k) larger than its \(h)x\(w) input (VALID)")
            }
            oh = (h - k) / s + 1
            ow = (w - k) / s + 1
            padTop = 0
            padLeft = 0
        case .same:
            oh = (h + s - 1) / s
            ow = (w + s - 1) / s
            padTop = max((oh - 1) * s + k - h, 0) / 2
            padLeft = max((ow - 1) * s + k - w, 0) / 2
        }
        self.c = c; self.h = h; self.w = w; self.oc = oc; self.k = k; self.s = s
    }

    public var ckk: Int { c * k * k }
    public var ohw: Int { oh * ow }
    public var inputCount: Int { c * h * w }
    public var outputCount: Int { oc * oh * ow }
    /// Multiply-adds × 2 of the forward pass for one image.
    public var forwardFlops: Int { 2 * oc * ckk * ohw }
}

/// im2col and its adjoint col2im: a convolution becomes one GEMM, weight (OC,CKK) × col (CKK,OHW).
enum Im2col {
    /// col[(c*K + kh)*K + kw, oh*OW + ow] = x[c, oh*S + kh - padTop, ow*S + kw - padLeft] (0 outside).
    /// x is (C,H,W), col is (CKK,OHW). With `outputRows`, only the columns of those output
    /// rows (oy) are written, so that workers can share one image.
    static func im2col(_ g: ConvGeometry, x: UnsafePointer<Float>, col: UnsafeMutablePointer<Float>,
                       outputRows: Range<Int>? = nil) {
        let rows = outputRows ?? 0..<g.oh
        var row = col
        for c in 0..<g.c {
            let plane = x + c * g.h * g.w
            for kh in 0..<g.k {
                for kw in 0..<g.k {
                    for oy in rows {
                        let iy = oy * g.s + kh - g.padTop
                        let out = row + oy * g.ow
                        if iy < 0 || iy >= g.h {
                            out.update(repeating: 0, count: g.ow)
                            continue
                        }
                        let line = plane + iy * g.w
                        let ix0 = kw - g.padLeft
                        if g.s == 1 && ix0 >= 0 && ix0 + g.ow <= g.w {
                            copyRow(from: line + ix0, to: out, count: g.ow)
                        } else if ix0 >= 0 && ix0 + (g.ow - 1) * g.s < g.w {
                            // Strided, but inside the image: no bounds checks.
                            let src = line + ix0
                            var ox = 0
                            if g.s == 2 { ox = copyEvenLanes(from: src, available: g.w - ix0, to: out, count: g.ow) }
                            while ox < g.ow { out[ox] = src[ox * g.s]; ox += 1 }
                        } else {
                            for ox in 0..<g.ow {
                                let ix = ox * g.s + ix0
                                out[ox] = (ix >= 0 && ix < g.w) ? line[ix] : 0
                            }
                        }
                    }
                    row += g.ohw
                }
            }
        }
    }

    /// out[0..<count] = src[0..<count], eight lanes at a time. An output row is short (26-30
    /// floats in the reference CNN): a memmove call per row cost more than the copy. A row that
    /// is not a multiple of eight ends with eight lanes overlapping the previous ones (copying
    /// the same values again) instead of a scalar tail.
    @inline(__always)
    static func copyRow(from src: UnsafePointer<Float>, to out: UnsafeMutablePointer<Float>, count: Int) {
        let from = UnsafeRawPointer(src), to = UnsafeMutableRawPointer(out)
        guard count >= 8 else {
            for i in 0..<count { out[i] = src[i] }
            return
        }
        var i = 0
        while i + 8 <= count {
            to.storeBytes(of: from.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self), toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        if i < count {
            let last = (count - 8) * 4
            to.storeBytes(of: from.loadUnaligned(fromByteOffset: last, as: SIMD8<Float>.self), toByteOffset: last, as: SIMD8<Float>.self)
        }
    }

    /// out[0..<count] += src[0..<count], eight lanes at a time (each sum as the scalar loop's).
    @inline(__always)
    static func addRow(from src: UnsafePointer<Float>, to out: UnsafeMutablePointer<Float>, count: Int) {
        let from = UnsafeRawPointer(src), to = UnsafeMutableRawPointer(out)
        var i = 0
        while i + 8 <= count {
            let sum = to.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                + from.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            to.storeBytes(of: sum, toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count { out[i] += src[i]; i += 1 }
    }

    /// out[0..<count] += src[0..<count] for a long run, sixteen lanes at a time (each sum as
    /// the scalar loop's).
    @inline(__always)
    static func addRun(from src: UnsafePointer<Float>, to out: UnsafeMutablePointer<Float>, count: Int) {
        let from = UnsafeRawPointer(src), to = UnsafeMutableRawPointer(out)
        var i = 0
        while i + 16 <= count {
            let sum = to.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
                + from.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            to.storeBytes(of: sum, toByteOffset: i * 4, as: SIMD16<Float>.self)
            i += 16
        }
        addRow(from: src + i, to: out + i, count: count - i)
    }

    /// out[ox] = src[2 ox] for the leading ox whose 16-float loads stay within `available`
    /// floats of src (the rest of the image row); returns how many it wrote (a multiple of 8).
    @inline(__always)
    static func copyEvenLanes(from src: UnsafePointer<Float>, available: Int, to out: UnsafeMutablePointer<Float>,
                              count: Int) -> Int {
        let from = UnsafeRawPointer(src), to = UnsafeMutableRawPointer(out)
        var ox = 0
        while ox + 8 <= count && 2 * ox + 16 <= available {
            let pairs = from.loadUnaligned(fromByteOffset: 2 * ox * 4, as: SIMD16<Float>.self)
            to.storeBytes(of: pairs.evenHalf, toByteOffset: ox * 4, as: SIMD8<Float>.self)
            ox += 8
        }
        return ox
    }

    /// Adjoint of `im2col`: dx[c, iy, ix] += dcol[...] for every (kh, kw, oy, ox) that read it.
    /// dcol is (CKK,OHW), dx is (C,H,W) and is overwritten (zeroed first). With `channels`,
    /// dcol holds only the rows of those input channels ((c1-c0)KK, OHW) and only their planes
    /// of dx are written.
    static func col2im(_ g: ConvGeometry, dcol: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
                       channels: Range<Int>? = nil) {
        let channels = channels ?? 0..<g.c
        (dx + channels.lowerBound * g.h * g.w).update(repeating: 0, count: channels.count * g.h * g.w)
        var row = dcol
        for c in channels {
            let plane = dx + c * g.h * g.w
            for kh in 0..<g.k {
                for kw in 0..<g.k {
                    for oy in 0..<g.oh {
                        let iy = oy * g.s + kh - g.padTop
                        if iy < 0 || iy >= g.h { continue }
                        let line = plane + iy * g.w
                        let src = row + oy * g.ow
                        let ix0 = kw - g.padLeft
                        if g.s == 1 && ix0 >= 0 && ix0 + g.ow <= g.w {
                            addRow(from: src, to: line + ix0, count: g.ow)
                        } else if ix0 >= 0 && ix0 + (g.ow - 1) * g.s < g.w {
                            let dst = line + ix0
                            for ox in 0..<g.ow { dst[ox * g.s] += src[ox] }
                        } else {
                            for ox in 0..<g.ow {
                                let ix = ox * g.s + ix0
                                if ix >= 0 && ix < g.w { line[ix] += src[ox] }
                            }
                        }
                    }
                    row += g.ohw
                }
            }
        }
    }
}
