#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// A Gaussian policy π_θ(a|o) = N(μ_θ(o), diag(σ²)) with the mean from a `Network` and a
/// state-independent log standard deviation s = log σ stored in θ (group "log_std").
///
///     log π(a|o) = Σ_j [ -(a_j - μ_j)² / (2σ_j²) - s_j - ½ log 2π ]
///     entropy    = Σ_j [ s_j + ½ (1 + log 2π) ]
public struct GaussianPolicy: Sendable {
    public let network: Network
    let logStdOffset: Int
    /// ½ log 2π, the Gaussian log-density's constant.
    public static let halfLog2Pi: Float = 0.5 * Float(log(2 * Double.pi))

    /// Throws when the network's spec has no log-std (`NetworkSpec.logStd == nil`).
    public init(network: Network) throws {
        guard let off = network.logStdOffset else {
            throw ConvNetError.invalidArchitecture("a Gaussian policy needs a network spec with logStd set")
        }
        self.network = network
        self.logStdOffset = off
    }

    /// A (actions).
    public var actionCount: Int { network.outputCount }

    /// s (A) read from θ (P).
    public func logStd(_ parameters: [Float]) -> [Float] {
        Array(parameters[logStdOffset..<(logStdOffset + actionCount)])
    }

    /// Entropy of the action distribution (the same in every state).
    public func entropy(parameters: [Float]) -> Float {
        logStd(parameters).reduce(0) { $0 + $1 + 0.5 + GaussianPolicy.halfLog2Pi }
    }

    /// log N(action; mean, exp(logStd)²) of one sample. mean, action and logStd are (A).
    public static func logProbability(action: ArraySlice<Float>, mean: ArraySlice<Float>, logStd: [Float]) -> Float {
        var lp: Float = 0
        for (j, (a, m)) in zip(action, mean).enumerated() {
            let z = (a - m) * expf(-logStd[j])
            lp += -0.5 * z * z - logStd[j] - halfLog2Pi
        }
        return lp
    }

    /// Means (N,A) of a batch: images (N,C,H,W), extras (N,E).
    public func mean(parameters: [Float], images: [Float]? = nil, extras: [Float]? = nil,
                     batch: Int, workspace: Workspace) throws -> [Float] {
        try network.forward(parameters: parameters, images: images, extras: extras, batch: batch, workspace: workspace)
    }

    /// log π(a_i|o_i) for each sample (N); actions are (N,A).
    public func logProbabilities(parameters: [Float], images: [Float]? = nil, extras: [Float]? = nil,
                                 actions: [Float], batch: Int, workspace: Workspace) throws -> [Float] {
        try checkActions(actions, batch: batch)
        let mu = try mean(parameters: parameters, images: images, extras: extras, batch: batch, workspace: workspace)
        let s = logStd(parameters), a = actionCount
        return (0..<batch).map { i in
            GaussianPolicy.logProbability(action: actions[(i * a)..<((i + 1) * a)], mean: mu[(i * a)..<((i + 1) * a)], logStd: s)
        }
    }

    /// Draws one action a = μ + σ ⊙ ε, ε ~ N(0, I) from `rng` (ε = 0 when not `noisy`: the mean
    /// action), into `action` (A), and returns its log-probability
    ///     log π(a) = Σ_j [ -½ ε_j² - s_j - ½ log 2π ]
    /// exactly, since (a − μ)/σ = ε. mean (A); std = exp(s) and logStd = s (A).
    @inline(__always)
    public static func sample(mean: ArraySlice<Float>, std: [Float], logStd: [Float], noisy: Bool,
                              into action: inout [Float], using rng: inout some RandomNumberGenerator) -> Float {
        var logProbability: Float = 0
        for (j, mu) in zip(action.indices, mean) {
            let noise: Float = noisy ? rng.nextGaussian() : 0
            action[j] = mu + std[j] * noise
            logProbability += -0.5 * noise * noise - logStd[j] - halfLog2Pi
        }
        return logProbability
    }

