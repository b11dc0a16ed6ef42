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

    /// `image` shrunk by the smallest whole factor that makes it at most `maxWidth` wide,
    /// each output pixel the average of a factor x factor block (partial blocks at the right
    /// and bottom edges are dropped). Images already narrow enough come back unchanged.
    public static func thumbnail(_ image: RGBImage, maxWidth: Int) -> RGBImage {
        let factor = max(1, (image.width + max(maxWidth, 1) - 1) / max(maxWidth, 1))
        guard factor > 1 else { return image }
        let (width, height) = (image.width / factor, image.height / factor)
        var small = RGBImage(width: width, height: height)
        let count = factor * factor
        for y in 0..<height {
            for x in 0..<width {
                var sum = (0, 0, 0)
                for dy in 0..<factor {
                    for dx in 0..<factor {
                        let (r, g, b) = image[x * factor + dx, y * factor + dy]
                        sum = (sum.0 + Int(r), sum.1 + Int(g), sum.2 + Int(b))
                    }
                }
                small[x, y] = (UInt8((sum.0 + count / 2) / count), UInt8((sum.1 + count / 2) / count),
                               UInt8((sum.2 + count / 2) / count))
            }
        }
        return small
    }
}
