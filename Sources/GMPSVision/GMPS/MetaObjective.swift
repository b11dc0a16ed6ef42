import ConvNet

/// What one task contributes to the meta-gradient.
public struct TaskMetaGradient: Sendable {
    /// L_i = BC(φ_i).
    public var loss: Float
    /// ∇_θ L_i (P).
    public var theta: [Float]
    /// ∇_α L_i (tail).
    public var alpha: [Float]
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
        let step = try inner.adapt(theta: theta, alpha: alpha, data: data, coefficients: coefficients,
                                   workspace: headWorkspace)
        let (loss, g) = try policy.imitationLoss(parameters: step.phi, demos: demos, workspace: workspace)
        var thetaGradient = g
        let gTail = policy.tail(of: g)
        if secondOrder {
            let direction = zip(alpha, gTail).map { $0 * $1 }
            // H of Ĵ (a maximised objective) enters with a plus: φ = θ + α ⊙ ∇Ĵ.
            let hv = try inner.hessianVector(tail: step.tail, coefficients: step.coefficients, data: data,
                                             direction: direction)
            for j in 0..<hv.count { thetaGradient[policy.tailStart + j] += hv[j] }
        }
        let alphaGradient = zip(gTail, step.gradient).map { $0 * $1 }
        return TaskMetaGradient(loss: loss, theta: thetaGradient, alpha: alphaGradient)
    }
}
