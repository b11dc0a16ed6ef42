import Foundation

/// Line charts drawn straight into an `RGBImage`: axes, ticks, axis titles and a legend in a
/// small bitmap font, and one polyline per series, optionally over a filled band (a spread over
/// seeds). Enough for learning curves in a run's report
/// without any plotting library.
///
/// Layout: the margins always leave room for the axis titles, so a chart with titles has its
/// plot exactly where the same chart without them has it; a legend (when a series is named)
/// sits in a box above the plot, right-aligned.
public struct LineChart: Sendable {
    public struct Series: Sendable {
        public var points: [(x: Double, y: Double)]
        public var color: (UInt8, UInt8, UInt8)
        /// The series' entry in the legend; nil leaves it out.
        public var name: String?
        /// A range around the line (e.g. min–max over seeds), filled in a pale tint of `color`
        /// between `low` and `high`, linearly between the given x; empty: none.
        public var band: [(x: Double, low: Double, high: Double)]

        public init(points: [(x: Double, y: Double)], color: (UInt8, UInt8, UInt8), name: String? = nil,
                    band: [(x: Double, low: Double, high: Double)] = []) {
            self.points = points
            self.color = color
            self.name = name
            self.band = band
        }

        /// The band's fill: the colour a quarter strength over white (opaque, so overlapping
        /// bands show the later series' tint; the lines are drawn over every band).
        public var bandColor: (UInt8, UInt8, UInt8) {
            func tint(_ c: UInt8) -> UInt8 { UInt8(255 - (255 - Int(c)) / 4) }
            return (tint(color.0), tint(color.1), tint(color.2))
        }
    }

    public var width: Int
    public var height: Int
    public var series: [Series] = []
    /// Fixed y range (e.g. 0...1 for success); nil fits the data.
    public var yRange: ClosedRange<Double>?
    /// What the x axis measures, centred below the tick labels.
    public var xTitle: String?
    /// What the y axis measures, reading upwards left of the tick labels.
    public var yTitle: String?
    /// x on a log10 scale, ticks at powers of ten; points, band edges and ranges at x ≤ 0 are
    /// left out. For curves against samples where one method spends 10-100 times another's.
    public var logX = false

    public init(width: Int = 480, height: Int = 300, yRange: ClosedRange<Double>? = nil,
                xTitle: String? = nil, yTitle: String? = nil) {
        self.width = width
        self.height = height
        self.yRange = yRange
        self.xTitle = xTitle
        self.yTitle = yTitle
    }

    /// Margins: left for the y title and tick labels, bottom for the x tick labels and title,
    /// top for the legend when there is one.
    private let left = 58, right = 12, bottom = 36, topWithoutLegend = 12
    static let textColor: (UInt8, UInt8, UInt8) = (40, 40, 40)

