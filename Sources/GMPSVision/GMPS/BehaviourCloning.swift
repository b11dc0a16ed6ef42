import ConvNet
import VisionEnvs

/// Behaviour cloning of the meta-policy on all tasks' demonstrations: GMPS's pre-training
/// (DESIGN.md section 4, FINDINGS.md: the single most important change) and, with per-step
/// exploration, the multi-task behaviour-cloning baseline.
///
/// With per-trajectory exploration, each task also learns its own code in the bias-vector
/// slot (a task embedding, as MAESN learns per-task latents), and the codes are then
/// whitened into the first layer: afterwards θ's bias vector is their mean (0) and a latent
/// drawn from N(0, I) behaves like the expert of some plausible task. Rollouts with such
/// probes are consistent, goal-directed experiments, which is what makes one reward-weighted
/// step informative (FINDINGS.md: per-step noise carries only a noisy goal estimate).
///
/// Under MPI each step's tasks split over the ranks like a meta-batch (`MetaBatch`).
public struct BehaviourCloning {
    public let config: GMPSConfig
    public let policy: MetaPolicy
    /// Per task: its demonstrations.
    public let demos: [ImitationData]
    public let group: any ProcessGroup
    /// Tasks per Adam step, and demonstrations drawn per task.
    let tasksPerStep: Int
    let perTask: Int
    private let workspaces: [Workspace]

    public init(config: GMPSConfig, policy: MetaPolicy, demos: [ImitationData],
                group: any ProcessGroup = SingleProcess()) throws {
        if let empty = demos.firstIndex(where: \.isEmpty) { throw MetaTrainingError.noDemonstrations(task: empty) }
        self.config = config
        self.policy = policy
        self.demos = demos
        self.group = group
        tasksPerStep = min(demos.count, 8)
        perTask = max(1, config.pretrainBatch / max(tasksPerStep, 1))
        let batch = perTask
        workspaces = (0..<max(config.threads, 1)).map { _ in policy.network.makeWorkspace(maxBatch: batch) }
    }

    /// Whether this configuration learns per-task codes (per-trajectory exploration).
    var learnsTaskCodes: Bool { config.exploration.latentStd != nil && policy.biasVectorCount > 0 }

    /// `config.pretrainSteps` Adam steps on `theta` (P); returns the last step's loss.
    public func train(_ theta: inout [Float],
                      progress: (_ step: Int, _ loss: Float) -> Void = { _, _ in }) throws -> Float {
        try trainKeepingCodes(&theta, progress: progress).loss
    }

    /// What pre-training leaves besides θ: the last step's loss, and each task's code in the
    /// whitened coordinates θ's first layer reads afterwards (tasks × B; empty when this
    /// configuration learns no codes).
    public struct Outcome {
        public var loss: Float
        public var taskCodes: [Float]
    }

