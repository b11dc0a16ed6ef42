import ConvNet
import Foundation
import Testing
import VisionEnvs
@testable import GMPSVision

/// The inner step as meta-test takes it: from reward alone, with the latent's spread as the
/// formulas say, and, on a tiny problem, better after than before.
struct AdaptationTests {
    static let (height, width) = (24, 32)

    static func policy() throws -> MetaPolicy {
        try MetaPolicy(spec: .visionPolicy(imageHeight: height, imageWidth: width, initialStd: 0.3))
    }

    static func worker(_ policy: MetaPolicy, _ environment: EnvironmentName, trajectories: Int) throws -> RolloutWorker {
        try RolloutWorker(policy: policy, environment: environment, imageHeight: height, imageWidth: width,
                          maxTrajectories: trajectories)
    }

    /// `biasVectorLength` is the latent's length in the policy every stage builds: each element
    /// costs one θ slot and a column of the first hidden layer (100 units), and only those
    /// elements adapt under bias-vector adaptation.
    @Test func theBiasVectorLengthIsThePolicysLatentLength() throws {
        var config = GMPSConfig(environment: .push)
        (config.imageHeight, config.imageWidth) = (Self.height, Self.width)
        let four = try MetaPolicy(config: config)
        config.biasVectorLength = 2
        let two = try MetaPolicy(config: config)
        #expect(four.biasVectorCount == 4 && two.biasVectorCount == 2)
        #expect(four.parameterCount - two.parameterCount == 2 * (1 + 100))
        #expect(two.alphaMask(.biasVector).reduce(0, +) == 2)
        config.biasVectorLength = 0
        #expect(config.invalidSetting()?.field == "biasVectorLength")
    }

    // MARK: Reward alone

    @Test func twoGoalsWhoseRolloutsEarnTheSameRewardsAdaptAlike() throws {
        let policy = try Self.policy()
        let worker = try Self.worker(policy, .reach, trajectories: 4)
        let goals = try TaskDistribution(.reach).metaSplit(seed: 1, trainCount: 2, testCount: 0).train
        let theta = policy.network.initialParameters(seed: 3)
        func collect(_ goal: Goal) throws -> TaskRollouts {
            var rng = SeededGenerator(seed: 9)
            return try worker.collect(goal: goal, parameters: theta, exploration: .perTrajectory(latentStd: 1),
                                      trajectories: 4, using: &rng)
        }
        let first = try collect(goals[0])
        var second = try collect(goals[1])
        // The goal is not in the pixels and the seed is the same: the rollouts look alike, and
        // only what the environment knows (rewards, states, successes) differs.
        #expect(first.headInputs == second.headInputs && first.actions == second.actions)
        #expect(first.latents == second.latents && first.logProbabilities == second.logProbabilities)
        #expect(first.rewards != second.rewards && first.states != second.states)

        var config = GMPSConfig()
        config.adaptedParameters = .head
        let alpha = try MetaTrainerState(policy: policy, config: config).alpha
        let inner = InnerStep(policy: policy, latentStd: 1)
        let workspace = policy.head.makeWorkspace(maxBatch: 4 * EnvironmentName.reach.horizon)
        func adapted(_ rollouts: TaskRollouts) throws -> [Float] {
            try inner.adapt(theta: theta, alpha: alpha, data: rollouts.innerStepData(policy: policy, discount: 0.99),
                            workspace: workspace).phi
        }
        let own = try adapted(second)
        second.rewards = first.rewards
        let sameRewards = try adapted(second) == adapted(first)
        #expect(sameRewards, "identical rewards give identical adapted parameters, whatever the goal")
        #expect(try own != adapted(first), "the goals' own rewards adapt them differently")
    }

