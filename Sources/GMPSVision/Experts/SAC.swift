import ConvNet
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Soft Actor-Critic: a tanh-squashed Gaussian actor, twin Q critics with Polyak-averaged
/// targets, and an automatically tuned entropy temperature α (Haarnoja et al. 2018).
///
/// All networks are ConvNet MLPs on vectors: the actor maps a (normalised) state (S) to a mean
/// and a raw log-std (2A); each critic maps [state, action] (S+A) to one value. The learner
/// owns its parameters, Adam states and workspaces: one learner per thread.
///
/// Shapes: B = batch, S = state dimensions, A = action dimensions.
public final class SACLearner {
    public let config: SACConfig
    public let stateDimension: Int, actionDimension: Int
    public let actor: Network, critic: Network
    /// θ of the actor (the expert, once trained).
    public private(set) var actorParameters: [Float]
    /// Online and target parameters of the twin critics.
    private(set) var critics: [[Float]], targets: [[Float]]
    private var actorAdam: Adam
    private var criticAdams: [Adam]
    /// log α and its optimiser.
    public private(set) var logTemperature: Float
    private var temperatureAdam: Adam
    let head: SquashedGaussian
    let targetEntropy: Float
    /// Workspaces: acting (batch 1), actor updates, online critics, target critic.
    private let actWorkspace: Workspace, actorWorkspace: Workspace
    private let criticWorkspaces: [Workspace], targetWorkspace: Workspace
    /// With threads > 1: a one-thread copy of the critic network and a workspace per critic, so
    /// that the twin critics' passes run side by side (see `bothCritics`) rather than each
    /// layer of each critic being split over the workers (a dispatch per layer).
    private let pairCritic: Network?, pairWorkspaces: [Workspace]
    public private(set) var updates = 0

    /// What one update measured (for the learning curve).
    public struct UpdateStatistics: Sendable {
        public var criticLoss: Float, actorLoss: Float, temperature: Float, entropy: Float, meanQ: Float
    }

    /// Builds the networks with parameters from `seed`. `threads` splits each batch over
    /// workers (use 1 inside parallel workers).
    public init(config: SACConfig, stateDimension: Int, actionDimension: Int, seed: UInt64, threads: Int = 1) throws {
        if let problem = config.problem { throw ExpertError.invalidConfiguration(problem) }
        self.config = config
        self.stateDimension = stateDimension
        self.actionDimension = actionDimension
        actor = try Network(spec: .mlp(inputs: stateDimension, hidden: config.hidden, outputs: 2 * actionDimension,
                                       activation: .relu), threads: threads)
        critic = try Network(spec: .mlp(inputs: stateDimension + actionDimension, hidden: config.hidden, outputs: 1,
                                        activation: .relu), threads: threads)
        var seeds = SeededGenerator(seed: seed)
        actorParameters = actor.initialParameters(seed: seeds.next())
        critics = [critic.initialParameters(seed: seeds.next()), critic.initialParameters(seed: seeds.next())]
        targets = critics
        actorAdam = Adam(parameterCount: actor.parameterCount, learningRate: config.actorLearningRate,
                         maxGradientNorm: config.maxGradientNorm)
        let criticAdam = Adam(parameterCount: critic.parameterCount, learningRate: config.criticLearningRate,
                              maxGradientNorm: config.maxGradientNorm)
        criticAdams = [criticAdam, criticAdam]
        logTemperature = logf(config.initialTemperature)
        temperatureAdam = Adam(parameterCount: 1, learningRate: config.temperatureLearningRate)
        head = SquashedGaussian(actionDimension: actionDimension, logStdMin: config.logStdMin, logStdMax: config.logStdMax)
        targetEntropy = config.resolvedTargetEntropy(actionDimension: actionDimension)
        actWorkspace = actor.makeWorkspace(maxBatch: 1)
        actorWorkspace = actor.makeWorkspace(maxBatch: config.batchSize)
        let critic = critic
        criticWorkspaces = [critic.makeWorkspace(maxBatch: config.batchSize), critic.makeWorkspace(maxBatch: config.batchSize)]
        targetWorkspace = critic.makeWorkspace(maxBatch: config.batchSize)
        let pair = threads > 1 ? try Network(spec: critic.spec, threads: 1) : nil
        pairCritic = pair
        pairWorkspaces = pair.map { p in (0..<2).map { _ in p.makeWorkspace(maxBatch: config.batchSize) } } ?? []
    }

