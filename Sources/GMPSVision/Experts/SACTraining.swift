import ConvNet
import Foundation

/// One row of a learning curve, written as CSV next to each expert.
public struct LearningCurveRow: Codable, Equatable, Sendable {
    /// Environment steps taken so far.
    public var envSteps: Int
    /// Training episodes finished so far.
    public var episodes: Int
    /// Mean return and final-step success of the training episodes since the previous row.
    public var trainReturn: Double, trainSuccess: Double
    /// Mean return and success of the deterministic policy over the evaluation tasks, and its
    /// success with noise on the executed actions.
    public var evalReturn: Double, evalSuccess: Double, evalNoisySuccess: Double
    /// Entropy temperature α, mean critic loss and mean Q of the updates since the previous row.
    public var temperature: Double, criticLoss: Double, meanQ: Double
    /// Seconds since training started.
    public var seconds: Double

    public static let csvHeader = "env_steps,episodes,train_return,train_success,eval_return,eval_success,eval_noisy_success,temperature,critic_loss,mean_q,seconds"

    public var csvLine: String {
        func f(_ x: Double) -> String { String(format: "%.6g", x) }
        return "\(envSteps),\(episodes),\(f(trainReturn)),\(f(trainSuccess)),\(f(evalReturn)),\(f(evalSuccess)),\(f(evalNoisySuccess)),"
            + "\(f(temperature)),\(f(criticLoss)),\(f(meanQ)),\(f(seconds))"
    }

    /// The whole curve as CSV text (header and one line per row).
    public static func csv(_ rows: [LearningCurveRow]) -> String {
        ([csvHeader] + rows.map(\.csvLine)).joined(separator: "\n") + "\n"
    }
}

/// How well a deterministic policy did over the evaluation tasks.
public struct Evaluation: Codable, Equatable, Sendable {
    /// Mean undiscounted return of the clean episodes (unscaled rewards).
    public var meanReturn: Double
    /// Share of clean episodes (deterministic actions) that ended in success (at the last step).
    public var successRate: Double
    /// Per evaluation task: whether its clean episode ended in success.
    public var successes: [Bool]
    /// Share of the noisy episodes (actions plus Gaussian noise) that ended in success; 1 without any.
    public var noisySuccessRate: Double
    /// Success over all episodes, clean and noisy: what selects the expert and stops training.
    public var robustSuccessRate: Double
}

/// What `SACTraining.train` hands back.
public struct SACTrainingResult {
    /// The learner at the end of training.
    public var learner: SACLearner
    /// Actor parameters of the best evaluation (highest clean success, then success over clean
    /// and noisy episodes, then return): the expert.
    public var bestActorParameters: [Float]
    /// That evaluation.
    public var bestEvaluation: Evaluation
    public var curve: [LearningCurveRow]
    /// Environment steps used for training (evaluation steps not included).
    public var envSteps: Int
    /// Environment steps the evaluations took.
    public var evaluationSteps: Int
}

extension Evaluation {
    /// Which of two evaluations is better: clean success (what the expert is scored on), then
    /// success over clean and noisy episodes, then return.
    var ranking: (Double, Double, Double) { (successRate, robustSuccessRate, meanReturn) }
}

/// Progress of one training run, reported after each evaluation.
public struct SACProgress: Sendable {
    public var envSteps: Int, budget: Int
    public var evalSuccess: Double, evalReturn: Double
    /// Success over the clean and noisy evaluation episodes.
    public var evalRobustSuccess: Double
}

