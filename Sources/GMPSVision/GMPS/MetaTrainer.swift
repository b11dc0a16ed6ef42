import ConvNet
import Foundation
import VisionEnvs

/// Everything meta-training changes; a checkpoint is this value plus the DAgger data
/// (`DaggerCheckpoint`).
public struct MetaTrainerState: Codable, Sendable {
    /// Meta-iterations completed.
    public var iteration = 0
    /// θ (P).
    public var theta: [Float]
    /// α (tail): per-parameter inner step sizes.
    public var alpha: [Float]
    public var thetaOptimizer: Adam
    public var alphaOptimizer: Adam
    /// Whether behaviour-cloning pre-training has run.
    public var pretrained = false
    /// Environment steps of the meta-policy used for training (pre-update rollouts, DAgger).
    public var onPolicySamples = 0
    /// Environment steps spent only on measuring progress (not used for learning).
    public var evaluationSamples = 0
    /// Wall time spent in meta-training so far.
    public var seconds = 0.0
}

/// One line of `progress.csv`.
public struct IterationLog: Codable, Sendable {
    public var iteration: Int
    /// Mean-action success and return of θ on this iteration's tasks, before adaptation, and of
    /// each task's φ_i adapted on fresh exploring rollouts (as at meta-test).
    public var preSuccess: Double
    public var preReturn: Double
    public var postSuccess: Double
    public var postReturn: Double
    /// Success of the exploring pre-update rollouts the inner step learned from.
    public var explorationSuccess: Double
    /// Outer imitation loss, averaged over the iteration's Adam steps.
    public var imitationLoss: Double
    public var meanAlpha: Double
    public var learningRate: Double
    public var onPolicySamples: Int
    public var daggerSamples: Int
    public var seconds: Double

    public static let csvHeader = "iteration,pre_success,post_success,pre_return,post_return,exploration_success,imitation_loss,mean_alpha,learning_rate,on_policy_samples,dagger_samples,seconds"

    public var csvRow: String {
        [String(iteration), format(preSuccess), format(postSuccess), format(preReturn), format(postReturn),
         format(explorationSuccess), format(imitationLoss), format(meanAlpha), format(learningRate),
         String(onPolicySamples), String(daggerSamples), String(format: "%.2f", seconds)].joined(separator: ",")
    }

    private func format(_ value: Double) -> String { String(format: "%.5g", value) }
}

public enum MetaTrainingError: Error, CustomStringConvertible {
    case noDemonstrations(task: Int)
    case nonFinite(iteration: Int, what: String)
    case mismatch(String)

    public var description: String {
        switch self {
        case let .noDemonstrations(task):
            return "meta-training task \(task) has no demonstrations; collect demos for every task (gmps-vision demos)."
        case let .nonFinite(iteration, what):
            return "meta-training stopped at iteration \(iteration + 1): the \(what) became NaN or infinite. The last good checkpoint is kept; lower the learning rate or the initial α and resume."
        case let .mismatch(reason):
            return reason
        }
    }
}

/// Phase 2 of GMPS: meta-training an image-based policy so that one policy-gradient step on
/// its own rollouts makes it imitate each task's expert. One `runIteration` reads as
/// DESIGN.md section 4: sample tasks → roll out → inner step → imitation update → DAgger → log.
///
/// Across the ranks of a `ProcessGroup`, every rank draws the same meta-batch; slot s of it
/// (rollouts, inner step, meta-gradient, measurement) is computed by rank s mod size, each
/// slot from its own random stream. Gradients and statistics are summed over ranks and every
/// rank takes the same Adam step, so the ranks' states stay identical and the result equals
/// one process's up to the order of the floating-point sums.
public final class MetaTrainer {
    public let config: GMPSConfig
    public let policy: MetaPolicy
    public let objective: MetaObjective
    public private(set) var state: MetaTrainerState
    /// Per meta-training task: its goal, demonstrations and relabelled states.
    public let goals: [Goal]
    public let demos: [ImitationData]
    public private(set) var dagger: [ImitationData]
    /// What the last iteration appended to `dagger`, in order (saved beside the checkpoint).
    public private(set) var lastDaggerAdditions: [(task: Int, data: ImitationData)] = []
    /// The expert's clean action for a privileged state (DAgger labels); nil disables DAgger.
    private let expert: (@Sendable ([Float]) -> [Float])?
    public let group: any ProcessGroup