    public var temperature: Float { expf(logTemperature) }

    // MARK: Acting

    /// A sampled action (A) for exploration, from a normalised state (S).
    public func sampleAction(state: [Float], using rng: inout some RandomNumberGenerator) throws -> [Float] {
        let out = try actor.forward(parameters: actorParameters, extras: state, batch: 1, workspace: actWorkspace)
        return head.sample(outputs: out, batch: 1, using: &rng).actions
    }

    /// The deterministic action tanh μ (A) for a normalised state (S).
    public func meanAction(state: [Float]) throws -> [Float] {
        let out = try actor.forward(parameters: actorParameters, extras: state, batch: 1, workspace: actWorkspace)
        return head.meanActions(outputs: out, batch: 1)
    }

    // MARK: Update

    /// One SAC update on a batch: critics, then actor, then temperature, then targets.
    @discardableResult
    public func update(_ batch: ReplayBuffer.Batch, using rng: inout some RandomNumberGenerator) throws -> UpdateStatistics {
        let b = batch.size, (s, a) = (stateDimension, actionDimension)
        let alpha = temperature
        let invB = 1 / Float(b)

        // Critic targets: y = r + γ (min_k Q̄_k(s′, a′) − α log π(a′|s′)), a′ ~ π(·|s′).
        let nextOut = try actor.forward(parameters: actorParameters, extras: batch.nextStates, batch: b, workspace: actorWorkspace)
        let next = head.sample(outputs: nextOut, batch: b, using: &rng)
        let nextInputs = Self.concatenate(batch.nextStates, s, next.actions, a, rows: b)
        let tq = try bothCritics(workspaces: [targetWorkspace, targetWorkspace]) { k, net, ws in
            try net.forward(parameters: targets[k], extras: nextInputs, batch: b, workspace: ws)
        }
        let (tq1, tq2) = (tq[0], tq[1])
        var y = [Float](repeating: 0, count: b)
        for i in 0..<b {
            y[i] = batch.rewards[i] + config.discount * (min(tq1[i], tq2[i]) - alpha * next.logProbability[i])
        }

        // Critic loss: Σ_k mean_i ½(Q_k(s,a) − y)²; ∂/∂Q_k = (Q_k − y)/B.
        let inputs = Self.concatenate(batch.states, s, batch.actions, a, rows: b)
        var criticLoss: Float = 0, meanQ: Float = 0
        // Each critic's Q and gradient (the two are independent), then the sums and Adam steps
        // in critic order, as one critic after the other would take them.
        let fits = try bothCritics(workspaces: criticWorkspaces) { k, net, ws -> (q: [Float], gradient: [Float]) in
            let q = try net.forward(parameters: critics[k], extras: inputs, batch: b, workspace: ws)
            var dq = [Float](repeating: 0, count: b)
            for i in 0..<b { dq[i] = (q[i] - y[i]) * invB }
            var gradient = [Float](repeating: 0, count: net.parameterCount)
            try net.backward(parameters: critics[k], outputGradient: dq, workspace: ws, into: &gradient)
            return (q, gradient)
        }
        for k in 0..<2 {
            let q = fits[k].q
            for i in 0..<b {
                let diff = q[i] - y[i]
                criticLoss += 0.5 * diff * diff * invB
                meanQ += q[i] * invB * 0.5
            }
            try criticAdams[k].update(&critics[k], gradient: fits[k].gradient)
        }

        // Actor loss: mean_i [α log π(ã_i|s_i) − min_k Q_k(s_i, ã_i)], ã reparameterised.
        let out = try actor.forward(parameters: actorParameters, extras: batch.states, batch: b, workspace: actorWorkspace)
        let sample = head.sample(outputs: out, batch: b, using: &rng)
        let actorInputs = Self.concatenate(batch.states, s, sample.actions, a, rows: b)
        let qs = try bothCritics(workspaces: criticWorkspaces) { k, net, ws in
            try net.forward(parameters: critics[k], extras: actorInputs, batch: b, workspace: ws)
        }
        let (q1, q2) = (qs[0], qs[1])
        // ∂(−min Q)/∂Q_k: −1/B on the smaller critic of each row, 0 on the other.
        let criticInputGradients = try bothCritics(workspaces: criticWorkspaces) { k, net, ws -> [Float]? in
            var dq = [Float](repeating: 0, count: b)
            for i in 0..<b where (k == 0) == (q1[i] <= q2[i]) { dq[i] = -invB }
            guard dq.contains(where: { $0 != 0 }) else { return nil }
            var gradient = [Float](repeating: 0, count: net.parameterCount)
            try net.backward(parameters: critics[k], outputGradient: dq, workspace: ws, into: &gradient, inputGradients: true)
            return ws.extraInputGradient   // (B, S+A)
        }
        var dActions = [Float](repeating: 0, count: b * a)
        var actorLoss: Float = 0, entropy: Float = 0
        for case let dInputs? in criticInputGradients {
            for i in 0..<b { for j in 0..<a { dActions[i * a + j] += dInputs[i * (s + a) + s + j] } }
        }
        for i in 0..<b {
            actorLoss += (alpha * sample.logProbability[i] - min(q1[i], q2[i])) * invB
            entropy -= sample.logProbability[i] * invB
        }
        let dOut = head.outputGradient(sample, batch: b, logProbabilityWeight: [Float](repeating: alpha * invB, count: b),
                                       actionGradient: dActions)
        var actorGradient = [Float](repeating: 0, count: actor.parameterCount)
        try actor.backward(parameters: actorParameters, outputGradient: dOut, workspace: actorWorkspace, into: &actorGradient)
        try actorAdam.update(&actorParameters, gradient: actorGradient)

        // Temperature: minimise −log α · (log π + H̄) averaged; ∂/∂log α = −mean(log π + H̄) = entropy − H̄.
        var logT = [logTemperature]
        try temperatureAdam.update(&logT, gradient: [entropy - targetEntropy])
        logTemperature = logT[0]

        // Targets: θ̄ ← (1 − τ) θ̄ + τ θ.
        for k in 0..<2 { Self.polyakAverage(&targets[k], toward: critics[k], rate: config.polyak) }
        updates += 1
        return UpdateStatistics(criticLoss: criticLoss, actorLoss: actorLoss, temperature: alpha, entropy: entropy, meanQ: meanQ)
    }

