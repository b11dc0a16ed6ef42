/// The one 256-colour palette every animation frame is quantised to: a 6 × 6 × 6 colour cube
/// (indices 0–215, index 36·r + 6·g + b for levels 0, 51, …, 255) and a ramp of 40 greys between
/// the cube's (indices 216–255). Fixed rather than fitted per frame, so colours do not flicker
/// between frames and the same frames give the same bytes.
///
/// Error bound: the nearest cube colour is within 25.5 of the source in every channel, and the
/// colour chosen is at least as near (Euclidean) as that one, so within 25.5·√3 ≈ 44.2 of it in
/// RGB distance; greys come within about 3 of themselves.
public enum GIFPalette {
    /// Levels per channel in the cube.
    public static let cubeLevels = 6
    /// Greys in the ramp after the cube.
    public static let greyCount = 40
    /// Largest RGB (Euclidean) distance between a colour and its palette entry.
    public static let largestError = 25.5 * 3.0.squareRoot()

    /// The 256 entries as (r, g, b), cube first, then the ramp from dark to light.
    public static let colors: [(UInt8, UInt8, UInt8)] = {
        var colors: [(UInt8, UInt8, UInt8)] = []
        for r in 0..<cubeLevels {
            for g in 0..<cubeLevels {
                for b in 0..<cubeLevels { colors.append((cubeLevel(r), cubeLevel(g), cubeLevel(b))) }
            }
        }
        for i in 1...greyCount { colors.append((greyLevel(i), greyLevel(i), greyLevel(i))) }
        return colors
    }()

    /// The value of cube level `level` (0–5): 0, 51, …, 255.
    static func cubeLevel(_ level: Int) -> UInt8 { UInt8(level * 51) }

    /// The value of ramp grey `i` (1–40): evenly between black and white, 255·i/41 rounded.
    static func greyLevel(_ i: Int) -> UInt8 { UInt8((i * 255 + 20) / 41) }

    /// The palette index for (r, g, b): the nearer of the nearest cube colour (each channel
    /// rounded to its level) and the nearest ramp grey (the one nearest the channels' mean,
    /// which minimises the distance to a grey).
    @inline(__always)
    public static func index(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt8 {
        let (ri, gi, bi) = ((Int(r) + 25) / 51, (Int(g) + 25) / 51, (Int(b) + 25) / 51)
        let cubeDistance = squared(Int(r) - ri * 51) + squared(Int(g) - gi * 51) + squared(Int(b) - bi * 51)
        let sum = Int(r) + Int(g) + Int(b)
        // round(mean · 41 / 255), clamped to the ramp (its ends lie next to the cube's black and white).
        let grey = min(max((sum * 41 + 382) / 765, 1), greyCount)
        let level = Int(greyLevel(grey))
        let greyDistance = squared(Int(r) - level) + squared(Int(g) - level) + squared(Int(b) - level)
        return greyDistance < cubeDistance ? UInt8(216 + grey - 1) : UInt8(ri * 36 + gi * 6 + bi)
    }

    @inline(__always)
    private static func squared(_ x: Int) -> Int { x * x }
}
