import ConvNet
import Foundation
import VisionEnvs
import Testing
@testable import GMPSVision

/// The GMPS meta-gradient against finite differences of L(θ, α) = BC(θ + α ⊙ ∇Ĵ(θ)) on a
/// small vision network, with the importance-weight coefficients held fixed (they are a
/// stop-gradient in the objective).
struct MetaGradientTests {
    struct Problem {
        var policy: MetaPolicy
        var theta: [Float]
        var alpha: [Float]
        var data: InnerStepData
        var demos: ImitationBatch
    }

    static func makeProblem(latents: Bool, seed: UInt64 = 7) throws -> Problem {
        let policy = try MetaPolicy(spec: .smallVisionPolicy)
        var rng = SeededGenerator(seed: seed)
        let theta = policy.network.initialParameters(seed: seed).map { $0 + 0.05 * rng.nextGaussian() }
        let alpha = (0..<policy.tailCount).map { _ in 0.05 + 0.05 * rng.nextUniformFloat() }
        let (trajectories, steps) = (3, 4)
        let n = trajectories * steps
        func gaussians(_ count: Int, _ scale: Float) -> [Float] { (0..<count).map { _ in scale * rng.nextGaussian() } }
        let data = InnerStepData(
            headInputs: gaussians(n * policy.headInputCount, 1), actions: gaussians(n * 3, 0.8),
            behaviourLogProbabilities: gaussians(n, 0.5).map { $0 - 2.5 }, advantages: gaussians(n, 1),
            trajectoryLength: steps, latents: latents ? gaussians(trajectories * 2, 0.5) : nil,
            behaviourLatentMean: latents ? [0.1, -0.1] : nil,
            trajectoryAdvantages: latents ? gaussians(trajectories, 1) : nil)
        let demos = ImitationBatch(images: (0..<(5 * 3 * 64)).map { _ in rng.nextUniformFloat() },
                                   hands: gaussians(5 * 3, 0.3), actions: gaussians(5 * 3, 0.7), count: 5)
        return Problem(policy: policy, theta: theta, alpha: alpha, data: data, demos: demos)
    }

    func check(latents: Bool) throws {
        let problem = try Self.makeProblem(latents: latents)
        let policy = problem.policy
        let inner = InnerStep(policy: policy, latentStd: latents ? 0.4 : nil)
        let headWorkspace = policy.head.makeWorkspace(maxBatch: 64)
        let workspace = policy.network.makeWorkspace(maxBatch: 8)
        let c = try inner.coefficients(tail: policy.tail(of: problem.theta), data: problem.data, workspace: headWorkspace)
        func loss(_ theta: [Float], _ alpha: [Float]) throws -> Double {
            let objective = MetaObjective(inner: inner, secondOrder: true)
            return Double(try objective.taskGradient(theta: theta, alpha: alpha, data: problem.data, demos: problem.demos,
                                                     coefficients: c, headWorkspace: headWorkspace, workspace: workspace).loss)
        }
        let second = try MetaObjective(inner: inner, secondOrder: true).taskGradient(
            theta: problem.theta, alpha: problem.alpha, data: problem.data, demos: problem.demos, coefficients: c,
            headWorkspace: headWorkspace, workspace: workspace)
        let first = try MetaObjective(inner: inner, secondOrder: false).taskGradient(
            theta: problem.theta, alpha: problem.alpha, data: problem.data, demos: problem.demos, coefficients: c,
            headWorkspace: headWorkspace, workspace: workspace)

        // Every tail parameter and α, and a spread of encoder parameters.
        let h: Float = 2e-3
        var thetaIndices = Array(stride(from: 0, to: policy.tailStart, by: 7))
        thetaIndices += Array(policy.tailStart..<policy.parameterCount)
        var maxDiff = 0.0, maxFirstOrderDiff = 0.0, scale = 0.0
        for i in thetaIndices {
            var plus = problem.theta, minus = problem.theta
            plus[i] += h
            minus[i] -= h
            let numeric = (try loss(plus, problem.alpha) - loss(minus, problem.alpha)) / Double(2 * h)
            maxDiff = max(maxDiff, abs(numeric - Double(second.theta[i])))
            maxFirstOrderDiff = max(maxFirstOrderDiff, abs(numeric - Double(first.theta[i])))
            scale = max(scale, abs(numeric))
        }
        var maxAlphaDiff = 0.0
        for j in 0..<policy.tailCount {
            var plus = problem.alpha, minus = problem.alpha
            plus[j] += h
            minus[j] -= h
            let numeric = (try loss(problem.theta, plus) - loss(problem.theta, minus)) / Double(2 * h)
            maxAlphaDiff = max(maxAlphaDiff, abs(numeric - Double(second.alpha[j])))
            scale = max(scale, abs(numeric))
        }
        let tolerance = 2e-4 * max(scale, 1)
        print("meta-gradient (latents: \(latents)): maxdiff θ \(maxDiff), α \(maxAlphaDiff); first order maxdiff θ \(maxFirstOrderDiff); tolerance \(tolerance)")
        #expect(maxDiff < tolerance)
        #expect(maxAlphaDiff < tolerance)
        #expect(maxFirstOrderDiff > 10 * tolerance, "the second-order term matters here, so the check can see it")
    }

