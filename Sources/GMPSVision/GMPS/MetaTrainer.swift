import ConvNet
import Foundation
import VisionEnvs

/// Phase 2 of GMPS: meta-training an image-based policy so that one policy-gradient step on
/// its own rollouts makes it imitate each task's expert. `runIteration` reads as DESIGN.md
/// section 4: sample tasks → roll out → measure → inner step + imitation update → DAgger → log.
///
/// Across the ranks of a `ProcessGroup`, every rank draws the same meta-batch and computes its
/// own slots of it (`MetaBatch`), each slot from its own random stream (`RandomStreams`).
/// Gradients and statistics are summed over ranks and every rank takes the same Adam step, so
/// the ranks' states stay identical and the result equals one process's up to the order of
/// the floating-point sums.
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
    /// Each task's expert for DAgger labels; nil disables DAgger.
    private let experts: DaggerExperts?
    public let group: any ProcessGroup

    private let streams: RandomStreams
    private let resources: ThreadResources

    /// Wall seconds of the last iteration's steps (for `bench meta-train`; not logged, so
    /// that a run's outputs stay free of timing).
    public struct StepSeconds: Sendable {
        /// Step 2: the exploring rollouts of every task in the meta-batch.
        public var rollouts = 0.0
        /// Step 4: the outer steps, each an inner step and the imitation update per task.
        public var outerSteps = 0.0
        /// Step 3: measuring θ and φ_i (and DAgger's relabelling).
        public var measurement = 0.0

        public init(rollouts: Double = 0, outerSteps: Double = 0, measurement: Double = 0) {
            (self.rollouts, self.outerSteps, self.measurement) = (rollouts, outerSteps, measurement)
        }

        mutating func add(_ other: StepSeconds) {
            rollouts += other.rollouts; outerSteps += other.outerSteps; measurement += other.measurement
        }
    }
    public private(set) var lastStepSeconds = StepSeconds()

    public init(config: GMPSConfig, goals: [Goal], demos: [ImitationData],
                experts: DaggerExperts?, state: MetaTrainerState? = nil,
                dagger: [ImitationData]? = nil, group: any ProcessGroup = SingleProcess()) throws {
        if let problem = config.problem() { throw MetaTrainingError.mismatch("invalid configuration: \(problem)") }
        guard goals.count == demos.count, !goals.isEmpty else {
            throw MetaTrainingError.mismatch("need one demonstration set per meta-training goal (got \(demos.count) for \(goals.count) goals).")
        }
        if let empty = demos.firstIndex(where: \.isEmpty) { throw MetaTrainingError.noDemonstrations(task: empty) }
        self.config = config
        policy = try MetaPolicy(config: config)
        guard demos[0].imageCount == policy.network.imageInputCount else {
            throw MetaTrainingError.mismatch("the demonstrations' images hold \(demos[0].imageCount) values; a \(config.imageHeight)x\(config.imageWidth) policy needs \(policy.network.imageInputCount). Collect demos at the policy's image size.")
        }
        objective = MetaObjective(inner: InnerStep(policy: policy, config: config), secondOrder: config.secondOrder)
        self.goals = goals
        self.demos = demos
        if let dagger, dagger.count != goals.count {
            throw MetaTrainingError.mismatch("the DAgger data holds \(dagger.count) tasks; this run has \(goals.count).")
        }
        self.dagger = dagger ?? demos.map { ImitationData(imageCount: $0.imageCount) }
        if let experts, experts.byTask.count != goals.count {
            throw MetaTrainingError.mismatch("DAgger has experts for \(experts.byTask.count) tasks; this run has \(goals.count).")
        }
        self.experts = experts
        self.group = group
        if let state {
            try state.checkFits(policy)
            try state.checkFits(config)
            if let codes = state.taskCodes, codes.count != goals.count * policy.biasVectorCount {
                throw MetaTrainingError.mismatch("the checkpoint holds \(codes.count) task-code values; \(goals.count) tasks with a bias vector of \(policy.biasVectorCount) need \(goals.count * policy.biasVectorCount).")
            }
        }
        self.state = try state ?? MetaTrainerState(policy: policy, config: config)
        streams = RandomStreams(seed: config.seed)
        resources = try ThreadResources(policy: policy, config: config, threads: config.threads,
                                        trajectories: config.trajectoriesPerTask, networkBatch: config.demosPerTaskBatch)
    }

    /// Behaviour-clones θ on all tasks' demos (`BehaviourCloning`), once, so that meta-training
    /// starts near the experts and its rollouts carry goal information (keeping the task codes
    /// for the code anchor and the task-code oracle). Returns the last loss.
    @discardableResult
    public func pretrain(progress: (_ step: Int, _ loss: Float) -> Void = { _, _ in }) throws -> Float {
        guard !state.pretrained, config.pretrainSteps > 0 else { return 0 }
        let cloning = try BehaviourCloning(config: config, policy: policy, demos: demos, group: group)
        var theta = state.theta
        let outcome = try cloning.trainKeepingCodes(&theta, progress: progress)
        state.theta = theta
        // Kept whenever pre-training learned them: the code anchor moves them, and
        // `evaluate --task-code-oracle` runs the policy at them.
        if !outcome.taskCodes.isEmpty { state.taskCodes = outcome.taskCodes }
        if config.codeAnchorWeight > 0 {
            state.taskCodeOptimizer = Adam(parameterCount: outcome.taskCodes.count, learningRate: 10 * config.learningRate)
        }
        state.pretrained = true
        return outcome.loss
    }

    // MARK: One meta-iteration

    public func runIteration() throws -> IterationLog {
        let started = Date()
        let iteration = state.iteration
        let learningRate = config.learningRate(at: iteration)
        state.setLearningRate(learningRate, alpha: config.alphaLearningRate)

        // 1. Sample the meta-batch of tasks.
        var taskRNG = streams.generator(.taskSampling, iteration: iteration)
        let batch = MetaBatch(taskCount: goals.count, size: config.tasksPerIteration, using: &taskRNG,
                              group: group, threads: resources.threads)

        // 2. Roll out the pre-update policy π_θ on each task, exploring; with N meta-trained
        //    steps, then each adapted policy on fresh rollouts, as meta-test does.
        var clock = Date()
        func lap() -> Double { defer { clock = Date() }; return Date().timeIntervalSince(clock) }
        let theta0 = state.theta
        let refreshesFeatures = config.featureRefreshEvery > 0
        let explored = try batch.map { worker, slot in
            var rng = streams.generator(.exploration(slot: slot), iteration: iteration)
            return try exploringChain(goal: goals[batch.tasks[slot]], theta: theta0, worker: worker,
                                      recordImages: refreshesFeatures, using: &rng)
        }
        var innerData = batch.mySlots.reduce(into: [Int: [InnerStepData]]()) { data, slot in
            data[slot] = explored[slot]?.data
        }
        let rolloutSeconds = lap()

        // 3. Measure θ and its adaptation on each task as meta-test does: the inner step on
        //    these rollouts, then θ and φ_i with mean actions (before the outer steps fit them).
        let daggerActive = experts != nil && (config.daggerStartIteration.map { iteration >= $0 } ?? false)
        let measured = try measure(iteration: iteration, batch: batch, explored: explored, recordImages: daggerActive)
        var measurementSeconds = lap()

        // 4. Outer steps: the inner step φ_i = θ + α ⊙ ∇Ĵ_i(θ), then imitation of the expert by
        //    φ_i, on the same rollouts (the importance weights keep the inner gradient valid).
        var lossSum = OuterLosses()
        for step in 0..<config.outerSteps {
            if refreshesFeatures, step > 0, step % config.featureRefreshEvery == 0 {
                innerData = try refreshedFeatures(of: innerData, explored: explored, batch: batch)
            }
            lossSum.add(try outerStep(step, iteration: iteration, batch: batch, innerData: innerData,
                                      daggerActive: daggerActive))
        }
        let outerSeconds = lap()

        // With DAgger, the expert relabels the states φ_i visited (used from the next iteration).
        let daggerSamples = daggerActive ? try relabel(measured, batch: batch) : 0
        if !daggerActive { lastDaggerAdditions = [] }
        measurementSeconds += lap()
        lastStepSeconds = StepSeconds(rollouts: rolloutSeconds, outerSteps: outerSeconds, measurement: measurementSeconds)

        // 5. Sum the statistics over ranks, then log.
        let statistics = IterationStatistics(batch: batch, explored: explored, measured: measured,
                                             daggerActive: daggerActive)
        state.onPolicySamples += statistics.explorationSamples + daggerSamples
        state.evaluationSamples += statistics.evaluationSamples
        state.iteration += 1
        state.seconds += Date().timeIntervalSince(started)
        var log = statistics.log(
            iteration: iteration + 1, imitationLoss: lossSum.imitation / Double(config.outerSteps),
            meanAlpha: state.meanAdaptedAlpha(policy.alphaMask(config.adaptedParameters)),
            learningRate: Double(learningRate), onPolicySamples: state.onPolicySamples,
            daggerSamples: daggerSamples, measurementSamples: state.evaluationSamples, seconds: state.seconds)
        log.anchorLoss = lossSum.anchor.map { $0 / Double(config.outerSteps) }
        log.codeAnchorLoss = lossSum.codeAnchor.map { $0 / Double(config.outerSteps) }
        log.meanAlphaByGroup = state.meanAlpha(by: policy.alphaGroups)
        if config.metaTrainedSteps > 1 { log.latentScales = state.latentScales.map(Double.init) }
        return log
    }

    /// One task's exploring rollouts for each meta-trained step: step 0's from θ, step k's from
    /// the policy step k − 1 adapted (`AdaptationSchedule`: the learned latent scales), each
    /// with the inner step's data, and φ_N after the last step (what the measurement runs).
    /// One random stream runs through the steps.
    private func exploringChain(goal: Goal, theta: [Float], worker: Int, recordImages: Bool,
                                using rng: inout SeededGenerator) throws -> ExploringChain {
        let schedule = self.schedule
        var chain = ExploringChain(rollouts: [], data: [], adapted: theta)
        for step in 0..<config.metaTrainedSteps {
            let settings = schedule.settings(step: step, exploration: config.exploration, inner: objective.inner,
                                             alpha: state.alpha, biasVectorCount: policy.biasVectorCount)
            let rollouts = try resources.workers[worker].collect(goal: goal, parameters: chain.adapted,
                                                                 exploration: settings.exploration,
                                                                 trajectories: config.trajectoriesPerTask,
                                                                 recordImages: recordImages, using: &rng)
            let data = rollouts.innerStepData(policy: policy, discount: Float(config.discount))
            chain.rollouts.append(rollouts)
            chain.data.append(data)
            chain.adapted = try settings.inner.adapt(theta: chain.adapted, alpha: settings.alpha, data: data,
                                                     workspace: resources.headWorkspaces[worker]).phi
        }
        return chain
    }

    /// How each adaptation step explores and steps: the learned latent scales, then meta-test's decay.
    public var schedule: AdaptationSchedule {
        AdaptationSchedule(learnedScales: state.latentScales, decay: config.adaptationLatentDecay)
    }

    /// One Adam step of θ and α on L(θ, α) = mean_i BC_i(φ_i) (+ the anchor weight × BC_i(θ)
    /// with DAgger's anchor, + the code anchor's weight × BC_i(θ with task i's code), which also
    /// moves the codes), the meta-batch mean over all ranks. Returns its parts' losses, unweighted.
    private func outerStep(_ step: Int, iteration: Int, batch: MetaBatch, innerData: [Int: [InnerStepData]],
                           daggerActive: Bool) throws -> OuterLosses {
        let theta = state.theta, alpha = state.alpha, schedule = self.schedule
        let anchored = config.anchorWeight > 0
        let codes = config.codeAnchorWeight > 0 ? state.taskCodes : nil
        let multiStep = config.metaTrainedSteps > 1
        let gradients = try batch.map { worker, slot -> [[Float]] in
            guard let data = innerData[slot], let first = data.first else { return [] }
            var rng = streams.generator(.outerBatch(step: step, slot: slot), iteration: iteration)
            let demos = imitationBatch(task: batch.tasks[slot], dagger: daggerActive, using: &rng)
            let task = multiStep
                ? try objective.multiStepTaskGradient(theta: theta, alpha: alpha, schedule: schedule, data: data,
                                                      exploration: config.exploration, demos: demos,
                                                      headWorkspace: resources.headWorkspaces[worker],
                                                      workspace: resources.workspaces[worker])
                : try objective.taskGradient(theta: theta, alpha: alpha, data: first, demos: demos,
                                             headWorkspace: resources.headWorkspaces[worker],
                                             workspace: resources.workspaces[worker])
            var parts = [task.theta, task.alpha, [task.loss]]
            if multiStep { parts.append(task.latentScales) }
            if anchored {
                let anchor = try policy.imitationLoss(parameters: theta, demos: demos,
                                                      workspace: resources.workspaces[worker])
                parts += [anchor.gradient, [anchor.loss]]
            }
            if let codes {
                // BC_i with task i's code; that slot's gradient goes to the code (tasks × B).
                let (t, b) = (batch.tasks[slot], policy.biasVectorCount)
                let coded = try policy.imitationLoss(parameters: theta, code: codes[(t * b)..<((t + 1) * b)], demos: demos,
                                                     workspace: resources.workspaces[worker])
                var codeGradient = [Float](repeating: 0, count: codes.count)
                codeGradient.replaceSubrange((t * b)..<((t + 1) * b), with: coded.codeGradient)
                parts += [coded.gradient, codeGradient, [coded.loss]]
            }
            return parts
        }
        var shapes = [policy.parameterCount, policy.tailCount, 1]
        if multiStep { shapes.append(config.metaTrainedSteps - 1) }
        let anchorPart = shapes.count
        if anchored { shapes += [policy.parameterCount, 1] }
        let codeAnchorPart = shapes.count
        if let codes { shapes += [policy.parameterCount, codes.count, 1] }
        let mean = batch.mean(of: gradients, shapes: shapes)
        var thetaGradient = mean[0]
        if anchored { VectorOps.axpy(config.anchorWeight, mean[anchorPart], &thetaGradient) }
        var codeGradient: [Float]?
        if codes != nil {
            VectorOps.axpy(config.codeAnchorWeight, mean[codeAnchorPart], &thetaGradient)
            codeGradient = mean[codeAnchorPart + 1].map { config.codeAnchorWeight * $0 }
        }
        let loss = mean[2][0]
        guard loss.isFinite else {
            throw MetaTrainingError.nonFinite(iteration: iteration, what: "imitation loss or its gradient")
        }
        try state.descend(thetaGradient: thetaGradient, alphaGradient: mean[1],
                          alphaMask: policy.alphaMask(config.adaptedParameters), alphaGroups: policy.alphaGroups,
                          learnAlpha: config.learnAlpha, latentScaleGradient: multiStep ? mean[3] : nil,
                          taskCodeGradient: codeGradient, iteration: iteration, what: "imitation loss or its gradient")
        return OuterLosses(imitation: Double(loss),
                           anchor: anchored ? Double(mean[anchorPart + 1][0]) : nil,
                           codeAnchor: codes != nil ? Double(mean[codeAnchorPart + 2][0]) : nil)
    }

    /// The inner step's data with its keypoints recomputed by the current θ's encoder from the
    /// rollouts' recorded frames (`GMPSConfig.featureRefreshEvery`); the rest (actions, the
    /// behaviour policy's log-probabilities, advantages, latents) is what was collected.
    /// Only with one meta-trained step (`GMPSConfig.invalidSetting`).
    private func refreshedFeatures(of data: [Int: [InnerStepData]], explored: ResultSlots<ExploringChain>,
                                   batch: MetaBatch) throws -> [Int: [InnerStepData]] {
        let theta = state.theta
        let refreshed = try batch.map { worker, slot -> InnerStepData? in
            guard var slotData = data[slot]?.first, let rollouts = explored[slot]?.rollouts.first else { return nil }
            slotData.headInputs = try policy.headInputs(parameters: theta, frames: rollouts.images, hands: rollouts.hands,
                                                        workspace: resources.workspaces[worker])
            return slotData
        }
        return batch.mySlots.reduce(into: [Int: [InnerStepData]]()) { result, slot in
            if let slotData = refreshed[slot] ?? nil { result[slot] = [slotData] }
        }
    }

    /// Each task's measurement, as meta-test does it: the inner step on K exploring rollouts of
    /// θ (the iteration's own, taken before the outer steps fit them, so they flatter nothing),
    /// then θ and φ_i with mean actions. MAML-PG's rows are measured the same way. Measuring on
    /// fresh rollouts after the outer steps instead cost K more rollouts per task: as much as
    /// the iteration's exploring rollouts, the largest part of a meta-iteration.
    private func measure(iteration: Int, batch: MetaBatch, explored: ResultSlots<ExploringChain>,
                         recordImages: Bool) throws -> ResultSlots<Measurement> {
        let theta = state.theta
        let workers = resources.workers
        return try batch.map { worker, slot in
            guard let phi = explored[slot]?.adapted else {
                throw MetaTrainingError.mismatch("meta-batch slot \(slot) has no exploring rollouts to measure on")
            }
            var rng = streams.generator(.measurement(slot: slot), iteration: iteration)
            let goal = goals[batch.tasks[slot]]
            let pre = try workers[worker].collect(goal: goal, parameters: theta, exploration: .none,
                                                  trajectories: 1, using: &rng)
            let post = try workers[worker].collect(goal: goal, parameters: phi, exploration: .none,
                                                   trajectories: 1, recordImages: recordImages, using: &rng)
            return Measurement(pre: pre, post: post)
        }
    }

    /// DAgger: each task's expert labels the states its adapted φ_i visited (a task without an
    /// expert adds nothing); every rank keeps every task's new data, appended in slot order as
    /// one process would. Returns the samples added.
    private func relabel(_ measured: ResultSlots<Measurement>, batch: MetaBatch) throws -> Int {
        guard let experts else { return 0 }
        var relabelled: [Int: ImitationData] = [:]
        for slot in batch.mySlots {
            guard let result = measured[slot], let expert = experts.byTask[batch.tasks[slot]] else { continue }
            relabelled[slot] = try result.post.relabelled(
                imageCount: policy.network.imageInputCount,
                stateCount: config.environment.privilegedStateDimension) { try DaggerExperts.label(expert, $0) }
        }
        lastDaggerAdditions = []
        var added = 0
        for (slot, data) in try ImitationData.Transfer.shareAcrossRanks(relabelled, group: group,
                                                                        imageCount: policy.network.imageInputCount)
            .sorted(by: { $0.key < $1.key }) {
            dagger[batch.tasks[slot]].append(contentsOf: data)
            lastDaggerAdditions.append((batch.tasks[slot], data))
            added += data.count
        }
        return added
    }

    /// One task's outer minibatch: demonstrations, with up to `daggerShare` relabelled states.
    func imitationBatch(task: Int, dagger useDagger: Bool, using rng: inout SeededGenerator) -> ImitationBatch {
        let total = config.demosPerTaskBatch
        let fromDagger = useDagger && !dagger[task].isEmpty ? Int(Float(total) * config.daggerShare) : 0
        let batch = demos[task].sample(total - fromDagger, using: &rng)
        return fromDagger > 0 ? batch.appending(dagger[task].sample(fromDagger, using: &rng)) : batch
    }
}

/// One task's exploring rollouts and inner-step data, one entry per meta-trained step, and
/// the policy they adapted θ to.
struct ExploringChain {
    var rollouts: [TaskRollouts]
    var data: [InnerStepData]
    /// φ_N (P): θ after every step, at the iteration's θ and α.
    var adapted: [Float]
}

/// One task's measurement rollouts: θ and φ_i with mean actions.
struct Measurement {
    var pre: TaskRollouts
    var post: TaskRollouts
}

/// One outer step's losses, each the meta-batch mean and unweighted: BC_i(φ_i), and the anchors'
/// BC_i(θ) and BC_i(θ with task i's code) where they are on; summed over an iteration's steps.
struct OuterLosses {
    var imitation = 0.0
    var anchor: Double?
    var codeAnchor: Double?

    mutating func add(_ other: OuterLosses) {
        imitation += other.imitation
        anchor = other.anchor.map { (anchor ?? 0) + $0 }
        codeAnchor = other.codeAnchor.map { (codeAnchor ?? 0) + $0 }
    }
}
