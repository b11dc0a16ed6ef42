import Foundation

/// How each adaptation step explores and steps when the policy explores with a per-trajectory
/// latent: step k draws z ~ N(μ_k, (s_k σ_z)²), scores with that σ, and scales the bias
/// vector's α by s_k², so that each step stays the return-weighted mean offset of its probes
/// (the rest of α is unchanged). s_0 = 1; steps 1…L take the scales meta-training learned
/// (`MetaTrainerState.latentScales`, L = `GMPSConfig.metaTrainedSteps` − 1); later steps go on
/// from the last learned scale by the decay d each: s_k = s_L · d^(k − L), so with nothing
/// learned s_k = d^k.
public struct AdaptationSchedule: Sendable, Equatable {
    /// s_1 … s_L, learned by meta-training (empty: none).
    public var learnedScales: [Float]
    /// d: the factor per step after the learned ones.
    public var decay: Float

    /// The scale stops here (0.5 reaches it at step 23): below it a probe z = μ + σ_z·ε rounds
    /// to μ in Float, so further steps could not move, while s² → 0 and 1/σ_z² → ∞ would turn
    /// the bias vector's step into 0·∞ = NaN (`--adapt-steps 76` did).
    public static let smallestScale = Float.ulpOfOne

    public init(learnedScales: [Float] = [], decay: Float = 1) {
        self.learnedScales = learnedScales
        self.decay = decay
    }

    /// s_k for step k (0-based).
    public func scale(step: Int) -> Float {
        guard step > 0 else { return 1 }
        if step <= learnedScales.count { return max(learnedScales[step - 1], Self.smallestScale) }
        let learned = learnedScales.last ?? 1
        return max(learned * powf(decay, Float(step - learnedScales.count)), Self.smallestScale)
    }

    /// Step k's exploration, inner step and α: `exploration`, `inner` and `alpha` (step 0's)
    /// with the latent's σ_z scaled by s_k and the first `biasVectorCount` entries of α by s_k².
    /// Unchanged without a latent, or where s_k is 1.
    public func settings(step: Int, exploration: Exploration, inner: InnerStep, alpha: [Float],
                         biasVectorCount: Int) -> (exploration: Exploration, inner: InnerStep, alpha: [Float]) {
        let scale = scale(step: step)
        guard let sigma = exploration.latentStd, scale != 1 else { return (exploration, inner, alpha) }
        var (inner, alpha) = (inner, alpha)
        inner.latentStd = sigma * scale
        for j in 0..<biasVectorCount { alpha[j] *= scale * scale }
        return (exploration.withLatentStd(sigma * scale), inner, alpha)
    }
}