    @Test func secondOrderMetaGradientMatchesFiniteDifferences() throws {
        try check(latents: false)
    }

    @Test func metaGradientWithPerTrajectoryLatentsMatchesFiniteDifferences() throws {
        try check(latents: true)
    }

    @Test func innerStepRaisesTheSurrogateObjective() throws {
        // A small step along ∇Ĵ increases Ĵ (c fixed): the gradient has the right sign.
        let problem = try Self.makeProblem(latents: true)
        let policy = problem.policy
        let inner = InnerStep(policy: policy, latentStd: 0.4)
        let workspace = policy.head.makeWorkspace(maxBatch: 64)
        let tail = policy.tail(of: problem.theta)
        let c = try inner.coefficients(tail: tail, data: problem.data, workspace: workspace)
        let g = try inner.gradient(tail: tail, coefficients: c, data: problem.data, workspace: workspace)
        func surrogate(_ tail: [Float]) throws -> Double {
            // Σ c_τt log π + Σ c_τ log N(z) with the same c: the objective whose gradient g is.
            let b = policy.biasVectorCount
            var total = 0.0
            for trajectory in 0..<problem.data.trajectoryCount {
                var parameters = tail
                let z = Array(problem.data.latents![(trajectory * b)..<((trajectory + 1) * b)])
                parameters.replaceSubrange(0..<b, with: z)
                let range = (trajectory * 4)..<((trajectory + 1) * 4)
                let lp = try policy.headPolicy.logProbabilities(
                    parameters: parameters, extras: Array(problem.data.headInputs[(range.lowerBound * 11)..<(range.upperBound * 11)]),
                    actions: Array(problem.data.actions[(range.lowerBound * 3)..<(range.upperBound * 3)]),
                    batch: 4, workspace: workspace)
                let latent = gaussianLogDensity(z, mean: Array(tail[0..<b]), std: 0.4)
                for (k, i) in range.enumerated() { total += Double(c.perStep[i] * lp[k]) }
                total += Double(c.perTrajectory[trajectory] * latent)
            }
            return total
        }
        let stepped = zip(tail, g).map { $0 + 1e-3 * $1 }
        #expect(try surrogate(stepped) > surrogate(tail))
    }
}

/// The meta-gradient of the outer loss as meta-training minimises it: the inner step's
/// coefficients c (importance weights, the latent's density ratio) recomputed at every θ, on
/// data shaped as a run shapes it. The frozen-coefficient check above cannot see what these do.
struct ExactMetaGradientTests {
    struct Problem {
        var policy: MetaPolicy
        var inner: InnerStep
        var theta: [Float]
        var data: InnerStepData
        var demos: ImitationBatch
        /// log importance ratio of every sample and every latent at θ.
        var logRatios: [Float]
    }

