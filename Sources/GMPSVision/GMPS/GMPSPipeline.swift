import ConvNet
import Renderer
import Foundation
import VisionEnvs

/// The stages of a GMPS run over one run directory, shared by `meta-train` and `run`:
/// goals → experts (`+Experts`) → demonstrations (`+Demonstrations`) → behaviour-cloning
/// pre-training → meta-iterations (checkpointed after each) → meta-test evaluation. Resuming reloads the checkpoint and carries on; because
/// every random stream derives from (seed, iteration, purpose), the result is bit-identical to
/// an uninterrupted run.
///
/// Under MPI every rank runs the pipeline and meta-trains its share of each meta-batch (see
/// `MetaTrainer`); only rank 0 reads and writes the run directory, and its checkpoint is
/// broadcast on resume, so the other ranks need no shared file system.
public final class GMPSPipeline {
    public let config: GMPSConfig
    public let run: RunDirectory
    public let group: any ProcessGroup
    public private(set) var progress: [IterationLog] = []
    /// File → checksum of what the checkpoints rely on besides their policy: DAgger data and
    /// the pre-trained θ (rank 0).
    private var recorded: [String: String] = [:]
    /// The experts once resolved (`experts()`).
    var resolvedExperts: (set: ExpertSet?, steps: Int)?
    /// Environment steps by kind of the stages run so far (expert training and demonstrations
    /// once resolved; meta-training as of the last iteration).
    public internal(set) var environmentSteps = EnvironmentSteps()
    /// Seconds this process spent on validation during meta-training (`+Validation`).
    public internal(set) var validationSeconds = 0.0
    /// Wall seconds this process spent in behaviour-cloning pre-training, and in the
    /// meta-iterations' rollouts, outer steps and measurements (summed over iterations).
    public private(set) var pretrainSeconds = 0.0
    public private(set) var iterationSeconds = MetaTrainer.StepSeconds()

    /// θ after behaviour-cloning pre-training, the multi-task BC reference of the report.
    public static let pretrainedFile = "pretrained_theta.json"

    public init(config: GMPSConfig, run: RunDirectory, group: any ProcessGroup = SingleProcess()) {
        self.config = config
        self.run = run
        self.group = group
    }

    /// The seeded split: meta-training goals, then `testCount` held-out goals.
    public func goals(testCount: Int) throws -> MetaGoalSplit {
        try TaskDistribution(config.environment).metaSplit(seed: config.seed, trainCount: config.metaTrainTasks,
                                                           testCount: testCount)
    }

    /// A trainer at the run's checkpoint (when `resume` and one exists) or fresh; DAgger labels
    /// come from the run's experts, none for the demo-only tasks.
    public func trainer(demos: [ImitationData], resume: Bool) throws -> MetaTrainer {
        let goals = try goals(testCount: 0).train
        let experts = try experts().map { try DaggerExperts($0, goals: goals, demoOnly: Set(config.demoOnlyTaskIndices)) }
        var state: MetaTrainerState?
        var dagger: [ImitationData]?
        if group.isRoot && resume && run.exists(MetaCheckpoint.stateFile) {
            let policy = try MetaPolicy(config: config)
            let loaded = try MetaCheckpoint.loadRecorded(from: run, policy: policy, iterations: config.iterations)
            state = loaded.state
            dagger = try DaggerCheckpoint.load(from: run, iterations: loaded.state.iteration, taskCount: goals.count,
                                               imageCount: policy.network.imageInputCount, checksums: loaded.checksums)
            recorded = try loaded.checksums ?? adoptedChecksums(iterations: loaded.state.iteration)
            recorded[loaded.policyFile] = nil
            progress = try loadProgress(upTo: loaded.state.iteration)
        }
        if group.size > 1 {   // nil: no checkpoint on rank 0
            state = try group.broadcast { state }
            dagger = try group.broadcast { dagger?.map(ImitationData.Transfer.init) }.map { transfers in
                transfers.map { $0.imitationData(imageCount: 3 * config.imageHeight * config.imageWidth) }
            }
        }
        return try MetaTrainer(config: config, goals: goals, demos: demos,
                               experts: experts, state: state, dagger: dagger, group: group)
    }

