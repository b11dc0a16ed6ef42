/// The network split at the concatenation: an image encoder (convolutions, keypoints) and a
/// head (bias vector, dense layers, log-std) that is itself an MLP on [features, extras].
///
/// The head's parameters are a contiguous suffix of θ in the same order as the head network's
/// own θ, so an inner loop that adapts only the head on detached encoder features (FINDINGS.md)
/// can use the exact Hessian-vector product of the head:
///
///     let head = try GaussianPolicy(network: Network(spec: net.headSpec))
///     let features = try net.encoderFeatures(parameters: theta, images: img, extras: hand, batch: n, workspace: ws)
///     let hv = try head.logProbabilityHessianVector(parameters: Array(theta[net.headParameterRange]),
///                                                   extras: features, actions: a, weights: w, direction: v)
extension Network {
    /// An MLP on F + E inputs with this network's bias vector, dense layers and log-std.
    public var headSpec: NetworkSpec {
        var head = NetworkSpec(image: nil, extraInputs: featureCount + extraCount, biasVector: biasCount,
                               hidden: spec.hidden, activation: spec.activation, outputs: spec.outputs,
                               logStd: spec.logStd, outputInitScale: spec.outputInitScale)
        head.learnedTemperature = false
        return head
    }

    /// Where the head's parameters sit in θ (bias vector, dense layers, log-std).
    public var headParameterRange: Range<Int> { biasVectorOffset..<parameterCount }

    /// The encoder's output for a batch, [image features, extras] per sample: (N, F+E).
    /// Runs a full forward on `workspace` (so a `backward` may follow).
    public func encoderFeatures(parameters: [Float], images: [Float]? = nil, extras: [Float]? = nil,
                                batch: Int, workspace: Workspace) throws -> [Float] {
        try forward(parameters: parameters, images: images, extras: extras, batch: batch, workspace: workspace)
        let width = featureCount + extraCount
        let source = h0Pointer(workspace)
        var out = [Float](repeating: 0, count: batch * width)
        out.withUnsafeMutableBufferPointer { o in
            for i in 0..<batch {
                (o.baseAddress! + i * width).update(from: source + i * concatCount, count: width)
            }
        }
        return out
    }
}
