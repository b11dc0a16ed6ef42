import Testing
@testable import ConvNet

/// Whole networks: backward against finite differences of the forward, over every parameter
/// and the inputs; chunked multi-worker passes against one worker.
struct NetworkGradientTests {
    /// A small vision policy exercising every layer: odd image, strided SAME and VALID convs,
    /// spatial softmax with a learned temperature, extras, bias vector, tanh head, log-std.
    static let smallVision = NetworkSpec(
        image: .init(channels: 2, height: 9, width: 11),
        convolutions: [.init(outChannels: 3, kernel: 3, stride: 2, padding: .same),
                       .init(outChannels: 2, kernel: 3, stride: 1, padding: .valid)],
        imageFeatures: .spatialSoftmax, learnedTemperature: true,
        extraInputs: 2, biasVector: 2, hidden: [5], activation: .tanh, outputs: 2, logStd: -0.3)

    /// A small flatten network shaped like the benchmark's reference CNN.
    static let smallFlatten = NetworkSpec(
        image: .init(channels: 3, height: 10, width: 9),
        convolutions: [.init(outChannels: 4, kernel: 5, stride: 2, padding: .valid),
                       .init(outChannels: 3, kernel: 1, stride: 1, padding: .valid)],
        imageFeatures: .flatten, hidden: [6], activation: .relu, outputs: 3)