    private let workers: [RolloutWorker]
    private let workspaces: [Workspace]
    private let headWorkspaces: [Workspace]

    public init(config: GMPSConfig, goals: [Goal], demos: [ImitationData],
                expert: (@Sendable ([Float]) -> [Float])?, state: MetaTrainerState? = nil,
                dagger: [ImitationData]? = nil, group: any ProcessGroup = SingleProcess()) throws {
        if let problem = config.problem() { throw MetaTrainingError.mismatch("invalid configuration: \(problem)") }
        guard goals.count == demos.count, !goals.isEmpty else {
            throw MetaTrainingError.mismatch("need one demonstration set per meta-training goal (got \(demos.count) for \(goals.count) goals).")
        }
        if let empty = demos.firstIndex(where: \.isEmpty) { throw MetaTrainingError.noDemonstrations(task: empty) }
        self.config = config
        let spec = NetworkSpec.visionPolicy(imageHeight: config.imageHeight, imageWidth: config.imageWidth,
                                            initialStd: config.initialStd)
        policy = try MetaPolicy(spec: spec, threads: 1)
        guard demos[0].imageCount == policy.network.imageInputCount else {
            throw MetaTrainingError.mismatch("the demonstrations' images hold \(demos[0].imageCount) values; a \(config.imageHeight)x\(config.imageWidth) policy needs \(policy.network.imageInputCount). Collect demos at the policy's image size.")
        }
        objective = MetaObjective(
            inner: InnerStep(policy: policy, importanceWeightClip: config.importanceWeightClip,
                             latentStd: config.exploration.latentStd),
            secondOrder: config.secondOrder)
        self.goals = goals
        self.demos = demos
        if let dagger, dagger.count != goals.count {
            throw MetaTrainingError.mismatch("the DAgger data holds \(dagger.count) tasks; this run has \(goals.count).")
        }
        self.dagger = dagger ?? demos.map { ImitationData(imageCount: $0.imageCount) }
        self.expert = expert
        self.group = group
        if let state {
            guard state.theta.count == policy.parameterCount, state.alpha.count == policy.tailCount else {
                throw MetaTrainingError.mismatch("the checkpoint's parameters (\(state.theta.count)) do not fit this configuration's policy (\(policy.parameterCount)).")
            }
            self.state = state
        } else {
            let theta = policy.network.initialParameters(seed: config.seed)
            var alpha = policy.alphaMask(config.adaptedParameters).map { $0 * config.initialAlpha }
            for j in 0..<policy.biasVectorCount { alpha[j] = config.initialBiasVectorAlpha }
            self.state = MetaTrainerState(
                theta: theta, alpha: alpha,
                thetaOptimizer: Adam(parameterCount: theta.count, learningRate: config.learningRate),
                alphaOptimizer: Adam(parameterCount: policy.tailCount, learningRate: config.learningRate))
        }
        let threads = config.threads
        let (network, head) = (policy.network, policy.head)
        var workers: [RolloutWorker] = []
        for _ in 0..<threads {
            workers.append(try RolloutWorker(policy: policy, environment: config.environment,
                                             imageHeight: config.imageHeight, imageWidth: config.imageWidth,
                                             maxTrajectories: config.trajectoriesPerTask))
        }
        self.workers = workers
        let batch = max(config.demosPerTaskBatch, (config.pretrainBatch + threads - 1) / threads)
        workspaces = (0..<threads).map { _ in network.makeWorkspace(maxBatch: batch) }
        let samples = config.trajectoriesPerTask * config.environment.horizon
        headWorkspaces = (0..<threads).map { _ in head.makeWorkspace(maxBatch: samples) }
    }

    /// A generator for one purpose of one iteration: streams never depend on thread timing.
    private func generator(iteration: Int, stream: UInt64) -> SeededGenerator {
        SeededGenerator(seed: config.seed).split(stream: UInt64(iteration + 1) &* 1_000_003 &+ stream)
    }

    // MARK: Behaviour-cloning pre-training