    /// `body(k, network, workspace)` for the critics k = 0, 1; results in critic order. With a
    /// one-thread pair, the two run side by side (one worker each, one dispatch per phase, and
    /// the same bits: a pass's result does not depend on its network's thread count); without,
    /// one after the other on `critic` and `workspaces[k]`.
    private func bothCritics<T>(workspaces: [Workspace], _ body: (Int, Network, Workspace) throws -> T) throws -> [T] {
        guard let pair = pairCritic else { return try (0..<2).map { try body($0, critic, workspaces[$0]) } }
        let results = ResultSlots<T>(count: 2)
        try parallelForEach(2, workers: 2) { _, k in results.set(try body(k, pair, pairWorkspaces[k]), at: k) }
        return results.values.compactMap { $0 }
    }

    /// target ← (1 − τ)·target + τ·online (both P).
    ///
    ///     var t: [Float] = [0, 10]; polyakAverage(&t, toward: [1, 20], rate: 0.5)   // t == [0.5, 15]
    static func polyakAverage(_ target: inout [Float], toward online: [Float], rate tau: Float) {
        precondition(target.count == online.count, "polyakAverage: length mismatch")
        online.withUnsafeBufferPointer { o in
            target.withUnsafeMutableBufferPointer { t in
                for i in 0..<t.count { t[i] += tau * (o[i] - t[i]) }
            }
        }
    }

    /// Rows of x (rows,xw) and y (rows,yw) side by side: (rows, xw+yw).
    static func concatenate(_ x: [Float], _ xw: Int, _ y: [Float], _ yw: Int, rows: Int) -> [Float] {
        precondition(x.count >= rows * xw && y.count >= rows * yw, "concatenate: fewer rows than asked for")
        let w = xw + yw
        // Row pointers: indexing the arrays (bounds and overflow checks per element) cost 1% of an update.
        return [Float](unsafeUninitializedCapacity: rows * w) { out, count in
            x.withUnsafeBufferPointer { x in
                y.withUnsafeBufferPointer { y in
                    for i in 0..<rows {
                        let row = out.baseAddress! + i * w, xRow = x.baseAddress! + i * xw, yRow = y.baseAddress! + i * yw
                        for j in 0..<xw { row[j] = xRow[j] }
                        for j in 0..<yw { row[xw + j] = yRow[j] }
                    }
                }
            }
            count = rows * w
        }
    }

    /// The critics' target parameters (for tests of the Polyak update).
    var targetParameters: [[Float]] { targets }
    var criticParameters: [[Float]] { critics }
}
