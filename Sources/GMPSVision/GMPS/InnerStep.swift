import ConvNet

/// One task's rollouts from the pre-update policy π_θ0, as the inner step needs them.
/// N = trajectories × T samples, trajectory after trajectory.
public struct InnerStepData: Sendable {
    /// (N, F+E): the encoder's keypoints recorded at collection, then hand xyz.
    public var headInputs: [Float]
    /// (N, A): the executed actions.
    public var actions: [Float]
    /// (N): log π_θ0(a|o, z) of each executed action when it was collected.
    public var behaviourLogProbabilities: [Float]
    /// (N): Â, standardised returns-to-go minus the task's linear baseline.
    public var advantages: [Float]
    /// T: steps per trajectory.
    public var trajectoryLength: Int
    /// Structured exploration (MAESN-style): each trajectory's bias vector z, drawn once per
    /// rollout from N(μ_θ0, σ_z²), (trajectories, B). nil with per-step action noise only.
    public var latents: [Float]?
    /// μ_θ0 (B): the bias vector the latents were drawn around.
    public var behaviourLatentMean: [Float]?
    /// (K): each rollout's standardised discounted return, the latent's advantage.
    public var trajectoryAdvantages: [Float]?

    public init(headInputs: [Float], actions: [Float], behaviourLogProbabilities: [Float],
                advantages: [Float], trajectoryLength: Int, latents: [Float]? = nil,
                behaviourLatentMean: [Float]? = nil, trajectoryAdvantages: [Float]? = nil) {
        self.headInputs = headInputs
        self.actions = actions
        self.behaviourLogProbabilities = behaviourLogProbabilities
        self.advantages = advantages
        self.trajectoryLength = trajectoryLength
        self.latents = latents
        self.behaviourLatentMean = behaviourLatentMean
        self.trajectoryAdvantages = trajectoryAdvantages
    }

    public var sampleCount: Int { advantages.count }
    public var trajectoryCount: Int { trajectoryLength > 0 ? sampleCount / trajectoryLength : 0 }
}

/// The importance-weighted coefficients of the inner objective, held constant (stop-gradient)
/// by the inner gradient, and how they move with θ (for the exact meta-gradient).
public struct InnerCoefficients: Sendable {
    /// (N): c_τt = w_τt Â_τt / K for the per-step log-probabilities.
    public var perStep: [Float]
    /// (K): c_τ = w_τ A_τ / K for the latent's log-density (empty without latents).
    public var perTrajectory: [Float]
    /// (N): ∂c_τt / ∂r_τt with r the log importance ratio: c_τt where the clip is inactive
    /// (w = e^r), 0 where it holds w at the clip (a constant there). Â is data (returns of
    /// the rollouts), so r is the only way c depends on θ.
    public var perStepSlope: [Float] = []
    /// (K): ∂c_τ / ∂r_τ likewise (empty without latents).
    public var perTrajectorySlope: [Float] = []
}

/// What one inner step computed: φ and the pieces the meta-gradient needs.
public struct InnerAdaptation: Sendable {
    /// θ's tail (tailCount), where the step was taken.
    public var tail: [Float]
    /// c at θ, held constant.
    public var coefficients: InnerCoefficients
    /// g = ∇_tail Ĵ(θ) (tailCount): the inner policy gradient.
    public var gradient: [Float]
    /// φ's tail: θ_tail + α ⊙ g.
    public var adaptedTail: [Float]
    /// φ (P): θ with its tail adapted.
    public var phi: [Float]
}

