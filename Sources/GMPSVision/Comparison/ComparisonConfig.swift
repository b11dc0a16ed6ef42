import VisionEnvs

/// The methods a comparison runs (issue 15), in the order of its table.
public enum ComparisonMethod: String, Codable, Sendable, CaseIterable {
    /// GMPS as `gmps-vision run` trains it.
    case gmps
    /// Behaviour cloning with task codes, then latent search at test time: GMPS with zero
    /// meta-iterations, evaluated with adaptation. It is the GMPS run's own pre-trained θ
    /// (snapshot 0), so the row differs from GMPS by meta-training alone.
    case noMetaTraining = "no-meta-training"
    /// MAML with a policy-gradient outer objective from pixels, from random parameters.
    case mamlPG = "maml-pg"
    /// The same MAML started from a behaviour-cloned θ (`baseline --algo maml-pg --pretrain`).
    case mamlPGPretrained = "maml-pg-pretrained"
    /// MAML as close to GMPS as it can be, differing in the outer objective alone: GMPS's
    /// pre-trained θ (the seed's GMPS run's snapshot 0: behaviour cloning with task codes), its
    /// exploration, inner step, α and learning rates; the outer objective is the post-update
    /// return, ascended by ProMP's clipped outer steps instead of imitating the experts.
    case mamlProMP = "maml-promp"
    /// The same MAML-ProMP from random parameters (at MAML-PG's learning rate, as a start that
    /// far from a solution needs): no demonstration, expert or pre-training reaches it, so it is
    /// meta-RL that learns its meta-objective by RL alone (the paper's MAML-TRPO, with ProMP's
    /// outer step). Not in the default methods.
    case mamlProMPScratch = "maml-promp-scratch"

    /// The name in the table and the plot's legend.
    public var label: String {
        switch self {
        case .gmps: return "GMPS"
        case .noMetaTraining: return "no meta-training (BC + latent search)"
        case .mamlPG: return "MAML-PG"
        case .mamlPGPretrained: return "MAML-PG, BC start"
        case .mamlProMP: return "MAML-ProMP, GMPS's start"
        case .mamlProMPScratch: return "MAML-ProMP, random start"
        }
    }

    /// Whether this is a MAML variant: the samples ratio is taken against these.
    public var isMAML: Bool { self != .gmps && self != .noMetaTraining }

    /// Whether the method's outer step is ProMP's on GMPS's settings (`ComparisonConfig.maml`).
    public var isProMP: Bool { self == .mamlProMP || self == .mamlProMPScratch }

    /// `compare`'s methods when none are named: every one but maml-promp-scratch, which is
    /// as costly as maml-promp and asked for by name.
    public static let defaults: [ComparisonMethod] = [.gmps, .noMetaTraining, .mamlPG, .mamlPGPretrained, .mamlProMP]

    /// Whether the method starts from the seed's GMPS run (which must then run first).
    public var startsFromGMPS: Bool { self == .noMetaTraining || self == .mamlProMP }
}

/// The goals a comparison evaluates its snapshots on, per seed.
public enum ComparisonGoals: String, Codable, Sendable, CaseIterable {
    /// The seed's meta-test split: the figures to report, never to tune on.
    case metaTest = "meta-test"
    /// The seed's validation goals (disjoint from meta-training and meta-test): what a method's
    /// settings are tuned on, as `evaluate --goals validation` adapts on them.
    case validation

    /// The goals' name in the report's sentences and axis titles.
    public var label: String { self == .metaTest ? "held-out" : "validation" }
}