    /// Behaviour-clones θ on all tasks' demos, so that meta-training starts near the experts and
    /// its rollouts carry goal information (FINDINGS.md). Returns the last step's loss.
    ///
    /// With per-trajectory exploration, each task also learns its own code in the bias-vector
    /// slot (a task embedding, as MAESN learns per-task latents), and the codes are then
    /// whitened into the first layer: afterwards θ's bias vector is their mean (0) and a latent
    /// drawn from N(0, I) behaves like the expert of some plausible task. Rollouts with such
    /// probes are consistent, goal-directed experiments, which is what makes one reward-weighted
    /// step informative (FINDINGS.md: per-step noise carries only a noisy goal estimate).
    @discardableResult
    public func pretrain(progress: (_ step: Int, _ loss: Float) -> Void = { _, _ in }) throws -> Float {
        guard !state.pretrained, config.pretrainSteps > 0 else { return 0 }
        let learnCodes = config.exploration.latentStd != nil && policy.biasVectorCount > 0
        let b = policy.biasVectorCount, biasSlot = policy.tailStart
        var optimizer = Adam(parameterCount: policy.parameterCount, learningRate: config.pretrainLearningRate)
        var codes = [Float](repeating: 0, count: goals.count * b)
        var codeOptimizer = Adam(parameterCount: codes.count, learningRate: 10 * config.pretrainLearningRate)
        let tasksPerStep = min(goals.count, 8)
        let perTask = max(1, config.pretrainBatch / tasksPerStep)
        var lastLoss: Float = 0
        for step in 0..<config.pretrainSteps {
            var rng = generator(iteration: -1, stream: UInt64(step))
            let tasks = Array((0..<goals.count).shuffled(using: &rng).prefix(tasksPerStep))
            let batchRNGs = tasks.indices.map { rng.split(stream: UInt64($0)) }
            let results = ResultSlots<(Float, [Float])>(count: tasks.count)
            let theta = state.theta, currentCodes = codes
            let mySlots = group.share(of: tasks.count)
            try parallelForEach(mySlots.count, workers: workers.count) { worker, item in
                let slot = mySlots[item]
                var batchRNG = batchRNGs[slot]
                let batch = demos[tasks[slot]].sample(perTask, using: &batchRNG)
                var parameters = theta
                if learnCodes {
                    parameters.replaceSubrange(biasSlot..<(biasSlot + b),
                                               with: currentCodes[(tasks[slot] * b)..<((tasks[slot] + 1) * b)])
                }
                results[slot] = try objective.behaviourCloning(parameters: parameters, demos: batch,
                                                               workspace: workspaces[worker])
            }
            var gradient = [Float](repeating: 0, count: policy.parameterCount)
            var codeGradient = [Float](repeating: 0, count: codes.count)
            var loss: Float = 0
            let scale = 1 / Float(tasks.count)
            for slot in mySlots {
                guard let (itemLoss, itemGradient) = results[slot] else { continue }
                VectorOps.axpy(scale, itemGradient, &gradient)
                loss += itemLoss * scale
                if learnCodes {
                    for j in 0..<b { codeGradient[tasks[slot] * b + j] = itemGradient[biasSlot + j] * scale }
                }
            }
            var sums = [gradient, codeGradient, [loss]]
            group.sum(&sums)
            (gradient, codeGradient, loss) = (sums[0], sums[1], sums[2][0])
            guard loss.isFinite, gradient.allSatisfy(\.isFinite) else {
                throw MetaTrainingError.nonFinite(iteration: -1, what: "behaviour-cloning loss")
            }
            if learnCodes {
                for j in 0..<b { gradient[biasSlot + j] = 0 }
                try codeOptimizer.update(&codes, gradient: codeGradient)
            }
            var updated = state.theta
            try optimizer.update(&updated, gradient: gradient)
            state.theta = updated
            lastLoss = loss
            progress(step, loss)
        }
        if learnCodes { whitenTaskCodes(codes) }
        state.pretrained = true
        return lastLoss
    }

