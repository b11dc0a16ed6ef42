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
        let learnCodes = learnsTaskCodes
        let b = policy.biasVectorCount, biasSlot = policy.tailStart
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
            let results = try batch.map { worker, slot -> (Float, [Float]) in
                let task = batch.tasks[slot]
                var batchRNG = batchRNGs[slot]
                let minibatch = demos[task].sample(perTask, using: &batchRNG)
                var parameters = current
                if learnCodes {
                    parameters.replaceSubrange(biasSlot..<(biasSlot + b), with: currentCodes[(task * b)..<((task + 1) * b)])
                }
                return try policy.imitationLoss(parameters: parameters, demos: minibatch, workspace: workspaces[worker])
            }

            // 3. The mean over the step's tasks (all ranks): θ's gradient, and the bias slot's
            //    gradient routed to each task's own code.
            var gradient = [Float](repeating: 0, count: policy.parameterCount)
            var codeGradient = [Float](repeating: 0, count: codes.count)
            var loss: Float = 0
            let scale = 1 / Float(batch.tasks.count)
            for slot in batch.mySlots {
                guard let (slotLoss, slotGradient) = results[slot] else { continue }
                VectorOps.axpy(scale, slotGradient, &gradient)
                loss += slotLoss * scale
                if learnCodes {
                    let task = batch.tasks[slot]
                    for j in 0..<b { codeGradient[task * b + j] = slotGradient[biasSlot + j] * scale }
                }
            }
            var sums = [gradient, codeGradient, [loss]]
            group.sum(&sums)
            (gradient, codeGradient, loss) = (sums[0], sums[1], sums[2][0])
            guard loss.isFinite, gradient.allSatisfy(\.isFinite) else {
                throw MetaTrainingError.nonFinite(iteration: -1, what: "behaviour-cloning loss")
            }

            // 4. Adam on θ (the codes, not θ's bias vector, take the bias slot's gradient).
            if learnCodes {
                for j in 0..<b { gradient[biasSlot + j] = 0 }
                try codeOptimizer.update(&codes, gradient: codeGradient)
            }
            try optimizer.update(&theta, gradient: gradient)
            lastLoss = loss
            progress(step, loss)
        }
        if learnCodes { whitenTaskCodes(codes, into: &theta) }
        return lastLoss
    }

    /// Moves the task codes' mean and per-dimension spread into the first dense layer, so that
    /// the codes become zero-mean, unit-variance inputs and θ's bias vector is their mean, 0:
    ///   W_b x + c = (W_b diag(s)) ((x − m) / s) + (c + W_b m)
    private func whitenTaskCodes(_ codes: [Float], into theta: inout [Float]) {
        let b = policy.biasVectorCount, tasks = codes.count / b
        guard let weight = policy.network.layout.tensor(named: "fc0.weight"),
              let bias = policy.network.layout.tensor(named: "fc0.bias") else { return }
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
    }
}
