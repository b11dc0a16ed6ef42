import ConvNet
import Testing
@testable import GMPSVision

/// Pre-training's last move: the learned task codes are whitened into the first dense layer.
/// It must not change what the policy does for any task, and it must leave the codes with the
/// statistics the latent probes N(0, I) assume.
struct TaskCodeWhiteningTests {
    /// The small vision policy with a 4-entry bias vector, so that codes can be correlated.
    static let spec: NetworkSpec = {
        var spec = NetworkSpec.smallVisionPolicy
        spec.biasVector = 4
        return spec
    }()

    /// Seven tasks' codes that lie near a plane in 4-D: strongly correlated, off-centre, unequal scales.
    static func correlatedCodes() -> [Float] {
        var rng = SeededGenerator(seed: 11)
        return (0..<7).flatMap { _ -> [Float] in
            let (u, v) = (rng.nextGaussian(), rng.nextGaussian())
            let noise = (0..<4).map { _ in 0.05 * rng.nextGaussian() }
            return [0.5 + 2 * u + noise[0], -1 + u - v + noise[1], 3 * v + noise[2], 0.2 + u + v + noise[3]]
        }
    }

    /// Mean action for each task's code in the bias-vector slot, on one fixed image and hand.
    static func actions(_ policy: MetaPolicy, theta: [Float], codes: [Float]) throws -> [[Float]] {
        var rng = SeededGenerator(seed: 4)
        let image = (0..<(3 * 8 * 8)).map { _ in rng.nextUniformFloat() }, hand: [Float] = [0.1, -0.2, 0.3]
        let workspace = policy.network.makeWorkspace(maxBatch: 1)
        return try stride(from: 0, to: codes.count, by: 4).map { start in
            var parameters = theta
            parameters.replaceSubrange(policy.tailStart..<(policy.tailStart + 4), with: codes[start..<(start + 4)])
            return try policy.policy.mean(parameters: parameters, images: image, extras: hand, batch: 1, workspace: workspace)
        }
    }

    /// The whitened codes' mean (4) and covariance (4×4, row-major), population.
    static func moments(_ codes: [Float]) -> (mean: [Double], covariance: [Double]) {
        let tasks = codes.count / 4
        let mean = (0..<4).map { j in (0..<tasks).reduce(0.0) { $0 + Double(codes[$1 * 4 + j]) } / Double(tasks) }
        var covariance = [Double](repeating: 0, count: 16)
        for t in 0..<tasks {
            for i in 0..<4 {
                let di = Double(codes[t * 4 + i]) - mean[i]
                for j in 0..<4 { covariance[i * 4 + j] += di * (Double(codes[t * 4 + j]) - mean[j]) / Double(tasks) }
            }
        }
        return (mean, covariance)
    }

    @Test(arguments: GMPSConfig.TaskCodeWhitening.allCases)
    func whiteningKeepsEveryTasksActionsAndCentresTheCodes(_ whitening: GMPSConfig.TaskCodeWhitening) throws {
        let policy = try MetaPolicy(spec: Self.spec)
        let codes = Self.correlatedCodes()
        let theta = policy.network.initialParameters(seed: 3)
        let before = try Self.actions(policy, theta: theta, codes: codes)

        var whitenedTheta = theta
        let whitened = BehaviourCloning.whitenTaskCodes(codes, whitening: whitening, policy: policy, into: &whitenedTheta)
        let after = try Self.actions(policy, theta: whitenedTheta, codes: whitened)
        for (task, (a, b)) in zip(before, after).enumerated() {
            for (x, y) in zip(a, b) { #expect(abs(x - y) < 1e-4, "task \(task): action \(x) became \(y)") }
        }
        #expect(whitenedTheta[policy.tailStart..<(policy.tailStart + 4)].allSatisfy { $0 == 0 }, "θ's bias vector is the codes' mean, 0")
        let firstLayer = try #require(policy.network.layout.tensor(named: "fc0.bias"))
        let firstLayerBias = firstLayer.offset..<(firstLayer.offset + firstLayer.shape[0])
        #expect(whitenedTheta[firstLayerBias] != theta[firstLayerBias], "the codes' mean moved into the first layer's bias")

        // Identity up to the ridge that keeps a degenerate direction finite (1e-6 of the trace).
        let (mean, covariance) = Self.moments(whitened)
        for j in 0..<4 {
            #expect(abs(mean[j]) < 1e-5)
            #expect(abs(covariance[j * 4 + j] - 1) < 1e-2, "unit variance in dimension \(j): \(covariance[j * 4 + j])")
        }
        let largestCorrelation = (0..<16).filter { $0 / 4 != $0 % 4 }.map { abs(covariance[$0]) }.max() ?? 0
        switch whitening {
        case .full:
            #expect(largestCorrelation < 1e-2, "identity covariance: the correlations are gone (\(largestCorrelation))")
        case .perDimension:
            #expect(largestCorrelation > 0.3, "per dimension keeps the codes' correlations (\(largestCorrelation))")
        }
    }

    @Test func fullWhiteningSurvivesCodesThatSpanFewerDimensionsThanTheBiasVector() throws {
        // Three tasks in 4-D: the covariance is singular; the ridge keeps the factor finite and
        // the tasks' actions unchanged.
        let policy = try MetaPolicy(spec: Self.spec)
        let codes = Array(Self.correlatedCodes().prefix(12))
        let theta = policy.network.initialParameters(seed: 5)
        let before = try Self.actions(policy, theta: theta, codes: codes)
        var whitenedTheta = theta
        let whitened = BehaviourCloning.whitenTaskCodes(codes, whitening: .full, policy: policy, into: &whitenedTheta)
        #expect(whitenedTheta.allSatisfy(\.isFinite) && whitened.allSatisfy(\.isFinite))
        let after = try Self.actions(policy, theta: whitenedTheta, codes: whitened)
        for (a, b) in zip(before, after) {
            for (x, y) in zip(a, b) { #expect(abs(x - y) < 1e-3) }
        }
    }
}