    /// Moves the task codes' mean and per-dimension spread into the first dense layer, so that
    /// the codes become zero-mean, unit-variance inputs and θ's bias vector is their mean, 0:
    ///   W_b x + c = (W_b diag(s)) ((x − m) / s) + (c + W_b m)
    private func whitenTaskCodes(_ codes: [Float]) {
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
        var theta = state.theta
        for o in 0..<outputs {
            for j in 0..<b {
                let w = theta[weight.offset + o * inputs + firstBiasColumn + j]
                theta[bias.offset + o] += w * mean[j]
                theta[weight.offset + o * inputs + firstBiasColumn + j] = w * spread[j]
            }
        }
        for j in 0..<b { theta[policy.tailStart + j] = 0 }
        state.theta = theta
    }

    // MARK: One meta-iteration

    public func runIteration() throws -> IterationLog {
        let started = Date()
        let iteration = state.iteration
        let learningRate = config.learningRate(at: iteration)
        state.thetaOptimizer.learningRate = learningRate
        state.alphaOptimizer.learningRate = learningRate
        let threads = workers.count

        // 1. Sample the meta-batch of tasks.
        var taskRNG = generator(iteration: iteration, stream: 0)
        let tasks = Array((0..<goals.count).shuffled(using: &taskRNG).prefix(config.tasksPerIteration))

        // 2. Roll out the pre-update policy π_θ on each of this rank's tasks, exploring.
        let mySlots = group.share(of: tasks.count)
        let theta0 = state.theta
        let rolloutSlots = ResultSlots<TaskRollouts>(count: tasks.count)
        try parallelForEach(mySlots.count, workers: threads) { worker, item in
            let slot = mySlots[item]
            var rng = generator(iteration: iteration, stream: 100 + UInt64(slot))
            rolloutSlots[slot] = try workers[worker].collect(
                goal: goals[tasks[slot]], parameters: theta0, exploration: config.exploration,
                trajectories: config.trajectoriesPerTask, using: &rng)
        }
        // Slot → inner-step data, for this rank's slots only.
        var innerData = [InnerStepData?](repeating: nil, count: tasks.count)
        for slot in mySlots {
            innerData[slot] = rolloutSlots[slot]?.innerStepData(policy: policy, discount: Float(config.discount))
        }

        // 3. Outer steps: imitation by the adapted policies, on the same rollouts.
        let alphaMask = policy.alphaMask(config.adaptedParameters)
        let daggerActive = expert != nil && (config.daggerStartIteration.map { iteration >= $0 } ?? false)
        var lossSum = 0.0
        for step in 0..<config.outerSteps {
            let theta = state.theta, alpha = state.alpha
            let gradients = ResultSlots<(TaskMetaGradient, (Float, [Float])?)>(count: tasks.count)
            try parallelForEach(mySlots.count, workers: threads) { worker, item in
                let slot = mySlots[item]
                guard let data = innerData[slot] else { return }
                var rng = generator(iteration: iteration, stream: 10_000 + UInt64(step) * 1_000 + UInt64(slot))
                let batch = imitationBatch(task: tasks[slot], dagger: daggerActive, using: &rng)
                let taskGradient = try objective.taskGradient(
                    theta: theta, alpha: alpha, data: data, demos: batch,
                    headWorkspace: headWorkspaces[worker], workspace: workspaces[worker])
                var anchor: (Float, [Float])?
                if config.anchorWeight > 0 {
                    anchor = try objective.behaviourCloning(parameters: theta, demos: batch, workspace: workspaces[worker])
                }
                gradients[slot] = (taskGradient, anchor)
            }
            var thetaGradient = [Float](repeating: 0, count: policy.parameterCount)
            var alphaGradient = [Float](repeating: 0, count: policy.tailCount)
            var loss: Float = 0
            let scale = 1 / Float(tasks.count)
            for slot in mySlots {
                guard let (taskGradient, anchor) = gradients[slot] else { continue }
                VectorOps.axpy(scale, taskGradient.theta, &thetaGradient)
                VectorOps.axpy(scale, taskGradient.alpha, &alphaGradient)
                loss += taskGradient.loss * scale
                if let (_, anchorGradient) = anchor {
                    VectorOps.axpy(scale * config.anchorWeight, anchorGradient, &thetaGradient)
                }
            }
            // The meta-batch mean over all ranks' tasks; every rank then takes the same step.
            var sums = [thetaGradient, alphaGradient, [loss]]
            group.sum(&sums)
            (thetaGradient, alphaGradient, loss) = (sums[0], sums[1], sums[2][0])
            for j in alphaGradient.indices where alphaMask[j] == 0 { alphaGradient[j] = 0 }
            guard loss.isFinite, thetaGradient.allSatisfy(\.isFinite), alphaGradient.allSatisfy(\.isFinite) else {
                throw MetaTrainingError.nonFinite(iteration: iteration, what: "imitation loss or its gradient")
            }
            // Local copies: updating `state.theta` through `state.thetaOptimizer` would be two
            // overlapping accesses to `state`.
            var (newTheta, newAlpha) = (state.theta, state.alpha)
            try state.thetaOptimizer.update(&newTheta, gradient: thetaGradient)
            if config.learnAlpha { try state.alphaOptimizer.update(&newAlpha, gradient: alphaGradient) }
            guard newTheta.allSatisfy(\.isFinite), newAlpha.allSatisfy(\.isFinite) else {
                throw MetaTrainingError.nonFinite(iteration: iteration, what: "parameters")
            }
            (state.theta, state.alpha) = (newTheta, newAlpha)
            lossSum += Double(loss)
        }

        // 4. Measure θ and its adaptation on each task as meta-test does: fresh exploring
        //    rollouts, the inner step, then θ and φ_i with mean actions (reusing the rollouts the
        //    outer steps fitted would flatter φ_i). With DAgger, the expert relabels φ_i's states.
        let theta = state.theta, alpha = state.alpha
        let measured = ResultSlots<(pre: TaskRollouts, post: TaskRollouts, probes: Int)>(count: tasks.count)
        try parallelForEach(mySlots.count, workers: threads) { worker, item in
            let slot = mySlots[item]
            var rng = generator(iteration: iteration, stream: 20_000 + UInt64(slot))
            let goal = goals[tasks[slot]]
            let probes = try workers[worker].collect(goal: goal, parameters: theta, exploration: config.exploration,
                                                     trajectories: config.trajectoriesPerTask, using: &rng)
            let data = probes.innerStepData(policy: policy, discount: Float(config.discount))
            let tail = policy.tail(of: theta)
            let c = try objective.inner.coefficients(tail: tail, data: data, workspace: headWorkspaces[worker])
            let g = try objective.inner.gradient(tail: tail, coefficients: c, data: data, workspace: headWorkspaces[worker])
            let phi = policy.replacingTail(of: theta, with: objective.inner.adaptedTail(tail, alpha: alpha, gradient: g))
            let pre = try workers[worker].collect(goal: goal, parameters: theta, exploration: .none,
                                                  trajectories: 1, using: &rng)
            let post = try workers[worker].collect(goal: goal, parameters: phi, exploration: .none,
                                                   trajectories: 1, recordImages: daggerActive, using: &rng)
            measured[slot] = (pre, post, probes.sampleCount)
        }
        var daggerSamples = 0
        lastDaggerAdditions = []
        if daggerActive, let expert {
            var relabelled: [Int: ImitationData] = [:]
            for slot in mySlots {
                guard let result = measured[slot] else { continue }
                relabelled[slot] = result.post.relabelled(
                    imageCount: policy.network.imageInputCount,
                    stateCount: config.environment.privilegedStateDimension, expert: expert)
            }
            // Every rank keeps every task's DAgger data, appended in slot order as one process would.
            for (slot, data) in try shareAcrossRanks(relabelled).sorted(by: { $0.key < $1.key }) {
                dagger[tasks[slot]].append(contentsOf: data)
                lastDaggerAdditions.append((tasks[slot], data))
                daggerSamples += data.count
            }
        }

        // 5. Sum the statistics over ranks, then log.
        //    [pre success, pre return, post success, post return, exploration success,
        //     exploring samples, evaluation samples]
        var statistics = [Double](repeating: 0, count: 7)
        for slot in mySlots {
            guard let rollouts = rolloutSlots[slot], let result = measured[slot] else { continue }
            statistics[0] += result.pre.successRate
            statistics[1] += result.pre.averageReturn
            statistics[2] += result.post.successRate
            statistics[3] += result.post.averageReturn
            statistics[4] += rollouts.successRate
            statistics[5] += Double(rollouts.sampleCount)
            // With DAgger, φ_i's rollouts are training data (counted as DAgger samples).
            statistics[6] += Double(result.pre.sampleCount + result.probes + (daggerActive ? 0 : result.post.sampleCount))
        }
        group.sum(&statistics)
        state.onPolicySamples += Int(statistics[5]) + daggerSamples
        state.evaluationSamples += Int(statistics[6])
        state.iteration += 1
        let seconds = Date().timeIntervalSince(started)
        state.seconds += seconds
        let taskCount = Double(max(tasks.count, 1))
        return IterationLog(
            iteration: iteration + 1,
            preSuccess: statistics[0] / taskCount, preReturn: statistics[1] / taskCount,
            postSuccess: statistics[2] / taskCount, postReturn: statistics[3] / taskCount,
            explorationSuccess: statistics[4] / taskCount,
            imitationLoss: lossSum / Double(config.outerSteps),
            meanAlpha: meanAdaptedAlpha(alphaMask),
            learningRate: Double(learningRate), onPolicySamples: state.onPolicySamples,
            daggerSamples: daggerSamples, seconds: state.seconds)
    }

