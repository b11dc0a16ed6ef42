/// A colour with components in [0, 1]. Alpha below 1 blends the object over what is behind
/// it; alpha 0 hides it.
public struct Color: Hashable, Sendable {
    public var red: Float
    public var green: Float
    public var blue: Float
    public var alpha: Float

    public init(_ red: Float, _ green: Float, _ blue: Float, alpha: Float = 1) {
        self.red = red
        self.green = green
        self.blue = blue
        self.alpha = alpha
    }

    /// From 8-bit components, e.g. `Color(bytes: 0x33, 0x66, 0xcc)`.
    public init(bytes red: UInt8, _ green: UInt8, _ blue: UInt8) {
        self.init(Float(red) / 255, Float(green) / 255, Float(blue) / 255)
    }

    public static let black = Color(0, 0, 0)
    public static let white = Color(1, 1, 1)

    var rgb: Vector3 { Vector3(red, green, blue) }
}
