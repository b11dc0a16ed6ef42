import Testing
@testable import ConvNet

/// The frame conversions against the formulas written out.
struct FrameBytesTests {
    /// Quantizes `pixels` with the fast path.
    func quantized(_ pixels: [Float]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0xAA, count: pixels.count)
        pixels.withUnsafeBufferPointer { source in bytes.withUnsafeMutableBufferPointer { FrameBytes.quantize(source, into: $0) } }
        return bytes
    }

    func dequantized(_ bytes: [UInt8]) -> [Float] {
        var pixels = [Float](repeating: .nan, count: bytes.count)
        bytes.withUnsafeBufferPointer { source in pixels.withUnsafeMutableBufferPointer { FrameBytes.dequantize(source, into: $0) } }
        return pixels
    }

    @Test func quantizeIsRoundHalfUpOfTimes255ClampedToAByte() {
        // Worked examples: halfway cases round up, out-of-range values clamp.
        #expect(quantized([0, 1, 0.5 / 255, 0.49 / 255, 1.5 / 255, 127.5 / 255, -0.3, 1.7, 254.6 / 255])
                == [0, 255, 1, 0, 2, 128, 0, 255, 255])
        // Every byte's own value, its neighbourhood, and a spread of floats in and around [0, 1],
        // in several lengths.
        var pixels: [Float] = []
        for b in 0...255 {
            let x = Float(b) / 255
            pixels += [x, x.nextUp, x.nextDown, (Float(b) + 0.5) / 255, ((Float(b) + 0.5) / 255).nextDown]
        }
        var generator = SeededGenerator(seed: 3)
        pixels += (0..<1000).map { _ in generator.nextUniformFloat() * 1.4 - 0.2 }
        pixels += [-0.0, -Float.leastNonzeroMagnitude, Float.leastNonzeroMagnitude, 1e-30, -1e30, 1e30, .infinity, -.infinity]
        for length in [0, 1, 15, 16, 17, 33, pixels.count] {
            let part = Array(pixels.prefix(length))
            #expect(quantized(part) == part.map { UInt8(min(max($0 * 255 + 0.5, 0), 255)) }, "length \(length)")
        }
    }

    @Test func dequantizeIsTimesOneOver255AndInvertsQuantize() {
        let bytes = (0...255).map(UInt8.init) + (0...255).reversed().map(UInt8.init) + [7, 200, 13]
        for length in [0, 1, 16, 17, bytes.count] {
            let part = Array(bytes.prefix(length))
            let fast = dequantized(part).map(\.bitPattern)
            #expect(fast == part.map { (Float($0) * (1 / 255)).bitPattern }, "length \(length)")
        }
        #expect(quantized(dequantized(bytes)) == bytes)
        #expect(dequantized([0, 255]) == [0, 1])
        // Why the scale is 1/255 rounded once and not a division: the two differ for some
        // bytes, and the stored data sets were always read by multiplication.
        let differing = (0...255).filter { Float($0) / 255 != Float($0) * (1 / 255) }
        print("bytes where x/255 != x*(1/255): \(differing.count) of 256")
        #expect(!differing.isEmpty)
    }
}
