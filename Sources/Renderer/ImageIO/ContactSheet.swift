/// A grid of equally sized frames in one image, left to right then top to bottom, with a
/// `gap` of `background` pixels between and around them: an episode at a glance.
public enum ContactSheet {
    /// Lays out `frames` in `columns` columns. Frames of another size than the first are
    /// skipped; an empty list gives an empty image.
    public static func compose(_ frames: [RGBImage], columns: Int, gap: Int = 2,
                               background: (UInt8, UInt8, UInt8) = (255, 255, 255)) -> RGBImage {
        guard let first = frames.first, !first.isEmpty else { return RGBImage(width: 0, height: 0) }
        let (frameWidth, frameHeight) = (first.width, first.height)
        let tiles = frames.filter { $0.width == frameWidth && $0.height == frameHeight }
        let columns = max(1, min(columns, tiles.count))
        let rows = (tiles.count + columns - 1) / columns
        let gap = max(gap, 0)
        var sheet = RGBImage(width: columns * frameWidth + (columns + 1) * gap,
                             height: rows * frameHeight + (rows + 1) * gap, fill: background)
        let rowBytes = frameWidth * 3
        for (index, tile) in tiles.enumerated() {
            let left = gap + (index % columns) * (frameWidth + gap)
            let top = gap + (index / columns) * (frameHeight + gap)
            for y in 0..<frameHeight {
                let source = y * rowBytes
                let destination = ((top + y) * sheet.width + left) * 3
                sheet.pixels.replaceSubrange(destination..<(destination + rowBytes),
                                             with: tile.pixels[source..<(source + rowBytes)])
            }
        }
        return sheet
    }
}
