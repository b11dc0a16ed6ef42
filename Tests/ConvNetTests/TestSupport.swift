@testable import ConvNet

/// Central finite differences of a scalar function, in Double: df/dx_k ≈ (f(x + h e_k) - f(x - h e_k)) / 2h.
func finiteDifferenceGradient(_ x: [Float], h: Float = 1e-3, _ f: ([Float]) throws -> Double) rethrows -> [Double] {
    var grad = [Double](repeating: 0, count: x.count)
    var xp = x
    for k in 0..<x.count {
        xp[k] = x[k] + h
        let fp = try f(xp)
        xp[k] = x[k] - h
        let fm = try f(xp)
        xp[k] = x[k]
        // Divide by the step actually taken in Float32.
        grad[k] = (fp - fm) / (Double(x[k] + h) - Double(x[k] - h))
    }
    return grad
}

/// max_k |a_k - b_k| / max(1, |b_k|): absolute for small entries, relative for large ones.
func maxDiff(_ a: [Float], _ b: [Double]) -> Double {
    precondition(a.count == b.count, "maxDiff: \(a.count) vs \(b.count)")
    var m = 0.0
    for (x, y) in zip(a, b) { m = max(m, abs(Double(x) - y) / max(1, abs(y))) }
    return m
}

func maxDiff(_ a: [Float], _ b: [Float]) -> Double { maxDiff(a, b.map(Double.init)) }

/// Σ r_i x_i in Double: a scalar probe that makes every output's gradient matter.
func probe(_ x: [Float], _ r: [Float]) -> Double {
    var s = 0.0
    for (a, b) in zip(x, r) { s += Double(a) * Double(b) }
    return s
}

func randomVector(_ n: Int, scale: Float = 1, _ rng: inout SeededGenerator) -> [Float] {
    (0..<n).map { _ in rng.nextGaussian() * scale }
}

func report(_ name: String, _ diff: Double, tolerance: Double) {
    print("\(name): maxdiff \(diff) (tolerance \(tolerance))")
}

/// Central differences that skip coordinates whose ±h perturbation flips a ReLU (the function
/// is not differentiable across the kink, and the difference quotient averages two slopes).
/// `f` returns the value and the on/off pattern of every ReLU. Returns nil for skipped entries.
func kinkAwareFiniteDifferenceGradient(_ x: [Float], h: Float = 1e-3,
                                       _ f: ([Float]) throws -> (Double, [Bool])) rethrows -> [Double?] {
    var grad = [Double?](repeating: nil, count: x.count)
    var xp = x
    for k in 0..<x.count {
        xp[k] = x[k] + h
        let (fp, mp) = try f(xp)
        xp[k] = x[k] - h
        let (fm, mm) = try f(xp)
        xp[k] = x[k]
        if mp == mm { grad[k] = (fp - fm) / (Double(x[k] + h) - Double(x[k] - h)) }
    }
    return grad
}

/// maxDiff over the entries the finite differences kept; also returns how many were skipped.
func maxDiff(_ a: [Float], _ b: [Double?]) -> (diff: Double, skipped: Int) {
    var m = 0.0, skipped = 0
    for (x, y) in zip(a, b) {
        guard let y else { skipped += 1; continue }
        m = max(m, abs(Double(x) - y) / max(1, abs(y)))
    }
    return (m, skipped)
}

/// The ReLU pattern (post-ReLU output > 0) of every convolution of the last forward on `ws`.
func reluPattern(_ ws: Workspace) -> [Bool] {
    var pattern: [Bool] = []
    for (l, out) in ws.convOut.enumerated() {
        let count = ws.batch * ws.network.convs[l].outputCount
        pattern += UnsafeBufferPointer(start: out, count: count).map { $0 > 0 }
    }
    return pattern
}