    /// Every rank's slot → data entries, merged (the identity on one process).
    private func shareAcrossRanks(_ local: [Int: ImitationData]) throws -> [Int: ImitationData] {
        guard group.size > 1 else { return local }
        let (imageCount, actionCount) = (policy.network.imageInputCount, ManipulationEnv.actionDimension)
        var merged: [Int: ImitationData] = [:]
        for part in try group.allGather(local.mapValues(ImitationData.Transfer.init)) {
            for (slot, transfer) in part {
                merged[slot] = transfer.imitationData(imageCount: imageCount, actionCount: actionCount)
            }
        }
        return merged
    }

    /// Mean α over the adapted parameters.
    private func meanAdaptedAlpha(_ mask: [Float]) -> Double {
        let adapted = zip(state.alpha, mask).filter { $0.1 != 0 }.map { Double($0.0) }
        return adapted.isEmpty ? 0 : adapted.reduce(0, +) / Double(adapted.count)
    }

    /// One task's outer minibatch: demonstrations, with up to `daggerShare` relabelled states.
    private func imitationBatch(task: Int, dagger useDagger: Bool,
                                using rng: inout SeededGenerator) -> ImitationBatch {
        let total = config.demosPerTaskBatch
        let fromDagger = useDagger && !dagger[task].isEmpty ? Int(Float(total) * config.daggerShare) : 0
        let batch = demos[task].sample(total - fromDagger, using: &rng)
        return fromDagger > 0 ? batch.appending(dagger[task].sample(fromDagger, using: &rng)) : batch
    }
}

