import ConvNet
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