    /// `latent-only` draws the same latents as per-trajectory exploration from the same stream
    /// and then acts with each rollout's mean action: every action's log-density is the
    /// Gaussian's at its mean, so a rollout is its latent's alone, and the adaptation schedule
    /// keeps the kind while it shrinks σ_z. Adapting the head under it is refused.
    @Test func latentOnlyExplorationDrawsTheLatentsAndActsWithMeanActions() throws {
        let policy = try Self.policy()
        let worker = try Self.worker(policy, .push, trajectories: 3)
        let goal = try TaskDistribution(.push).metaSplit(seed: 1, trainCount: 1, testCount: 0).train[0]
        let theta = policy.network.initialParameters(seed: 4)
        func collect(_ exploration: Exploration) throws -> TaskRollouts {
            var rng = SeededGenerator(seed: 11)
            return try worker.collect(goal: goal, parameters: theta, exploration: exploration, trajectories: 3, using: &rng)
        }
        let probing = try collect(.latentOnly(latentStd: 0.7)), noisy = try collect(.perTrajectory(latentStd: 0.7))
        #expect(probing.latents == noisy.latents, "the same latents, drawn first from the same stream")
        let logStd = policy.policy.logStd(theta)
        let atTheMean = -logStd.reduce(0, +) - 0.5 * Float(logStd.count) * logf(2 * .pi)
        for value in probing.logProbabilities { #expect(abs(value - atTheMean) <= 1e-4, "an action at its mean") }
        #expect(noisy.logProbabilities.contains { abs($0 - atTheMean) > 1e-2 }, "per-trajectory adds per-step noise")
        let repeated = try collect(.latentOnly(latentStd: 0.7))
        #expect(repeated.actions == probing.actions && repeated.rewards == probing.rewards)

        let schedule = AdaptationSchedule(decay: 0.5)
        let settings = schedule.settings(step: 1, exploration: .latentOnly(latentStd: 1), inner: InnerStep(policy: policy, latentStd: 1),
                                         alpha: [Float](repeating: 1, count: policy.tailCount), biasVectorCount: policy.biasVectorCount)
        #expect(settings.exploration == .latentOnly(latentStd: 0.5))

        var config = GMPSConfig(environment: .push)
        config.exploration = .latentOnly(latentStd: 1)
        #expect(config.invalidSetting() == nil)
        config.adaptedParameters = .head
        #expect(config.invalidSetting()?.field == "exploration")
    }

    // MARK: The latent's spread

    @Test func laterStepsShrinkTheLatentSpreadAsTheFormulaSays() throws {
        // Step k: σ_z · s and the bias vector's α · s², s = max(d^k, ε), computed here in Double.
        let policy = try Self.policy()
        let (sigma, decay) = (0.8, 0.6)
        var evaluator = MetaTestEvaluator(policy: policy, inner: InnerStep(policy: policy, latentStd: Float(sigma)),
                                          exploration: .perTrajectory(latentStd: Float(sigma)), trajectories: 4,
                                          adaptationSteps: 3)
        evaluator.latentDecay = Float(decay)
        let b = policy.biasVectorCount
        let alpha: [Float] = (0..<policy.tailCount).map { (j: Int) -> Float in
            j < b ? 1.5 - 0.25 * Float(j) : 0.05 + 0.001 * Float(j % 7)
        }
        for step in [0, 1, 3, 40] {
            let scale = max(pow(decay, Double(step)), Double(Float.ulpOfOne))
            let settings = evaluator.settings(step: step, alpha: alpha)
            let spread = try #require(settings.exploration.latentStd)
            #expect(abs(Double(spread) - sigma * scale) <= 1e-6 * sigma * scale, "step \(step): σ_z")
            #expect(settings.inner.latentStd == spread, "rollouts and the inner step use the same σ_z")
            for j in 0..<b {
                let expected = Double(alpha[j]) * scale * scale
                #expect(abs(Double(settings.alpha[j]) - expected) <= 1e-5 * expected, "step \(step): α of bias entry \(j)")
            }
            #expect(settings.alpha[b...] == alpha[b...], "the rest of α does not decay")
        }
        evaluator.latentDecay = 1
        #expect(evaluator.settings(step: 2, alpha: alpha).alpha == alpha)
        // A scale meta-training learned for step 1 replaces d there; step 2 goes on from it.
        evaluator.latentScales = [0.7]
        for (step, scale) in [(1, 0.7), (2, 0.7)] {
            let settings = evaluator.settings(step: step, alpha: alpha)
            #expect(abs(Double(settings.exploration.latentStd ?? 0) - sigma * scale) <= 1e-6, "step \(step): σ_z")
            #expect(abs(Double(settings.alpha[0]) - Double(alpha[0]) * scale * scale) <= 1e-5, "step \(step): α")
        }
    }

    @Test func theBiasVectorStepIsTheReturnWeightedMeanOffsetOfTheProbes() throws {
        // With α = σ_z² on the bias vector: μ' = μ + Σ_τ w_τ A_τ (z_τ − μ) / K, with
        // w_τ = min(N(z_τ; μ, σ_z²) / N(z_τ; μ0, σ_z²), clip): here in Double, by hand.
        let policy = try MetaPolicy(spec: .smallVisionPolicy)
        let sigma = 0.5, clip = 1.3
        let mu = [0.2, -0.1], behaviourMean = [0.1, 0.05]
        let latents = [[0.6, 0.3], [-0.4, 0.2], [0.1, -0.7]]
        let advantages = [1.2, -0.3, -0.9]
        var theta = policy.network.initialParameters(seed: 2)
        theta[policy.tailStart] = Float(mu[0])
        theta[policy.tailStart + 1] = Float(mu[1])
        let t = 2, n = 3 * t
        var rng = SeededGenerator(seed: 6)
        let data = InnerStepData(
            headInputs: (0..<(n * policy.headInputCount)).map { _ in rng.nextGaussian() },
            actions: (0..<(n * 3)).map { _ in rng.nextGaussian() }, behaviourLogProbabilities: [Float](repeating: -3, count: n),
            advantages: (0..<n).map { _ in rng.nextGaussian() }, trajectoryLength: t,
            latents: latents.flatMap { $0.map(Float.init) }, behaviourLatentMean: behaviourMean.map(Float.init),
            trajectoryAdvantages: advantages.map(Float.init))
        var alpha = [Float](repeating: 0, count: policy.tailCount)
        alpha[0] = Float(sigma * sigma)
        alpha[1] = Float(sigma * sigma)
        let inner = InnerStep(policy: policy, importanceWeightClip: Float(clip), latentStd: Float(sigma))
        let phi = try inner.adapt(theta: theta, alpha: alpha, data: data,
                                  workspace: policy.head.makeWorkspace(maxBatch: n)).phi

        func logDensity(_ z: [Double], _ mean: [Double]) -> Double {
            zip(z, mean).reduce(0) { $0 - 0.5 * pow(($1.0 - $1.1) / sigma, 2) }
        }
        var expected = mu
        var weights: [Double] = []
        for (z, advantage) in zip(latents, advantages) {
            let w = min(exp(logDensity(z, mu) - logDensity(z, behaviourMean)), clip)
            weights.append(w)
            for j in 0..<2 { expected[j] += w * advantage * (z[j] - mu[j]) / 3 }
        }
        #expect(weights.contains(clip) && weights.contains { $0 < clip && abs($0 - 1) > 0.05 },
                "one weight clipped, the others away from 1: \(weights)")
        for j in 0..<2 {
            #expect(abs(Double(phi[policy.tailStart + j]) - expected[j]) < 1e-6, "bias entry \(j): \(phi[policy.tailStart + j]) vs \(expected[j])")
        }
        #expect(phi[(policy.tailStart + 2)...] == theta[(policy.tailStart + 2)...], "α = 0 elsewhere: nothing else moves")
    }

