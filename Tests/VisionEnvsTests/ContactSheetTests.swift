import Renderer
import Testing

/// The render command's contact sheets (composition lives in Renderer/ImageIO/ContactSheet.swift).
@Suite struct ContactSheetTests {
    @Test func framesAreLaidOutLeftToRightThenTopToBottomWithGaps() throws {
        let frames = (0..<3).map { RGBImage(width: 2, height: 2, fill: (UInt8($0 * 100 + 10), 0, 0)) }
        let sheet = ContactSheet.compose(frames, columns: 2, gap: 1, background: (255, 255, 255))
        #expect((sheet.width, sheet.height) == (2 * 2 + 3, 2 * 2 + 3))
        #expect(sheet[1, 1] == (10, 0, 0))      // frame 0, top left
        #expect(sheet[4, 2] == (110, 0, 0))     // frame 1, right of it
        #expect(sheet[2, 5] == (210, 0, 0))     // frame 2, next row
        #expect(sheet[3, 1] == (255, 255, 255)) // the gap between columns
        #expect(sheet[5, 5] == (255, 255, 255)) // the empty fourth cell
        #expect(ContactSheet.compose([], columns: 4).isEmpty)
    }

    @Test func thumbnailsAverageBlocksAndLeaveSmallImagesAlone() throws {
        var image = RGBImage(width: 4, height: 2)
        image[0, 0] = (0, 0, 0); image[1, 0] = (100, 0, 0); image[0, 1] = (200, 0, 0); image[1, 1] = (100, 4, 0)
        let small = ContactSheet.thumbnail(image, maxWidth: 2)
        #expect((small.width, small.height) == (2, 1))
        #expect(small[0, 0] == (100, 1, 0))
        #expect(ContactSheet.thumbnail(image, maxWidth: 4) == image)
    }
}
