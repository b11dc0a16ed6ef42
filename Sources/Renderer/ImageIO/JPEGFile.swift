import CJPEGErrors
import Foundation

/// JPEG files through libjpeg, with errors returned instead of libjpeg's default `exit()`
/// (see the C shim in `CJPEGErrors`).
public enum JPEGFile {
    /// Encodes `image` as a baseline JPEG; `quality` in 1...100.
    public static func encode(_ image: RGBImage, quality: Int = 90,
                              path: String = "<memory>") throws(ImageFileError) -> Data {
        guard !image.isEmpty else { throw .emptyImage(path: path) }
        guard (1...100).contains(quality) else {
            throw .encodingFailed(path: path, reason: "JPEG quality must be in 1...100, got \(quality)")
        }
        var buffer: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = image.pixels.withUnsafeBufferPointer { pixels in
            gmps_jpeg_compress_rgb(pixels.baseAddress, Int32(image.width), Int32(image.height),
                                   Int32(quality), &buffer, &size, &message, message.count)
        }
        guard status == 0, let buffer else {
            let reason = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) },
                                as: UTF8.self)
            throw .encodingFailed(path: path, reason: reason.isEmpty ? "libjpeg gave no reason" : reason)
        }
        defer { gmps_jpeg_free(buffer) }
        return Data(bytes: buffer, count: Int(size))
    }

    /// Writes `image` to `path` atomically.
    public static func write(_ image: RGBImage, to path: String, quality: Int = 90) throws(ImageFileError) {
        try writeAtomically(try encode(image, quality: quality, path: path), to: path)
    }
}
