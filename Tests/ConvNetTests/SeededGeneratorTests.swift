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
