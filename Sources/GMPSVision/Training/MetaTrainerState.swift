import ConvNet
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Everything meta-training changes (GMPS, MAML and multi-task behaviour cloning alike); a
/// checkpoint is this value plus, for GMPS, the DAgger data (`DaggerCheckpoint`).
public struct MetaTrainerState: Codable, Sendable {
    /// Meta-iterations completed.
    public var iteration = 0
    /// θ (P).
    public var theta: [Float]
    /// α (tail): per-parameter inner step sizes.
    public var alpha: [Float]
    /// log α per group (`MetaPolicy.alphaGroups`) when α is learned per group: what α's
    /// optimiser moves, α being mask ⊙ exp(log α of the group); nil when α is learned per
    /// parameter (and in checkpoints written before per-group α existed).
    public var logAlpha: [Float]? = nil
    /// log s_1 … log s_{N−1}: the latent's learned scale at each meta-trained adaptation step
    /// after the first (`GMPSConfig.metaTrainedSteps` N, `AdaptationSchedule`); nil with one
    /// meta-trained step (and in checkpoints written before multi-step meta-training).
    public var logLatentScales: [Float]? = nil
    /// Their optimiser (nil with them).
    public var latentScaleOptimizer: Adam? = nil
    /// Each meta-training task's code in the bias-vector slot (tasks × B, in the whitened
    /// coordinates θ's first layer reads), kept from pre-training for the code anchor
    /// (`GMPSConfig.codeAnchorWeight`), which moves them, and for the task-code oracle
    /// (`TaskCodeOracle`); nil where pre-training learned none (per-step exploration, no
    /// pre-training, or a checkpoint written before they were kept without the anchor).
    public var taskCodes: [Float]? = nil
    /// Their optimiser (nil with them).
    public var taskCodeOptimizer: Adam? = nil
    public var thetaOptimizer: Adam
    /// α's optimiser, over α (tail) or over log α (groups).
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
    /// `initialBiasVectorAlpha` on the bias vector, and an Adam optimiser for each (α's over
    /// log α per group when the configuration learns α that way).
    public init(policy: MetaPolicy, config: GMPSConfig, initialTheta: [Float]? = nil) throws {
        let theta = initialTheta ?? policy.network.initialParameters(seed: config.seed)
        guard theta.count == policy.parameterCount else {
            throw MetaTrainingError.mismatch("the initial parameters (\(theta.count)) do not fit the policy (\(policy.parameterCount)).")
        }
        let mask = policy.alphaMask(config.adaptedParameters)
        var alpha = mask.map { $0 * config.initialAlpha }
        for j in 0..<policy.biasVectorCount { alpha[j] = config.initialBiasVectorAlpha }
        let alphaRate = config.alphaLearningRate ?? config.learningRate
        if config.alphaParameterisation == .logPerGroup {
            let groups = policy.alphaGroups
            let logAlpha = groups.map { logf($0.name == "bias_vector" ? config.initialBiasVectorAlpha : config.initialAlpha) }
            self.init(theta: theta, alpha: Self.expand(logAlpha, groups: groups, mask: mask),
                      thetaOptimizer: Adam(parameterCount: theta.count, learningRate: config.learningRate),
                      alphaOptimizer: Adam(parameterCount: groups.count, learningRate: alphaRate),
                      pretrained: initialTheta != nil)
            self.logAlpha = logAlpha
        } else {
            self.init(theta: theta, alpha: alpha,
                      thetaOptimizer: Adam(parameterCount: theta.count, learningRate: config.learningRate),
                      alphaOptimizer: Adam(parameterCount: policy.tailCount, learningRate: alphaRate),
                      pretrained: initialTheta != nil)
        }
        if config.metaTrainedSteps > 1 {
            // s_k starts at meta-test's heuristic d^k.
            let logDecay = logf(config.adaptationLatentDecay)
            logLatentScales = (1..<config.metaTrainedSteps).map { Float($0) * logDecay }
            latentScaleOptimizer = Adam(parameterCount: config.metaTrainedSteps - 1,
                                        learningRate: config.latentScaleLearningRate)
        }
    }

