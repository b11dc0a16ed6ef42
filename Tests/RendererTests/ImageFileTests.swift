import Foundation
import Testing
@testable import Renderer

struct ImageFileTests {
    func temporaryFolder() throws -> String {
        let path = NSTemporaryDirectory() + "gmps-renderer-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func pngRoundTripKeepsEveryPixel() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let image = Rasterizer().render(PushLikeScene(width: 64, height: 48,
                                                      options: RenderOptions(shadows: true)).scene)
        let path = folder + "/push.png"
        try PNGFile.write(image, to: path)
        let read = try PNGFile.read(path)
        #expect(read == image)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]), "PNG signature")
    }

    @Test func jpegWritesAValidFile() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let image = Rasterizer().render(PushLikeScene(width: 64, height: 48).scene)
        let path = folder + "/push.jpg"
        try JPEGFile.write(image, to: path, quality: 90)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(bytes.starts(with: [0xFF, 0xD8, 0xFF]), "JPEG start-of-image marker")
        #expect(Array(bytes.suffix(2)) == [0xFF, 0xD9], "JPEG end-of-image marker")
        // The frame header (SOF0) records the image size.
        let sof = try #require(bytes.indices.dropLast(9).first { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xC0 })
        #expect(Int(bytes[sof + 5]) << 8 | Int(bytes[sof + 6]) == 48)
        #expect(Int(bytes[sof + 7]) << 8 | Int(bytes[sof + 8]) == 64)
    }

    @Test func writingIntoAMissingFolderGivesATypedError() {
        let image = RGBImage(width: 4, height: 4)
        let path = "/nonexistent-folder-\(UUID().uuidString)/frame.png"
        #expect(throws: ImageFileError.self) { try PNGFile.write(image, to: path) }
        #expect(throws: ImageFileError.self) { try JPEGFile.write(image, to: path) }
        do {
            try PNGFile.write(image, to: path)
        } catch {
            #expect(error.description.contains(path), "the message names the file")
        }
    }

    @Test func anEmptyImageGivesATypedErrorAndNoFile() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let empty = RGBImage(width: 0, height: 5)
        #expect(throws: ImageFileError.emptyImage(path: folder + "/a.png")) {
            try PNGFile.write(empty, to: folder + "/a.png")
        }
        #expect(throws: ImageFileError.emptyImage(path: folder + "/a.jpg")) {
            try JPEGFile.write(empty, to: folder + "/a.jpg")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
    }

    @Test func readingAMissingOrCorruptFileGivesATypedError() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(throws: ImageFileError.self) { try PNGFile.read(folder + "/missing.png") }
        let corrupt = folder + "/corrupt.png"
        try Data([0x89, 0x50, 0x4E, 0x47, 1, 2, 3]).write(to: URL(fileURLWithPath: corrupt))
        #expect(throws: ImageFileError.self) { try PNGFile.read(corrupt) }
    }

    @Test func aFailedWriteLeavesTheOldFileIntact() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/keep.png"
        let original = RGBImage(width: 3, height: 2, fill: (10, 20, 30))
        try PNGFile.write(original, to: path)
        #expect(throws: ImageFileError.self) { try PNGFile.write(RGBImage(width: 0, height: 0), to: path) }
        #expect(try PNGFile.read(path) == original)
    }
}
