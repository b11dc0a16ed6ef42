#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Spatial softmax (Levine, Finn et al. 2016): for each channel a softmax over its H x W
/// positions, then the expected image coordinates — a keypoint (x, y) per channel.
/// Coordinates run from -1 (left/top) to +1 (right/bottom): px[j] = -1 + 2j/(W-1).
/// An optional learned temperature divides the logits: p = softmax(x · exp(-logT)).
enum SpatialSoftmax {
    /// Pixel coordinate of column j of W (0 when W == 1).
    @inline(__always) static func coordinate(_ j: Int, _ size: Int) -> Float {
        size > 1 ? -1 + 2 * Float(j) / Float(size - 1) : 0
    }

    /// p[c] = softmax(x[c] · exp(-logT)) over H*W;  out[2c] = Σ p·px, out[2c+1] = Σ p·py.
    /// x is (C,H,W), p (C,H,W) stored for backward, out (2C).
    static func forward(c: Int, h: Int, w: Int, logTemperature: Float, x: UnsafePointer<Float>,
                        p: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>) {
        let scale = expf(-logTemperature)
        let hw = h * w
        for ch in 0..<c {
            let xs = x + ch * hw, ps = p + ch * hw
            var m = -Float.infinity
            for i in 0..<hw { m = max(m, xs[i]) }
            var sum: Float = 0
            for i in 0..<hw {
                let e = expf((xs[i] - m) * scale)
                ps[i] = e
                sum += e
            }
            let inv = 1 / sum
            var ex: Float = 0, ey: Float = 0
            for yy in 0..<h {
                let py = coordinate(yy, h)
                var rowSum: Float = 0
                for xx in 0..<w {
                    let v = ps[yy * w + xx] * inv
                    ps[yy * w + xx] = v
                    rowSum += v
                    ex += v * coordinate(xx, w)
                }
                ey += rowSum * py
            }
            out[2 * ch] = ex
            out[2 * ch + 1] = ey
        }
    }

    /// Backward of `out = Σ p·(px, py)`, `p = softmax(z)`, `z = x · exp(-logT)`:
    ///   dp = dex·px + dey·py;  dz = p ⊙ (dp - Σ p·dp);  dx = dz · exp(-logT);  dlogT += Σ dz · (-z)
    /// x, p, dx are (C,H,W), dout (2C); returns this image's contribution to dlogT.
    static func backward(c: Int, h: Int, w: Int, logTemperature: Float, x: UnsafePointer<Float>,
                         p: UnsafePointer<Float>, dout: UnsafePointer<Float>,
                         dx: UnsafeMutablePointer<Float>) -> Float {
        let scale = expf(-logTemperature)
        let hw = h * w
        var dLogT: Float = 0
        for ch in 0..<c {
            let xs = x + ch * hw, ps = p + ch * hw, dxs = dx + ch * hw
            let dex = dout[2 * ch], dey = dout[2 * ch + 1]
            // Σ p·dp = dex·E[x] + dey·E[y], the forward outputs recomputed from p.
            var mean: Float = 0
            for yy in 0..<h {
                let py = coordinate(yy, h)
                for xx in 0..<w { mean += ps[yy * w + xx] * (dex * coordinate(xx, w) + dey * py) }
            }
            for yy in 0..<h {
                let py = coordinate(yy, h)
                for xx in 0..<w {
                    let i = yy * w + xx
                    let dz = ps[i] * (dex * coordinate(xx, w) + dey * py - mean)
                    dxs[i] = dz * scale
                    dLogT -= dz * xs[i] * scale
                }
            }
        }
        return dLogT
    }
}