    /// s_1 … s_{N−1}, the latent's learned scales (empty with one meta-trained step).
    public var latentScales: [Float] { (logLatentScales ?? []).map { expf($0) } }

    /// ∂L/∂log α_g = Σ_{j ∈ g} ∂L/∂α_j · α_j (groups), from ∂L/∂α (tail) at α (tail).
    static func logAlphaGradient(_ alphaGradient: [Float], alpha: [Float], groups: [MetaPolicy.AlphaGroup]) -> [Float] {
        groups.map { group in Float(group.indices.reduce(0.0) { $0 + Double(alphaGradient[$1]) * Double(alpha[$1]) }) }
    }

    /// α (tail) from log α per group: mask_j · exp(log α of j's group).
    static func expand(_ logAlpha: [Float], groups: [MetaPolicy.AlphaGroup], mask: [Float]) -> [Float] {
        var alpha = [Float](repeating: 0, count: mask.count)
        for (group, value) in zip(groups, logAlpha) {
            for j in group.indices { alpha[j] = mask[j] * expf(value) }
        }
        return alpha
    }

    /// Throws unless θ and α have the policy's sizes (a checkpoint of another configuration).
    public func checkFits(_ policy: MetaPolicy) throws {
        guard theta.count == policy.parameterCount, alpha.count == policy.tailCount else {
            throw MetaTrainingError.mismatch("the checkpoint's parameters (\(theta.count)) do not fit this configuration's policy (\(policy.parameterCount)).")
        }
        if let logAlpha, logAlpha.count != policy.alphaGroups.count {
            throw MetaTrainingError.mismatch("the checkpoint's step sizes hold \(logAlpha.count) groups; this policy has \(policy.alphaGroups.count).")
        }
    }

    /// Throws unless α is learned as `config` says (per parameter, or log α per group), with
    /// the latent scales of its meta-trained steps.
    public func checkFits(_ config: GMPSConfig) throws {
        guard (logAlpha != nil) == (config.alphaParameterisation == .logPerGroup) else {
            throw MetaTrainingError.mismatch("the checkpoint learns α \(logAlpha == nil ? "per parameter" : "as log α per group"); this configuration learns it \(config.alphaParameterisation.rawValue).")
        }
        let scales = logLatentScales?.count ?? 0
        guard scales == config.metaTrainedSteps - 1, latentScaleOptimizer?.m.count ?? 0 == scales else {
            throw MetaTrainingError.mismatch("the checkpoint holds latent scales for \(scales + 1) meta-trained adaptation steps; this configuration trains \(config.metaTrainedSteps).")
        }
        if pretrained && config.codeAnchorWeight > 0 && taskCodes == nil {
            throw MetaTrainingError.mismatch("the checkpoint holds no task codes for the code anchor (its pre-training ran without one); start a new run for --code-anchor-weight.")
        }
    }

    /// The optimisers' learning rates for this iteration: θ's, and α's (θ's when nil).
    public mutating func setLearningRate(_ learningRate: Float, alpha alphaLearningRate: Float? = nil) {
        thetaOptimizer.learningRate = learningRate
        alphaOptimizer.learningRate = alphaLearningRate ?? learningRate
        // Pre-training's ratio: the codes learn at ten times θ's rate.
        taskCodeOptimizer?.learningRate = 10 * learningRate
    }