/// Every setting of `gmps-vision compare`, one documented field each; written into the
/// comparison's folder as `comparison.json`. Each method's own configuration is derived from
/// it (`gmps(seed:)`, `maml(seed:method:)`) and written into its run directory.
public struct ComparisonConfig: Codable, Equatable, Sendable {
    /// The environment every method trains and is evaluated on.
    public var environment: EnvironmentName
    /// The reward of every method's training and adaptation.
    public var reward: RewardKind = .dense
    /// Who labels GMPS's demonstrations (and so no-meta-training's and maml-promp's start):
    /// nil, the default run's (per-task SAC experts; `quick`: scripted). With sparse rewards the
    /// scripted controllers stand for demonstrations that did not come from RL on that reward.
    public var experts: ExpertSource? = nil
    /// Each method runs once per seed 1...seeds; success is reported as the mean ± spread over them.
    public var seeds = 3
    /// GMPS's on-policy sample budget; its meta-iterations are this over one iteration's
    /// samples, rounded up. Default: the default run's (`defaultBudget`).
    public var budget: Int
    /// MAML's on-policy budget as a multiple of GMPS's (issue 15: ten times).
    public var mamlBudgetFactor = 10
    /// The methods, in table order.
    public var methods: [ComparisonMethod] = ComparisonMethod.defaults
    /// Every method on `GMPSConfig.quick`'s tiny settings, scripted experts, 24x32 images, few
    /// goals and draws: what the tests and CI run.
    public var quick = false

    // MARK: Evaluation on held-out goals (the meta-test split of each seed, or its validation goals)

    /// Which of each seed's held-out goals the curve and the table adapt on.
    public var goals: ComparisonGoals = .metaTest

    /// Snapshots along each method's training besides its start: about this many points per
    /// learning curve, evenly spaced in iterations (the last iteration always one).
    public var curvePoints = 10
    /// Held-out goals and draws per goal of each curve point, after one adaptation step.
    public var curveGoals = 10
    public var curveDraws = 2
    /// The table's evaluation of each method's last snapshot: goals, draws, adaptation steps.
    public var finalGoals = 20
    public var finalDraws = 10
    public var finalAdaptationSteps = 3

    // MARK: MAML (`gmps-vision baseline --algo maml-pg`'s defaults)

    /// Adam learning rate of MAML's outer step, constant.
    public var mamlLearningRate: Float = 1e-3
    /// Initial inner step size α of MAML on every adapted parameter (the head).
    public var mamlAlpha: Float = 0.05
    /// Behaviour-cloning steps of the BC-started MAML.
    public var mamlPretrainSteps = 300
    /// maml-promp and maml-promp-scratch: outer steps per iteration on the same post-update
    /// rollouts (the first plain, the rest on the clipped surrogate; each costs a pass of the
    /// full network over them).
    public var mamlOuterSteps = 3
    /// maml-promp and maml-promp-scratch: PPO's ε on the likelihood ratios of those steps.
    public var mamlOuterClip: Float = 0.2
    /// maml-promp and maml-promp-scratch: Adam learning rate of the outer steps, constant; nil:
    /// maml-promp GMPS's schedule (`GMPSConfig.learningRate` decayed to `finalLearningRate` over
    /// MAML's iterations), maml-promp-scratch `mamlLearningRate`.
    public var mamlProMPLearningRate: Float? = nil

    /// Worker threads of every method. Results do not depend on it.
    public var threads = 2

    public init(environment: EnvironmentName, budget: Int? = nil, quick: Bool = false) {
        self.environment = environment
        self.quick = quick
        if quick {
            (curvePoints, curveGoals, curveDraws, finalGoals, finalDraws) = (2, 2, 1, 2, 1)
            mamlPretrainSteps = 20
        }
        self.budget = budget ?? Self.defaultBudget(environment: environment, quick: quick)
    }

    private enum CodingKeys: String, CodingKey {
        case environment, reward, experts, seeds, budget, mamlBudgetFactor, methods, quick
        case goals, curvePoints, curveGoals, curveDraws, finalGoals, finalDraws, finalAdaptationSteps
        case mamlLearningRate, mamlAlpha, mamlPretrainSteps, mamlOuterSteps, mamlOuterClip, mamlProMPLearningRate, threads
    }

