import Testing
@testable import ConvNet

/// H v of J(θ) = Σ_i w_i log π_θ(a_i|x_i): exact (R-operator) against central differences of
/// exact gradients, and vᵀHv against second differences of J itself.
struct HessianVectorTests {
    struct Problem {
        let policy: GaussianPolicy
        let theta: [Float], extras: [Float], actions: [Float], weights: [Float], v: [Float]
        let ws: Workspace
        let batch: Int

        init(_ spec: NetworkSpec, batch: Int, seed: UInt64) throws {
            policy = try GaussianPolicy(network: Network(spec: spec, threads: 2))
            let net = policy.network
            var rng = SeededGenerator(seed: seed)
            var th = net.initialParameters(seed: seed)
            for i in th.indices where th[i] == 0 { th[i] = rng.nextGaussian() * 0.1 }
            theta = th
            extras = randomVector(batch * net.extraInputCount, &rng)
            actions = randomVector(batch * net.outputCount, &rng)
            weights = randomVector(batch, scale: 0.5, &rng)
            v = randomVector(net.parameterCount, &rng)
            ws = net.makeWorkspace(maxBatch: batch)
            self.batch = batch
        }

        func gradient(_ th: [Float]) throws -> [Float] {
            var g = th
            try policy.weightedLogProbabilityGradient(parameters: th, extras: extras, actions: actions,
                                                      weights: weights, batch: batch, workspace: ws, into: &g)
            return g
        }

        func objective(_ th: [Float]) throws -> Double {
            let lp = try policy.logProbabilities(parameters: th, extras: extras, actions: actions, batch: batch, workspace: ws)
            return zip(lp, weights).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
    }

    @Test(arguments: [Activation.tanh, .relu])
    func exactHessianVectorProductMatchesCentralDifferences(_ act: Activation) throws {
        let p = try Problem(.mlp(inputs: 3, hidden: [8, 6], outputs: 2, activation: act, biasVector: 2, initialStd: 0.6),
                            batch: 7, seed: act == .tanh ? 41 : 42)
        let exact = try p.policy.logProbabilityHessianVector(parameters: p.theta, extras: p.extras, actions: p.actions,
                                                             weights: p.weights, direction: p.v)
        let central = try HessianVector.centralDifference(at: p.theta, direction: p.v, step: 1e-2, gradient: p.gradient)
        let scale = max(1, exact.map { abs(Double($0)) }.max() ?? 1)
        let diff = zip(exact, central).map { abs(Double($0) - Double($1)) }.max()! / scale
        report("HVP exact vs central differences (\(act) MLP)", diff, tolerance: 2e-3)
        #expect(diff < 2e-3)

        // vᵀHv against the second difference of J along v, in Double:
        // (J(θ+hu) - 2J(θ) + J(θ-hu)) / h² · ‖v‖², u = v/‖v‖. ReLU networks are piecewise
        // quadratic in θ only between kinks, so this check is for tanh.
        guard act == .tanh else { return }
        let h: Float = 2e-2, norm = Float(VectorOps.norm(p.v))
        var plus = p.theta, minus = p.theta
        for i in plus.indices { plus[i] += h * p.v[i] / norm; minus[i] -= h * p.v[i] / norm }
        let second = (try p.objective(plus) - 2 * p.objective(p.theta) + p.objective(minus)) / Double(h * h) * Double(norm * norm)
        let vHv = VectorOps.dot(p.v, exact)
        let rel = abs(vHv - second) / max(1, abs(second))
        report("vᵀHv exact vs second difference of J (\(act) MLP)", rel, tolerance: 5e-3)
        #expect(rel < 5e-3)
    }

    @Test(arguments: [Activation.tanh, .relu])
    func exactDirectionalDerivativesOfLogProbabilitiesMatchCentralDifferences(_ act: Activation) throws {
        // R{log π_i} along v for each sample against (log π_i(θ + hu) − log π_i(θ − hu)) / 2h · ‖v‖, in Double.
        let p = try Problem(.mlp(inputs: 3, hidden: [8, 6], outputs: 2, activation: act, biasVector: 2, initialStd: 0.6),
                            batch: 7, seed: act == .tanh ? 43 : 44)
        let exact = try p.policy.logProbabilityDirectionalDerivatives(parameters: p.theta, extras: p.extras,
                                                                       actions: p.actions, direction: p.v)
        let h: Float = 1e-3, norm = Float(VectorOps.norm(p.v))
        var plus = p.theta, minus = p.theta
        for i in plus.indices { plus[i] += h * p.v[i] / norm; minus[i] -= h * p.v[i] / norm }
        let lpPlus = try p.policy.logProbabilities(parameters: plus, extras: p.extras, actions: p.actions, batch: p.batch, workspace: p.ws)
        let lpMinus = try p.policy.logProbabilities(parameters: minus, extras: p.extras, actions: p.actions, batch: p.batch, workspace: p.ws)
        let central = (0..<p.batch).map { (Double(lpPlus[$0]) - Double(lpMinus[$0])) / Double(2 * h) * Double(norm) }
        let scale = max(1, central.map(abs).max() ?? 1)
        let diff = zip(exact, central).map { abs(Double($0) - $1) }.max()! / scale
        report("R log π exact vs central differences (\(act) MLP)", diff, tolerance: 2e-3)
        #expect(exact.count == p.batch)
        #expect(diff < 2e-3)
    }

