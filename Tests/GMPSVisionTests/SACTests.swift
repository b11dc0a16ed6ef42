import ConvNet
import Foundation
import Testing
@testable import GMPSVision

struct SACTests {
    @Test func sacImprovesThePointMassReturnWithinSeconds() throws {
        let env = PointMass()
        let clock = Date()
        let result = try SACTraining.train(environment: env, config: smallSACConfig(), rewardScale: 1,
                                           budget: 2_400, seed: 3)
        let first = try #require(result.curve.first), best = result.bestEvaluation
        print("point mass: first eval return \(first.evalReturn), best \(best.meanReturn) success \(best.successRate), "
              + "\(result.curve.count) rows, \(Date().timeIntervalSince(clock)) s")
        // Random-ish start: about −10 over 20 steps; reaching the goal quickly gives about −2.5.
        #expect(best.meanReturn > first.evalReturn + 3)
        #expect(best.successRate == 1)
        #expect(result.envSteps == 2_400)
    }

    @Test func sameSeedGivesTheSameExpertBytes() throws {
        var config = smallSACConfig()
        config.randomSteps = 100; config.updateAfter = 100; config.evaluateEvery = 200
        let a = try SACTraining.train(environment: PointMass(), config: config, rewardScale: 1, budget: 300, seed: 9)
        let b = try SACTraining.train(environment: PointMass(), config: config, rewardScale: 1, budget: 300, seed: 9)
        let c = try SACTraining.train(environment: PointMass(), config: config, rewardScale: 1, budget: 300, seed: 10)
        #expect(a.learner.actorParameters == b.learner.actorParameters)
        #expect(a.curve.map(\.evalReturn) == b.curve.map(\.evalReturn))
        #expect(a.learner.actorParameters != c.learner.actorParameters)
    }

    /// Training stops after `stopAfterSolvedEvaluations` solved evaluations in a row, where
    /// solved asks every clean episode and `solvedNoisySuccess` of the noisy ones to succeed.
    @Test func trainingStopsOnceSolvedWithTheNoisyShareItAsksFor() throws {
        var config = smallSACConfig()
        config.stopAfterSolvedEvaluations = 2
        config.noisyEvaluationEpisodes = 4
        // Noise this large (σ 5 on actions clipped to ±1) fails nearly every noisy episode.
        config.evaluationNoiseStd = 5
        config.solvedNoisySuccess = 0
        let lenient = try SACTraining.train(environment: PointMass(), config: config, rewardScale: 1, budget: 4_000, seed: 3)
        config.solvedNoisySuccess = 1
        let strict = try SACTraining.train(environment: PointMass(), config: config, rewardScale: 1, budget: 4_000, seed: 3)
        #expect(lenient.envSteps < 4_000)
        let lastTwo = lenient.curve.suffix(2)
        #expect(lastTwo.count == 2 && lastTwo.allSatisfy { $0.evalSuccess == 1 })
        #expect(strict.envSteps == 4_000)
        #expect(strict.curve.contains { $0.evalNoisySuccess < 1 })
    }

    /// Expert folders written before `solvedNoisySuccess` existed load, with the rule they were
    /// trained under (every noisy episode); a current configuration round-trips.
    @Test func configurationsWithoutTheSolvedShareDecodeAsEveryEpisode() throws {
        var config = SACConfig()
        config.solvedNoisySuccess = 0.5
        let data = try JSONEncoder().encode(config)
        #expect(try JSONDecoder().decode(SACConfig.self, from: data) == config)
        var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        object.removeValue(forKey: "solvedNoisySuccess")
        let old = try JSONDecoder().decode(SACConfig.self, from: try JSONSerialization.data(withJSONObject: object))
        #expect(old.solvedNoisySuccess == 1)
        #expect(old.actionNoiseStd == config.actionNoiseStd && old.hidden == config.hidden)
    }

