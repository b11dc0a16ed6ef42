import ConvNet

/// Expert supervision for the outer loss: observations and the expert's actions.
public struct ImitationBatch: Sendable {
    /// (M, C, H, W) in [0, 1].
    public var images: [Float]
    /// (M, E): hand xyz.
    public var hands: [Float]
    /// (M, A): the expert's actions, clipped to [−1, 1].
    public var actions: [Float]
    public var count: Int

    public init(images: [Float], hands: [Float], actions: [Float], count: Int) {
        self.images = images
        self.hands = hands
        self.actions = actions.map { min(max($0, -1), 1) }
        self.count = count
    }
}

extension ImitationBatch {
    /// The concatenation of two batches.
    func appending(_ other: ImitationBatch) -> ImitationBatch {
        ImitationBatch(images: images + other.images, hands: hands + other.hands,
                       actions: actions + other.actions, count: count + other.count)
    }
}

extension MetaPolicy {
    /// BC(θ) = mean ‖μ_θ(o) − a*‖² over the batch (all M·A entries) and its gradient (P): the
    /// imitation loss of pre-training, of the outer step (at φ_i) and of DAgger's anchor (at θ).
    public func imitationLoss(parameters: [Float], demos: ImitationBatch,
                              workspace: Workspace) throws -> (loss: Float, gradient: [Float]) {
        let mean = try network.forward(parameters: parameters, images: demos.images,
                                       extras: demos.hands, batch: demos.count, workspace: workspace)
        let (loss, dMean) = try MSELoss.valueAndGradient(output: mean, target: demos.actions)
        var gradient = [Float](repeating: 0, count: parameterCount)
        try network.backward(parameters: parameters, outputGradient: dMean, workspace: workspace, into: &gradient)
        return (loss, gradient)
    }

    /// BC with a task's code (B) in the bias-vector slot of θ (P), as pre-training and the code
    /// anchor take it: the loss, θ's gradient with the bias-vector slot zeroed (θ's bias
    /// vector, the start every adaptation leaves from, is not what is fitted), and the code's (B).
    public func imitationLoss(parameters theta: [Float], code: ArraySlice<Float>, demos: ImitationBatch,
                              workspace: Workspace) throws -> (loss: Float, gradient: [Float], codeGradient: [Float]) {
        let slot = biasVectorSlot
        let parameters = replacingBiasVector(of: theta, with: code)
        var (loss, gradient) = try imitationLoss(parameters: parameters, demos: demos, workspace: workspace)
        let codeGradient = Array(gradient[slot])
        for j in slot { gradient[j] = 0 }
        return (loss, gradient, codeGradient)
    }
}
