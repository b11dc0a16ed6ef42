import Testing
@testable import ConvNet

struct SeededGeneratorTests {
    @Test func sameSeedSameStreamAndSplitStreamsAreIndependentButReproducible() {
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42), c = SeededGenerator(seed: 43)
        let sa = (0..<8).map { _ in a.next() }, sb = (0..<8).map { _ in b.next() }, sc = (0..<8).map { _ in c.next() }
        #expect(sa == sb && sa != sc)
        let parent = SeededGenerator(seed: 7)
        var t1 = parent.split(stream: 1), t1again = parent.split(stream: 1), t2 = parent.split(stream: 2)
        let x1 = (0..<4).map { _ in t1.next() }
        #expect(x1 == (0..<4).map { _ in t1again.next() })
        #expect(x1 != (0..<4).map { _ in t2.next() })
    }

    @Test func seedingAndSplittingFollowTheReferenceAlgorithms() {
        // The state is SplitMix64's first four outputs from seed 0 (Vigna's splitmix64.c).
        let seeded = SeededGenerator(seed: 0)
        #expect([seeded.s0, seeded.s1, seeded.s2, seeded.s3]
                == [0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4, 0x06C4_5D18_8009_454F, 0xF88B_B8A8_724C_81EC])
        // Stream 3 of seed 7, computed independently in Python (xoshiro256** seeded by SplitMix64).
        var stream = SeededGenerator(seed: 7).split(stream: 3)
        #expect(stream.next() == 0xE897_C51F_3D53_BFC2)
        #expect(stream.next() == 0x4693_1A47_5C49_B6AD)
    }

    @Test func uniformAndGaussianSamplesHaveTheRightMoments() {
        var rng = SeededGenerator(seed: 1)
        let n = 20_000
        let u = (0..<n).map { _ in Double(rng.nextUniformFloat()) }
        let g = (0..<n).map { _ in Double(rng.nextGaussian()) }
        #expect(u.allSatisfy { $0 >= 0 && $0 < 1 })
        #expect(abs(u.reduce(0, +) / Double(n) - 0.5) < 0.01)
        let mean = g.reduce(0, +) / Double(n)
        let variance = g.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
        #expect(abs(mean) < 0.03 && abs(variance - 1) < 0.04)
    }

    @Test func tensorRejectsStorageThatDoesNotMatchItsShape() throws {
        #expect(throws: ConvNetError.self) { try Tensor(shape: [2, 3], data: [1, 2, 3]) }
        var t = try Tensor(shape: [2, 3], data: [0, 1, 2, 3, 4, 5])
        #expect(t[1, 2] == 5)
        t[0, 1] = 9
        #expect(t.data[1] == 9)
    }
}

struct VectorOpsTests {
    @Test func blockedSumMatchesADoubleSumForAllTailLengths() {
        var rng = SeededGenerator(seed: 2)
        for n in [0, 1, 7, 15, 16, 17, 33, 1000] {
            let x = randomVector(n, &rng)
            let s = x.withUnsafeBufferPointer { VectorOps.sum($0.baseAddress!, n) }
            #expect(abs(Double(s) - x.reduce(0.0) { $0 + Double($1) }) < 1e-4)
        }
    }
}