    /// Pre-trains (if not yet) and runs meta-iterations up to `config.iterations` (or stops
    /// after iteration `stopAfter`, as an interruption would), writing `progress.csv` and the
    /// checkpoint after every iteration (rank 0; every rank trains).
    public func metaTrain(_ trainer: MetaTrainer, display: ProgressDisplay? = nil,
                          pretrainDisplay: ProgressDisplay? = nil, stopAfter: Int? = nil) throws {
        if !trainer.state.pretrained {
            let started = Date()
            defer { pretrainSeconds += Date().timeIntervalSince(started) }
            try trainer.pretrain { step, loss in
                pretrainDisplay?.update(step + 1, detail: String(format: "loss %.4f", loss))
            }
            if group.isRoot {
                // Before the checkpoint that marks pre-training done: a run interrupted between
                // the two pre-trains again and rewrites it.
                recorded[Self.pretrainedFile] = try run.writeJSON(trainer.state.theta, to: Self.pretrainedFile)
                try MetaCheckpoint.save(trainer.state, policy: trainer.policy, in: run, recorded: recorded)
            }
        }
        environmentSteps.metaTraining = trainer.state.onPolicySamples + trainer.state.evaluationSamples
        environmentSteps.evaluation = validationEnvSteps
        while trainer.state.iteration < min(config.iterations, stopAfter ?? .max) {
            var entry = try trainer.runIteration()
            iterationSeconds.add(trainer.lastStepSeconds)
            environmentSteps.metaTraining = trainer.state.onPolicySamples + trainer.state.evaluationSamples
            (entry.expertEnvSteps, entry.demoEnvSteps) = (environmentSteps.expertTraining, environmentSteps.demonstrations)
            if group.isRoot && validates(after: entry.iteration) {
                let started = Date()
                (entry.validationPreSuccess, entry.validationPostSuccess) = try validate(trainer.state)
                validationSeconds += Date().timeIntervalSince(started)
            }
            progress.append(entry)
            environmentSteps.evaluation = validationEnvSteps
            guard group.isRoot else { continue }
            if !trainer.lastDaggerAdditions.isEmpty {
                let saved = try DaggerCheckpoint.save(trainer.lastDaggerAdditions, iteration: entry.iteration - 1, in: run)
                recorded[saved.file] = saved.checksum
            }
            try run.writeCSV(header: IterationLog.csvHeader, rows: progress.map(\.csvRow), to: "progress.csv")
            try MetaCheckpoint.save(trainer.state, policy: trainer.policy, in: run, recorded: recorded)
            var detail = String(format: "success %.2f → %.2f · loss %.4f", entry.preSuccess, entry.postSuccess, entry.imitationLoss)
            if let pre = entry.validationPreSuccess, let post = entry.validationPostSuccess {
                detail += String(format: " · validation %.2f → %.2f", pre, post)
            }
            display?.update(entry.iteration, detail: detail)
        }
    }

    /// Meta-test evaluation of θ, α on `goals`, adaptation steps after the first exploring at
    /// the learned `latentScales` (`MetaTrainerState.latentScales`) and then decaying by the
    /// run's `adaptationLatentDecay`. A `latentDecay` given replaces both: every step after the
    /// first decays by it (the heuristic, to compare against what was learned).
    public func evaluate(theta: [Float], alpha: [Float], latentScales: [Float], goals: [Goal], adaptationSteps: Int,
                         draws: Int, seed: UInt64, trajectories: Int? = nil, latentDecay: Float? = nil,
                         display: ProgressDisplay? = nil) throws -> EvaluationSummary {
        var (policy, evaluator) = try makeEvaluator(adaptationSteps: adaptationSteps, trajectories: trajectories)
        evaluator.latentDecay = latentDecay ?? config.adaptationLatentDecay
        evaluator.latentScales = latentDecay == nil ? latentScales : []
        let resources = try ThreadResources(policy: policy, config: config, threads: config.threads,
                                            trajectories: evaluator.trajectories, networkBatch: 1)
        let results = try evaluator.evaluate(goals: goals, theta: theta, alpha: alpha, draws: draws, seed: seed,
                                             workers: resources.workers, headWorkspaces: resources.headWorkspaces,
                                             finishedGoal: { display?.advance() })
        return EvaluationSummary(results, adaptationSteps: adaptationSteps)
    }

    /// The run's policy and its meta-test procedure (exploration, K, α's inner step).
    func makeEvaluator(adaptationSteps: Int, trajectories: Int? = nil) throws -> (MetaPolicy, MetaTestEvaluator) {
        let policy = try MetaPolicy(config: config)
        let evaluator = MetaTestEvaluator(
            policy: policy, inner: InnerStep(policy: policy, config: config), exploration: config.exploration, trajectories: trajectories ?? config.trajectoriesPerTask,
            adaptationSteps: adaptationSteps, discount: config.discount)
        return (policy, evaluator)
    }