    /// The policy-gradient surrogate J = Σ_i w_i log π(a_i|o_i) and its gradient with respect to
    /// θ, written over `gradient` (P). The weights w (N) are constants (importance weight ×
    /// advantage / N in GMPS's inner step). actions are (N,A).
    ///   ∂J/∂μ_ij = w_i (a_ij - μ_ij) / σ_j²        ∂J/∂s_j = Σ_i w_i ((a_ij - μ_ij)² / σ_j² - 1)
    @discardableResult
    public func weightedLogProbabilityGradient(parameters: [Float], images: [Float]? = nil, extras: [Float]? = nil,
                                               actions: [Float], weights: [Float], batch: Int, workspace: Workspace,
                                               into gradient: inout [Float]) throws -> Float {
        guard weights.count == batch else {
            throw ConvNetError.shapeMismatch("weights must hold \(batch) values, got \(weights.count)")
        }
        return try surrogateGradient(parameters: parameters, images: images, extras: extras, actions: actions,
                                     batch: batch, workspace: workspace, into: &gradient, readsLogProbabilities: false) { _ in weights }
    }

    /// The same, with the weights chosen from the samples' log-probabilities at θ (N) by
    /// `weighting`, in the same forward pass: an importance-weighted or clipped surrogate needs
    /// π_θ(a|o) to weigh each sample, and computing it separately would cost a second forward.
    @discardableResult
    public func weightedLogProbabilityGradient(parameters: [Float], images: [Float]? = nil, extras: [Float]? = nil,
                                               actions: [Float], batch: Int, workspace: Workspace,
                                               into gradient: inout [Float],
                                               weighting: ([Float]) throws -> [Float]) throws -> Float {
        try surrogateGradient(parameters: parameters, images: images, extras: extras, actions: actions,
                              batch: batch, workspace: workspace, into: &gradient, readsLogProbabilities: true, weighting: weighting)
    }

    /// Both of the above; the log-probabilities are computed only for a `weighting` that reads them.
    private func surrogateGradient(parameters: [Float], images: [Float]?, extras: [Float]?, actions: [Float],
                                   batch: Int, workspace: Workspace, into gradient: inout [Float],
                                   readsLogProbabilities: Bool, weighting: ([Float]) throws -> [Float]) throws -> Float {
        try checkActions(actions, batch: batch)
        let mu = try mean(parameters: parameters, images: images, extras: extras, batch: batch, workspace: workspace)
        let s = logStd(parameters), a = actionCount
        let weights = try weighting(!readsLogProbabilities ? [] : (0..<batch).map { i in
            GaussianPolicy.logProbability(action: actions[(i * a)..<((i + 1) * a)], mean: mu[(i * a)..<((i + 1) * a)], logStd: s)
        })
        guard weights.count == batch else {
            throw ConvNetError.shapeMismatch("weights must hold \(batch) values, got \(weights.count)")
        }
        let invVar = s.map { expf(-2 * $0) }
        var dMean = [Float](repeating: 0, count: batch * a)
        var dLogStd = [Float](repeating: 0, count: a)
        var objective: Float = 0
        for i in 0..<batch {
            for j in 0..<a {
                let diff = actions[i * a + j] - mu[i * a + j]
                dMean[i * a + j] = weights[i] * diff * invVar[j]
                dLogStd[j] += weights[i] * (diff * diff * invVar[j] - 1)
                objective += weights[i] * (-0.5 * diff * diff * invVar[j] - s[j] - GaussianPolicy.halfLog2Pi)
            }
        }
        try network.backward(parameters: parameters, outputGradient: dMean, workspace: workspace, into: &gradient)
        for j in 0..<a { gradient[logStdOffset + j] = dLogStd[j] }
        return objective
    }

    func checkActions(_ actions: [Float], batch: Int) throws {
        guard actions.count == batch * actionCount else {
            throw ConvNetError.shapeMismatch("actions must hold \(batch) x \(actionCount) values, got \(actions.count)")
        }
    }
}
