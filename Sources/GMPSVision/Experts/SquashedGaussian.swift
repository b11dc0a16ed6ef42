#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// SAC's actor head: the network's 2A outputs per state are a mean μ and a raw log-std r;
/// the log-std is squashed into [min, max], and the action is tanh of a Gaussian sample.
///
///     s  = min + ½(max − min)(tanh r + 1)          log standard deviation
///     u  = μ + e^s ⊙ ε,  ε ~ N(0, I)                 pre-squash sample (reparameterised)
///     a  = tanh u                                    the action, in (−1, 1)^A
///     log π(a|x) = Σ_j [ −½ε_j² − s_j − ½log 2π − log(1 − tanh² u_j) ]
///
/// with log(1 − tanh² u) = 2(log 2 − u − softplus(−2u)), which stays finite for large |u|.
/// Shapes: B = batch, A = action dimensions; network outputs are (B,2A), μ first.
struct SquashedGaussian {
    let actionDimension: Int
    let logStdMin: Float, logStdMax: Float
    static let halfLog2Pi: Float = 0.5 * Float(log(2 * Double.pi))

    /// One reparameterised sample per row, with what backward needs.
    struct Sample {
        /// a (B,A), ε (B,A), s (B,A), log π(a|x) (B).
        var actions: [Float], noise: [Float], logStd: [Float], logProbability: [Float]
        /// tanh r (B,A), for the log-std squash's derivative; e^s (B,A).
        var tanhRaw: [Float], std: [Float]
    }

    /// Samples actions for B rows of network outputs (B,2A). One ε per action, row by row.
    func sample(outputs: [Float], batch: Int, using rng: inout some RandomNumberGenerator) -> Sample {
        let a = actionDimension, n = batch * a
        // Hoisted: `halfLog2Pi` is a lazily initialised global, checked at every access.
        let (halfRange, halfLog2Pi) = (0.5 * (logStdMax - logStdMin), Self.halfLog2Pi)
        var actions = [Float](repeating: 0, count: n), noise = actions, logStds = actions, tanhRaw = actions, stds = actions
        var logProbability = [Float](repeating: 0, count: batch)
        // Through buffer pointers: writing the six arrays element by element (bounds and
        // uniqueness checks) took 30% more of this function's own time.
        outputs.withUnsafeBufferPointer { out in
            actions.withUnsafeMutableBufferPointer { act in noise.withUnsafeMutableBufferPointer { eps in
            logStds.withUnsafeMutableBufferPointer { ls in tanhRaw.withUnsafeMutableBufferPointer { th in
            stds.withUnsafeMutableBufferPointer { sd in logProbability.withUnsafeMutableBufferPointer { lp in
                for i in 0..<batch {
                    var rowLogP: Float = 0
                    for j in 0..<a {
                        let k = i * a + j
                        let mu = out[i * 2 * a + j], raw = out[i * 2 * a + a + j]
                        let t = tanhf(raw)
                        let logStd = logStdMin + halfRange * (t + 1)
                        let e = rng.nextGaussian()
                        let std = expf(logStd)
                        let u = mu + std * e
                        act[k] = tanhf(u)
                        eps[k] = e
                        ls[k] = logStd
                        th[k] = t
                        sd[k] = std
                        rowLogP += -0.5 * e * e - logStd - halfLog2Pi - Self.logOneMinusTanhSquared(u)
                    }
                    lp[i] = rowLogP
                }
            } }
            } }
            } }
        }
        return Sample(actions: actions, noise: noise, logStd: logStds, logProbability: logProbability, tanhRaw: tanhRaw, std: stds)
    }

    /// The deterministic action tanh μ of each row (B,A).
    func meanActions(outputs: [Float], batch: Int) -> [Float] {
        let a = actionDimension
        var out = [Float](repeating: 0, count: batch * a)
        for i in 0..<batch { for j in 0..<a { out[i * a + j] = tanhf(outputs[i * 2 * a + j]) } }
        return out
    }

    /// Gradient (B,2A) with respect to the network outputs of
    ///     Σ_i [ wLogP_i · log π(a_i|x_i) + Σ_j dA_ij · a_ij ]
    /// through the reparameterised sample (ε held fixed):
    ///     ∂a/∂u = 1 − a²,  ∂log π/∂u = 2a,  ∂u/∂μ = 1,  ∂u/∂s = e^s ε,  ∂log π/∂s|direct = −1,
    ///     ∂s/∂r = ½(max − min)(1 − tanh² r).
    func outputGradient(_ s: Sample, batch: Int, logProbabilityWeight wLogP: [Float], actionGradient dA: [Float]) -> [Float] {
        let a = actionDimension
        var g = [Float](repeating: 0, count: batch * 2 * a)
        let half = 0.5 * (logStdMax - logStdMin)
        for i in 0..<batch {
            for j in 0..<a {
                let k = i * a + j
                let act = s.actions[k]
                let dU = dA[k] * (1 - act * act) + wLogP[i] * 2 * act
                let dLogStd = dU * s.std[k] * s.noise[k] - wLogP[i]
                g[i * 2 * a + j] = dU
                g[i * 2 * a + a + j] = dLogStd * half * (1 - s.tanhRaw[k] * s.tanhRaw[k])
            }
        }
        return g
    }

    /// log(1 − tanh² u) = 2(log 2 − u − softplus(−2u)).
    static func logOneMinusTanhSquared(_ u: Float) -> Float {
        let x = -2 * u
        let softplus = x > 20 ? x : log1pf(expf(x))
        return 2 * (Float(M_LN2) - u - softplus)
    }
}