    func checkNetwork(_ spec: NetworkSpec, threads: Int, batch: Int, name: String, tolerance: Double) throws {
        let net = try Network(spec: spec, threads: threads)
        var rng = SeededGenerator(seed: 21)
        var theta = net.initialParameters(seed: 5)
        // Nonzero biases, bias vector and temperature so their gradients are exercised.
        for i in theta.indices where theta[i] == 0 { theta[i] = rng.nextGaussian() * 0.1 }
        let images = randomVector(batch * net.imageInputCount, &rng)
        let extras = randomVector(batch * net.extraInputCount, &rng)
        let r = randomVector(batch * net.outputCount, &rng)
        let ws = net.makeWorkspace(maxBatch: batch)
        func f(_ th: [Float], _ img: [Float], _ ex: [Float]) throws -> Double {
            probe(try net.forward(parameters: th, images: img, extras: ex.isEmpty ? nil : ex, batch: batch, workspace: ws), r)
        }
        try net.forward(parameters: theta, images: images, extras: extras.isEmpty ? nil : extras, batch: batch, workspace: ws)
        var grad = [Float](repeating: .nan, count: net.parameterCount)
        try net.backward(parameters: theta, outputGradient: r, workspace: ws, into: &grad, inputGradients: true)
        let dImages = ws.imageInputGradient, dExtras = ws.extraInputGradient
        func g(_ th: [Float], _ img: [Float], _ ex: [Float]) throws -> (Double, [Bool]) {
            (try f(th, img, ex), reluPattern(ws))
        }
        let fdTheta = try kinkAwareFiniteDifferenceGradient(theta) { try g($0, images, extras) }
        let fdImages = try kinkAwareFiniteDifferenceGradient(images) { try g(theta, $0, extras) }
        let fdExtras = try finiteDifferenceGradient(extras) { try f(theta, images, $0) }
        let (dTheta, skipTheta) = maxDiff(grad, fdTheta), (dImg, skipImg) = maxDiff(dImages, fdImages)
        let diff = max(dTheta, dImg, maxDiff(dExtras, fdExtras))
        report("\(name) (threads \(threads), batch \(batch)) vs finite differences", diff, tolerance: tolerance)
        print("  (\(skipTheta) of \(theta.count) parameters and \(skipImg) of \(images.count) pixels skipped: ±h flips a ReLU)")
        #expect(skipTheta < theta.count / 10)
        #expect(diff < tolerance)
        #expect(grad.allSatisfy { $0.isFinite })
        if let off = net.logStdOffset { #expect(grad[off..<(off + net.outputCount)].allSatisfy { $0 == 0 }) }
    }

    @Test func visionNetworkGradientMatchesFiniteDifferences() throws {
        try checkNetwork(Self.smallVision, threads: 1, batch: 3, name: "small vision net", tolerance: 3e-3)
        try checkNetwork(Self.smallVision, threads: 2, batch: 3, name: "small vision net", tolerance: 3e-3)
    }

    @Test func flattenNetworkGradientMatchesFiniteDifferences() throws {
        try checkNetwork(Self.smallFlatten, threads: 2, batch: 2, name: "small flatten net", tolerance: 3e-3)
    }

    @Test func mlpGradientMatchesFiniteDifferences() throws {
        try checkNetwork(.mlp(inputs: 4, hidden: [6, 5], outputs: 2, activation: .tanh, biasVector: 3, initialStd: 0.5),
                         threads: 2, batch: 4, name: "mlp", tolerance: 2e-3)
    }

    /// Two workers (batch chunks in the encoder, output/input slices in large dense layers)
    /// against one worker, which the finite-difference tests above pin.
    @Test(arguments: [1, 5])
    func parallelPassesAgreeWithOneWorker(batch: Int) throws {
        let wide = NetworkSpec(image: .init(channels: 3, height: 20, width: 18),
                               convolutions: [.init(outChannels: 8, kernel: 3, stride: 1, padding: .valid)],
                               imageFeatures: .flatten, extraInputs: 2, biasVector: 3, hidden: [300, 40],
                               activation: .relu, outputs: 3)
        for spec in [NetworkSpec.visionPolicy(imageHeight: 24, imageWidth: 32), wide] {
            // splitFlops 0: every layer takes its split path, whatever its size.
            let one = try Network(spec: spec, threads: 1), two = try Network(spec: spec, threads: 2, splitFlops: 0)
            let theta = one.initialParameters(seed: 2)
            var rng = SeededGenerator(seed: 3)
            let images = (0..<(batch * one.imageInputCount)).map { _ in rng.nextUniformFloat() }
            let extras = randomVector(batch * one.extraInputCount, &rng), dout = randomVector(batch * 3, &rng)
            let w1 = one.makeWorkspace(maxBatch: 8), w2 = two.makeWorkspace(maxBatch: 8)
            let y1 = try one.forward(parameters: theta, images: images, extras: extras, batch: batch, workspace: w1)
            let y2 = try two.forward(parameters: theta, images: images, extras: extras, batch: batch, workspace: w2)
            var g1 = theta, g2 = theta
            try one.backward(parameters: theta, outputGradient: dout, workspace: w1, into: &g1, inputGradients: true)
            try two.backward(parameters: theta, outputGradient: dout, workspace: w2, into: &g2, inputGradients: true)
            let diff = max(maxDiff(y2, y1), maxDiff(g2, g1), maxDiff(w2.imageInputGradient, w1.imageInputGradient),
                           maxDiff(w2.extraInputGradient, w1.extraInputGradient))
            report("2 workers vs 1 worker, outputs and gradients (batch \(batch), \(spec.imageFeatures))", diff, tolerance: 1e-5)
            #expect(diff < 1e-5)
            #expect(g2.allSatisfy { $0.isFinite })
        }
    }

    /// Workers that take images and dense-layer pieces from a shared counter change nothing:
    /// the reference CNN's outputs, image gradients and dense-layer gradients on two workers are
    /// the bits of one worker's (its layers run in OpenBLAS's blocked kernel or the kernels that
    /// reproduce it), run after run. Only the convolutions' gradients, summed per worker's chunk
    /// of images, may differ in rounding.
    @Test func sharedCounterPassesGiveOneWorkersBits() throws {
        let one = try Network(spec: .referenceCNN(), threads: 1), two = try Network(spec: .referenceCNN(), threads: 2)
        let theta = one.initialParameters(seed: 4)
        var rng = SeededGenerator(seed: 5)
        // Batch 16: the first dense layer's forward runs in two groups of inputs.
        for batch in [4, 16] {
            let images = (0..<(batch * one.imageInputCount)).map { _ in rng.nextUniformFloat() }
            let dout = randomVector(batch * 4, &rng)
            var results: [(y: [Float], g: [Float], dx: [Float])] = []
            for net in [one, two, two] {
                let ws = net.makeWorkspace(maxBatch: batch)
                let y = try net.forward(parameters: theta, images: images, batch: batch, workspace: ws)
                var g = theta
                try net.backward(parameters: theta, outputGradient: dout, workspace: ws, into: &g, inputGradients: true)
                results.append((y, g, ws.imageInputGradient))
            }
            let dense = one.encoderParameterCount..<theta.count
            for r in results.dropFirst() {
                #expect(r.y.map(\.bitPattern) == results[0].y.map(\.bitPattern))
                #expect(r.g[dense].map(\.bitPattern) == results[0].g[dense].map(\.bitPattern))
                #expect(r.dx.map(\.bitPattern) == results[0].dx.map(\.bitPattern))
                #expect(maxDiff(r.g, results[0].g) < 1e-4)
            }
            #expect(results[2].g.map(\.bitPattern) == results[1].g.map(\.bitPattern))
            #expect(results[2].dx.map(\.bitPattern) == results[1].dx.map(\.bitPattern))
        }
    }

    @Test func visionPolicyHasTheDesignedShapeAndGroups() throws {
        let net = try Network(spec: .visionPolicy(imageHeight: 48, imageWidth: 64))
        // 48x64 → k5 s3 SAME → 16x22 → k3 s3 SAME → 6x8 → k3 s1 SAME → 6x8; 16 keypoints x 2.
        #expect(net.featureCount == 32)
        #expect(net.concatCount == 32 + 3 + 4)
        #expect(net.layout.groups == ["conv", "spatial_softmax", "bias_vector", "head", "log_std"])
        let mask = try net.layout.mask(groups: ["head", "bias_vector"])
        let head = net.layout.ranges(of: "head").reduce(0) { $0 + $1.count }
        #expect(Int(mask.reduce(0, +)) == head + 4)
        #expect(throws: ConvNetError.self) { try net.layout.mask(groups: ["heads"]) }
        let ref = try Network(spec: .referenceCNN())
        #expect(ref.featureCount == 32 * 26 * 26)
    }

    @Test func sameSeedGivesSameBytesAndForwardRunsOnAdaptedParameters() throws {
        let net = try Network(spec: .visionPolicy(imageHeight: 16, imageWidth: 16))
        let a = net.initialParameters(seed: 9), b = net.initialParameters(seed: 9), c = net.initialParameters(seed: 10)
        #expect(a.map(\.bitPattern) == b.map(\.bitPattern))
        #expect(a != c)
        let alpha = try net.layout.mask(groups: ["head"]).map { $0 * 0.1 }
        let g = [Float](repeating: 1, count: net.parameterCount)
        let phi = VectorOps.adapted(theta: a, alpha: alpha, gradient: g)
        let conv = net.layout.ranges(of: "conv")[0]
        #expect(phi[conv] == a[conv])
        let ws = net.makeWorkspace(maxBatch: 1)
        let img = [Float](repeating: 0.5, count: net.imageInputCount)
        let y0 = try net.forward(parameters: a, images: img, extras: [0, 0, 0], batch: 1, workspace: ws)
        let y1 = try net.forward(parameters: phi, images: img, extras: [0, 0, 0], batch: 1, workspace: ws)
        #expect(y0 != y1)
    }

    @Test func wrongSizesAreRejected() throws {
        let net = try Network(spec: .visionPolicy(imageHeight: 16, imageWidth: 16))
        let ws = net.makeWorkspace(maxBatch: 2)
        let theta = net.initialParameters(seed: 1)
        let img = [Float](repeating: 0, count: net.imageInputCount)
        #expect(throws: ConvNetError.self) { try net.forward(parameters: [1, 2], images: img, extras: [0, 0, 0], batch: 1, workspace: ws) }
        #expect(throws: ConvNetError.self) { try net.forward(parameters: theta, images: img, extras: [0, 0], batch: 1, workspace: ws) }
        #expect(throws: ConvNetError.self) { try net.forward(parameters: theta, images: img, extras: [0, 0, 0], batch: 3, workspace: ws) }
        var g = theta
        #expect(throws: ConvNetError.self) { try net.backward(parameters: theta, outputGradient: [0, 0, 0], workspace: ws, into: &g) }
    }
}
