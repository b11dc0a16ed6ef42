import Testing
import Foundation
@testable import ConvNet

struct GaussianPolicyTests {
    @Test func logProbabilityAndEntropyMatchTheGaussianFormulas() throws {
        let policy = try GaussianPolicy(network: Network(spec: .mlp(inputs: 2, hidden: [4], outputs: 2, initialStd: 0.5)))
        let theta = policy.network.initialParameters(seed: 1)
        let ws = policy.network.makeWorkspace(maxBatch: 1)
        let mu = try policy.mean(parameters: theta, extras: [0.3, -0.2], batch: 1, workspace: ws)
        let a: [Float] = [0.1, -0.4]
        let lp = try policy.logProbabilities(parameters: theta, extras: [0.3, -0.2], actions: a, batch: 1, workspace: ws)[0]
        var expected = 0.0
        for j in 0..<2 {
            let sigma = 0.5, z = (Double(a[j]) - Double(mu[j])) / sigma
            expected += -0.5 * z * z - log(sigma) - 0.5 * log(2 * Double.pi)
        }
        #expect(abs(Double(lp) - expected) < 1e-5)
        let entropy = policy.entropy(parameters: theta)
        let expectedEntropy: Double = 2 * (0.5 + 0.5 * log(2 * Double.pi) + log(0.5))
        #expect(abs(Double(entropy) - expectedEntropy) < 1e-5)
    }

    @Test func samplesHaveTheMeanAndStdOfThePolicyAndRepeatWithTheSeed() throws {
        let policy = try GaussianPolicy(network: Network(spec: .mlp(inputs: 1, hidden: [3], outputs: 1, initialStd: 0.7)))
        let theta = policy.network.initialParameters(seed: 4)
        let n = 4000
        let ws = policy.network.makeWorkspace(maxBatch: n)
        let x = [Float](repeating: 0.2, count: n)
        let means = try policy.mean(parameters: theta, extras: x, batch: n, workspace: ws)
        let logStd = policy.logStd(theta), std = logStd.map { expf($0) }
        func draw(seed: UInt64) -> (actions: [Float], logProbabilities: [Float]) {
            var rng = SeededGenerator(seed: seed)
            var action: [Float] = [0], actions: [Float] = [], logProbabilities: [Float] = []
            for i in 0..<n {
                logProbabilities.append(GaussianPolicy.sample(mean: means[i...i], std: std, logStd: logStd, noisy: true,
                                                              into: &action, using: &rng))
                actions += action
            }
            return (actions, logProbabilities)
        }
        let (actions, logProbabilities) = draw(seed: 8)
        let d = zip(actions, means).map { Double($0 - $1) }
        let m = d.reduce(0, +) / Double(n)
        let sd = (d.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(n)).squareRoot()
        #expect(abs(m) < 0.05 && abs(sd - 0.7) < 0.03)
        // The returned log-probability is the density's at the drawn action.
        let worst = (0..<n).map { i in
            abs(logProbabilities[i] - GaussianPolicy.logProbability(action: actions[i...i], mean: means[i...i], logStd: logStd))
        }.max() ?? 0
        #expect(worst < 1e-4)
        #expect(draw(seed: 8).actions == actions)
        var rng = SeededGenerator(seed: 1)
        var meanAction: [Float] = [0]
        _ = GaussianPolicy.sample(mean: means[0...0], std: std, logStd: logStd, noisy: false, into: &meanAction, using: &rng)
        #expect(meanAction == [means[0]])
    }

    @Test func weightedLogProbabilityGradientMatchesFiniteDifferences() throws {
        let spec = NetworkGradientTests.smallVision
        let policy = try GaussianPolicy(network: Network(spec: spec, threads: 2))
        let net = policy.network
        var rng = SeededGenerator(seed: 31)
        var theta = net.initialParameters(seed: 2)
        for i in theta.indices where theta[i] == 0 { theta[i] = rng.nextGaussian() * 0.1 }
        let batch = 3
        let images = randomVector(batch * net.imageInputCount, &rng), extras = randomVector(batch * 2, &rng)
        let actions = randomVector(batch * 2, &rng), weights = randomVector(batch, &rng)
        let ws = net.makeWorkspace(maxBatch: batch)
        var grad = theta
        let j = try policy.weightedLogProbabilityGradient(parameters: theta, images: images, extras: extras, actions: actions,
                                                          weights: weights, batch: batch, workspace: ws, into: &grad)
        func f(_ th: [Float]) throws -> Double {
            let lp = try policy.logProbabilities(parameters: th, images: images, extras: extras, actions: actions, batch: batch, workspace: ws)
            return zip(lp, weights).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        #expect(abs(Double(j) - (try f(theta))) < 1e-4)
        let (diff, skipped) = maxDiff(grad, try kinkAwareFiniteDifferenceGradient(theta) { (try f($0), reluPattern(ws)) })
        report("Gaussian weighted log-prob gradient (vision net) vs finite differences", diff, tolerance: 3e-3)
        print("  (\(skipped) of \(theta.count) parameters skipped: ±h flips a ReLU)")
        #expect(diff < 3e-3)
    }

    @Test func networkWithoutLogStdIsNotAPolicy() throws {
        #expect(throws: ConvNetError.self) { try GaussianPolicy(network: Network(spec: .referenceCNN())) }
    }
}
