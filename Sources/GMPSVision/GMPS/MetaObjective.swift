import ConvNet

/// What one task contributes to the meta-gradient.
public struct TaskMetaGradient: Sendable {
    /// L_i = BC(φ_i).
    public var loss: Float
    /// ∇_θ L_i (P).
    public var theta: [Float]
    /// ∇_α L_i (tail).
    public var alpha: [Float]
    /// ∂L_i/∂log s_k of the learned latent scales, k = 1…N−1 (empty with one step).
    public var latentScales: [Float] = []
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

    /// φ_N: θ adapted by N steps on `data` (one task's rollouts per step, step k's collected
    /// from the policy step k − 1 adapted), step k as `schedule` says. Returns each step's
    /// adaptation, the last one's `phi` being φ_N.
    public func adaptationChain(theta: [Float], alpha: [Float], schedule: AdaptationSchedule, data: [InnerStepData],
                                exploration: Exploration, workspace: Workspace) throws -> [InnerAdaptation] {
        var current = theta
        var steps: [InnerAdaptation] = []
        for (k, stepData) in data.enumerated() {
            let settings = schedule.settings(step: k, exploration: exploration, inner: inner, alpha: alpha,
                                             biasVectorCount: policy.biasVectorCount)
            let step = try settings.inner.adapt(theta: current, alpha: settings.alpha, data: stepData, workspace: workspace)
            steps.append(step)
            current = step.phi
        }
        return steps
    }

    /// L_i after N meta-trained steps (N = data.count ≥ 1), first order through the steps:
    ///
    ///   φ_{k+1} = φ_k + α_k ⊙ G_k(φ_k),   φ_0 = θ,   α_k = α ⊙ m_k,   L_i = BC(φ_N)
    ///   m_k = s_k² on the bias vector, 1 elsewhere (`AdaptationSchedule`)
    ///   ∇_θ L_i ≈ g_i = ∇_φ BC(φ_N)     ∇_α L_i ≈ g_i ⊙ Σ_k m_k ⊙ G_k
    ///   ∂L_i/∂log s_k ≈ g_i · Δμ_k      (k ≥ 1; Δμ_k the bias vector's step k, zero elsewhere)
    /// The last is the pathwise derivative with the probes' noise ε and their returns held:
    /// step k's probes are z = μ_k + s_k σ_z ε, so its bias-vector step α s_k² Σ c (z − μ_k) /
    /// (s_k σ_z)² = α s_k Σ c ε / σ_z grows as s_k does, d Δμ_k / d log s_k = Δμ_k. It ignores
    /// how the returns change with the probes (a score-function term), as the first-order
    /// gradient ignores how G_k changes with θ.
    public func multiStepTaskGradient(theta: [Float], alpha: [Float], schedule: AdaptationSchedule,
                                      data: [InnerStepData], exploration: Exploration, demos: ImitationBatch,
                                      headWorkspace: Workspace, workspace: Workspace) throws -> TaskMetaGradient {
        let steps = try adaptationChain(theta: theta, alpha: alpha, schedule: schedule, data: data,
                                        exploration: exploration, workspace: headWorkspace)
        guard let last = steps.last else { throw MetaTrainingError.mismatch("multi-step adaptation needs rollouts for at least one step") }
        let (loss, g) = try policy.imitationLoss(parameters: last.phi, demos: demos, workspace: workspace)
        let gTail = policy.tail(of: g)
        let b = policy.biasVectorCount
        var alphaGradient = [Float](repeating: 0, count: gTail.count)
        var scaleGradients: [Float] = []
        for (k, step) in steps.enumerated() {
            let scale = exploration.latentStd == nil ? 1 : schedule.scale(step: k)
            for j in 0..<gTail.count {
                alphaGradient[j] += gTail[j] * step.gradient[j] * (j < b ? scale * scale : 1)
            }
            guard k > 0 else { continue }
            var along: Float = 0
            if exploration.latentStd != nil {
                for j in 0..<b { along += gTail[j] * (step.adaptedTail[j] - step.tail[j]) }
            }
            scaleGradients.append(along)
        }
        return TaskMetaGradient(loss: loss, theta: g, alpha: alphaGradient, latentScales: scaleGradients)
    }
}
