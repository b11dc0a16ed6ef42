import Foundation
/// Soft Actor-Critic hyperparameters (Haarnoja et al. 2018, "SAC: Algorithms and
/// Applications"), one field per knob, with defaults that train the push, reach and door
/// experts from privileged state on a CPU. Written into every expert folder.
///
/// Networks are small (two hidden layers of 64) because an update is the cost that matters on
/// a 2-core machine: a 64-wide MLP at batch 128 keeps one SAC update near a millisecond.
public struct SACConfig: Codable, Equatable, Sendable {
    /// Hidden layer widths of the actor and of each critic.
    public var hidden: [Int] = [64, 64]
    /// Transitions per gradient step.
    public var batchSize: Int = 128
    /// Transitions the replay buffer keeps (oldest overwritten first).
    public var replayCapacity: Int = 200_000
    /// Discount factor γ.
    public var discount: Float = 0.99
    /// Polyak factor τ: target ← (1 − τ)·target + τ·online after every update.
    public var polyak: Float = 0.005
    /// Adam learning rate of the actor.
    public var actorLearningRate: Float = 1e-3
    /// Adam learning rate of the twin critics.
    public var criticLearningRate: Float = 1e-3
    /// Adam learning rate of log α (the entropy temperature).
    public var temperatureLearningRate: Float = 1e-3
    /// Initial entropy temperature α.
    public var initialTemperature: Float = 0.1
    /// Target entropy of the squashed policy; nil: −(action dimensions) (derived).
    public var targetEntropy: Float? = nil
    /// Environment steps with uniform random actions before the actor acts.
    public var randomSteps: Int = 2_000
    /// Environment steps before the first update.
    public var updateAfter: Int = 1_000
    /// Gradient updates per environment step once updating.
    public var updatesPerStep: Int = 1
    /// Multiplies every reward before it enters the buffer (nil: the environment's default).
    public var rewardScale: Float? = nil
    /// Gradients with a larger global L2 norm are scaled down to it (actor and critics).
    public var maxGradientNorm: Float? = 10
    /// Standard deviation of Gaussian noise added to the executed action in training rollouts
    /// (the buffer stores the executed action). 0: the actor's own sampling only. Demonstrations
    /// are collected with σ 0.3 on the executed action, so the expert trains under the same
    /// perturbation and learns to recover from it: on 10 push tasks (60,000 steps each, seed 1)
    /// success under that noise rose from 0.78 to 0.90, clean success 1.0 both ways.
    public var actionNoiseStd: Float = 0.3
    /// Control cost c: the expert learns from r − c·‖a‖² (a the executed action), a quadratic
    /// action penalty as in Gym's MuJoCo tasks, so that among behaviours that solve the task it
    /// prefers small, smooth actions, which a pixel policy can imitate. Curves, evaluations and
    /// success report the environment's own reward. In the environment's reward units, before
    /// `rewardScale`. Off by default: on 8 push tasks (40,000 steps, seed 1) the labels' mean
    /// step-to-step change went 0.153 (cost 0) → 0.139 (0.1), 0.140 (0.5), 0.099 (2), 0.064 (5),
    /// the scripted controller's 0.061, while success under σ 0.3 noise fell 0.86 → 0.80, 0.60,
    /// 0.68, 0.45 and clean success from 1.0 to 0.875 (2) and 0.625 (5).
    public var actionCost: Float = 0
    /// Hindsight relabels per step (HER's k, "future" strategy): after each episode, every
    /// transition is stored again this many times with the goal replaced by one the episode
    /// achieved later and the reward recomputed for it (`HindsightRelabelling`). For
    /// goal-conditioned experts, which see the goal; 0: off (HER's paper used 4). Per-task
    /// experts see their goal too: on sparse push (8 tasks, 40,000 steps, seed 1) 4 relabels
    /// solved 4 of 8 tasks (noisy success 0.24) against 1 of 8 (0.13) without. On dense push,
    /// goal-conditioned, 200,000 steps: 0.77 clean success against 0.75 (GMPSConfig.experts).
    public var hindsightRelabels = 0
    /// Environment steps between evaluations (a learning-curve row).
    public var evaluateEvery: Int = 2_000
    /// Episodes per evaluation task run with the deterministic action plus Gaussian noise of
    /// `evaluationNoiseStd`, besides the clean episode: demonstrations are collected with
    /// noise, so among checkpoints that succeed on the clean path the one that also succeeds
    /// under noise is kept (see `SACTrainingResult.bestActorParameters`).
    public var noisyEvaluationEpisodes: Int = 8
    /// σ of the noisy evaluation episodes (the demos' default noise).
    public var evaluationNoiseStd: Float = 0.3
    /// Stop early after this many consecutive solved evaluations (0: always use the whole budget).
    public var stopAfterSolvedEvaluations: Int = 2
    /// An evaluation is solved when every clean episode succeeds and at least this share of the
    /// noisy ones do. Below 1 because a push under σ 0.3 noise sometimes fails whatever the
    /// expert does: demanding every noisy episode kept most experts training to the budget.
    public var solvedNoisySuccess: Float = 0.875
    /// Bounds of the actor's log standard deviation (squashed into them with tanh).
    public var logStdMin: Float = -5
    public var logStdMax: Float = 2

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case hidden, batchSize, replayCapacity, discount, polyak, actorLearningRate, criticLearningRate
        case temperatureLearningRate, initialTemperature, targetEntropy, randomSteps, updateAfter, updatesPerStep
        case rewardScale, maxGradientNorm, actionNoiseStd, actionCost, hindsightRelabels, evaluateEvery, noisyEvaluationEpisodes, evaluationNoiseStd
        case stopAfterSolvedEvaluations, solvedNoisySuccess, logStdMin, logStdMax
    }

    /// Decodes every field, with `solvedNoisySuccess` as 1 (every episode, as it was),
    /// `actionCost` and `hindsightRelabels` as 0 in expert folders written before they existed.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        hidden = try c.decode([Int].self, forKey: .hidden)
        batchSize = try c.decode(Int.self, forKey: .batchSize)
        replayCapacity = try c.decode(Int.self, forKey: .replayCapacity)
        discount = try c.decode(Float.self, forKey: .discount)
        polyak = try c.decode(Float.self, forKey: .polyak)
        actorLearningRate = try c.decode(Float.self, forKey: .actorLearningRate)
        criticLearningRate = try c.decode(Float.self, forKey: .criticLearningRate)
        temperatureLearningRate = try c.decode(Float.self, forKey: .temperatureLearningRate)
        initialTemperature = try c.decode(Float.self, forKey: .initialTemperature)
        targetEntropy = try c.decodeIfPresent(Float.self, forKey: .targetEntropy)
        randomSteps = try c.decode(Int.self, forKey: .randomSteps)
        updateAfter = try c.decode(Int.self, forKey: .updateAfter)
        updatesPerStep = try c.decode(Int.self, forKey: .updatesPerStep)
        rewardScale = try c.decodeIfPresent(Float.self, forKey: .rewardScale)
        maxGradientNorm = try c.decodeIfPresent(Float.self, forKey: .maxGradientNorm)
        actionNoiseStd = try c.decode(Float.self, forKey: .actionNoiseStd)
        actionCost = try c.decodeIfPresent(Float.self, forKey: .actionCost) ?? 0
        hindsightRelabels = try c.decodeIfPresent(Int.self, forKey: .hindsightRelabels) ?? 0
        evaluateEvery = try c.decode(Int.self, forKey: .evaluateEvery)
        noisyEvaluationEpisodes = try c.decode(Int.self, forKey: .noisyEvaluationEpisodes)
        evaluationNoiseStd = try c.decode(Float.self, forKey: .evaluationNoiseStd)
        stopAfterSolvedEvaluations = try c.decode(Int.self, forKey: .stopAfterSolvedEvaluations)
        solvedNoisySuccess = try c.decodeIfPresent(Float.self, forKey: .solvedNoisySuccess) ?? 1
        logStdMin = try c.decode(Float.self, forKey: .logStdMin)
        logStdMax = try c.decode(Float.self, forKey: .logStdMax)
    }

    /// This configuration with the fields a JSON object names changed: a partial `SACConfig`,
    /// as `experts --sac FILE` reads it (`{"hidden": [128, 128], "batchSize": 256}`). A field
    /// that does not exist, a value of the wrong type or one that cannot work is refused by name.
    public func changing(json data: Data) throws -> SACConfig {
        guard let changes = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ExpertError.invalidConfiguration("the SAC settings must be one JSON object, such as {\"batchSize\": 256}")
        }
        let encoder = JSONEncoder()
        guard var fields = try JSONSerialization.jsonObject(with: encoder.encode(self)) as? [String: Any] else {
            throw ExpertError.invalidConfiguration("the SAC settings could not be encoded")
        }
        let known = Set(CodingKeys.allCases.map(\.stringValue))
        if let unknown = changes.keys.sorted().first(where: { !known.contains($0) }) {
            throw ExpertError.invalidConfiguration(
                "there is no SAC setting \"\(unknown)\" (the settings: \(known.sorted().joined(separator: ", ")))")
        }
        fields.merge(changes) { _, new in new }
        let changed: SACConfig
        do {
            changed = try JSONDecoder().decode(SACConfig.self, from: JSONSerialization.data(withJSONObject: fields))
        } catch {
            throw ExpertError.invalidConfiguration("a SAC setting has a value of the wrong type (\(error))")
        }
        if let problem = changed.problem { throw ExpertError.invalidConfiguration(problem) }
        return changed
    }

    /// The target entropy in use: `targetEntropy`, or −(action dimensions).
    public func resolvedTargetEntropy(actionDimension: Int) -> Float {
        targetEntropy ?? -Float(actionDimension)
    }

    /// A sentence naming the first bad field, or nil.
    public var problem: String? {
        if hidden.isEmpty || hidden.contains(where: { $0 <= 0 }) { return "hidden layer widths must be positive, got \(hidden)" }
        if batchSize < 1 { return "batchSize must be at least 1, got \(batchSize)" }
        if replayCapacity < batchSize { return "replayCapacity (\(replayCapacity)) must be at least batchSize (\(batchSize))" }
        if !(0...1).contains(discount) { return "discount must be in [0, 1], got \(discount)" }
        if !(0...1).contains(polyak) { return "polyak must be in [0, 1], got \(polyak)" }
        for (name, lr) in [("actorLearningRate", actorLearningRate), ("criticLearningRate", criticLearningRate),
                           ("temperatureLearningRate", temperatureLearningRate)] where !(lr > 0 && lr.isFinite) {
            return "\(name) must be a positive number, got \(lr)"
        }
        if !(initialTemperature > 0 && initialTemperature.isFinite) { return "initialTemperature must be positive, got \(initialTemperature)" }
        if !(0...64).contains(hindsightRelabels) { return "hindsightRelabels must be between 0 and 64, got \(hindsightRelabels)" }
        if !(actionCost >= 0 && actionCost.isFinite) { return "actionCost must be zero or positive, got \(actionCost)" }
        if randomSteps < 0 || updateAfter < 0 || updatesPerStep < 0 { return "randomSteps, updateAfter and updatesPerStep must not be negative" }
        if !(actionNoiseStd >= 0 && evaluationNoiseStd >= 0) { return "noise standard deviations must not be negative" }
        if noisyEvaluationEpisodes < 0 { return "noisyEvaluationEpisodes must not be negative" }
        if evaluateEvery < 1 { return "evaluateEvery must be at least 1, got \(evaluateEvery)" }
        if stopAfterSolvedEvaluations < 0 { return "stopAfterSolvedEvaluations must not be negative" }
        if !(0...1).contains(solvedNoisySuccess) { return "solvedNoisySuccess must be in [0, 1], got \(solvedNoisySuccess)" }
        if !(logStdMin < logStdMax) { return "logStdMin (\(logStdMin)) must be below logStdMax (\(logStdMax))" }
        return nil
    }
}