    /// The control cost enters the reward the critics learn from as r − c·‖a‖² of the executed
    /// action: the same learner as one trained without it on an environment that pays that reward.
    @Test func theActionCostIsTheSameAsAnEnvironmentThatChargesIt() throws {
        var config = smallSACConfig()
        config.randomSteps = 100; config.updateAfter = 100; config.evaluateEvery = 200
        config.actionCost = 0.7
        let charged = try SACTraining.train(environment: PointMass(), config: config, rewardScale: 2, budget: 400, seed: 9)
        config.actionCost = 0
        let free = try SACTraining.train(environment: PointMass(), config: config, rewardScale: 2, budget: 400, seed: 9)
        let paying = try SACTraining.train(environment: ChargingPointMass(cost: 0.7), config: config, rewardScale: 2,
                                           budget: 400, seed: 9)
        #expect(charged.learner.actorParameters == paying.learner.actorParameters)
        #expect(charged.learner.actorParameters != free.learner.actorParameters)
        // Curves report the environment's own reward: the same episodes, without the charge.
        let returns = zip(charged.curve.map(\.evalReturn), paying.curve.map(\.evalReturn))
        #expect(!charged.curve.isEmpty && returns.allSatisfy { $0 >= $1 } && returns.contains { $0 > $1 })
        let old = try JSONDecoder().decode(SACConfig.self, from: try JSONSerialization.data(withJSONObject:
            (try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(SACConfig())) as? [String: Any]))
                .filter { $0.key != "actionCost" }))
        #expect(old.actionCost == 0, "expert folders written before the cost existed trained without it")
        config.actionCost = -1
        #expect(config.problem?.contains("actionCost") == true)
    }

    /// `experts --sac FILE`: the fields a JSON object names change, every other keeps its
    /// default; unknown names, wrong types and settings that cannot work are refused by name.
    @Test func partialSettingsChangeOnlyTheFieldsTheyName() throws {
        let defaults = SACConfig()
        let changed = try defaults.changing(json: Data(#"{"hidden": [128, 32], "batchSize": 256, "targetEntropy": -2}"#.utf8))
        var expected = defaults
        expected.hidden = [128, 32]; expected.batchSize = 256; expected.targetEntropy = -2
        #expect(changed == expected)
        #expect(try defaults.changing(json: Data("{}".utf8)) == defaults)

        func refusal(_ json: String) -> String {
            do { _ = try defaults.changing(json: Data(json.utf8)); return "" } catch { return "\(error)" }
        }
        #expect(refusal(#"{"hiden": [128]}"#).contains("no SAC setting \"hiden\""))
        #expect(refusal(#"{"batchSize": "big"}"#).contains("wrong type"))
        #expect(refusal(#"{"discount": 1.5}"#).contains("discount must be in [0, 1]"))
        #expect(refusal("[1, 2]").contains("one JSON object"))
    }

    /// With two threads the twin critics run side by side on a one-thread copy of the critic;
    /// the updates must give the same bits as one thread (the experts' bytes depend on it).
    @Test func twoThreadUpdatesAreBitIdenticalToOneThread() throws {
        var config = smallSACConfig()
        config.batchSize = 16
        let learners = try [1, 2].map { try SACLearner(config: config, stateDimension: 4, actionDimension: 2, seed: 7, threads: $0) }
        var buffer = ReplayBuffer(capacity: 100, stateDimension: 4, actionDimension: 2)
        var rng = SeededGenerator(seed: 8)
        for _ in 0..<100 {
            buffer.append(state: (0..<4).map { _ in rng.nextGaussian() }, action: (0..<2).map { _ in rng.nextUniformFloat() * 2 - 1 },
                          reward: rng.nextGaussian(), nextState: (0..<4).map { _ in rng.nextGaussian() })
        }
        let batches = (0..<5).map { _ in buffer.sample(16, using: &rng) }
        for k in learners.indices {
            var updateRNG = SeededGenerator(seed: 9)
            for batch in batches { try learners[k].update(batch, using: &updateRNG) }
        }
        #expect(learners[0].actorParameters == learners[1].actorParameters)
        #expect(learners[0].criticParameters == learners[1].criticParameters)
        #expect(learners[0].targetParameters == learners[1].targetParameters)
        #expect(learners[0].logTemperature == learners[1].logTemperature)
    }

    @Test func targetCriticsFollowTheOnlineCriticsByPolyakAveraging() throws {
        var config = smallSACConfig()
        config.polyak = 0.25
        let learner = try SACLearner(config: config, stateDimension: 4, actionDimension: 2, seed: 1)
        #expect(learner.targetParameters == learner.criticParameters)
        var buffer = ReplayBuffer(capacity: 100, stateDimension: 4, actionDimension: 2)
        var rng = SeededGenerator(seed: 2)
        for _ in 0..<100 {
            let s = (0..<4).map { _ in rng.nextGaussian() }, a = (0..<2).map { _ in rng.nextUniformFloat() * 2 - 1 }
            buffer.append(state: s, action: a, reward: rng.nextGaussian(), nextState: s)
        }
        let targetsBefore = learner.targetParameters
        try learner.update(buffer.sample(64, using: &rng), using: &rng)
        let online = learner.criticParameters, targets = learner.targetParameters
        #expect(online[0] != targetsBefore[0])
        for k in 0..<2 {
            let expected = zip(targetsBefore[k], online[k]).map { $0 + 0.25 * ($1 - $0) }
            #expect(maxDifference(targets[k], expected) < 1e-6)
        }
        var t: [Float] = [0, 10]
        SACLearner.polyakAverage(&t, toward: [1, 20], rate: 0.5)
        #expect(t == [0.5, 15])
    }

    /// The squashed-Gaussian head's backward against central differences of
    /// Σ_i [w_i log π(a_i) + Σ_j c_ij a_ij] with ε held fixed.
    @Test func squashedGaussianGradientMatchesFiniteDifferences() {
        let head = SquashedGaussian(actionDimension: 2, logStdMin: -5, logStdMax: 2)
        var rng = SeededGenerator(seed: 4)
        let batch = 3
        let outputs = (0..<(batch * 4)).map { _ in rng.nextGaussian() * 0.8 }
        let weights = (0..<batch).map { _ in rng.nextGaussian() }
        let coefficients = (0..<(batch * 2)).map { _ in rng.nextGaussian() }
        func objective(_ out: [Float]) -> Double {
            var r = SeededGenerator(seed: 11)
            let s = head.sample(outputs: out, batch: batch, using: &r)
            var total = 0.0
            for i in 0..<batch {
                total += Double(weights[i] * s.logProbability[i])
                for j in 0..<2 { total += Double(coefficients[i * 2 + j] * s.actions[i * 2 + j]) }
            }
            return total
        }
        var r = SeededGenerator(seed: 11)
        let sample = head.sample(outputs: outputs, batch: batch, using: &r)
        let analytic = head.outputGradient(sample, batch: batch, logProbabilityWeight: weights, actionGradient: coefficients)
        var worst: Float = 0
        for k in outputs.indices {
            var plus = outputs, minus = outputs
            plus[k] += 1e-3; minus[k] -= 1e-3
            let numeric = Float((objective(plus) - objective(minus)) / 2e-3)
            worst = max(worst, abs(numeric - analytic[k]) / max(1, abs(numeric)))
        }
        print("squashed Gaussian gradient: maxdiff \(worst) (tolerance 2e-2)")
        #expect(worst < 2e-2)
    }

    @Test func logOneMinusTanhSquaredIsStableAndExact() {
        for u: Float in [-3, -0.5, 0, 0.7, 2.5] {
            let direct = log(1 - tanh(Double(u)) * tanh(Double(u)))
            #expect(abs(Double(SquashedGaussian.logOneMinusTanhSquared(u)) - direct) < 1e-4)
        }
        #expect(SquashedGaussian.logOneMinusTanhSquared(50).isFinite)
        #expect(SquashedGaussian.logOneMinusTanhSquared(-50).isFinite)
    }
}