    /// The pre-trained θ the checkpoint recorded, verified; nil when the run has none (one
    /// written before checkpoints recorded it and interrupted before the file was written).
    public func pretrainedTheta() throws -> [Float]? {
        guard run.exists(Self.pretrainedFile) || recorded[Self.pretrainedFile] != nil else { return nil }
        let theta = try run.readJSON([Float].self, from: Self.pretrainedFile, checksum: recorded[Self.pretrainedFile])
        guard theta.count == (try MetaPolicy(config: config)).parameterCount else {
            throw RunDirectory.Failure.damaged(path: run.file(Self.pretrainedFile).path,
                                               problem: "it holds \(theta.count) parameters, not the policy's")
        }
        return theta
    }

    /// The checksums of the DAgger data and pre-trained θ of a checkpoint written before
    /// checkpoints recorded them: the files as they are, from now on kept as they are.
    private func adoptedChecksums(iterations: Int) throws -> [String: String] {
        let names = (0..<iterations).map(DaggerCheckpoint.fileName(iteration:)) + [Self.pretrainedFile]
        return try names.filter(run.exists).reduce(into: [:]) { $0[$1] = Checksum.of(try run.read($1)) }
    }

    /// The rows of an existing progress.csv for iterations 1…`iteration` (a resumed run keeps them).
    private func loadProgress(upTo iteration: Int) throws -> [IterationLog] {
        guard run.exists("progress.csv"),
              let text = try? String(contentsOf: run.file("progress.csv"), encoding: .utf8) else { return [] }
        return text.split(separator: "\n").dropFirst().compactMap { IterationLog(csvRow: String($0)) }
            .filter { $0.iteration <= iteration }
    }
}

// MARK: Reference points and pictures

extension GMPSPipeline {
    /// The scripted expert on `goals` (the upper bound): success, return, final distance.
    public func expertSummary(goals: [Goal]) throws -> EvaluationSummary {
        EvaluationSummary(try ExpertEvaluation.evaluate(environment: config.environment, goals: goals, draws: 1,
                                                        reward: config.reward),
                          adaptationSteps: 0)
    }

    /// θ after `steps` adaptation steps on `goal` (one draw, seeded), as `evaluate` adapts.
    public func adapted(theta: [Float], alpha: [Float], latentScales: [Float], goal: Goal, steps: Int,
                        seed: UInt64) throws -> [Float] {
        var (policy, evaluator) = try makeEvaluator(adaptationSteps: steps)
        evaluator.latentDecay = config.adaptationLatentDecay
        evaluator.latentScales = latentScales
        let resources = try ThreadResources(policy: policy, config: config, threads: 1,
                                            trajectories: evaluator.trajectories, networkBatch: 1)
        var rng = SeededGenerator(seed: seed)
        let result = try evaluator.adapt(goal: goal, theta: theta, alpha: alpha, worker: resources.workers[0],
                                         headWorkspace: resources.headWorkspaces[0], using: &rng)
        return result.steps.last ?? theta
    }

    /// Held-out episodes before and after one adaptation step, goal drawn: a contact sheet
    /// `frames/goal-N-before.png` (`-after.png`) and an animation `frames/goal-N-before.gif`
    /// (`-after.gif`) of each.
    public func writeEpisodePictures(theta: [Float], alpha: [Float], latentScales: [Float], goals: [Goal],
                                     seed: UInt64) throws -> [EpisodePictures] {
        let policy = try MetaPolicy(config: config)
        var pictures: [EpisodePictures] = []
        for (index, goal) in goals.enumerated() {
            let phi = try adapted(theta: theta, alpha: alpha, latentScales: latentScales, goal: goal, steps: 1,
                                  seed: seed &+ UInt64(index))
            for (label, parameters) in [("before", theta), ("after", phi)] {
                let frames = try episodeFrames(policy: policy, parameters: parameters, goal: goal, frameHeight: 96,
                                               frameWidth: 128)
                let name = "frames/goal-\(index + 1)-\(label)"
                let sheet = ContactSheet.compose(EpisodePictures.sheetFrames(of: frames), columns: 6)
                try run.write(try PNGFile.encode(sheet), to: name + ".png")
                try run.write(try GIFFile.encode(frames, path: run.file(name + ".gif").path), to: name + ".gif")
                pictures.append(EpisodePictures(caption: "\(goal), \(label) adaptation", sheet: name + ".png",
                                                animation: name + ".gif"))
            }
        }
        return pictures
    }
}