    /// K = 6 rollouts of T = 5 steps collected by π_θ' with θ' ≠ θ (an earlier outer step's θ:
    /// every importance weight differs from 1, some beyond the clip), each with its own latent
    /// z ~ N(μ_θ', σ_z²) and actions drawn from π_θ'(·|o, z); rewards that depend on z, turned
    /// into standardised returns-to-go minus the linear baseline and standardised trajectory
    /// advantages by `innerStepData`, exactly as in a run.
    static func makeProblem(seed: UInt64 = 21, latentStd sigma: Float = 0.4, clip: Float = 1.6) throws -> Problem {
        let policy = try MetaPolicy(spec: .smallVisionPolicy)
        var rng = SeededGenerator(seed: seed)
        let theta = policy.network.initialParameters(seed: seed).map { $0 + 0.05 * rng.nextGaussian() }
        let collecting = policy.tail(of: theta).map { $0 + 0.1 * rng.nextGaussian() }
        let (k, t) = (6, 5)
        let b = policy.biasVectorCount, a = policy.actionCount, f = policy.headInputCount
        let workspace = policy.head.makeWorkspace(maxBatch: t)
        let behaviourMean = Array(collecting[0..<b])
        let target = (0..<b).map { _ in 0.3 * rng.nextGaussian() }
        var latents: [Float] = [], headInputs: [Float] = [], hands: [Float] = [], actions: [Float] = []
        var logProbabilities: [Float] = [], rewards: [Float] = []
        for _ in 0..<k {
            let z = behaviourMean.map { $0 + sigma * rng.nextGaussian() }
            var parameters = collecting
            parameters.replaceSubrange(0..<b, with: z)
            // (T, F+E): keypoints in [-1, 1], then hand xyz.
            let inputs = (0..<(t * f)).map { _ in 0.5 * rng.nextGaussian() }
            let mean = try policy.headPolicy.mean(parameters: parameters, extras: inputs, batch: t, workspace: workspace)
            let std = policy.headPolicy.logStd(parameters).map { expf($0) }
            let executed = (0..<(t * a)).map { mean[$0] + std[$0 % a] * rng.nextGaussian() }
            logProbabilities += try policy.headPolicy.logProbabilities(parameters: parameters, extras: inputs,
                                                                        actions: executed, batch: t, workspace: workspace)
            let miss = zip(z, target).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
            for step in 0..<t {
                hands += inputs[(step * f + f - 3)..<(step * f + f)]
                rewards.append(-miss - 0.1 * Float(step) * miss + 0.05 * rng.nextGaussian())
            }
            latents += z
            headInputs += inputs
            actions += executed
        }
        let rollouts = TaskRollouts(
            goal: try Goal(.reach, [0, 0.8, 0.15]), trajectoryCount: k, horizon: t, hands: hands, headInputs: headInputs,
            actions: actions, logProbabilities: logProbabilities, rewards: rewards, states: [], images: [],
            successes: [Bool](repeating: false, count: k), finalStates: [], latents: latents, latentMean: behaviourMean)
        let data = rollouts.innerStepData(policy: policy, discount: 0.99)
        let demos = ImitationBatch(images: (0..<(5 * 3 * 64)).map { _ in rng.nextUniformFloat() },
                                   hands: (0..<15).map { _ in 0.3 * rng.nextGaussian() },
                                   actions: (0..<15).map { _ in 0.7 * rng.nextGaussian() }, count: 5)
        // The log ratios at θ, computed here independently of `InnerStep`.
        let tail = policy.tail(of: theta)
        var logRatios: [Float] = []
        for trajectory in 0..<k {
            let z = Array(latents[(trajectory * b)..<((trajectory + 1) * b)])
            var parameters = tail
            parameters.replaceSubrange(0..<b, with: z)
            let range = (trajectory * t)..<((trajectory + 1) * t)
            let lp = try policy.headPolicy.logProbabilities(
                parameters: parameters, extras: Array(headInputs[(range.lowerBound * f)..<(range.upperBound * f)]),
                actions: Array(actions[(range.lowerBound * a)..<(range.upperBound * a)]), batch: t, workspace: workspace)
            let latent = gaussianLogDensity(z, mean: Array(tail[0..<b]), std: sigma)
                - gaussianLogDensity(z, mean: behaviourMean, std: sigma)
            logRatios += range.map { lp[$0 - range.lowerBound] - logProbabilities[$0] + latent }
            logRatios.append(latent)
        }
        return Problem(policy: policy, inner: InnerStep(policy: policy, importanceWeightClip: clip, latentStd: sigma),
                       theta: theta, data: data, demos: demos, logRatios: logRatios)
    }

