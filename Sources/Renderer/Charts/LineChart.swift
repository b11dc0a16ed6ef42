import Foundation

/// Line charts drawn straight into an `RGBImage`: axes, ticks labelled with a tiny bitmap
/// font, and one polyline per series. Enough for learning curves in a run's report without any
/// plotting library.
public struct LineChart: Sendable {
    public struct Series: Sendable {
        public var points: [(x: Double, y: Double)]
        public var color: (UInt8, UInt8, UInt8)

        public init(points: [(x: Double, y: Double)], color: (UInt8, UInt8, UInt8)) {
            self.points = points
            self.color = color
        }
    }

    public var width: Int
    public var height: Int
    public var series: [Series] = []
    /// Fixed y range (e.g. 0...1 for success); nil fits the data.
    public var yRange: ClosedRange<Double>?

    public init(width: Int = 480, height: Int = 300, yRange: ClosedRange<Double>? = nil) {
        self.width = width
        self.height = height
        self.yRange = yRange
    }

    /// Margins leave room for tick labels: left for y, bottom for x.
    private let left = 44, right = 12, top = 12, bottom = 24

    public func render() -> RGBImage {
        var image = RGBImage(width: width, height: height, fill: (255, 255, 255))
        let all = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
        guard !all.isEmpty, width > left + right + 10, height > top + bottom + 10 else { return image }
        var xMin = all.map(\.x).min() ?? 0, xMax = all.map(\.x).max() ?? 1
        var yMin = yRange?.lowerBound ?? (all.map(\.y).min() ?? 0)
        var yMax = yRange?.upperBound ?? (all.map(\.y).max() ?? 1)
        if xMax <= xMin { xMax = xMin + 1 }
        if yMax <= yMin { (yMin, yMax) = (yMin - 0.5, yMax + 0.5) }
        if yRange == nil { (yMin, yMax) = (yMin - 0.05 * (yMax - yMin), yMax + 0.05 * (yMax - yMin)) }
        if xMin > 0 && xMin < 0.2 * xMax { xMin = 0 }
        let plotWidth = Double(width - left - right), plotHeight = Double(height - top - bottom)
        func px(_ x: Double) -> Int { left + Int(((x - xMin) / (xMax - xMin) * plotWidth).rounded()) }
        func py(_ y: Double) -> Int { top + Int(((yMax - y) / (yMax - yMin) * plotHeight).rounded()) }

        let grey: (UInt8, UInt8, UInt8) = (210, 210, 210), black: (UInt8, UInt8, UInt8) = (40, 40, 40)
        for tick in 0...4 {
            let y = yMin + (yMax - yMin) * Double(tick) / 4
            drawLine(&image, (left, py(y)), (width - right, py(y)), grey)
            drawText(&image, BitmapFont.label(y), right: left - 4, centerY: py(y), black)
            let x = xMin + (xMax - xMin) * Double(tick) / 4
            drawLine(&image, (px(x), height - bottom), (px(x), height - bottom + 3), black)
            drawText(&image, BitmapFont.label(x), centerX: px(x), top: height - bottom + 6, black)
        }
        drawLine(&image, (left, top), (left, height - bottom), black)
        drawLine(&image, (left, height - bottom), (width - right, height - bottom), black)
        for line in series {
            let points = line.points.filter { $0.x.isFinite && $0.y.isFinite }
            for (a, b) in zip(points, points.dropFirst()) {
                drawLine(&image, (px(a.x), py(a.y)), (px(b.x), py(b.y)), line.color, thick: true)
            }
            if points.count == 1 { drawLine(&image, (px(points[0].x) - 2, py(points[0].y)), (px(points[0].x) + 2, py(points[0].y)), line.color, thick: true) }
        }
        return image
    }

    /// Bresenham, clipped to the image; `thick` draws a 2×2 pen.
    private func drawLine(_ image: inout RGBImage, _ from: (Int, Int), _ to: (Int, Int),
                          _ color: (UInt8, UInt8, UInt8), thick: Bool = false) {
        var (x0, y0) = from
        let (x1, y1) = to
        let dx = abs(x1 - x0), dy = -abs(y1 - y0)
        let sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
        var error = dx + dy
        while true {
            for (ox, oy) in thick ? [(0, 0), (1, 0), (0, 1), (1, 1)] : [(0, 0)] {
                let (x, y) = (x0 + ox, y0 + oy)
                if x >= 0, y >= 0, x < image.width, y < image.height { image[x, y] = color }
            }
            if x0 == x1 && y0 == y1 { break }
            let doubled = 2 * error
            if doubled >= dy { error += dy; x0 += sx }
            if doubled <= dx { error += dx; y0 += sy }
        }
    }

    private func drawText(_ image: inout RGBImage, _ text: String, right: Int, centerY: Int,
                          _ color: (UInt8, UInt8, UInt8)) {
        drawText(&image, text, left: right - BitmapFont.width(of: text), top: centerY - 3, color)
    }

    private func drawText(_ image: inout RGBImage, _ text: String, centerX: Int, top: Int,
                          _ color: (UInt8, UInt8, UInt8)) {
        drawText(&image, text, left: centerX - BitmapFont.width(of: text) / 2, top: top, color)
    }

    private func drawText(_ image: inout RGBImage, _ text: String, left: Int, top: Int,
                          _ color: (UInt8, UInt8, UInt8)) {
        var x = left
        for character in text {
            for (row, bits) in BitmapFont.glyph(character).enumerated() {
                for column in 0..<5 where bits & (1 << (4 - column)) != 0 {
                    let (px, py) = (x + column, top + row)
                    if px >= 0, py >= 0, px < image.width, py < image.height { image[px, py] = color }
                }
            }
            x += 6
        }
    }
}

/// A 5×7 bitmap font for tick labels: digits, sign, point and the k/M suffixes.
enum BitmapFont {
    static func width(of text: String) -> Int { max(0, text.count * 6 - 1) }

    /// Seven rows of five bits, most significant bit leftmost.
    static func glyph(_ character: Character) -> [UInt8] {
        switch character {
        case "0": return [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E]
        case "1": return [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E]
        case "2": return [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F]
        case "3": return [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E]
        case "4": return [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02]
        case "5": return [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E]
        case "6": return [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E]
        case "7": return [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08]
        case "8": return [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E]
        case "9": return [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C]
        case "-": return [0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00]
        case ".": return [0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C]
        case "k": return [0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12]
        case "M": return [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11]
        default: return [0, 0, 0, 0, 0, 0, 0]
        }
    }

    /// A short label: 0.25, 12, 3.5k, 1.2M.
    static func label(_ value: Double) -> String {
        let magnitude = abs(value)
        if magnitude >= 1e6 { return trimmed(value / 1e6, digits: 1) + "M" }
        if magnitude >= 1e4 { return trimmed(value / 1e3, digits: 0) + "k" }
        if magnitude >= 1e3 { return trimmed(value / 1e3, digits: 1) + "k" }
        if magnitude >= 10 { return trimmed(value, digits: 0) }
        return trimmed(value, digits: 2)
    }

    private static func trimmed(_ value: Double, digits: Int) -> String {
        var text = String(format: "%.\(digits)f", value)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text == "-0" ? "0" : text
    }
}
