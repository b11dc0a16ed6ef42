import ConvNet

extension NetworkSpec {
    /// The small vision policy the gradient tests differentiate: 3x8x8 images, one conv, spatial
    /// softmax, hand xyz, a 2-entry bias vector, one tanh layer of 6, 3 actions, a log-std.
    static let smallVisionPolicy = NetworkSpec(
        image: .init(channels: 3, height: 8, width: 8),
        convolutions: [.init(outChannels: 4, kernel: 3, stride: 2, padding: .same)],
        imageFeatures: .spatialSoftmax, learnedTemperature: true, extraInputs: 3, biasVector: 2,
        hidden: [6], activation: .tanh, outputs: 3, logStd: -0.3, outputInitScale: 1)
}
