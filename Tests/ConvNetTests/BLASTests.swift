import CConvNetKernels
import Testing
@testable import ConvNet

/// The batch-1 matrix-vector loops: the AVX-512 kernels against the eight-lane Swift loops
/// they replace, bit for bit.
struct BLASTests {
    static let counts = Array(0...70) + [255, 256, 257, 21632]

    @Test func wideDotIsBitIdenticalToEightLanes() throws {
        try #require(gmps_dense_vector_available() == 1, "this CPU has no AVX-512: the Swift loops run")
        var rng = SeededGenerator(seed: 31)
        for count in Self.counts {
            let a = randomVector(count, &rng), b = randomVector(count, &rng)
            let wide = gmps_dot(a, b, count), eight = BLAS.dotEightLanes(a, b, count: count)
            #expect(wide.bitPattern == eight.bitPattern, "count \(count): \(wide) vs \(eight)")
        }
    }

    @Test func wideAxpyIsBitIdenticalToEightLanes() throws {
        try #require(gmps_dense_vector_available() == 1, "this CPU has no AVX-512: the Swift loops run")
        var rng = SeededGenerator(seed: 32)
        for count in Self.counts {
            let x = randomVector(count, &rng), y = randomVector(count, &rng), alpha = rng.nextGaussian()
            var wide = y, eight = y
            gmps_axpy(alpha, x, &wide, count)
            BLAS.axpyEightLanes(alpha, x, &eight, count: count)
            #expect(wide.map(\.bitPattern) == eight.map(\.bitPattern), "count \(count)")
        }
    }
}
