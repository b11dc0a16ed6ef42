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

/// What one task contributes to the meta-gradient.
public struct TaskMetaGradient: Sendable {
    /// L_i = BC(φ_i).
    public var loss: Float
    /// ∇_θ L_i (P).
    public var theta: [Float]
    /// ∇_α L_i (tail).
    public var alpha: [Float]
    /// ∇_θ Ĵ_i(θ) on the tail: the inner policy gradient.
    public var innerGradient: [Float]
    /// φ_i's tail.
    public var adaptedTail: [Float]
}

/// The outer objective of GMPS (DESIGN.md section 4): imitation by the adapted policy.
///
///   L_i(θ, α) = mean_{(o,a*) ∈ D*_i} ‖μ_{φ_i}(o) − clip(a*)‖²,   φ_i = θ + α ⊙ ∇_θ Ĵ_i(θ)
///   ∇_θ L_i = g_i + H_i (α ⊙ g_i)     g_i = ∇_φ BC_i(φ_i),  H_i = ∇²_θ Ĵ_i(θ)  (second order)
///   ∇_α L_i = g_i ⊙ ∇_θ Ĵ_i(θ)
/// Only the tail adapts, so H_i and α live on the tail; the encoder's gradient is g_i's.
public struct MetaObjective: Sendable {
    public let inner: InnerStep
    /// Include H_i (α ⊙ g_i); first order drops it (FINDINGS.md: no worse, faster).
    public var secondOrder: Bool

    public init(inner: InnerStep, secondOrder: Bool = false) {
        self.inner = inner
        self.secondOrder = secondOrder
    }

    var policy: MetaPolicy { inner.policy }

    /// L_i and its gradients at (θ, α) on task i's rollouts and demonstrations.
    /// `coefficients`: the inner step's c at θ, or nil to compute them (tests pass them to
    /// hold them fixed while differentiating numerically).
    public func taskGradient(theta: [Float], alpha: [Float], data: InnerStepData, demos: ImitationBatch,
                             coefficients: InnerCoefficients? = nil, headWorkspace: Workspace,
                             workspace: Workspace) throws -> TaskMetaGradient {
        let tail = policy.tail(of: theta)
        let c = try coefficients ?? inner.coefficients(tail: tail, data: data, workspace: headWorkspace)
        let innerGradient = try inner.gradient(tail: tail, coefficients: c, data: data, workspace: headWorkspace)
        let adaptedTail = inner.adaptedTail(tail, alpha: alpha, gradient: innerGradient)
        let phi = policy.replacingTail(of: theta, with: adaptedTail)

        let (loss, g) = try behaviourCloning(parameters: phi, demos: demos, workspace: workspace)
        var thetaGradient = g
        let gTail = policy.tail(of: g)
        if secondOrder {
            let direction = zip(alpha, gTail).map { $0 * $1 }
            // H of Ĵ (a maximised objective) enters with a plus: φ = θ + α ⊙ ∇Ĵ.
            let hv = try inner.hessianVector(tail: tail, coefficients: c, data: data, direction: direction)
            for j in 0..<hv.count { thetaGradient[policy.tailStart + j] += hv[j] }
        }
        let alphaGradient = zip(gTail, innerGradient).map { $0 * $1 }
        return TaskMetaGradient(loss: loss, theta: thetaGradient, alpha: alphaGradient,
                                innerGradient: innerGradient, adaptedTail: adaptedTail)
    }

    /// BC(θ) = mean ‖μ_θ(o) − a*‖² over the batch (all M·A entries) and its gradient (P).
    public func behaviourCloning(parameters: [Float], demos: ImitationBatch,
                                 workspace: Workspace) throws -> (loss: Float, gradient: [Float]) {
        let mean = try policy.network.forward(parameters: parameters, images: demos.images,
                                              extras: demos.hands, batch: demos.count, workspace: workspace)
        let (loss, dMean) = try MSELoss.valueAndGradient(output: mean, target: demos.actions)
        var gradient = [Float](repeating: 0, count: policy.parameterCount)
        try policy.network.backward(parameters: parameters, outputGradient: dMean, workspace: workspace,
                                    into: &gradient)
        return (loss, gradient)
    }
}
