// Resolve: supersamples averaged into the output pixels, RGB8 or CHW Float32.

extension Rasterizer {
    /// H x W x 3 bytes.
    func resolveRGB8(into pixels: UnsafeMutableBufferPointer<UInt8>) {
        let factor = supersampling
        let width = sampleWidth / factor, height = sampleHeight / factor
        if factor == 1 {
            for i in 0..<(width * height) {
                let packed = color[i]
                pixels[3 * i] = UInt8(truncatingIfNeeded: packed)
                pixels[3 * i + 1] = UInt8(truncatingIfNeeded: packed >> 8)
                pixels[3 * i + 2] = UInt8(truncatingIfNeeded: packed >> 16)
            }
            return
        }
        for y in 0..<height {
            for x in 0..<width {
                let sum = supersampleSum(x: x, y: y)
                let i = 3 * (y * width + x)
                let count = UInt32(factor * factor)
                pixels[i] = UInt8((sum.x + count / 2) / count)
                pixels[i + 1] = UInt8((sum.y + count / 2) / count)
                pixels[i + 2] = UInt8((sum.z + count / 2) / count)
            }
        }
    }

    /// 3 x H x W Float32 planes, each byte scaled by 1/255.
    func resolveCHW(into planes: UnsafeMutableBufferPointer<Float>) {
        let factor = supersampling
        let width = sampleWidth / factor, height = sampleHeight / factor
        let plane = width * height
        if factor == 1 {
            let scale: Float = 1 / 255
            for i in 0..<plane {
                let packed = color[i]
                planes[i] = Float(packed & 0xFF) * scale
                planes[plane + i] = Float((packed >> 8) & 0xFF) * scale
                planes[2 * plane + i] = Float((packed >> 16) & 0xFF) * scale
            }
            return
        }
        let scale = 1 / (255 * Float(factor * factor))
        for y in 0..<height {
            for x in 0..<width {
                let sum = supersampleSum(x: x, y: y)
                let i = y * width + x
                planes[i] = Float(sum.x) * scale
                planes[plane + i] = Float(sum.y) * scale
                planes[2 * plane + i] = Float(sum.z) * scale
            }
        }
    }

    /// Sum of the red, green and blue bytes of the factor x factor samples of pixel (x, y).
    @inline(__always)
    private func supersampleSum(x: Int, y: Int) -> SIMD3<UInt32> {
        let factor = supersampling
        var sum = SIMD3<UInt32>(repeating: 0)
        for sy in 0..<factor {
            let row = (y * factor + sy) * sampleWidth + x * factor
            for sx in 0..<factor {
                let packed = color[row + sx]
                sum &+= SIMD3(packed & 0xFF, (packed >> 8) & 0xFF, (packed >> 16) & 0xFF)
            }
        }
        return sum
    }
}