/// The SAC training loop, one story: seed → explore → store → update → evaluate → log.
public enum SACTraining {
    /// Trains for up to `budget` environment steps (stopping early once solved, see
    /// `SACConfig.stopAfterSolvedEvaluations`). Rewards are multiplied by `rewardScale` in
    /// the buffer only; curves and evaluations report the environment's own rewards.
    public static func train(environment env: any TrainingEnvironment, config: SACConfig, rewardScale: Float,
                             budget: Int, seed: UInt64, threads: Int = 1,
                             progress: ((SACProgress) -> Void)? = nil) throws -> SACTrainingResult {
        guard budget >= 1 else { throw ExpertError.invalidConfiguration("the step budget must be at least 1, got \(budget)") }
        // Seeding: one master seed, one stream per concern.
        let master = SeededGenerator(seed: seed)
        var envRNG = master.split(stream: 1), actRNG = master.split(stream: 2), updateRNG = master.split(stream: 3)
        var evaluationRNG = master.split(stream: 4)
        let learner = try SACLearner(config: config, stateDimension: env.stateDimension, actionDimension: env.actionDimension,
                                     seed: seed &+ 0x5AC, threads: threads)
        // Hindsight relabelling, where asked for and the environment can: its own stream, so
        // that runs without it draw exactly as before.
        let hindsight = config.hindsightRelabels > 0 ? env as? any HindsightRelabelling : nil
        var relabelRNG = master.split(stream: 5)
        var episodeActions: [[Float]] = []
        let stored = budget * (hindsight == nil ? 1 : 1 + config.hindsightRelabels)
        var buffer = ReplayBuffer(capacity: min(config.replayCapacity, max(stored, config.batchSize)),
                                  stateDimension: env.stateDimension, actionDimension: env.actionDimension)
        func charged(_ reward: Float, _ action: [Float]) -> Float {
            let cost = config.actionCost == 0 ? 0 : config.actionCost * action.reduce(0) { $0 + $1 * $1 }
            return (reward - cost) * rewardScale
        }
        let start = Date()
        var curve: [LearningCurveRow] = []
        var best: (parameters: [Float], evaluation: Evaluation)? = nil
        var solvedInARow = 0
        var evaluationSteps = 0
        // Since the previous curve row:
        var returns: [Double] = [], successes: [Double] = []
        var statistics: (loss: Double, q: Double, alpha: Double, n: Int) = (0, 0, 0, 0)

        var state = try env.reset(using: &envRNG)
        var episodeReturn = 0.0, episodeStep = 0, episodes = 0
        var steps = 0
        var nextEvaluation = config.evaluateEvery
        while steps < budget {
            // Rollout: uniform actions first, then the stochastic actor.
            let action: [Float]
            if steps < config.randomSteps {
                action = (0..<env.actionDimension).map { _ in 2 * actRNG.nextUniformFloat() - 1 }
            } else {
                let sampled = try learner.sampleAction(state: state, using: &actRNG)
                action = config.actionNoiseStd == 0 ? sampled
                    : sampled.map { min(max($0 + config.actionNoiseStd * actRNG.nextGaussian(), -1), 1) }
            }
            let (next, reward, success) = try env.step(action)
            buffer.append(state: state, action: action, reward: charged(reward, action), nextState: next)
            steps += 1
            episodeStep += 1
            episodeReturn += Double(reward)
            state = next
            if hindsight != nil { episodeActions.append(action) }
            if episodeStep == env.horizon {
                if let hindsight {
                    for t in hindsight.hindsightTransitions(actions: episodeActions, relabels: config.hindsightRelabels,
                                                            using: &relabelRNG) {
                        buffer.append(state: t.state, action: t.action, reward: charged(t.reward, t.action), nextState: t.nextState)
                    }
                    episodeActions = []
                }
                returns.append(episodeReturn); successes.append(success ? 1 : 0)
                episodes += 1
                episodeReturn = 0; episodeStep = 0
                state = try env.reset(using: &envRNG)
            }

            // Update.
            if steps >= config.updateAfter && buffer.count >= config.batchSize {
                for _ in 0..<config.updatesPerStep {
                    let stats = try learner.update(buffer.sample(config.batchSize, using: &updateRNG), using: &updateRNG)
                    guard stats.criticLoss.isFinite, stats.actorLoss.isFinite, stats.temperature.isFinite else {
                        throw ExpertError.diverged("after \(steps) steps the critic loss is \(stats.criticLoss), the actor loss \(stats.actorLoss)")
                    }
                    statistics.loss += Double(stats.criticLoss); statistics.q += Double(stats.meanQ)
                    statistics.alpha += Double(stats.temperature); statistics.n += 1
                }
            }

            // Evaluate (between episodes) and log.
            if (episodeStep == 0 && steps >= nextEvaluation) || steps == budget {
                while nextEvaluation <= steps { nextEvaluation += config.evaluateEvery }
                let evaluation = try evaluate(env, policy: { try learner.meanAction(state: $0) },
                                              noisyEpisodes: config.noisyEvaluationEpisodes, noiseStd: config.evaluationNoiseStd,
                                              using: &evaluationRNG)
                evaluationSteps += env.evaluationTasks * env.horizon * (1 + config.noisyEvaluationEpisodes)
                // The evaluation used the environment: start a fresh training episode.
                episodeReturn = 0; episodeStep = 0; episodeActions = []
                state = try env.reset(using: &envRNG)
                if best == nil || evaluation.ranking > best!.evaluation.ranking {
                    best = (learner.actorParameters, evaluation)
                }
                let n = Double(max(statistics.n, 1))
                curve.append(LearningCurveRow(
                    envSteps: steps, episodes: episodes,
                    trainReturn: returns.isEmpty ? .nan : returns.reduce(0, +) / Double(returns.count),
                    trainSuccess: successes.isEmpty ? .nan : successes.reduce(0, +) / Double(successes.count),
                    evalReturn: evaluation.meanReturn, evalSuccess: evaluation.successRate,
                    evalNoisySuccess: evaluation.noisySuccessRate,
                    temperature: statistics.n == 0 ? Double(learner.temperature) : statistics.alpha / n,
                    criticLoss: statistics.loss / n, meanQ: statistics.q / n,
                    seconds: Date().timeIntervalSince(start)))
                returns = []; successes = []; statistics = (0, 0, 0, 0)
                progress?(SACProgress(envSteps: steps, budget: budget, evalSuccess: evaluation.successRate,
                                      evalReturn: evaluation.meanReturn, evalRobustSuccess: evaluation.robustSuccessRate))
                let solved = evaluation.successRate == 1 && evaluation.noisySuccessRate >= Double(config.solvedNoisySuccess)
                solvedInARow = solved ? solvedInARow + 1 : 0
                if config.stopAfterSolvedEvaluations > 0 && solvedInARow >= config.stopAfterSolvedEvaluations { break }
            }
        }
        // best is set: the loop evaluates at least once (at steps == budget at the latest).
        let chosen = try best ?? (learner.actorParameters, evaluate(env, policy: { try learner.meanAction(state: $0) },
                                                                    noisyEpisodes: 0, noiseStd: 0, using: &evaluationRNG))
        return SACTrainingResult(learner: learner, bestActorParameters: chosen.parameters, bestEvaluation: chosen.evaluation,
                                 curve: curve, envSteps: steps, evaluationSteps: evaluationSteps)
    }