    public func render() -> RGBImage {
        var image = RGBImage(width: width, height: height, fill: (255, 255, 255))
        let bandPoints = series.flatMap(\.band).flatMap { [(x: $0.x, y: $0.low), (x: $0.x, y: $0.high)] }
        let all = (series.flatMap(\.points) + bandPoints).filter { $0.x.isFinite && $0.y.isFinite && (!logX || $0.x > 0) }
        let layout = self.layout
        let top = layout.plot.top
        guard !all.isEmpty, width > left + right + 10, height > top + bottom + 10 else { return image }
        var xMin = all.map(\.x).min() ?? 0, xMax = all.map(\.x).max() ?? 1
        var yMin = yRange?.lowerBound ?? (all.map(\.y).min() ?? 0)
        var yMax = yRange?.upperBound ?? (all.map(\.y).max() ?? 1)
        if xMax <= xMin { xMax = xMin + 1 }
        if yMax <= yMin { (yMin, yMax) = (yMin - 0.5, yMax + 0.5) }
        if yRange == nil { (yMin, yMax) = (yMin - 0.05 * (yMax - yMin), yMax + 0.05 * (yMax - yMin)) }
        if logX {
            // Whole decades: the axis starts and ends on a tick.
            (xMin, xMax) = (pow(10, log10(xMin).rounded(.down)), pow(10, log10(xMax).rounded(.up)))
            if xMax <= xMin { xMax = 10 * xMin }
        } else if xMin > 0 && xMin < 0.2 * xMax { xMin = 0 }
        let plotWidth = Double(width - left - right), plotHeight = Double(height - top - bottom)
        // x → the fraction of the axis it lies along (log10 with logX).
        let scale: (Double) -> Double = logX ? { (log10($0) - log10(xMin)) / (log10(xMax) - log10(xMin)) }
                                             : { ($0 - xMin) / (xMax - xMin) }
        func px(_ x: Double) -> Int { left + Int((scale(x) * plotWidth).rounded()) }
        func py(_ y: Double) -> Int { top + Int(((yMax - y) / (yMax - yMin) * plotHeight).rounded()) }

        let grey: (UInt8, UInt8, UInt8) = (210, 210, 210), black = Self.textColor
        for tick in 0...4 {
            let y = yMin + (yMax - yMin) * Double(tick) / 4
            drawLine(&image, (left, py(y)), (width - right, py(y)), grey)
            drawText(&image, BitmapFont.label(y), right: left - 4, centerY: py(y), black)
        }
        let xTicks: [Double]
        if logX {
            let (first, last) = (Int(log10(xMin).rounded()), Int(log10(xMax).rounded()))
            xTicks = (first...last).map { (decade: Int) -> Double in pow(10, Double(decade)) }
        } else {
            xTicks = (0...4).map { (tick: Int) -> Double in xMin + (xMax - xMin) * Double(tick) / 4 }
        }
        for x in xTicks {
            drawLine(&image, (px(x), height - bottom), (px(x), height - bottom + 3), black)
            drawText(&image, BitmapFont.label(x), centerX: px(x), top: height - bottom + 6, black)
        }
        for line in series where !line.band.isEmpty {
            fillBand(&image, line.band.filter { $0.x.isFinite && $0.low.isFinite && $0.high.isFinite && (!logX || $0.x > 0) },
                     x: px, y: py, color: line.bandColor)
        }
        drawLine(&image, (left, top), (left, height - bottom), black)
        drawLine(&image, (left, height - bottom), (width - right, height - bottom), black)
        for line in series {
            let points = line.points.filter { $0.x.isFinite && $0.y.isFinite && (!logX || $0.x > 0) }
            for (a, b) in zip(points, points.dropFirst()) {
                drawLine(&image, (px(a.x), py(a.y)), (px(b.x), py(b.y)), line.color, thick: true)
            }
            if points.count == 1 { drawLine(&image, (px(points[0].x) - 2, py(points[0].y)), (px(points[0].x) + 2, py(points[0].y)), line.color, thick: true) }
        }
        if let xTitle {
            drawText(&image, xTitle, centerX: (left + width - right) / 2, top: height - 4 - BitmapFont.glyphHeight, black)
        }
        if let yTitle {
            let middle = (top + height - bottom) / 2
            BitmapFont.drawUpwards(yTitle, into: &image, left: 4, bottom: middle + BitmapFont.width(of: yTitle) / 2, color: black)
        }
        if let box = layout.legend { drawLegend(&image, in: box) }
        return image
    }

    // MARK: Layout and legend

    /// A rectangle of pixels: x in left..<right, y in top..<bottom.
    struct PixelBox: Equatable {
        var left: Int, top: Int, right: Int, bottom: Int

        func contains(_ x: Int, _ y: Int) -> Bool { x >= left && x < right && y >= top && y < bottom }
    }

