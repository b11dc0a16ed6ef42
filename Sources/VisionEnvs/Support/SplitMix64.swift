/// SplitMix64 (Steele, Lea & Flood 2014; the seeding generator of xoshiro): a tiny, fast,
/// seedable generator whose whole state is one UInt64, so the same seed gives the same
/// goals and the same random actions on every machine.
///
/// Example: `var rng = SplitMix64(seed: 0)` then `rng.next()` is 0xE220A8397B1DCDAF.
public struct SplitMix64: RandomNumberGenerator, Hashable, Sendable, Codable {
    public private(set) var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// An independent stream for `index` (a task, a worker, an episode): the seed of a new
    /// generator drawn from this seed and the index, leaving `self` untouched.
    public func split(_ index: UInt64) -> SplitMix64 {
        var mixer = SplitMix64(seed: state ^ (index &* 0xD1B5_4A32_D192_ED03))
        return SplitMix64(seed: mixer.next())
    }
}
