import CGIF
import Foundation
import Synchronization
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

    /// Three 30 x 20 frames of 8 x 4 tiles in 200 colours (at most 256, as GIF holds), the tiles
    /// moving one column a frame; colours differ in every channel's low bits too.
    static let frames: [RGBImage] = (0..<3).map { t in
        var frame = RGBImage(width: 30, height: 20)
        for y in 0..<20 {
            for x in 0..<30 {
                let tile = ((x + t) / 4 + 8 * (y / 4)) % 40 * 5 + (x + y) % 5   // 0 ..< 200
                frame[x, y] = (UInt8(tile % 10 * 25 + 3), UInt8(tile / 10 * 12 + 5), UInt8(255 - tile))
            }
        }
        return frame
    }

    /// Two frames of smooth gradients: thousands of colours, more than a palette holds.
    static let gradients: [RGBImage] = (0..<2).map { t in
        var frame = RGBImage(width: 64, height: 48)
        for y in 0..<48 {
            for x in 0..<64 { frame[x, y] = (UInt8(x * 4), UInt8(y * 5 + t * 7), UInt8(255 - (x + y) * 2)) }
        }
        return frame
    }

    /// Per pixel, the source's channels minus the decoded ones.
    static func differences(_ source: [RGBImage], _ read: [RGBImage]) -> [[Int]] {
        zip(source, read).flatMap { a, b in
            (0..<(a.width * a.height)).map { i in
                let (p, q) = (a[i % a.width, i / a.width], b[i % a.width, i / a.width])
                return [Int(p.0) - Int(q.0), Int(p.1) - Int(q.1), Int(p.2) - Int(q.2)]
            }
        }
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

        // With at most 256 colours, each comes back as itself at giflib's 5 bits per channel:
        // the middle of its 8-wide bin, within 4.
        let differences = Self.differences(Self.frames, decoded.frames)
        #expect(differences.allSatisfy { $0.allSatisfy { (-4...4).contains($0) } },
                "worst \(differences.max { $0.max() ?? 0 < $1.max() ?? 0 } ?? [])")
        #expect(differences.contains { $0.contains { $0 > 0 } }, "the colours were quantised, not copied")
    }

    /// A quantisation's palette (RGB) and indices, as bytes to compare.
    static func flattened(_ result: (palette: [GifColorType], indices: [GifByteType])) -> [UInt8] {
        result.palette.flatMap { [$0.Red, $0.Green, $0.Blue] } + result.indices
    }

    /// giflib's quantiser keeps its sort axis in a file-static variable: quantisations on
    /// several threads at once must each give what one alone gives (the lock in `quantize`).
    @Test func quantisingOnSeveralThreadsAtOnceGivesWhatOneThreadGives() throws {
        let alone = Self.flattened(try GIFFile.quantize(Self.gradients, path: "<memory>"))
        let rounds = 8, threads = 4
        let results = Mutex<[[UInt8]]>([])
        DispatchQueue.concurrentPerform(iterations: rounds * threads) { _ in
            let result = (try? GIFFile.quantize(Self.gradients, path: "<memory>")).map(Self.flattened) ?? []
            results.withLock { $0.append(result) }
        }
        let all = results.withLock { $0 }
        #expect(all.count == rounds * threads)
        #expect(all.filter { $0 != alone }.count == 0, "every concurrent quantisation equals the serial one")
    }

    @Test func anAnimationOfManyColoursStaysCloseToItsSource() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/gradients.gif"
        try GIFFile.write(Self.gradients, to: path)
        let decoded = try Self.decode(path)
        #expect(decoded.frames.count == 2 && decoded.width == 64 && decoded.height == 48)
        let distances = Self.differences(Self.gradients, decoded.frames).map { d in
            Double(d.map { $0 * $0 }.reduce(0, +)).squareRoot()
        }
        let mean = distances.reduce(0, +) / Double(distances.count)
        // Measured 14.2 and 51.0: 256 colours spread over a cube of colour space are about 40
        // apart (a fixed 6 × 6 × 6 cube: about 25 on average).
        #expect(mean <= 18 && (distances.max() ?? 0) <= 60, "mean \(mean), worst \(distances.max() ?? 0)")

        // A rendered scene has few hues: its shades come back nearly exact (measured: mean 2.6).
        let scene = Rasterizer().render(PushLikeScene(width: 64, height: 48, options: RenderOptions(shadows: true)).scene)
        try GIFFile.write([scene], to: path)
        let rendered = Self.differences([scene], try Self.decode(path).frames).map { d in
            Double(d.map { $0 * $0 }.reduce(0, +)).squareRoot()
        }
        let renderedMean = rendered.reduce(0, +) / Double(rendered.count)
        #expect(renderedMean <= 4, "mean \(renderedMean), worst \(rendered.max() ?? 0)")
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