    @Test func centralDifferenceHessianOfAVisionNetworkIsSymmetric() throws {
        // For networks without an exact product: uᵀ(H v) = vᵀ(H u) checks the central difference.
        let spec = NetworkGradientTests.smallVision
        let policy = try GaussianPolicy(network: Network(spec: spec))
        let net = policy.network
        var rng = SeededGenerator(seed: 51)
        var theta = net.initialParameters(seed: 3)
        for i in theta.indices where theta[i] == 0 { theta[i] = rng.nextGaussian() * 0.1 }
        let batch = 2
        let images = randomVector(batch * net.imageInputCount, &rng), extras = randomVector(batch * 2, &rng)
        let actions = randomVector(batch * 2, &rng), weights: [Float] = [0.7, -0.4]
        let ws = net.makeWorkspace(maxBatch: batch)
        func grad(_ th: [Float]) throws -> [Float] {
            var g = th
            try policy.weightedLogProbabilityGradient(parameters: th, images: images, extras: extras, actions: actions,
                                                      weights: weights, batch: batch, workspace: ws, into: &g)
            return g
        }
        // Directions on the head, bias vector and log-std (the inner loop's parameters), away from conv ReLU kinks.
        let mask = try net.layout.mask(groups: ["head", "bias_vector", "log_std"])
        let u = zip(randomVector(net.parameterCount, &rng), mask).map { $0 * $1 }
        let v = zip(randomVector(net.parameterCount, &rng), mask).map { $0 * $1 }
        let hv = try HessianVector.centralDifference(at: theta, direction: v, gradient: grad)
        let hu = try HessianVector.centralDifference(at: theta, direction: u, gradient: grad)
        let a = VectorOps.dot(u, hv), b = VectorOps.dot(v, hu)
        let rel = abs(a - b) / max(1, abs(a))
        report("central-difference HVP symmetry uᵀHv vs vᵀHu (vision net)", rel, tolerance: 1e-2)
        #expect(rel < 1e-2)
        #expect(throws: ConvNetError.self) {
            try policy.logProbabilityHessianVector(parameters: theta, extras: extras, actions: actions, weights: weights, direction: v)
        }
    }
}

/// The head split used for inner loops on detached features.
struct NetworkHeadTests {
    @Test func headOnEncoderFeaturesReproducesTheWholeNetworkAndHasAnExactHessian() throws {
        let net = try Network(spec: .visionPolicy(imageHeight: 24, imageWidth: 32))
        let head = try GaussianPolicy(network: Network(spec: net.headSpec))
        #expect(head.network.parameterCount == net.headParameterRange.count)
        #expect(head.network.layout.tensors.map(\.name) == net.layout.tensors.filter { $0.offset >= net.headParameterRange.lowerBound }.map(\.name))
        let theta = net.initialParameters(seed: 8)
        var rng = SeededGenerator(seed: 9)
        let batch = 3
        let images = (0..<(batch * net.imageInputCount)).map { _ in rng.nextUniformFloat() }
        let hands = randomVector(batch * 3, &rng)
        let ws = net.makeWorkspace(maxBatch: batch), hws = head.network.makeWorkspace(maxBatch: batch)
        let full = try net.forward(parameters: theta, images: images, extras: hands, batch: batch, workspace: ws)
        let encodeWorkspace = net.makeWorkspace(maxBatch: batch)
        try net.encode(parameters: theta, images: images, extras: hands, batch: batch, workspace: encodeWorkspace)
        var features = [Float](repeating: .nan, count: batch * net.headInputCount)
        features.withUnsafeMutableBufferPointer { net.copyHeadInputs(workspace: encodeWorkspace, into: $0.baseAddress!) }
        let headTheta = Array(theta[net.headParameterRange])
        let viaHead = try head.network.forward(parameters: headTheta, extras: features, batch: batch, workspace: hws)
        // Bit for bit: rollouts run the head on the encoder's output and must act exactly as the whole network.
        #expect(viaHead == full)
        let hv = try head.logProbabilityHessianVector(parameters: headTheta, extras: features, actions: randomVector(batch * 3, &rng),
                                                      weights: [0.3, -0.2, 0.5], direction: randomVector(headTheta.count, &rng))
        #expect(hv.count == headTheta.count && hv.allSatisfy { $0.isFinite })
    }
}
