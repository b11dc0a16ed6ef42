import CGIF
import Foundation
import Synchronization

/// Animated GIF files through giflib's encoder (`EGif*`): one 256-colour palette for the whole
/// animation (so colours do not flicker between frames), each frame shown for `frameDelay`
/// hundredths of a second, the animation looping forever.
///
/// The palette comes from giflib's median-cut quantiser, `GifQuantizeBuffer`, run once over all
/// frames stacked into one tall image. It works on colours with 5 bits per channel, so a
/// colour comes back within 4 of itself per channel when the animation has at most 256 such
/// colours, and further otherwise. Upstream marks the function deprecated (5.2.0 moved
/// it to giflib's utility library); Debian 12's libgif7 5.2.1 still exports it, which is what
/// this package builds against. A fixed 6 × 6 × 6 cube palette (git history) shifted the
/// table's brown to olive.
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
        var (palette, indices) = try quantize(frames, path: path)
        let encoder = try Encoder(palette: palette, path: path)
        try encoder.check(EGifPutScreenDesc(encoder.gif, Int32(width), Int32(height), 8, 0, encoder.palette))
        try encoder.putLoopForever()
        for frame in frames.indices {
            try encoder.putFrame(&indices, offset: frame * width * height, width: width, height: height, delay: frameDelay)
        }
        return try encoder.finish()
    }

    /// Colours in a palette: the most a GIF holds.
    static let paletteSize = 256

    /// Serialises `GifQuantizeBuffer`, which is not reentrant (see `quantize`).
    private static let quantiserLock = Mutex<Void>(())

    /// One palette for all `frames` and each pixel's index into it, frame after frame
    /// ((F·H·W) indices; unused palette entries are black).
    static func quantize(_ frames: [RGBImage], path: String) throws(ImageFileError)
        -> (palette: [GifColorType], indices: [GifByteType]) {
        let pixels = frames.map { $0.width * $0.height }.reduce(0, +)
        let (width, rows) = (frames.first?.width ?? 0, pixels / max(frames.first?.width ?? 1, 1))
        guard rows <= Int(UInt32.max) else {
            throw .encodingFailed(path: path, reason: "\(frames.count) frames are too many pixels for giflib's quantiser")
        }
        // GifQuantizeBuffer reads the three channels as separate planes.
        var (red, green, blue) = ([GifByteType](repeating: 0, count: pixels), [GifByteType](repeating: 0, count: pixels),
                                  [GifByteType](repeating: 0, count: pixels))
        var offset = 0
        for frame in frames {
            frame.pixels.withUnsafeBufferPointer { rgb in
                for i in 0..<(frame.width * frame.height) {
                    (red[offset + i], green[offset + i], blue[offset + i]) = (rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2])
                }
            }
            offset += frame.width * frame.height
        }
        var colorCount = Int32(paletteSize)
        var palette = [GifColorType](repeating: GifColorType(Red: 0, Green: 0, Blue: 0), count: paletteSize)
        var indices = [GifByteType](repeating: 0, count: pixels)
        // One quantisation at a time in the process: giflib's median cut sorts through a
        // file-static axis (`SortRGBAxis` in quantize.c), so two threads quantising at once
        // corrupt each other's palettes.
        let status = quantiserLock.withLock { _ in
            GifQuantizeBuffer(UInt32(width), UInt32(rows), &colorCount, &red, &green, &blue, &indices, &palette)
        }
        guard status != GIF_ERROR else {
            throw .encodingFailed(path: path, reason: "giflib's quantiser could not reduce the frames to \(paletteSize) colours (out of memory)")
        }
        // giflib puts each colour at the bottom of its 8-wide bin (it drops the 3 low bits);
        // the middle of the bin halves the error and undoes a darkening of 3.5 on average.
        for i in 0..<min(Int(colorCount), paletteSize) {
            let entry = palette[i]
            palette[i] = GifColorType(Red: entry.Red.middleOfBin, Green: entry.Green.middleOfBin, Blue: entry.Blue.middleOfBin)
        }
        return (palette, indices)
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

        /// `colors`: a power of two of them, as GIF palettes are.
        init(palette colors: [GifColorType], path: String) throws(ImageFileError) {
            self.path = path
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

        /// One full-size frame: the H x W palette indices from `offset` on (row 0 at the top),
        /// shown for `delay`.
        func putFrame(_ indices: inout [GifPixelType], offset: Int, width: Int, height: Int,
                      delay: Int) throws(ImageFileError) {
            var control = GraphicsControlBlock(DisposalMode: DISPOSE_DO_NOT, UserInputFlag: false,
                                               DelayTime: Int32(delay), TransparentColor: NO_TRANSPARENT_COLOR)
            var extensionBytes = [GifByteType](repeating: 0, count: 4)
            let count = EGifGCBToExtension(&control, &extensionBytes)
            try check(EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, Int32(count), extensionBytes))
            try check(EGifPutImageDesc(gif, 0, 0, Int32(width), Int32(height), false, nil))
            for row in 0..<height {
                let status = indices.withUnsafeMutableBufferPointer { buffer in
                    guard let start = buffer.baseAddress else { return GIF_ERROR }
                    return EGifPutLine(gif, start + offset + row * width, Int32(width))
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

private extension UInt8 {
    /// The middle of the 8-wide bin this value starts: +4, at most 255.
    var middleOfBin: UInt8 { self > 251 ? 255 : self + 4 }
}