/// The inner step of GMPS (DESIGN.md section 4): importance-weighted REINFORCE on the
/// pre-update rollouts, then `φ = θ + α ⊙ ∇_θ Ĵ(θ)` on the adapted tail.
///
///   Ĵ(θ) = Σ_τ Σ_t c_τt log π_θ(a_τt | o_τt, z_τ)  +  Σ_τ c_τ log N(z_τ; μ_θ, σ_z²)
///   c_τt = w_τt Â_τt / K,   w_τt = min(π_θ(a, z) / π_θ0(a, z), clip)
///   c_τ  = w_τ A_τ / K,     w_τ  = min(N(z; μ_θ) / N(z; μ_θ0), clip)
/// with every c held constant (stop-gradient). Dividing by the K trajectories (not the K·T
/// samples) makes ∇Ĵ the usual REINFORCE estimate of the gradient of the expected return, whose
/// size does not shrink with the horizon.
///
/// The latent term exists only with structured exploration. z_τ is drawn once per rollout, so
/// its advantage A_τ is trajectory-level: the standardised return of the whole rollout, with
/// no state-dependent baseline (the states visited depend on z, which would bias it). z_τ is
/// a sample, so the per-step term's derivative with respect to the bias-vector slot is not a
/// gradient of μ_θ and is dropped; μ_θ's gradient is the score c_τ (z_τ − μ_θ) / σ_z².
public struct InnerStep: Sendable {
    public let policy: MetaPolicy
    /// Importance weights are clipped above at this value (FINDINGS.md: 5).
    public var importanceWeightClip: Float
    /// σ_z of the per-trajectory latent (structured exploration), or nil.
    public var latentStd: Float?

    public init(policy: MetaPolicy, importanceWeightClip: Float = 5, latentStd: Float? = nil) {
        self.policy = policy
        self.importanceWeightClip = importanceWeightClip
        self.latentStd = latentStd
    }

    /// The inner step a configuration describes (its clip and its exploration's latent σ_z).
    public init(policy: MetaPolicy, config: GMPSConfig) {
        self.init(policy: policy, importanceWeightClip: config.importanceWeightClip,
                  latentStd: config.exploration.latentStd)
    }

    /// The inner step at θ (P) on one task's rollouts: coefficients at θ's tail, then
    /// g = ∇_tail Ĵ(θ) and φ = θ + α ⊙ g on the tail. The one place the step is taken:
    /// meta-training, its measurement, MAML and meta-test all call this.
    /// `coefficients`: c held fixed (tests differentiating numerically pass them), else computed.
    public func adapt(theta: [Float], alpha: [Float], data: InnerStepData,
                      coefficients: InnerCoefficients? = nil, workspace: Workspace) throws -> InnerAdaptation {
        let tail = policy.tail(of: theta)
        let c = try coefficients ?? self.coefficients(tail: tail, data: data, workspace: workspace)
        let g = try gradient(tail: tail, coefficients: c, data: data, workspace: workspace)
        let adaptedTail = VectorOps.adapted(theta: tail, alpha: alpha, gradient: g)
        return InnerAdaptation(tail: tail, coefficients: c, gradient: g, adaptedTail: adaptedTail,
                               phi: policy.replacingTail(of: theta, with: adaptedTail))
    }

    /// The coefficients at the tail θ_tail (the head's parameters).
    public func coefficients(tail: [Float], data: InnerStepData, workspace: Workspace) throws -> InnerCoefficients {
        let n = data.sampleCount, k = Float(max(data.trajectoryCount, 1))
        guard n > 0 else { return InnerCoefficients(perStep: [], perTrajectory: []) }
        var logRatios = [Float](repeating: 0, count: n)
        var latentLogRatios: [Float] = []
        try forEachTrajectoryBatch(tail: tail, data: data) { range, parameters, latentLogRatio in
            let lp = try policy.headPolicy.logProbabilities(
                parameters: parameters, extras: slice(data.headInputs, range, policy.headInputCount),
                actions: slice(data.actions, range, policy.actionCount), batch: range.count, workspace: workspace)
            for (j, i) in range.enumerated() {
                logRatios[i] = lp[j] - data.behaviourLogProbabilities[i] + latentLogRatio
            }
            if data.latents != nil { latentLogRatios.append(latentLogRatio) }
        }
        let clip = importanceWeightClip
        func weight(_ logRatio: Float) -> Float { min(expf(min(logRatio, 20)), clip) }
        // w = e^r moves with r, so ∂c/∂r = c, until the clip (or the cap at e^20) holds it.
        func moves(_ logRatio: Float) -> Bool { logRatio < 20 && expf(logRatio) < clip }
        let perStep = (0..<n).map { weight(logRatios[$0]) * data.advantages[$0] / k }
        let perStepSlope = (0..<n).map { moves(logRatios[$0]) ? perStep[$0] : 0 }
        var perTrajectory: [Float] = [], perTrajectorySlope: [Float] = []
        if let advantages = data.trajectoryAdvantages, data.latents != nil, latentStd != nil {
            perTrajectory = zip(latentLogRatios, advantages).map { weight($0) * $1 / k }
            perTrajectorySlope = zip(latentLogRatios, perTrajectory).map { moves($0) ? $1 : 0 }
        }
        return InnerCoefficients(perStep: perStep, perTrajectory: perTrajectory,
                                 perStepSlope: perStepSlope, perTrajectorySlope: perTrajectorySlope)
    }

