/// Advantage estimation for the inner policy-gradient step: discounted returns-to-go,
/// standardised per task, minus a linear feature baseline fitted per task.

/// Discounted return-to-go of every step: `G[t] = r[t] + γ · G[t+1]`.
///
///     discountedReturnsToGo([1, 1, 1], discount: 0.5) == [1.75, 1.5, 1]
public func discountedReturnsToGo(_ rewards: [Float], discount: Float) -> [Float] {
    var returns = rewards
    var running: Float = 0
    for t in rewards.indices.reversed() {
        running = rewards[t] + discount * running
        returns[t] = running
    }
    return returns
}

/// Mean and standard deviation of `values` (population), in Double for stability.
func meanAndStandardDeviation(_ values: [Float]) -> (mean: Float, std: Float) {
    guard !values.isEmpty else { return (0, 0) }
    let mean = values.reduce(0.0) { $0 + Double($1) } / Double(values.count)
    let variance = values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(values.count)
    return (Float(mean), Float(variance.squareRoot()))
}

/// `(v − mean) / (std + 1e-8)` over all values.
///
///     standardized([1, 2, 3]) ≈ [-1.2247, 0, 1.2247]
public func standardized(_ values: [Float]) -> [Float] {
    let (mean, std) = meanAndStandardDeviation(values)
    return values.map { ($0 - mean) / (std + 1e-8) }
}

/// rllab's linear feature baseline: a ridge regression from per-step features
/// `[o, o², t/100, (t/100)², (t/100)³, 1]` to returns-to-go, refitted on every task's rollouts.
/// `o` is a small observation vector (for the vision policy: hand xyz; pixels are too big).
public struct LinearFeatureBaseline: Sendable {
    /// Weights over the features (2·D + 4).
    public private(set) var coefficients: [Double]
    /// Ridge strength, multiplied by 10 until the normal equations are well conditioned.
    public var regularization: Double

    public init(observationSize: Int, regularization: Double = 1e-5) {
        coefficients = [Double](repeating: 0, count: 2 * observationSize + 4)
        self.regularization = regularization
    }

    var observationSize: Int { (coefficients.count - 4) / 2 }

    /// Features of step t of a trajectory. observation is (D).
    func features(_ observation: ArraySlice<Float>, step t: Int) -> [Double] {
        let time = Double(t) / 100
        return observation.map { Double($0) } + observation.map { Double($0) * Double($0) }
            + [time, time * time, time * time * time, 1]
    }

    /// Fits to trajectories given as (observations (T×D, row-major), returns (T)).
    public mutating func fit(_ trajectories: [(observations: [Float], returns: [Float])]) {
        let k = coefficients.count, d = observationSize
        var gram = [Double](repeating: 0, count: k * k)   // XᵀX (k×k)
        var moment = [Double](repeating: 0, count: k)     // Xᵀy (k)
        for trajectory in trajectories {
            for t in trajectory.returns.indices {
                let x = features(trajectory.observations[(t * d)..<((t + 1) * d)], step: t)
                let y = Double(trajectory.returns[t])
                for i in 0..<k {
                    moment[i] += x[i] * y
                    for j in 0..<k { gram[i * k + j] += x[i] * x[j] }
                }
            }
        }
        var ridge = regularization
        for _ in 0..<8 {
            var system = gram
            for i in 0..<k { system[i * k + i] += ridge }
            if let solution = solveSymmetricPositiveDefinite(system, moment, size: k),
               solution.allSatisfy(\.isFinite) {
                coefficients = solution
                return
            }
            ridge *= 10
        }
        coefficients = [Double](repeating: 0, count: k)  // degenerate data: predict 0
    }

    /// Predicted return-to-go of each step of one trajectory; observations are (T×D).
    public func predict(observations: [Float], steps: Int) -> [Float] {
        let d = observationSize
        return (0..<steps).map { t in
            let x = features(observations[(t * d)..<((t + 1) * d)], step: t)
            return Float(zip(x, coefficients).reduce(0) { $0 + $1.0 * $1.1 })
        }
    }
}

/// Solves A x = b for a symmetric positive-definite A (n×n, row-major) by Cholesky;
/// nil when A is not positive definite numerically.
func solveSymmetricPositiveDefinite(_ a: [Double], _ b: [Double], size n: Int) -> [Double]? {
    var l = [Double](repeating: 0, count: n * n)   // A = L Lᵀ
    for i in 0..<n {
        for j in 0...i {
            var sum = a[i * n + j]
            for k in 0..<j { sum -= l[i * n + k] * l[j * n + k] }
            if i == j {
                guard sum > 1e-12 else { return nil }
                l[i * n + i] = sum.squareRoot()
            } else {
                l[i * n + j] = sum / l[j * n + j]
            }
        }
    }
    var y = b   // L y = b
    for i in 0..<n {
        for k in 0..<i { y[i] -= l[i * n + k] * y[k] }
        y[i] /= l[i * n + i]
    }
    var x = y   // Lᵀ x = y
    for i in (0..<n).reversed() {
        for k in (i + 1)..<n { x[i] -= l[k * n + i] * x[k] }
        x[i] /= l[i * n + i]
    }
    return x
}
