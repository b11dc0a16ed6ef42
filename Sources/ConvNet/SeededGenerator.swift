/// xoshiro256** (Blackman, Vigna 2018): the project's seeded generator. Same seed → same
/// stream on every machine; its state is `Codable` so a run can resume bit for bit.
///
///     var rng = SeededGenerator(seed: 42)
///     var task3 = rng.split(stream: 3)   // an independent stream for task 3
public struct SeededGenerator: RandomNumberGenerator, Codable, Equatable, Sendable {
    public var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    public init(seed: UInt64) {
        var seeder = seed
        s0 = splitMix64(&seeder); s1 = splitMix64(&seeder); s2 = splitMix64(&seeder); s3 = splitMix64(&seeder)
    }

    @inlinable
    public mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    /// A generator for stream `stream`, seeded from this one's state and the stream index;
    /// it leaves `self` unchanged, so the same parent and index always give the same stream.
    public func split(stream: UInt64) -> SeededGenerator {
        var seeder = s0 ^ rotl(s3, 17) ^ (stream &* 0xD1B5_4A32_D192_ED03)
        return SeededGenerator(seed: splitMix64(&seeder))
    }

    @inlinable
    func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}

/// One step of SplitMix64 (Steele, Lea, Flood 2014) on `state`: the seeder xoshiro's authors
/// prescribe. A function, not a generator type, because the project's one `SplitMix64` type
/// lives in VisionEnvs, which ConvNet must not import; the two give the same numbers.
private func splitMix64(_ state: inout UInt64) -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

// Inlinable, so that a caller's loop over samples specialises them for its generator instead of
// calling `next()` through the protocol (SAC draws one Gaussian per action of every update).
extension RandomNumberGenerator {
    /// A uniform Float in [0, 1) from the top 24 bits (exact on every platform).
    @inlinable
    public mutating func nextUniformFloat() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// A standard normal sample by Box–Muller (one of the pair; deterministic, no cached state).
    @inlinable
    public mutating func nextGaussian() -> Float {
        // u1 in (0, 1] so that log(u1) is finite.
        let u1 = (Double(next() >> 11) + 1) * (1.0 / 9_007_199_254_740_992.0)
        let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        return Float((-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2))
    }
}

// Foundation-free libm access keeps this file usable from any target.
#if canImport(Glibc)
import Glibc
@inlinable func _log(_ x: Double) -> Double { Glibc.log(x) }
@inlinable func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#else
import Darwin
@inlinable func _log(_ x: Double) -> Double { Darwin.log(x) }
@inlinable func _cos(_ x: Double) -> Double { Darwin.cos(x) }
#endif