extension ImitationData {
    /// The samples as they travel between ranks (images as base64 in JSON).
    struct Transfer: Codable {
        var images: Data
        var hands: [Float]
        var actions: [Float]

        init(_ data: ImitationData) {
            (images, hands, actions) = (Data(data.images), data.hands, data.actions)
        }

        func imitationData(imageCount: Int, actionCount: Int = 3) -> ImitationData {
            ImitationData(images: [UInt8](images), hands: hands, actions: actions, imageCount: imageCount,
                          actionCount: actionCount)
        }
    }

    /// One random sample from each of `sources` (a task per sample), as one batch.
    static func mixture(of sources: [ImitationData], using rng: inout SeededGenerator) -> ImitationBatch {
        guard let first = sources.first else { return ImitationBatch(images: [], hands: [], actions: [], count: 0) }
        let imageCount = first.imageCount, a = first.actionCount
        var images = [Float](repeating: 0, count: sources.count * imageCount)
        var hands: [Float] = [], actions: [Float] = []
        for (row, source) in sources.enumerated() {
            let index = Int.random(in: 0..<source.count, using: &rng)
            for i in 0..<imageCount {
                images[row * imageCount + i] = Float(source.images[index * imageCount + i]) / 255
            }
            hands += source.hands[(index * 3)..<((index + 1) * 3)]
            actions += source.actions[(index * a)..<((index + 1) * a)]
        }
        return ImitationBatch(images: images, hands: hands, actions: actions, count: sources.count)
    }
}
