import Testing
@testable import Renderer

/// Charts people can read: letters in the bitmap font, axis titles, and a legend naming each
/// series in its colour.
struct LineChartTests {
    static let white: (UInt8, UInt8, UInt8) = (255, 255, 255)
    static let ink: (UInt8, UInt8, UInt8) = (0, 0, 0)

    /// Glyphs as a person draws them ("#" ink), the oracle for the font's bits.
    static let drawnA = [" ### ", "#   #", "#   #", "#   #", "#####", "#   #", "#   #"]
    static let drawnB = ["#    ", "#    ", "# ## ", "##  #", "#   #", "#   #", "#### "]

    static func isInk(_ pixel: (UInt8, UInt8, UInt8)) -> Bool { pixel == ink }

    @Test func textAbPutsEachGlyphInItsOwnBox() {
        var image = RGBImage(width: 20, height: 12, fill: Self.white)
        BitmapFont.draw("Ab", into: &image, left: 2, top: 3, color: Self.ink)
        for y in 0..<12 {
            for x in 0..<20 {
                var expected = false
                if (3..<10).contains(y) {
                    let row = y - 3
                    if (2..<7).contains(x) { expected = Array(Self.drawnA[row])[x - 2] == "#" }
                    if (8..<13).contains(x) { expected = Array(Self.drawnB[row])[x - 8] == "#" }
                }
                #expect(Self.isInk(image[x, y]) == expected, "pixel (\(x), \(y))")
            }
        }
        #expect(BitmapFont.width(of: "Ab") == 11)
    }

    @Test func upwardTextIsTheGlyphTurnedAQuarterLeft() {
        var image = RGBImage(width: 12, height: 12, fill: Self.white)
        BitmapFont.drawUpwards("A", into: &image, left: 2, bottom: 9, color: Self.ink)
        for y in 0..<12 {
            for x in 0..<12 {
                // Glyph row r is image column 2 + r; glyph column c is image row 9 − c.
                let (row, column) = (x - 2, 9 - y)
                let expected = (0..<7).contains(row) && (0..<5).contains(column) && Array(Self.drawnA[row])[column] == "#"
                #expect(Self.isInk(image[x, y]) == expected, "pixel (\(x), \(y))")
            }
        }
    }

    @Test func lettersDigitsAndCommonPunctuationEachHaveTheirOwnGlyph() {
        let characters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.,:;!?'\"-+=_/%*#&()[]<>|×→")
        let glyphs = characters.map(BitmapFont.glyph)
        #expect(glyphs.allSatisfy { $0.count == 8 && $0.contains { $0 != 0 } && $0.allSatisfy { $0 < 32 } })
        #expect(Array("gjpqy,;").allSatisfy { BitmapFont.glyph($0)[7] != 0 }, "descenders reach the eighth row")
        #expect(Array("Abx0.").allSatisfy { BitmapFont.glyph($0)[7] == 0 })
        for (i, a) in glyphs.enumerated() {
            for j in (i + 1)..<glyphs.count where glyphs[j] == a {
                Issue.record("\(characters[i]) and \(characters[j]) are drawn alike")
            }
        }
        #expect(BitmapFont.glyph(" ").allSatisfy { $0 == 0 })
        #expect(BitmapFont.glyph("€") == BitmapFont.glyph("?"), "a missing character shows as ?")
        #expect(["0.25", "12", "3.5k", "12k", "1.2M"] == [0.25, 12, 3500, 12_000, 1_200_000].map(BitmapFont.label))
    }

    static func chart(titles: Bool) -> LineChart {
        var chart = LineChart(width: 320, height: 200, yRange: 0...1)
        if titles { (chart.xTitle, chart.yTitle) = ("on-policy samples", "success") }
        chart.series = [
            .init(points: [(0, 0.1), (100, 0.4), (200, 0.3)], color: (150, 150, 150), name: "before"),
            .init(points: [(0, 0.2), (100, 0.7), (200, 0.9)], color: (200, 60, 40), name: "after 1 step"),
            .init(points: [(0, 0.5), (200, 0.5)], color: (40, 90, 200), name: "expert"),
            .init(points: [(0, 0.0), (200, 1.0)], color: (10, 200, 10)),
        ]
        return chart
    }

    @Test func theLegendShowsEachNamedSeriesInItsColour() throws {
        let chart = Self.chart(titles: true)
        let image = chart.render()
        let layout = chart.layout
        let legend = try #require(layout.legend)
        #expect(legend.bottom <= layout.plot.top && legend.right <= image.width, "above the plot, inside the image")
        func count(_ color: (UInt8, UInt8, UInt8), in box: LineChart.PixelBox) -> Int {
            var count = 0
            for y in box.top..<box.bottom { for x in box.left..<box.right where image[x, y] == color { count += 1 } }
            return count
        }
        for named in chart.series.prefix(3) {
            #expect(count(named.color, in: legend) >= 12 * 5, "a swatch of \(named.name ?? "")'s colour")
        }
        #expect(count((10, 200, 10), in: legend) == 0, "an unnamed series has no entry")
        #expect(count(LineChart.textColor, in: legend) > 50, "the names are written")
        var unnamed = chart
        for index in unnamed.series.indices { unnamed.series[index].name = nil }
        #expect(unnamed.layout.legend == nil)
    }