    /// Reads `comparison.json`; a setting that a comparison written before it existed lacks
    /// keeps its default, so an older comparison can still be continued.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(environment: try container.decode(EnvironmentName.self, forKey: .environment),
                  budget: try container.decodeIfPresent(Int.self, forKey: .budget),
                  quick: try container.decodeIfPresent(Bool.self, forKey: .quick) ?? false)
        func read<Value: Decodable>(_ value: inout Value, _ key: CodingKeys) throws {
            if let stored = try container.decodeIfPresent(Value.self, forKey: key) { value = stored }
        }
        try read(&reward, .reward)
        experts = try container.decodeIfPresent(ExpertSource.self, forKey: .experts)
        try read(&seeds, .seeds)
        try read(&mamlBudgetFactor, .mamlBudgetFactor)
        try read(&methods, .methods)
        try read(&goals, .goals)
        try read(&curvePoints, .curvePoints)
        try read(&curveGoals, .curveGoals)
        try read(&curveDraws, .curveDraws)
        try read(&finalGoals, .finalGoals)
        try read(&finalDraws, .finalDraws)
        try read(&finalAdaptationSteps, .finalAdaptationSteps)
        try read(&mamlLearningRate, .mamlLearningRate)
        try read(&mamlAlpha, .mamlAlpha)
        try read(&mamlPretrainSteps, .mamlPretrainSteps)
        try read(&mamlOuterSteps, .mamlOuterSteps)
        try read(&mamlOuterClip, .mamlOuterClip)
        mamlProMPLearningRate = try container.decodeIfPresent(Float.self, forKey: .mamlProMPLearningRate)
        try read(&threads, .threads)
    }

    /// The first `count` goals of `seed`'s split that `goals` names: its meta-test goals, or its
    /// validation goals (`GMPSPipeline.validationGoals`, which `evaluate --goals validation` reads).
    public func evaluationGoals(seed: UInt64, count: Int) throws -> [Goal] {
        let gmps = gmps(seed: seed)
        switch goals {
        case .metaTest:
            return try TaskDistribution(gmps.environment).metaSplit(seed: seed, trainCount: gmps.metaTrainTasks, testCount: count).test
        case .validation:
            return try GMPSPipeline.validationGoals(config: gmps, count: count)
        }
    }

    /// The on-policy samples of the default run (or the quick one): its iterations × one
    /// iteration's (tasks × K × horizon).
    public static func defaultBudget(environment: EnvironmentName, quick: Bool) -> Int {
        let config = base(environment, quick: quick)
        return config.iterations * samplesPerIteration(config)
    }

    /// The default run's configuration on `environment`, or the quick one's.
    static func base(_ environment: EnvironmentName, quick: Bool) -> GMPSConfig {
        quick ? .quick(environment) : GMPSConfig(environment: environment)
    }

    /// GMPS's on-policy samples per meta-iteration without DAgger: K exploring rollouts of
    /// each task of the meta-batch per meta-trained step. MAML's are twice one step's
    /// (post-update rollouts too).
    public static func samplesPerIteration(_ config: GMPSConfig) -> Int {
        min(config.tasksPerIteration, config.metaTrainTasks) * config.trajectoriesPerTask * config.environment.horizon
            * config.metaTrainedSteps
    }

    /// GMPS's configuration for `seed`: the default run's (or the quick one's), its iterations
    /// set by the budget. Validation is off: the comparison evaluates its own snapshots.
    public func gmps(seed: UInt64) -> GMPSConfig {
        var config = Self.base(environment, quick: quick)
        if quick {
            // Seconds per method in a debug build: scripted experts, small images.
            config.experts = .scripted
            (config.imageHeight, config.imageWidth) = (24, 32)
        }
        if let experts { config.experts = experts }
        config.reward = reward
        config.seed = seed
        config.threads = threads
        config.validationEvery = 0
        config.iterations = Self.iterations(budget, per: Self.samplesPerIteration(config))
        return config
    }

    /// A MAML method's configuration for `seed`, with `mamlBudgetFactor` × GMPS's budget.
    /// maml-pg (and -pretrained) as `baseline --algo maml-pg` builds it, on GMPS's tasks,
    /// meta-batch, K, image size, noise and seed; maml-promp on every GMPS setting but the
    /// outer objective (`ComparisonMethod.mamlProMP`).
    public func maml(seed: UInt64, method: ComparisonMethod) -> BaselineConfig {
        var gmps = gmps(seed: seed)
        gmps.tasksPerIteration = min(gmps.tasksPerIteration, gmps.metaTrainTasks)
        gmps.daggerStartIteration = nil
        var config = BaselineConfig(algorithm: .mamlPG, gmps: gmps)
        if method.isProMP {
            // The same latents, with the per-step noise MAML's outer policy gradient needs.
            if case let .latentOnly(std) = gmps.exploration { config.gmps.exploration = .perTrajectory(latentStd: std) }
            config.gmps.outerSteps = mamlOuterSteps
            config.outerClip = mamlOuterClip
            // From random parameters GMPS's fine-tuning schedule (1e-4 → 1e-5) would barely move
            // θ in the budget: maml-promp-scratch takes MAML-PG's rate unless one is given.
            let rate = mamlProMPLearningRate ?? (method == .mamlProMPScratch ? mamlLearningRate : nil)
            if let rate { (config.gmps.learningRate, config.gmps.finalLearningRate) = (rate, rate) }
        } else {
            config.gmps.exploration = .perStep
            config.gmps.learningRate = mamlLearningRate
            config.gmps.finalLearningRate = mamlLearningRate
            config.gmps.adaptedParameters = .head
            config.gmps.initialAlpha = mamlAlpha
            config.gmps.initialBiasVectorAlpha = mamlAlpha
            config.gmps.outerSteps = 1
            config.gmps.pretrainSteps = method == .mamlPGPretrained ? mamlPretrainSteps : gmps.pretrainSteps
            config.pretrainInit = method == .mamlPGPretrained
        }
        config.gmps.iterations = Self.iterations(mamlBudget, per: 2 * Self.samplesPerIteration(config.gmps))
        return config
    }

    /// MAML's on-policy sample budget.
    public var mamlBudget: Int { budget * mamlBudgetFactor }

    /// Iterations that spend `budget` at `per` samples each: rounded up, at least one.
    static func iterations(_ budget: Int, per: Int) -> Int {
        max(1, (budget + per - 1) / max(per, 1))
    }

    /// The iterations after which a method of `iterations` is snapshotted and evaluated: 0
    /// (before training), every `iterations / curvePoints`, and the last.
    public func snapshotIterations(of iterations: Int) -> [Int] {
        let every = max(1, iterations / max(curvePoints, 1))
        return Array(Set(Array(stride(from: 0, through: iterations, by: every)) + [iterations])).sorted()
    }

    /// The first setting out of range, as a sentence naming its field, or nil.
    public func problem() -> String? {
        if seeds < 1 { return "seeds must be at least 1; got \(seeds)." }
        if budget < 1 { return "budget must be at least 1 on-policy sample; got \(budget)." }
        if mamlBudgetFactor < 1 { return "mamlBudgetFactor must be at least 1; got \(mamlBudgetFactor)." }
        if let rate = mamlProMPLearningRate, !(rate > 0 && rate < 1) {
            return "mamlProMPLearningRate must be in (0, 1); got \(rate)."
        }
        if mamlOuterSteps < 1 { return "mamlOuterSteps (--maml-promp-outer-steps) must be at least 1; got \(mamlOuterSteps)." }
        if !(mamlOuterClip > 0 && mamlOuterClip < 1) {
            return "mamlOuterClip (--maml-promp-clip) must be in (0, 1); got \(mamlOuterClip)."
        }
        if methods.isEmpty { return "methods must name at least one method." }
        if let method = methods.first(where: \.startsFromGMPS), !methods.contains(.gmps) {
            return "methods: \(method.rawValue) starts from the GMPS run's pre-trained policy; include gmps."
        }
        if curvePoints < 1 || curveGoals < 1 || curveDraws < 1 || finalGoals < 1 || finalDraws < 1 {
            return "curvePoints, curveGoals, curveDraws, finalGoals and finalDraws must be at least 1."
        }
        if !(1...10).contains(finalAdaptationSteps) { return "finalAdaptationSteps must be in 1...10; got \(finalAdaptationSteps)." }
        if case .folder(let path) = experts {
            return "experts: a comparison trains each seed on its own goals, so it takes scripted or sac, not a folder (\(path))."
        }
        if let problem = gmps(seed: 1).problem() { return problem }
        for method in methods where method.isMAML {
            if let problem = maml(seed: 1, method: method).problem() { return problem }
        }
        return nil
    }
}