    /// `train`, keeping the task codes (for `GMPSConfig.codeAnchorWeight`).
    public func trainKeepingCodes(_ theta: inout [Float],
                                  progress: (_ step: Int, _ loss: Float) -> Void = { _, _ in }) throws -> Outcome {
        let learnCodes = learnsTaskCodes
        let b = policy.biasVectorCount
        let streams = RandomStreams(seed: config.seed)
        var optimizer = Adam(parameterCount: policy.parameterCount, learningRate: config.pretrainLearningRate)
        var codes = [Float](repeating: 0, count: demos.count * b)
        var codeOptimizer = Adam(parameterCount: codes.count, learningRate: 10 * config.pretrainLearningRate)
        var lastLoss: Float = 0
        for step in 0..<config.pretrainSteps {
            // 1. Draw the step's tasks and, per task, a minibatch of its demonstrations.
            var rng = streams.generator(.pretraining(step: step))
            let batch = MetaBatch(taskCount: demos.count, size: tasksPerStep, using: &rng, group: group,
                                  threads: workspaces.count)
            let batchRNGs = batch.tasks.indices.map { rng.split(stream: UInt64($0)) }

            // 2. Each task's loss and gradient, with its own code in the bias-vector slot.
            let current = theta, currentCodes = codes
            let results = try batch.map { worker, slot -> (loss: Float, gradient: [Float], codeGradient: [Float]) in
                let task = batch.tasks[slot]
                var batchRNG = batchRNGs[slot]
                let minibatch = demos[task].sample(perTask, using: &batchRNG)
                guard learnCodes else {
                    let (loss, gradient) = try policy.imitationLoss(parameters: current, demos: minibatch,
                                                                    workspace: workspaces[worker])
                    return (loss, gradient, [])
                }
                return try policy.imitationLoss(parameters: current, code: currentCodes[(task * b)..<((task + 1) * b)],
                                                demos: minibatch, workspace: workspaces[worker])
            }

            // 3. The mean over the step's tasks (all ranks): θ's gradient, and the bias slot's
            //    gradient routed to each task's own code.
            var gradient = [Float](repeating: 0, count: policy.parameterCount)
            var codeGradient = [Float](repeating: 0, count: codes.count)
            var loss: Float = 0
            let scale = 1 / Float(batch.tasks.count)
            for slot in batch.mySlots {
                guard let result = results[slot] else { continue }
                VectorOps.axpy(scale, result.gradient, &gradient)
                loss += result.loss * scale
                let task = batch.tasks[slot]
                for (j, value) in result.codeGradient.enumerated() { codeGradient[task * b + j] = value * scale }
            }
            var sums = [gradient, codeGradient, [loss]]
            group.sum(&sums)
            (gradient, codeGradient, loss) = (sums[0], sums[1], sums[2][0])
            guard loss.isFinite, gradient.allSatisfy(\.isFinite) else {
                throw MetaTrainingError.nonFinite(iteration: -1, what: "behaviour-cloning loss")
            }

            // 4. Adam on θ (the codes, not θ's bias vector, take the bias slot's gradient).
            if learnCodes { try codeOptimizer.update(&codes, gradient: codeGradient) }
            try optimizer.update(&theta, gradient: gradient)
            lastLoss = loss
            progress(step, loss)
        }
        guard learnCodes else { return Outcome(loss: lastLoss, taskCodes: []) }
        let whitened = Self.whitenTaskCodes(codes, whitening: config.taskCodeWhitening, policy: policy, into: &theta)
        return Outcome(loss: lastLoss, taskCodes: whitened)
    }

    /// Moves the task codes' mean and spread into the first dense layer, so that the codes
    /// become zero-mean, unit-variance inputs and θ's bias vector is their mean, 0. With Σ the
    /// codes' covariance and L the whitening factor (Σ = L Lᵀ, Cholesky, under `.full`; the
    /// diagonal of standard deviations under `.perDimension`):
    ///   W_b x + c = (W_b L) (L⁻¹ (x − m)) + (c + W_b m)
    /// Under `.full` a latent drawn from N(0, I) is distributed as the Gaussian fitted to the
    /// codes, correlations included (a 2-D goal set learned in B = 4 dimensions leaves thin
    /// directions that probes then barely enter); per dimension, as the Gaussian with the
    /// codes' per-dimension spread and no correlation.
    /// Returns the codes in the whitened coordinates, L⁻¹ (x − m) (tasks × B).
    @discardableResult
    static func whitenTaskCodes(_ codes: [Float], whitening: GMPSConfig.TaskCodeWhitening, policy: MetaPolicy,
                                into theta: inout [Float]) -> [Float] {
        let b = policy.biasVectorCount, tasks = codes.count / b
        guard b > 0, tasks > 0, let weight = policy.network.layout.tensor(named: "fc0.weight"),
              let bias = policy.network.layout.tensor(named: "fc0.bias") else { return codes }
        if whitening == .perDimension {
            return whitenPerDimension(codes, tasks: tasks, policy: policy, weight: weight, bias: bias, into: &theta)
        }
        let (outputs, inputs) = (weight.shape[0], weight.shape[1])
        let firstBiasColumn = inputs - b
        let factor = fullWhiteningFactor(codes, tasks: tasks, b: b)
        for o in 0..<outputs {
            let row = weight.offset + o * inputs + firstBiasColumn
            let w = (0..<b).map { Double(theta[row + $0]) }
            // c += W_b m;  W_b ← W_b L (L lower-triangular: column j takes rows k ≥ j).
            theta[bias.offset + o] += Float((0..<b).reduce(0) { $0 + w[$1] * factor.mean[$1] })
            for j in 0..<b {
                theta[row + j] = Float((j..<b).reduce(0) { $0 + w[$1] * factor.lower[$1 * b + j] })
            }
        }
        for j in 0..<b { theta[policy.tailStart + j] = 0 }
        // u = L⁻¹ (x − m) by forward substitution, per task.
        var whitened = [Float](repeating: 0, count: codes.count)
        for t in 0..<tasks {
            var u = [Double](repeating: 0, count: b)
            for j in 0..<b {
                var r = Double(codes[t * b + j]) - factor.mean[j]
                for k in 0..<j { r -= factor.lower[j * b + k] * u[k] }
                u[j] = r / factor.lower[j * b + j]
                whitened[t * b + j] = Float(u[j])
            }
        }
        return whitened
    }

