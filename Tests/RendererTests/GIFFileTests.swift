import CGIF
import Foundation
import Testing
@testable import Renderer

/// Animated GIFs, read back with giflib's own decoder (DGifSlurp), not with anything of ours.
struct GIFFileTests {
    /// A decoded GIF: its frames as RGB, each frame's delay, and whether it loops forever.
    struct Decoded {
        var width = 0, height = 0
        var frames: [RGBImage] = []
        var delays: [Int] = []
        var loopsForever = false
    }

    static func decode(_ path: String) throws -> Decoded {
        var error: Int32 = 0
        let gif = try #require(DGifOpenFileName(path, &error), "giflib cannot open \(path): error \(error)")
        defer { DGifCloseFile(gif, &error) }
        #expect(DGifSlurp(gif) == GIF_OK, "giflib reads the whole file")
        var decoded = Decoded(width: Int(gif.pointee.SWidth), height: Int(gif.pointee.SHeight))
        for index in 0..<Int(gif.pointee.ImageCount) {
            let saved = gif.pointee.SavedImages[index]
            let (width, height) = (Int(saved.ImageDesc.Width), Int(saved.ImageDesc.Height))
            let map = try #require(saved.ImageDesc.ColorMap ?? gif.pointee.SColorMap, "frame \(index) has a palette")
            var frame = RGBImage(width: width, height: height)
            for i in 0..<(width * height) {
                let color = map.pointee.Colors[Int(saved.RasterBits[i])]
                frame[i % width, i / width] = (color.Red, color.Green, color.Blue)
            }
            decoded.frames.append(frame)
            var control = GraphicsControlBlock()
            #expect(DGifSavedExtensionToGCB(gif, Int32(index), &control) == GIF_OK)
            decoded.delays.append(Int(control.DelayTime))
            // The application extension and its data sub-block come before the first frame.
            let blocks = (0..<Int(saved.ExtensionBlockCount)).map { saved.ExtensionBlocks[$0] }
            for (block, next) in zip(blocks, blocks.dropFirst()) where block.Function == APPLICATION_EXT_FUNC_CODE {
                let name = String(decoding: UnsafeBufferPointer(start: block.Bytes, count: Int(block.ByteCount)), as: UTF8.self)
                let data = Array(UnsafeBufferPointer(start: next.Bytes, count: Int(next.ByteCount)))
                if name == "NETSCAPE2.0" && data == [1, 0, 0] { decoded.loopsForever = true }
            }
        }
        return decoded
    }

    /// Three 30 x 20 frames: a colour gradient moving right, a grey ramp in the bottom rows.
    static let frames: [RGBImage] = (0..<3).map { t in
        var frame = RGBImage(width: 30, height: 20)
        for y in 0..<20 {
            for x in 0..<30 {
                frame[x, y] = y >= 16 ? (UInt8(x * 8), UInt8(x * 8), UInt8(x * 8))
                                      : (UInt8((x * 8 + t * 40) % 256), UInt8(y * 12), UInt8(255 - x * 7))
            }
        }
        return frame
    }

    func temporaryFolder() throws -> String {
        let path = NSTemporaryDirectory() + "gmps-gif-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func anAnimationReadsBackWithItsFramesSizeDelayAndLoop() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/episode.gif"
        try GIFFile.write(Self.frames, to: path)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(bytes.starts(with: Array("GIF89a".utf8)) && bytes.last == 0x3B, "a GIF89a header and the trailer")
        let decoded = try Self.decode(path)
        #expect(decoded.frames.count == 3)
        #expect(decoded.width == 30 && decoded.height == 20)
        #expect(decoded.frames.allSatisfy { $0.width == 30 && $0.height == 20 })
        #expect(decoded.delays == [10, 10, 10], "10 frames per second")
        #expect(decoded.loopsForever)
        #expect(decoded.frames[0] != decoded.frames[1], "each frame is its own")

        // Every pixel within the palette's quantisation error of its source; greys nearly exact.
        var worst = 0.0
        for (source, read) in zip(Self.frames, decoded.frames) {
            for y in 0..<20 {
                for x in 0..<30 {
                    let (a, b) = (source[x, y], read[x, y])
                    let differences = [Int(a.0) - Int(b.0), Int(a.1) - Int(b.1), Int(a.2) - Int(b.2)]
                    worst = max(worst, Double(differences.map { $0 * $0 }.reduce(0, +)).squareRoot())
                    if y >= 16 { #expect(differences.allSatisfy { abs($0) <= 4 }, "grey \(a) read as \(b)") }
                }
            }
        }
        #expect(worst <= GIFPalette.largestError, "worst RGB distance \(worst)")
        #expect(worst > 0, "the source really was quantised (it has more than 256 colours)")
    }

    @Test func thePaletteHoldsTheCubeAndTheGreysAndEachColourMapsToItself() {
        #expect(GIFPalette.colors.count == 256)
        for (index, color) in GIFPalette.colors.enumerated() {
            let found = GIFPalette.colors[Int(GIFPalette.index(color.0, color.1, color.2))]
            #expect(found == color, "entry \(index) \(color) maps to \(found)")
        }
        #expect(GIFPalette.index(255, 0, 0) == 180 && GIFPalette.index(0, 0, 0) == 0 && GIFPalette.index(255, 255, 255) == 215)
    }

    @Test func anUnwritablePathIsAClearErrorAndLeavesNoFile() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // A file where the folder should be, and a folder where the file should be.
        let blocker = folder + "/not-a-folder"
        try Data("x".utf8).write(to: URL(fileURLWithPath: blocker))
        for path in [blocker + "/episode.gif", folder, "/nonexistent-\(UUID().uuidString)/episode.gif"] {
            do {
                try GIFFile.write(Self.frames, to: path)
                Issue.record("writing \(path) succeeded")
            } catch {
                guard case .cannotWrite = error else { Issue.record("\(error)"); continue }
                #expect(error.description.contains("cannot write \(path)"), "\(error)")
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["not-a-folder"], "nothing left behind")
    }

    @Test func badFramesAreClearErrorsNotCrashes() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/bad.gif"
        func failure(_ frames: [RGBImage], delay: Int = GIFFile.defaultFrameDelay) -> String {
            do { try GIFFile.write(frames, to: path, frameDelay: delay) } catch { return error.description }
            return "no error"
        }
        #expect(failure([]).contains("needs at least one frame"))
        #expect(failure([RGBImage(width: 0, height: 4)]).contains("the image is empty"))
        #expect(failure([RGBImage(width: 4, height: 4), RGBImage(width: 5, height: 4)])
                .contains("frame 1 is 5 x 4 but frame 0 is 4 x 4"))
        #expect(failure(Self.frames, delay: 0).contains("frame delay must be 1 to 65535"))
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