    // MARK: End to end

    /// A reach policy whose mean action is its bias vector's first three entries (the head passes
    /// them through ReLU pairs; everything else is zero): goal-blind before adaptation, so only
    /// the reward-weighted probes can point it at the goal.
    static func biasDrivenReachPolicy(_ policy: MetaPolicy) throws -> [Float] {
        var tail = [Float](repeating: 0, count: policy.tailCount)
        let layout = policy.head.layout
        let e = policy.headInputCount, d0 = e + policy.biasVectorCount
        func offset(_ name: String) throws -> Int { try #require(layout.tensor(named: name)).offset }
        let (w0, w1, w2, logStd) = (try offset("fc0.weight"), try offset("fc1.weight"), try offset("fc2.weight"),
                                    try offset("log_std"))
        for k in 0..<3 {
            tail[w0 + k * d0 + e + k] = 1            // h0_k = relu(b_k)
            tail[w0 + (3 + k) * d0 + e + k] = -1     // h0_{3+k} = relu(−b_k)
            tail[w1 + k * 100 + k] = 1
            tail[w1 + (3 + k) * 100 + 3 + k] = 1
            tail[w2 + k * 100 + k] = 1               // μ_k = h1_k − h1_{3+k} = b_k
            tail[w2 + k * 100 + 3 + k] = -1
            tail[logStd + k] = logf(0.05)
        }
        return policy.replacingTail(of: policy.network.initialParameters(seed: 1), with: tail)
    }

    @Test func onATinyProblemTheAdaptedPolicyBeatsThePreUpdatePolicy() throws {
        let policy = try Self.policy()
        let k = 10
        let worker = try Self.worker(policy, .reach, trajectories: k)
        let theta = try Self.biasDrivenReachPolicy(policy)
        let sigma: Float = 0.5
        var alpha = [Float](repeating: 0, count: policy.tailCount)
        for j in 0..<policy.biasVectorCount { alpha[j] = sigma * sigma }
        let evaluator = MetaTestEvaluator(policy: policy, inner: InnerStep(policy: policy, latentStd: sigma),
                                          exploration: .perTrajectory(latentStd: sigma), trajectories: k, adaptationSteps: 1)
        let goals = try TaskDistribution(.reach).metaSplit(seed: 4, trainCount: 3, testCount: 0).train
        var rng = SeededGenerator(seed: 12)
        for goal in goals {
            let phi = try #require(try evaluator.adapt(goal: goal, theta: theta, alpha: alpha, worker: worker,
                                                       headWorkspace: policy.head.makeWorkspace(maxBatch: k * EnvironmentName.reach.horizon),
                                                       using: &rng).steps.last)
            let pre = try worker.collect(goal: goal, parameters: theta, exploration: .none, trajectories: 1, using: &rng)
            let post = try worker.collect(goal: goal, parameters: phi, exploration: .none, trajectories: 1, using: &rng)
            print("goal \(goal.coordinates): return \(pre.averageReturn) → \(post.averageReturn), final distance \(pre.firstFinalDistance) → \(post.firstFinalDistance)")
            #expect(post.averageReturn > pre.averageReturn + 1, "adaptation from reward alone moves the hand towards the goal")
            #expect(post.firstFinalDistance < pre.firstFinalDistance)
        }
    }
}