    /// α: σ_z² on the bias vector (the natural step), and on the rest of the tail 0.03–0.08
    /// (head adaptation) or 0 (bias-vector adaptation, the default).
    static func alpha(_ problem: Problem, head: Bool) -> [Float] {
        var rng = SeededGenerator(seed: 5)
        let sigma = problem.inner.latentStd ?? 1
        return (0..<problem.policy.tailCount).map { j in
            let draw = 0.03 + 0.05 * rng.nextUniformFloat()
            return j < problem.policy.biasVectorCount ? sigma * sigma : (head ? draw : 0)
        }
    }

    /// L(θ, α) in Double from the adapted policy's actions, c recomputed at θ.
    static func outerLoss(_ problem: Problem, _ theta: [Float], _ alpha: [Float], workspace: Workspace,
                          headWorkspace: Workspace) throws -> Double {
        let phi = try problem.inner.adapt(theta: theta, alpha: alpha, data: problem.data, workspace: headWorkspace).phi
        let mean = try problem.policy.network.forward(parameters: phi, images: problem.demos.images,
                                                      extras: problem.demos.hands, batch: problem.demos.count,
                                                      workspace: workspace)
        var total = 0.0
        for (output, target) in zip(mean, problem.demos.actions) {
            let d = Double(output) - Double(target)
            total += d * d
        }
        return total / Double(mean.count)
    }

    struct Comparison {
        /// max |analytic − FD| / max |FD| over the checked entries, for each gradient.
        var exact: Double, firstOrder: Double, fixedCoefficients: Double, alpha: Double
        /// ‖exact − first order‖ / ‖exact‖ over the tail.
        var firstVersusExact: Double
    }

    /// Every tail entry and a spread of the encoder's, against central differences of L with c
    /// recomputed at every θ.
    static func compare(head: Bool) throws -> Comparison {
        let problem = try makeProblem()
        let policy = problem.policy
        let alpha = Self.alpha(problem, head: head)
        let headWorkspace = policy.head.makeWorkspace(maxBatch: 64)
        let workspace = policy.network.makeWorkspace(maxBatch: 8)
        func gradient(secondOrder: Bool, frozen: Bool) throws -> TaskMetaGradient {
            let c = frozen ? try problem.inner.coefficients(tail: policy.tail(of: problem.theta), data: problem.data,
                                                           workspace: headWorkspace) : nil
            return try MetaObjective(inner: problem.inner, secondOrder: secondOrder).taskGradient(
                theta: problem.theta, alpha: alpha, data: problem.data, demos: problem.demos, coefficients: c,
                headWorkspace: headWorkspace, workspace: workspace)
        }
        let exact = try gradient(secondOrder: true, frozen: false)
        let first = try gradient(secondOrder: false, frozen: false)
        let fixed = try gradient(secondOrder: true, frozen: true)
        let loss = try outerLoss(problem, problem.theta, alpha, workspace: workspace, headWorkspace: headWorkspace)
        #expect(abs(loss - Double(exact.loss)) < 1e-5 * max(1, loss), "the Double loss is the objective's loss")

        let h: Float = 4e-3
        let indices = Array(stride(from: 0, to: policy.tailStart, by: 11)) + Array(policy.tailStart..<policy.parameterCount)
        var numeric: [Double] = []
        for i in indices {
            var plus = problem.theta, minus = problem.theta
            plus[i] += h
            minus[i] -= h
            numeric.append((try outerLoss(problem, plus, alpha, workspace: workspace, headWorkspace: headWorkspace)
                            - outerLoss(problem, minus, alpha, workspace: workspace, headWorkspace: headWorkspace)) / Double(2 * h))
        }
        func relativeError(_ analytic: [Float]) -> Double {
            let scale = max(numeric.map(abs).max() ?? 1, 1e-12)
            return zip(indices, numeric).map { abs(Double(analytic[$0.0]) - $0.1) }.max()! / scale
        }
        var numericAlpha: [Double] = []
        for j in 0..<policy.tailCount where alpha[j] != 0 {
            var plus = alpha, minus = alpha
            plus[j] += h
            minus[j] -= h
            numericAlpha.append((try outerLoss(problem, problem.theta, plus, workspace: workspace, headWorkspace: headWorkspace)
                                 - outerLoss(problem, problem.theta, minus, workspace: workspace, headWorkspace: headWorkspace)) / Double(2 * h))
        }
        let adaptedAlpha = (0..<policy.tailCount).filter { alpha[$0] != 0 }.map { Double(exact.alpha[$0]) }
        let alphaError = zip(adaptedAlpha, numericAlpha).map { abs($0 - $1) }.max()!
            / max(numericAlpha.map(abs).max() ?? 1, 1e-12)
        let tail = policy.tailStart..<policy.parameterCount
        let difference = tail.map { Double(exact.theta[$0] - first.theta[$0]) }
        let norm = { (x: [Double]) in x.map { $0 * $0 }.reduce(0, +).squareRoot() }
        return Comparison(exact: relativeError(exact.theta), firstOrder: relativeError(first.theta),
                          fixedCoefficients: relativeError(fixed.theta), alpha: alphaError,
                          firstVersusExact: norm(difference) / norm(tail.map { Double(exact.theta[$0]) }))
    }

