/// Which baseline of DESIGN.md section 4 a run is.
public enum BaselineAlgorithm: String, Codable, Sendable, CaseIterable {
    /// MAML with a policy-gradient outer objective from pixels.
    case mamlPG = "maml-pg"
    /// Behaviour cloning on all meta-training tasks' demos, no adaptation (goal-blind).
    case multitaskBC = "multitask-bc"
    /// Policy gradient from a fresh policy on each test goal, with GMPS's adaptation samples.
    case pgScratch = "pg-scratch"
    /// The scripted expert on the test goals (upper bound).
    case expert
}

/// A baseline run's `config.json`: every `GMPSConfig` field at the top level (so that
/// `gmps-vision evaluate --run` reads it as it reads a GMPS run), plus `"algorithm"` and the
/// settings only the baselines have.
///
/// Fields of `gmps` that a baseline uses: environment, reward, metaTrainTasks, image size, initialStd,
/// initialAlpha / initialBiasVectorAlpha / adaptedParameters / learnAlpha (maml-pg),
/// tasksPerIteration, trajectoriesPerTask, exploration, discount, importanceWeightClip,
/// iterations, learningRate / finalLearningRate and outerSteps (maml-pg's outer steps),
/// demosPerTask / demoNoise / pretrainSteps / pretrainBatch / pretrainLearningRate
/// (multitask-bc; maml-pg when `pretrainInit`), seed, threads.
public struct BaselineConfig: Codable, Equatable, Sendable {
    public var algorithm: BaselineAlgorithm
    public var gmps: GMPSConfig
    /// maml-pg: start from a behaviour-cloned θ instead of random parameters (standard MAML: no).
    public var pretrainInit = false
    /// pg-scratch: learning rate of the plain policy-gradient step(s) on each test goal.
    public var scratchLearningRate: Float = 1e-3
    /// pg-scratch: Adam (true) or plain gradient ascent, θ ← θ + lr ∇J (false).
    public var scratchAdam = true
    /// maml-pg with `outerSteps` > 1: PPO's ε, the clip on the likelihood ratios of the outer
    /// steps after the first (ProMP's trust region; 0.2 is PPO's and ProMP's default).
    public var outerClip: Float = 0.2

    public init(algorithm: BaselineAlgorithm, gmps: GMPSConfig = GMPSConfig()) {
        self.algorithm = algorithm
        self.gmps = gmps
        // GMPS's code anchor is part of its outer loss; no baseline has one.
        self.gmps.codeAnchorWeight = 0
    }

    private enum CodingKeys: String, CodingKey {
        case algorithm, pretrainInit, scratchLearningRate, scratchAdam, outerClip
    }

    /// Reads the GMPS fields and these keys from one flat JSON object; an absent key (other
    /// than the algorithm) keeps its default. The round-trip test sets every field.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(algorithm: try container.decode(BaselineAlgorithm.self, forKey: .algorithm),
                  gmps: try GMPSConfig(from: decoder))
        for key in container.allKeys {
            switch key {
            case .algorithm: break
            case .pretrainInit: try container.decode(&pretrainInit, forKey: key)
            case .scratchLearningRate: try container.decode(&scratchLearningRate, forKey: key)
            case .scratchAdam: try container.decode(&scratchAdam, forKey: key)
            case .outerClip: try container.decode(&outerClip, forKey: key)
            }
        }
    }

    /// The GMPS fields and these keys in one flat JSON object.
    public func encode(to encoder: any Encoder) throws {
        try gmps.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(algorithm, forKey: .algorithm)
        try container.encode(pretrainInit, forKey: .pretrainInit)
        try container.encode(scratchLearningRate, forKey: .scratchLearningRate)
        try container.encode(scratchAdam, forKey: .scratchAdam)
        try container.encode(outerClip, forKey: .outerClip)
    }

    /// A sentence naming the first setting out of range, or nil.
    public func problem() -> String? { invalidSetting()?.description }

    /// The first setting out of range (GMPS's fields first), or nil.
    public func invalidSetting() -> InvalidSetting? {
        if let invalid = gmps.invalidSetting() { return invalid }
        if gmps.metaTrainedSteps != 1 {
            return InvalidSetting(field: "metaTrainedSteps", requirement: "must be 1 for the baselines: MAML's outer objective is the return after one inner step; got \(gmps.metaTrainedSteps).")
        }
        if case .latentOnly = gmps.exploration {
            return InvalidSetting(field: "exploration", requirement: "latent-only explores with mean actions; MAML's outer policy gradient over the whole network needs the per-step noise (per-trajectory or per-step).")
        }
        if !(outerClip > 0 && outerClip < 1) {
            return InvalidSetting(field: CodingKeys.outerClip.stringValue, requirement: "must be in (0, 1); got \(outerClip).")
        }
        if !(scratchLearningRate > 0) {
            return InvalidSetting(field: CodingKeys.scratchLearningRate.stringValue, requirement: "must be positive; got \(scratchLearningRate).")
        }
        return nil
    }
}
