/// The network split at the concatenation: an image encoder (convolutions, keypoints) and a
/// head (bias vector, dense layers, log-std) that is itself an MLP on [features, extras].
///
/// The head's parameters are a contiguous suffix of θ in the same order as the head network's
/// own θ, so an inner loop that adapts only the head on detached encoder features (FINDINGS.md)
/// runs the head network on the encoder's output:
///
///     let head = try GaussianPolicy(network: Network(spec: net.headSpec))
///     try net.encode(parameters: theta, images: img, extras: hand, batch: n, workspace: ws)
///     net.copyHeadInputs(workspace: ws, into: inputs)              // (N, F+E)
///     let hv = try head.logProbabilityHessianVector(parameters: Array(theta[net.headParameterRange]),
///                                                   extras: inputs, actions: a, weights: w, direction: v)
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

    /// F: image features per sample (2·C keypoints after a spatial softmax; 0 without an image).
    public var imageFeatureCount: Int { featureCount }

    /// F + E: one sample's head input (image features, then extras).
    public var headInputCount: Int { featureCount + extraCount }

    /// Copies the head inputs [image features, extras] (N, F+E) of the last `encode` or
    /// `forward` on `workspace` into `destination`, sample i at `destination + i · stride`
    /// (stride ≥ F+E; default F+E), so a caller can write them straight into its own rows.
    public func copyHeadInputs(workspace ws: Workspace, into destination: UnsafeMutablePointer<Float>,
                               stride: Int? = nil) {
        let width = headInputCount, step = stride ?? width
        let source = UnsafePointer(h0Pointer(ws))
        for i in 0..<ws.batch {
            (destination + i * step).update(from: source + i * concatCount, count: width)
        }
    }
}