    /// Runs `policy` (normalised state → action) on each evaluation task: once clean, then
    /// `noisyEpisodes` times with N(0, noiseStd²) added to each action (clipped to [-1, 1]).
    public static func evaluate(_ env: any TrainingEnvironment, policy: ([Float]) throws -> [Float],
                                noisyEpisodes: Int, noiseStd: Float, using rng: inout SeededGenerator) throws -> Evaluation {
        var total = 0.0
        var successes: [Bool] = []
        var noisySuccesses = 0
        for task in 0..<env.evaluationTasks {
            for episode in 0...noisyEpisodes {
                var state = try env.reset(evaluationTask: task)
                var success = false
                var episodeReturn = 0.0
                for _ in 0..<env.horizon {
                    var action = try policy(state)
                    if episode > 0 { action = action.map { min(max($0 + noiseStd * rng.nextGaussian(), -1), 1) } }
                    let result = try env.step(action)
                    episodeReturn += Double(result.reward)
                    success = result.success
                    state = result.state
                }
                if episode == 0 {
                    total += episodeReturn
                    successes.append(success)
                } else if success {
                    noisySuccesses += 1
                }
            }
        }
        let n = Double(max(env.evaluationTasks, 1))
        let clean = successes.filter { $0 }.count
        let noisyCount = Double(env.evaluationTasks * noisyEpisodes)
        return Evaluation(meanReturn: total / n, successRate: Double(clean) / n, successes: successes,
                          noisySuccessRate: noisyEpisodes == 0 ? 1 : Double(noisySuccesses) / noisyCount,
                          robustSuccessRate: Double(clean + noisySuccesses) / (n + noisyCount))
    }
}
