import CPNG
import Foundation

/// PNG files through libpng's simplified API (`png_image_*`), which reports errors in
/// `png_image.message` instead of longjmp-ing.
public enum PNGFile {
    /// Encodes `image` as an 8-bit RGB PNG in memory.
    public static func encode(_ image: RGBImage, path: String = "<memory>") throws(ImageFileError) -> Data {
        guard !image.isEmpty else { throw .emptyImage(path: path) }
        var info = png_image()
        info.version = UInt32(PNG_IMAGE_VERSION)
        info.width = UInt32(image.width)
        info.height = UInt32(image.height)
        info.format = UInt32(PNG_FORMAT_RGB)
        let rowStride = Int32(image.width * 3)
        // First call asks for the size, second writes.
        var size = 0
        let sized = image.pixels.withUnsafeBytes { pixels in
            png_image_write_to_memory(&info, nil, &size, 0, pixels.baseAddress, rowStride, nil)
        }
        guard sized != 0, size > 0 else {
            throw .encodingFailed(path: path, reason: message(of: info))
        }
        var data = Data(count: size)
        let written = data.withUnsafeMutableBytes { out in
            image.pixels.withUnsafeBytes { pixels in
                png_image_write_to_memory(&info, out.baseAddress, &size, 0, pixels.baseAddress,
                                          rowStride, nil)
            }
        }
        png_image_free(&info)
        guard written != 0 else { throw .encodingFailed(path: path, reason: message(of: info)) }
        data.count = size
        return data
    }

    /// Writes `image` to `path` atomically.
    public static func write(_ image: RGBImage, to path: String) throws(ImageFileError) {
        try writeAtomically(try encode(image, path: path), to: path)
    }

    /// Reads any PNG (grey, palette, alpha, 16-bit) converted to 8-bit RGB.
    public static func read(_ path: String) throws(ImageFileError) -> RGBImage {
        guard FileManager.default.fileExists(atPath: path) else {
            throw .cannotRead(path: path, reason: "no such file")
        }
        var info = png_image()
        info.version = UInt32(PNG_IMAGE_VERSION)
        guard png_image_begin_read_from_file(&info, path) != 0 else {
            throw .cannotRead(path: path, reason: message(of: info))
        }
        info.format = UInt32(PNG_FORMAT_RGB)
        let (width, height) = (Int(info.width), Int(info.height))
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        let finished = pixels.withUnsafeMutableBytes { out in
            png_image_finish_read(&info, nil, out.baseAddress, Int32(width * 3), nil)
        }
        guard finished != 0 else {
            let reason = message(of: info)
            png_image_free(&info)
            throw .cannotRead(path: path, reason: reason)
        }
        guard let image = RGBImage(width: width, height: height, pixels: pixels) else {
            throw .cannotRead(path: path, reason: "decoded size does not match \(width) x \(height)")
        }
        return image
    }

    /// libpng's message: a NUL-terminated C string in a fixed-size tuple.
    private static func message(of info: png_image) -> String {
        var buffer = info.message
        let text = withUnsafeBytes(of: &buffer) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        return text.isEmpty ? "libpng gave no reason" : text
    }
}
