import CGIF
import Foundation

/// Animated GIF files through giflib's encoder (`EGif*`): every frame quantised to the fixed
/// `GIFPalette`, shown for `frameDelay` hundredths of a second, the animation looping forever.
public enum GIFFile {
    /// Hundredths of a second per frame unless told: 10 frames per second, slow enough to
    /// follow a 50-step episode (5 s).
    public static let defaultFrameDelay = 10

    /// Encodes `frames` (all of the first one's size) as an animated GIF in memory.
    public static func encode(_ frames: [RGBImage], frameDelay: Int = defaultFrameDelay,
                              path: String = "<memory>") throws(ImageFileError) -> Data {
        guard let first = frames.first else {
            throw .encodingFailed(path: path, reason: "an animation needs at least one frame; got none")
        }
        guard !first.isEmpty else { throw .emptyImage(path: path) }
        let (width, height) = (first.width, first.height)
        if let (index, odd) = frames.enumerated().first(where: { $0.element.width != width || $0.element.height != height }) {
            throw .encodingFailed(path: path, reason: "frame \(index) is \(odd.width) x \(odd.height) but frame 0 is "
                                  + "\(width) x \(height); every frame of an animation has the first's size")
        }
        // GIF stores sizes and delays in 16 bits.
        guard width <= Int(UInt16.max), height <= Int(UInt16.max) else {
            throw .encodingFailed(path: path, reason: "\(width) x \(height) is larger than GIF's limit of 65535 per side")
        }
        guard (1...Int(UInt16.max)).contains(frameDelay) else {
            throw .encodingFailed(path: path, reason: "the frame delay must be 1 to 65535 hundredths of a second; got \(frameDelay)")
        }
        let encoder = try Encoder(path: path)
        try encoder.check(EGifPutScreenDesc(encoder.gif, Int32(width), Int32(height), 8, 0, encoder.palette))
        try encoder.putLoopForever()
        var indices = [GifPixelType](repeating: 0, count: width * height)
        for frame in frames {
            frame.pixels.withUnsafeBufferPointer { rgb in
                for i in 0..<(width * height) {
                    indices[i] = GIFPalette.index(rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2])
                }
            }
            try encoder.putFrame(&indices, width: width, height: height, delay: frameDelay)
        }
        return try encoder.finish()
    }

    /// Writes the animation of `frames` to `path` atomically: nothing is left at `path` unless
    /// the whole file was written.
    public static func write(_ frames: [RGBImage], to path: String,
                             frameDelay: Int = defaultFrameDelay) throws(ImageFileError) {
        try writeAtomically(try encode(frames, frameDelay: frameDelay, path: path), to: path)
    }
}

extension GIFFile {
    /// One giflib encoder writing into memory; `finish` closes it (or `deinit`, after an error).
    private final class Encoder {
        let path: String
        let sink = ByteSink()
        private(set) var gif: UnsafeMutablePointer<GifFileType>?
        let palette: UnsafeMutablePointer<ColorMapObject>

        init(path: String) throws(ImageFileError) {
            self.path = path
            let colors = GIFPalette.colors.map { GifColorType(Red: $0.0, Green: $0.1, Blue: $0.2) }
            guard let palette = GifMakeMapObject(Int32(colors.count), colors) else {
                throw .encodingFailed(path: path, reason: "giflib could not allocate the palette")
            }
            self.palette = palette
            var error: Int32 = 0
            // giflib calls back with each encoded chunk; the sink travels as its user pointer.
            gif = EGifOpen(Unmanaged.passUnretained(sink).toOpaque(), { file, bytes, count in
                guard let user = file?.pointee.UserData, let bytes, count >= 0 else { return 0 }
                Unmanaged<ByteSink>.fromOpaque(user).takeUnretainedValue().data.append(bytes, count: Int(count))
                return count
            }, &error)
            guard gif != nil else { throw .encodingFailed(path: path, reason: Self.sentence(error)) }
            // Extensions (loop, delays) need the GIF89a header.
            EGifSetGifVersion(gif, true)
        }

        deinit {
            if let gif { EGifCloseFile(gif, nil) }
            GifFreeMapObject(palette)
        }

        /// Throws giflib's reason when `status` is GIF_ERROR.
        func check(_ status: Int32) throws(ImageFileError) {
            guard status == GIF_ERROR else { return }
            throw .encodingFailed(path: path, reason: Self.sentence(gif?.pointee.Error ?? 0))
        }

        /// The NETSCAPE2.0 application extension with loop count 0: play forever.
        func putLoopForever() throws(ImageFileError) {
            try check(EGifPutExtensionLeader(gif, APPLICATION_EXT_FUNC_CODE))
            try check(EGifPutExtensionBlock(gif, 11, Array("NETSCAPE2.0".utf8)))
            // Sub-block 1, then the loop count as a little-endian 16-bit number.
            try check(EGifPutExtensionBlock(gif, 3, [UInt8(1), 0, 0]))
            try check(EGifPutExtensionTrailer(gif))
        }

        /// One full-size frame of palette `indices` (H x W, row 0 at the top), shown for `delay`.
        func putFrame(_ indices: inout [GifPixelType], width: Int, height: Int, delay: Int) throws(ImageFileError) {
            var control = GraphicsControlBlock(DisposalMode: DISPOSE_DO_NOT, UserInputFlag: false,
                                               DelayTime: Int32(delay), TransparentColor: NO_TRANSPARENT_COLOR)
            var extensionBytes = [GifByteType](repeating: 0, count: 4)
            let count = EGifGCBToExtension(&control, &extensionBytes)
            try check(EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, Int32(count), extensionBytes))
            try check(EGifPutImageDesc(gif, 0, 0, Int32(width), Int32(height), false, nil))
            for row in 0..<height {
                let status = indices.withUnsafeMutableBufferPointer { buffer in
                    guard let start = buffer.baseAddress else { return GIF_ERROR }
                    return EGifPutLine(gif, start + row * width, Int32(width))
                }
                try check(status)
            }
        }

        /// Writes the trailer, frees the encoder and returns the file's bytes.
        func finish() throws(ImageFileError) -> Data {
            var error: Int32 = 0
            let status = EGifCloseFile(gif, &error)
            gif = nil   // freed by EGifCloseFile whatever it returns
            guard status != GIF_ERROR else { throw .encodingFailed(path: path, reason: Self.sentence(error)) }
            return sink.data
        }

        static func sentence(_ code: Int32) -> String {
            guard let text = GifErrorString(code) else { return "giflib error \(code)" }
            return "giflib: " + String(cString: text).lowercased()
        }
    }

    /// Where the encoder's bytes go.
    private final class ByteSink {
        var data = Data()
    }
}