    /// `.perDimension`: L = diag(std), each at least 1e-3, in Float as every run before `.full`.
    private static func whitenPerDimension(_ codes: [Float], tasks: Int, policy: MetaPolicy, weight: ParameterTensor,
                                           bias: ParameterTensor, into theta: inout [Float]) -> [Float] {
        let b = policy.biasVectorCount
        let (outputs, inputs) = (weight.shape[0], weight.shape[1])
        let firstBiasColumn = inputs - b
        var mean = [Float](repeating: 0, count: b), spread = [Float](repeating: 0, count: b)
        for j in 0..<b {
            let values = (0..<tasks).map { codes[$0 * b + j] }
            (mean[j], spread[j]) = meanAndStandardDeviation(values)
            spread[j] = max(spread[j], 1e-3)
        }
        for o in 0..<outputs {
            for j in 0..<b {
                let w = theta[weight.offset + o * inputs + firstBiasColumn + j]
                theta[bias.offset + o] += w * mean[j]
                theta[weight.offset + o * inputs + firstBiasColumn + j] = w * spread[j]
            }
        }
        for j in 0..<b { theta[policy.tailStart + j] = 0 }
        return codes.indices.map { (codes[$0] - mean[$0 % b]) / spread[$0 % b] }
    }

    /// `.full`: the codes' mean m (B) and the Cholesky factor L (B×B, row-major, lower) of their
    /// covariance, with a small ridge so that a degenerate direction keeps a tiny scale.
    private static func fullWhiteningFactor(_ codes: [Float], tasks: Int, b: Int) -> (mean: [Double], lower: [Double]) {
        var mean = [Double](repeating: 0, count: b)
        for t in 0..<tasks { for j in 0..<b { mean[j] += Double(codes[t * b + j]) / Double(tasks) } }
        var covariance = [Double](repeating: 0, count: b * b)
        for t in 0..<tasks {
            for i in 0..<b {
                for j in 0..<b {
                    covariance[i * b + j] += (Double(codes[t * b + i]) - mean[i]) * (Double(codes[t * b + j]) - mean[j])
                        / Double(tasks)
                }
            }
        }
        let trace = (0..<b).reduce(0) { $0 + covariance[$1 * b + $1] }
        for j in 0..<b { covariance[j * b + j] += 1e-6 + 1e-6 * trace / Double(b) }
        var lower = [Double](repeating: 0, count: b * b)
        for i in 0..<b {
            for j in 0...i {
                var sum = covariance[i * b + j]
                for k in 0..<j { sum -= lower[i * b + k] * lower[j * b + k] }
                lower[i * b + j] = i == j ? max(sum, 1e-12).squareRoot() : sum / lower[j * b + j]
            }
        }
        return (mean, lower)
    }
}