    /// ∇_tail Ĵ with the coefficients held constant (tailCount).
    public func gradient(tail: [Float], coefficients c: InnerCoefficients, data: InnerStepData,
                         workspace: Workspace) throws -> [Float] {
        var total = [Float](repeating: 0, count: tail.count)
        var part = [Float](repeating: 0, count: tail.count)
        let b = policy.biasVectorCount
        try forEachTrajectoryBatch(tail: tail, data: data) { range, parameters, _ in
            try policy.headPolicy.weightedLogProbabilityGradient(
                parameters: parameters, extras: slice(data.headInputs, range, policy.headInputCount),
                actions: slice(data.actions, range, policy.actionCount), weights: Array(c.perStep[range]),
                batch: range.count, workspace: workspace, into: &part)
            if let latents = data.latents {
                // ∂/∂z is not ∂/∂μ (see the type's comment); μ gets the latent's score instead.
                let trajectory = range.lowerBound / data.trajectoryLength
                let sigma = latentStd ?? 1
                let weight = c.perTrajectory.isEmpty ? 0 : c.perTrajectory[trajectory]
                for j in 0..<b {
                    part[j] = weight * (latents[trajectory * b + j] - tail[j]) / (sigma * sigma)
                }
            }
            VectorOps.axpy(1, part, &total)
        }
        return total
    }

    /// H v: the Hessian of Ĵ (coefficients held constant) with respect to the tail, times v
    /// (tailCount); exact, by Pearlmutter's R-operator on the head.
    public func hessianVector(tail: [Float], coefficients c: InnerCoefficients, data: InnerStepData,
                              direction v: [Float]) throws -> [Float] {
        var total = [Float](repeating: 0, count: tail.count)
        let b = policy.biasVectorCount
        var direction = v
        if data.latents != nil { for j in 0..<b { direction[j] = 0 } }
        try forEachTrajectoryBatch(tail: tail, data: data) { range, parameters, _ in
            var part = try policy.headPolicy.logProbabilityHessianVector(
                parameters: parameters, extras: slice(data.headInputs, range, policy.headInputCount),
                actions: slice(data.actions, range, policy.actionCount), weights: Array(c.perStep[range]),
                direction: direction)
            if data.latents != nil {
                // d²/dμ² c_τ log N(z; μ, σ²) = −c_τ / σ² on the bias block; no cross terms.
                let trajectory = range.lowerBound / data.trajectoryLength
                let weight = c.perTrajectory.isEmpty ? 0 : c.perTrajectory[trajectory]
                let sigma = latentStd ?? 1
                for j in 0..<b { part[j] = -weight / (sigma * sigma) * v[j] }
            }
            VectorOps.axpy(1, part, &total)
        }
        return total
    }