    /// One Adam step of θ and α down gradients that every rank holds alike (already summed over
    /// ranks, so every rank takes the same step and the states stay identical). α's gradient
    /// is masked to the adapted parameters; `learnAlpha` false keeps α fixed. With log α per
    /// group (`alphaGroups`: the policy's) Adam moves log α down
    ///   ∂L/∂log α_g = Σ_{j ∈ g} ∂L/∂α_j · α_j        (α_j = mask_j · exp(log α_g))
    /// Throws, leaving the state as it was, when a gradient or a parameter is not finite.
    /// `latentScaleGradient`: ∂L/∂log s_k (k = 1…N−1), which moves the learned latent scales;
    /// `taskCodeGradient` (tasks × B), the task codes.
    public mutating func descend(thetaGradient: [Float], alphaGradient: [Float], alphaMask: [Float],
                                 alphaGroups: [MetaPolicy.AlphaGroup] = [], learnAlpha: Bool,
                                 latentScaleGradient: [Float]? = nil, taskCodeGradient: [Float]? = nil,
                                 iteration: Int, what: String) throws {
        var alphaGradient = alphaGradient
        for j in alphaGradient.indices where alphaMask[j] == 0 { alphaGradient[j] = 0 }
        guard thetaGradient.allSatisfy(\.isFinite), alphaGradient.allSatisfy(\.isFinite),
              latentScaleGradient?.allSatisfy(\.isFinite) ?? true else {
            throw MetaTrainingError.nonFinite(iteration: iteration, what: what)
        }
        var (newLogScales, newScaleOptimizer) = (logLatentScales, latentScaleOptimizer)
        if let gradient = latentScaleGradient, var values = newLogScales, var optimizer = newScaleOptimizer {
            try optimizer.update(&values, gradient: gradient)
            guard values.allSatisfy(\.isFinite) else { throw MetaTrainingError.nonFinite(iteration: iteration, what: "latent scales") }
            (newLogScales, newScaleOptimizer) = (values, optimizer)
        }
        var (newCodes, newCodeOptimizer) = (taskCodes, taskCodeOptimizer)
        if let gradient = taskCodeGradient, var codes = newCodes, var optimizer = newCodeOptimizer {
            guard gradient.count == codes.count else {
                throw MetaTrainingError.mismatch("the task codes' gradient holds \(gradient.count) values; the state holds \(codes.count) codes' worth.")
            }
            guard gradient.allSatisfy(\.isFinite) else { throw MetaTrainingError.nonFinite(iteration: iteration, what: what) }
            try optimizer.update(&codes, gradient: gradient)
            guard codes.allSatisfy(\.isFinite) else { throw MetaTrainingError.nonFinite(iteration: iteration, what: "task codes") }
            (newCodes, newCodeOptimizer) = (codes, optimizer)
        }
        // Local copies: updating `theta` through `thetaOptimizer` would be two overlapping
        // accesses to `self`.
        var (newTheta, newAlpha, newLogAlpha) = (theta, alpha, logAlpha)
        var (newThetaOptimizer, newAlphaOptimizer) = (thetaOptimizer, alphaOptimizer)
        try newThetaOptimizer.update(&newTheta, gradient: thetaGradient)
        if learnAlpha, var values = newLogAlpha {
            guard alphaGroups.count == values.count else {
                throw MetaTrainingError.mismatch("log α has \(values.count) groups; the policy has \(alphaGroups.count).")
            }
            try newAlphaOptimizer.update(&values, gradient: Self.logAlphaGradient(alphaGradient, alpha: alpha, groups: alphaGroups))
            newLogAlpha = values
            newAlpha = Self.expand(values, groups: alphaGroups, mask: alphaMask)
        } else if learnAlpha {
            try newAlphaOptimizer.update(&newAlpha, gradient: alphaGradient)
        }
        guard newTheta.allSatisfy(\.isFinite), newAlpha.allSatisfy(\.isFinite), newLogAlpha?.allSatisfy(\.isFinite) ?? true else {
            throw MetaTrainingError.nonFinite(iteration: iteration, what: "parameters")
        }
        (theta, alpha, logAlpha, thetaOptimizer, alphaOptimizer) = (newTheta, newAlpha, newLogAlpha, newThetaOptimizer, newAlphaOptimizer)
        (logLatentScales, latentScaleOptimizer) = (newLogScales, newScaleOptimizer)
        (taskCodes, taskCodeOptimizer) = (newCodes, newCodeOptimizer)
    }

    /// Mean α of each group (`MetaPolicy.alphaGroups`; 0 for an empty group).
    public func meanAlpha(by groups: [MetaPolicy.AlphaGroup]) -> [Double] {
        groups.map { group in
            let indices = group.indices
            return indices.isEmpty ? 0 : indices.reduce(0.0) { $0 + Double(alpha[$1]) } / Double(indices.count)
        }
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