    @Test func theDataIsRealistic() throws {
        let problem = try Self.makeProblem()
        let advantages = try #require(problem.data.trajectoryAdvantages)
        #expect(abs(advantages.reduce(0, +)) < 1e-4, "standardised trajectory advantages sum to ~0")
        let clip = logf(problem.inner.importanceWeightClip)
        let clipped = problem.logRatios.filter { $0 > clip }.count
        print("log importance ratios: \(problem.logRatios.min()!)…\(problem.logRatios.max()!), \(clipped) of \(problem.logRatios.count) clipped")
        #expect(problem.logRatios.map(abs).max()! > 0.2, "weights differ from 1")
        #expect(clipped > 0 && clipped < problem.logRatios.count / 2, "some weights are clipped, most are not")
        // No ratio sits so near the clip that a finite-difference step could cross it.
        #expect(problem.logRatios.map { abs($0 - clip) }.min()! > 0.05)
        // The coefficients' slopes: c where the clip is inactive, 0 where it holds.
        let c = try problem.inner.coefficients(tail: problem.policy.tail(of: problem.theta), data: problem.data,
                                               workspace: problem.policy.head.makeWorkspace(maxBatch: 64))
        let t = problem.data.trajectoryLength
        for (s, slope) in c.perStepSlope.enumerated() {
            let ratio = problem.logRatios[s + s / t]
            #expect(slope == (ratio < clip ? c.perStep[s] : 0))
        }
        for (trajectory, slope) in c.perTrajectorySlope.enumerated() {
            let ratio = problem.logRatios[trajectory * (t + 1) + t]
            #expect(slope == (ratio < clip ? c.perTrajectory[trajectory] : 0))
        }
    }

    @Test(arguments: [false, true])
    func exactMetaGradientMatchesFiniteDifferencesWithCoefficientsRecomputed(headAdaptation: Bool) throws {
        let result = try Self.compare(head: headAdaptation)
        print("exact meta-gradient (\(headAdaptation ? "head" : "bias vector") adapted): max rel. error θ \(result.exact), α \(result.alpha); first order \(result.firstOrder); c held fixed \(result.fixedCoefficients); ‖exact − first‖/‖exact‖ on the tail \(result.firstVersusExact)")
        #expect(result.exact < 2e-3)
        #expect(result.alpha < 2e-3)
        // What the exact gradient adds is material here, and neither approximation has it.
        #expect(result.firstOrder > 20 * result.exact)
        #expect(result.fixedCoefficients > 20 * result.exact)
        #expect(result.firstVersusExact > 0.05)
    }
}
