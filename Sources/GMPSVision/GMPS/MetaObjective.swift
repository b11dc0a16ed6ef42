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
///   L_i(θ, α) = mean_{(o,a*) ∈ D*_i} ‖μ_{φ_i}(o) − clip(a*)‖²,   φ_i = θ + α ⊙ G_i(θ)
///   G_i(θ) = Σ_s c_s(θ) ∇f_s(θ)   the inner gradient ∇Ĵ_i with c held, as the inner step takes it
///   ∇_θ L_i = g_i + J_iᵀ (α ⊙ g_i)   g_i = ∇_φ BC_i(φ_i),  J_i = ∂G_i/∂θ  (second order)
///   ∇_α L_i = g_i ⊙ G_i(θ)
/// J_i = H_i + Σ_s ∇f_s (∂c_s/∂θ)ᵀ: H_i = Σ_s c_s ∇²f_s is the Hessian of Ĵ_i with c fixed
/// (`InnerStep.hessianVector`); the second part is how the importance weights and the latent's
/// density ratio move c with θ (`InnerStep.coefficientVector`). Only the latter carries the
/// latent score's (z − μ)(z − μ)ᵀ; with bias-vector adaptation H_i alone is −Σ_τ c_τ/σ_z² ≈ 0.
/// The advantages in c are data (returns of the rollouts), so they contribute nothing; a
/// clipped weight is constant, so it contributes nothing either. Only the tail adapts, so J_i
/// and α live on the tail; the encoder's gradient is g_i's.
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
    /// `coefficients`: nil computes c at θ, and second order differentiates through them (the
    /// loss that is minimised); given, they are constants of L_i and only H_i enters.
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
            var hv = try inner.hessianVector(tail: step.tail, coefficients: step.coefficients, data: data,
                                             direction: direction)
            if coefficients == nil {
                let moving = try inner.coefficientVector(tail: step.tail, coefficients: step.coefficients, data: data,
                                                         direction: direction, workspace: headWorkspace)
                VectorOps.axpy(1, moving, &hv)
            }
            for j in 0..<hv.count { thetaGradient[policy.tailStart + j] += hv[j] }
        }
        let alphaGradient = zip(gTail, step.gradient).map { $0 * $1 }
        return TaskMetaGradient(loss: loss, theta: thetaGradient, alpha: alphaGradient)
    }
}