    /// The plot area (axes on its left and bottom edges) and the legend's box, if any.
    var layout: (plot: PixelBox, legend: PixelBox?) {
        let rows = legendRows
        guard !rows.isEmpty else {
            return (PixelBox(left: left, top: topWithoutLegend, right: width - right, bottom: height - bottom), nil)
        }
        let contentWidth = rows.map { row in row.map(legendEntryWidth).reduce(0, +) + Self.legendGap * (row.count - 1) }.max() ?? 0
        let boxHeight = rows.count * (BitmapFont.glyphHeight + Self.legendRowGap) - Self.legendRowGap + 2 * Self.legendPadding
        let box = PixelBox(left: width - right - contentWidth - 2 * Self.legendPadding, top: 4,
                           right: width - right, bottom: 4 + boxHeight)
        return (PixelBox(left: left, top: box.bottom + 6, right: width - right, bottom: height - bottom), box)
    }

    private static let legendPadding = 4, legendGap = 10, legendRowGap = 4, swatchWidth = 12

    private func legendEntryWidth(_ entry: Series) -> Int {
        Self.swatchWidth + 4 + BitmapFont.width(of: entry.name ?? "")
    }

    /// The named series, in order, in rows that fit between the margins.
    private var legendRows: [[Series]] {
        let available = width - left - right - 2 * Self.legendPadding
        var rows: [[Series]] = []
        var rowWidth = 0
        for entry in series where entry.name != nil {
            let entryWidth = legendEntryWidth(entry)
            if let last = rows.indices.last, rowWidth + Self.legendGap + entryWidth <= available {
                rows[last].append(entry)
                rowWidth += Self.legendGap + entryWidth
            } else {
                rows.append([entry])
                rowWidth = entryWidth
            }
        }
        return rows
    }

    /// A white box with a grey border; per named series a swatch of its colour and its name.
    private func drawLegend(_ image: inout RGBImage, in box: PixelBox) {
        for y in box.top..<box.bottom {
            for x in box.left..<box.right where x >= 0 && y >= 0 && x < image.width && y < image.height {
                let border = x == box.left || x == box.right - 1 || y == box.top || y == box.bottom - 1
                image[x, y] = border ? (160, 160, 160) : (255, 255, 255)
            }
        }
        for (rowIndex, row) in legendRows.enumerated() {
            let top = box.top + Self.legendPadding + rowIndex * (BitmapFont.glyphHeight + Self.legendRowGap)
            var x = box.left + Self.legendPadding
            for entry in row {
                // The swatch: five rows level with the letters, in the series' colour.
                for sy in (top + 1)..<(top + 6) {
                    for sx in x..<(x + Self.swatchWidth) where sx >= 0 && sy >= 0 && sx < image.width && sy < image.height {
                        image[sx, sy] = entry.color
                    }
                }
                BitmapFont.draw(entry.name ?? "", into: &image, left: x + Self.swatchWidth + 4, top: top, color: Self.textColor)
                x += legendEntryWidth(entry) + Self.legendGap
            }
        }
    }

    /// Fills, column by column, the pixels between the band's low and high edges (each linear
    /// between the band's x), clipped to the image. A one-point band is a 5-pixel-wide bar.
    private func fillBand(_ image: inout RGBImage, _ band: [(x: Double, low: Double, high: Double)],
                          x px: (Double) -> Int, y py: (Double) -> Int, color: (UInt8, UInt8, UInt8)) {
        let band = band.sorted { $0.x < $1.x }
        func fillColumn(_ column: Int, _ low: Double, _ high: Double) {
            guard column >= 0, column < image.width else { return }
            let top = max(py(max(low, high)), 0), bottom = min(py(min(low, high)), image.height - 1)
            guard top <= bottom else { return }
            for row in top...bottom { image[column, row] = color }
        }
        if band.count == 1 {
            for column in (px(band[0].x) - 2)...(px(band[0].x) + 2) { fillColumn(column, band[0].low, band[0].high) }
            return
        }
        for (a, b) in zip(band, band.dropFirst()) where px(b.x) >= px(a.x) {
            let (from, to) = (px(a.x), px(b.x))
            for column in from...to {
                let t = to == from ? 0 : Double(column - from) / Double(to - from)
                fillColumn(column, a.low + t * (b.low - a.low), a.high + t * (b.high - a.high))
            }
        }
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
        BitmapFont.draw(text, into: &image, left: left, top: top, color: color)
    }
}