    @Test func titlesChangeOnlyTheMargins() throws {
        let (plain, titled) = (Self.chart(titles: false), Self.chart(titles: true))
        #expect(plain.layout.plot == titled.layout.plot, "titles take no room from the plot")
        let (a, b) = (plain.render(), titled.render())
        let plot = titled.layout.plot
        var (left, below) = (0, 0)
        for y in 0..<a.height {
            for x in 0..<a.width where a[x, y] != b[x, y] {
                #expect(!plot.contains(x, y), "pixel (\(x), \(y)) inside the plot changed")
                if x < plot.left { left += 1 }
                if y >= plot.bottom { below += 1 }
            }
        }
        #expect(left > 30 && below > 30, "the y title left of the plot (\(left) pixels), the x title below (\(below))")
    }
}

/// A log10 x axis: each decade takes the same width.
struct LineChartLogAxisTests {
    /// The line climbs from (10, 0) to (100, 1), then stays at 1 until 1,000. On a log axis
    /// 10…1,000 is two decades, so x = 10^1.5 lies a quarter of the way along, where the line
    /// is halfway up; on a linear axis the line is already at the top there.
    @Test func eachDecadeTakesTheSameWidth() throws {
        func lineRow(logX: Bool) throws -> (row: Int, plot: (top: Int, bottom: Int)) {
            var chart = LineChart(width: 420, height: 240, yRange: 0...1)
            chart.logX = logX
            let color: (UInt8, UInt8, UInt8) = (20, 90, 200)
            chart.series = [.init(points: [(10, 0), (100, 1), (1000, 1)], color: color)]
            let image = chart.render(), plot = chart.layout.plot
            let column = plot.left + (plot.right - plot.left) / 4
            let row = try #require((plot.top..<plot.bottom).first { image[column, $0] == color })
            return (row, (plot.top, plot.bottom))
        }
        let log = try lineRow(logX: true), linear = try lineRow(logX: false)
        let middle = (log.plot.top + log.plot.bottom) / 2
        #expect(abs(log.row - middle) <= 3, "row \(log.row), middle \(middle)")
        #expect(linear.row <= linear.plot.top + 3, "linear: row \(linear.row) at the top")
    }

    @Test func pointsAtOrBelowZeroAreLeftOut() {
        var chart = LineChart(width: 320, height: 200, yRange: 0...1)
        chart.logX = true
        chart.series = [.init(points: [(0, 0.5), (-5, 0.2), (100, 0.5), (10_000, 0.5)], color: (200, 0, 0),
                              band: [(0, 0, 1), (100, 0.4, 0.6), (10_000, 0.4, 0.6)])]
        let image = chart.render()
        var red = 0
        for y in 0..<image.height { for x in 0..<image.width where image[x, y] == (200, 0, 0) { red += 1 } }
        #expect(red > 100, "the positive part of the line is drawn (\(red) pixels)")
    }
}

/// A band around a line: the spread of a curve over seeds, filled in the series' pale tint.
struct LineChartBandTests {
    static func chart(band: Bool) -> LineChart {
        var chart = LineChart(width: 320, height: 200, yRange: 0...1, xTitle: "on-policy samples", yTitle: "success")
        let color: (UInt8, UInt8, UInt8) = (200, 60, 40)
        chart.series = [.init(points: [(0, 0.5), (100, 0.5)], color: color, name: "GMPS",
                              band: band ? [(0, 0.25, 0.75), (100, 0.25, 0.75)] : [])]
        return chart
    }

    @Test func theBandFillsBetweenItsEdgesAndTheLineStaysOnTop() throws {
        let chart = Self.chart(band: true)
        let image = chart.render(), plot = chart.layout.plot
        let tint = chart.series[0].bandColor
        #expect(tint == (242, 207, 202), "a quarter of the colour over white")
        // The plot spans y 0…1 over its height: the band 0.25…0.75 is its middle half.
        let height = Double(plot.bottom - plot.top)
        let (bandTop, bandBottom) = (plot.top + Int(0.25 * height) + 2, plot.top + Int(0.75 * height) - 2)
        let (lineY, column) = (plot.top + Int(0.5 * height), (plot.left + plot.right) / 2)
        for y in bandTop...bandBottom where abs(y - lineY) > 2 {
            #expect(image[column, y] == tint, "pixel (\(column), \(y)) inside the band")
        }
        #expect(image[column, lineY] == chart.series[0].color, "the line is drawn over the band")
        for y in [plot.top + Int(0.1 * height), plot.top + Int(0.9 * height)] {
            #expect(image[column, y] != tint, "pixel (\(column), \(y)) outside the band")
        }
    }

    @Test func aBandChangesNothingOutsideItself() {
        let (plain, banded) = (Self.chart(band: false).render(), Self.chart(band: true).render())
        let tint = Self.chart(band: true).series[0].bandColor
        var changed = 0
        for y in 0..<plain.height {
            for x in 0..<plain.width where plain[x, y] != banded[x, y] {
                changed += 1
                #expect(banded[x, y] == tint, "pixel (\(x), \(y)) changed to something other than the tint")
            }
        }
        #expect(changed > 1000, "the band is drawn (\(changed) pixels)")
    }

    @Test func theBandWidensTheFittedRange() {
        var chart = LineChart(width: 320, height: 200)
        chart.series = [.init(points: [(0, 0.5), (100, 0.5)], color: (0, 0, 200), band: [(0, 0.5, 0.5), (100, -0.5, 1.5)])]
        let image = chart.render(), plot = chart.layout.plot
        // Fitted to the line alone (0.5) the range would be 0…1; the band's 1.5 at x = 100 sits
        // near the plot's top instead of beyond the image.
        #expect(image[plot.right - 3, plot.top + 12] == chart.series[0].bandColor)
    }
}
