/// Frames as bytes: the one conversion between the Float pixels the networks see (CHW, in
/// [0, 1]) and the UInt8 pixels datasets and DAgger keep (a quarter of the memory).
///
///     quantize:    byte = UInt8(clamp(x · 255 + 0.5, 0, 255))   (truncation: round half up)
///     dequantize:  x    = Float(byte) · (1/255)
///
/// A byte survives the round trip: quantize(dequantize(b)) == b for all 256 values. Pixels
/// must not be NaN. The buffer forms are plain loops over raw pointers that allocate nothing;
/// the optimiser vectorises them (explicit SIMD types ran 20× slower in the debug builds the
/// tests use).
public enum FrameBytes {
    /// `destination[i] = quantize(source[i])` for N pixels; both buffers hold N.
    public static func quantize(_ source: UnsafeBufferPointer<Float>, into destination: UnsafeMutableBufferPointer<UInt8>) {
        precondition(source.count == destination.count, "quantizing \(source.count) pixels into \(destination.count) bytes")
        guard let pixels = source.baseAddress, let bytes = destination.baseAddress else { return }
        for i in 0..<source.count { bytes[i] = quantize(pixels[i]) }
    }

    /// `destination[i] = dequantize(source[i])` for N bytes; both buffers hold N.
    public static func dequantize(_ source: UnsafeBufferPointer<UInt8>, into destination: UnsafeMutableBufferPointer<Float>) {
        precondition(source.count == destination.count, "dequantizing \(source.count) bytes into \(destination.count) pixels")
        guard let bytes = source.baseAddress, let pixels = destination.baseAddress else { return }
        for i in 0..<source.count { pixels[i] = dequantize(bytes[i]) }
    }

    /// One pixel's byte.
    @inline(__always)
    public static func quantize(_ x: Float) -> UInt8 { UInt8(min(max(x * 255 + 0.5, 0), 255)) }

    /// One byte's pixel.
    @inline(__always)
    public static func dequantize(_ byte: UInt8) -> Float { Float(byte) * scale }

    /// 1/255 rounded to Float once: x / 255 differs from x · (1/255) in the last bit for 126 of
    /// the 256 bytes, and every reader of the stored frames has multiplied.
    static let scale: Float = 1 / 255
}