    /// (∂G/∂θ)ᵀ v for the part of the inner gradient G(θ) = Σ_s c_s(θ) ∇f_s(θ) that comes from
    /// the coefficients moving with θ (tailCount); `hessianVector` is the part with c fixed, and
    /// their sum is the exact Jacobian of G transposed, times v. With r_s the log importance
    /// ratio of sample s and ∂c_s/∂θ = slope_s ∇r_s:
    ///   (∂G/∂θ)ᵀ v ⊇ Σ_s slope_s ∇r_s (∇f_s · v)
    /// Per-step terms (f = log π(a|o, z), slope c_τt until clipped), with u_s = ∇f_s · v exact
    /// by the R-operator: ∇r_s = ∇f_s, plus (z_τ − μ)/σ_z² on the bias vector with latents (r
    /// includes the latent's log ratio), so
    ///   Σ_s slope_s u_s ∇f_s  (a weighted log-probability gradient with weights slope · u)
    ///   + Σ_τ (Σ_t slope_τt u_τt) (z_τ − μ)/σ_z²
    /// Latent terms (f = r + const = log N(z_τ; μ, σ_z²)): the score's outer product
    ///   Σ_τ slope_τ (z_τ − μ)(z_τ − μ)ᵀ v_μ / σ_z⁴
    /// which, with `hessianVector`'s −Σ_τ c_τ v_μ / σ_z², is the latent block's whole curvature.
    public func coefficientVector(tail: [Float], coefficients c: InnerCoefficients, data: InnerStepData,
                                  direction v: [Float], workspace: Workspace) throws -> [Float] {
        var total = [Float](repeating: 0, count: tail.count)
        guard !c.perStepSlope.isEmpty else { return total }
        var part = [Float](repeating: 0, count: tail.count)
        let b = policy.biasVectorCount
        let mean = Array(tail[0..<b])
        var direction = v
        // f_s does not depend on the bias-vector slot when it holds the sample z (see the type).
        if data.latents != nil { for j in 0..<b { direction[j] = 0 } }
        try forEachTrajectoryBatch(tail: tail, data: data) { range, parameters, _ in
            let extras = slice(data.headInputs, range, policy.headInputCount)
            let actions = slice(data.actions, range, policy.actionCount)
            // u_s = ∇f_s · v (N_range)
            let u = try policy.headPolicy.logProbabilityDirectionalDerivatives(
                parameters: parameters, extras: extras, actions: actions, direction: direction)
            let weights = zip(c.perStepSlope[range], u).map { $0 * $1 }
            try policy.headPolicy.weightedLogProbabilityGradient(
                parameters: parameters, extras: extras, actions: actions, weights: weights,
                batch: range.count, workspace: workspace, into: &part)
            if let latents = data.latents {
                let trajectory = range.lowerBound / data.trajectoryLength
                let sigma = latentStd ?? 1
                let z = Array(latents[(trajectory * b)..<((trajectory + 1) * b)])
                // ∇_μ r = (z − μ)/σ² for every sample of the trajectory and for its latent term.
                let score = zip(z, mean).map { ($0 - $1) / (sigma * sigma) }
                let slope = c.perTrajectorySlope.isEmpty ? 0 : c.perTrajectorySlope[trajectory]
                let latentU = zip(score, v[0..<b]).reduce(Float(0)) { $0 + $1.0 * $1.1 }
                let perStep = latentStd == nil ? 0 : weights.reduce(0, +)
                for j in 0..<b { part[j] = (perStep + slope * latentU) * score[j] }
            }
            VectorOps.axpy(1, part, &total)
        }
        return total
    }

    /// Calls `body(sampleRange, headParameters, latentLogRatio)` once for the whole batch, or
    /// once per trajectory with the bias vector set to that trajectory's latent z; the ratio is
    /// log N(z; μ_θ, σ²) − log N(z; μ_θ0, σ²).
    private func forEachTrajectoryBatch(tail: [Float], data: InnerStepData,
                                        _ body: (Range<Int>, [Float], Float) throws -> Void) throws {
        guard let latents = data.latents, let sigma = latentStd else {
            try body(0..<data.sampleCount, tail, 0)
            return
        }
        let b = policy.biasVectorCount
        let mean = Array(tail[0..<b])
        let behaviourMean = data.behaviourLatentMean ?? mean
        var parameters = tail
        for trajectory in 0..<data.trajectoryCount {
            let z = Array(latents[(trajectory * b)..<((trajectory + 1) * b)])
            parameters.replaceSubrange(0..<b, with: z)
            let start = trajectory * data.trajectoryLength
            let ratio = gaussianLogDensity(z, mean: mean, std: sigma) - gaussianLogDensity(z, mean: behaviourMean, std: sigma)
            try body(start..<(start + data.trajectoryLength), parameters, ratio)
        }
    }
}

/// Rows `range` of a row-major (rows, width) array.
func slice(_ values: [Float], _ range: Range<Int>, _ width: Int) -> [Float] {
    Array(values[(range.lowerBound * width)..<(range.upperBound * width)])
}

/// log N(x; mean, std² I).
func gaussianLogDensity(_ x: [Float], mean: [Float], std: Float) -> Float {
    var total: Float = 0
    for (value, mu) in zip(x, mean) {
        let z = (value - mu) / std
        total += -0.5 * z * z - logf(std) - GaussianPolicy.halfLog2Pi
    }
    return total
}

#if canImport(Glibc)
import Glibc
#endif
