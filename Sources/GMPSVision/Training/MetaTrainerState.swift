import ConvNet

/// Everything meta-training changes (GMPS, MAML and multi-task behaviour cloning alike); a
/// checkpoint is this value plus, for GMPS, the DAgger data (`DaggerCheckpoint`).
public struct MetaTrainerState: Codable, Sendable {
    /// Meta-iterations completed.
    public var iteration = 0
    /// θ (P).
    public var theta: [Float]
    /// α (tail): per-parameter inner step sizes.
    public var alpha: [Float]
    public var thetaOptimizer: Adam
    public var alphaOptimizer: Adam
    /// Whether behaviour-cloning pre-training has run.
    public var pretrained = false
    /// Environment steps of the meta-policy used for training (pre-update rollouts, DAgger).
    public var onPolicySamples = 0
    /// Environment steps spent only on measuring progress (not used for learning).
    public var evaluationSamples = 0
    /// Wall time spent in meta-training so far.
    public var seconds = 0.0

    public init(theta: [Float], alpha: [Float], thetaOptimizer: Adam, alphaOptimizer: Adam,
                pretrained: Bool = false) {
        self.theta = theta
        self.alpha = alpha
        self.thetaOptimizer = thetaOptimizer
        self.alphaOptimizer = alphaOptimizer
        self.pretrained = pretrained
    }

    /// A fresh state: θ from the policy's seeded initialisation (or `initialTheta`, e.g.
    /// behaviour-cloned), α = `initialAlpha` on the adapted parameters and
    /// `initialBiasVectorAlpha` on the bias vector, and an Adam optimiser for each.
    public init(policy: MetaPolicy, config: GMPSConfig, initialTheta: [Float]? = nil) throws {
        let theta = initialTheta ?? policy.network.initialParameters(seed: config.seed)
        guard theta.count == policy.parameterCount else {
            throw MetaTrainingError.mismatch("the initial parameters (\(theta.count)) do not fit the policy (\(policy.parameterCount)).")
        }
        var alpha = policy.alphaMask(config.adaptedParameters).map { $0 * config.initialAlpha }
        for j in 0..<policy.biasVectorCount { alpha[j] = config.initialBiasVectorAlpha }
        self.init(theta: theta, alpha: alpha,
                  thetaOptimizer: Adam(parameterCount: theta.count, learningRate: config.learningRate),
                  alphaOptimizer: Adam(parameterCount: policy.tailCount, learningRate: config.learningRate),
                  pretrained: initialTheta != nil)
    }

    /// Throws unless θ and α have the policy's sizes (a checkpoint of another configuration).
    public func checkFits(_ policy: MetaPolicy) throws {
        guard theta.count == policy.parameterCount, alpha.count == policy.tailCount else {
            throw MetaTrainingError.mismatch("the checkpoint's parameters (\(theta.count)) do not fit this configuration's policy (\(policy.parameterCount)).")
        }
    }

    /// Both optimisers' learning rate for this iteration.
    public mutating func setLearningRate(_ learningRate: Float) {
        thetaOptimizer.learningRate = learningRate
        alphaOptimizer.learningRate = learningRate
    }

    /// One Adam step of θ and α down gradients that every rank holds alike (already summed over
    /// ranks, so every rank takes the same step and the states stay identical). α's gradient
    /// is masked to the adapted parameters; `learnAlpha` false keeps α fixed. Throws, leaving
    /// the state as it was, when a gradient or a parameter is not finite.
    public mutating func descend(thetaGradient: [Float], alphaGradient: [Float], alphaMask: [Float],
                                 learnAlpha: Bool, iteration: Int, what: String) throws {
        var alphaGradient = alphaGradient
        for j in alphaGradient.indices where alphaMask[j] == 0 { alphaGradient[j] = 0 }
        guard thetaGradient.allSatisfy(\.isFinite), alphaGradient.allSatisfy(\.isFinite) else {
            throw MetaTrainingError.nonFinite(iteration: iteration, what: what)
        }
        // Local copies: updating `theta` through `thetaOptimizer` would be two overlapping
        // accesses to `self`.
        var (newTheta, newAlpha) = (theta, alpha)
        var (newThetaOptimizer, newAlphaOptimizer) = (thetaOptimizer, alphaOptimizer)
        try newThetaOptimizer.update(&newTheta, gradient: thetaGradient)
        if learnAlpha { try newAlphaOptimizer.update(&newAlpha, gradient: alphaGradient) }
        guard newTheta.allSatisfy(\.isFinite), newAlpha.allSatisfy(\.isFinite) else {
            throw MetaTrainingError.nonFinite(iteration: iteration, what: "parameters")
        }
        (theta, alpha, thetaOptimizer, alphaOptimizer) = (newTheta, newAlpha, newThetaOptimizer, newAlphaOptimizer)
    }

    /// Mean α over the adapted parameters (mask 1).
    public func meanAdaptedAlpha(_ mask: [Float]) -> Double {
        let adapted = zip(alpha, mask).filter { $0.1 != 0 }.map { Double($0.0) }
        return adapted.isEmpty ? 0 : adapted.reduce(0, +) / Double(adapted.count)
    }
}

public enum MetaTrainingError: Error, CustomStringConvertible {
    case noDemonstrations(task: Int)
    case nonFinite(iteration: Int, what: String)
    case mismatch(String)

    public var description: String {
        switch self {
        case let .noDemonstrations(task):
            return "meta-training task \(task) has no demonstrations; collect demos for every task (gmps-vision demos)."
        case let .nonFinite(iteration, what):
            return "training stopped at iteration \(iteration + 1): the \(what) became NaN or infinite. The last good checkpoint is kept; lower the learning rate or the initial α and resume."
        case let .mismatch(reason):
            return reason
        }
    }
}
