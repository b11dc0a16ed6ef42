import ConvNet
import Foundation
import VisionEnvs

/// Trains the SAC experts of one environment and writes an expert folder (see
/// `ExpertSet.Manifest`): per task in parallel, or one goal-conditioned expert.
public struct ExpertTraining: Sendable {
    public var environment: EnvironmentName
    public var mode: ExpertMode
    /// The meta-training tasks.
    public var goals: [Goal]
    /// Environment steps per expert (per-task) or in all (goal-conditioned).
    public var stepsPerExpert: Int
    public var seed: UInt64
    public var config: SACConfig
    /// What the environments pay: the experts learn from it and are scored with it.
    public var reward: RewardKind
    /// nil: `ManipulationTrainingEnvironment.defaultRewardScale`.
    public var rewardScale: Float?
    /// Tasks trained at once (per-task), or threads of the one learner (goal-conditioned).
    public var workers: Int
    public var assets: AssetLocator

    public init(environment: EnvironmentName, mode: ExpertMode, goals: [Goal], stepsPerExpert: Int, seed: UInt64,
                config: SACConfig = SACConfig(), reward: RewardKind = .dense, rewardScale: Float? = nil, workers: Int = 2,
                assets: AssetLocator = AssetLocator()) {
        self.environment = environment; self.mode = mode; self.goals = goals; self.stepsPerExpert = stepsPerExpert
        self.seed = seed; self.config = config; self.reward = reward; self.rewardScale = rewardScale; self.workers = workers
        self.assets = assets
    }

    /// Progress across all experts, reported after each evaluation of any of them.
    public struct Progress: Sendable {
        public var envSteps: Int, budget: Int
        public var expertsDone: Int, experts: Int
        /// Mean latest evaluation success over the experts started so far.
        public var successSoFar: Double
    }

    /// Trains, saves each expert as it finishes, re-evaluates the saved experts through
    /// `ExpertSet.load`, and writes the manifest last. Returns the manifest.
    ///
    /// With `resume`, an expert that a previous, interrupted training of the same job finished
    /// (its `expert-NNN.json` record, written last, names this job and the checksum of its
    /// actor file) is kept and only the others train: each job has its own random stream, so
    /// the folder's files come out as an uninterrupted training writes them.
    ///
    /// Over the ranks of `group`, per-task job j is trained and saved by rank j mod size (the
    /// folder must be one every rank can write: a shared file system across machines); once
    /// every rank has finished, rank 0 evaluates the saved experts and writes the manifest, and
    /// every rank returns it. A goal-conditioned expert is one job: rank 0 trains it.
    public func run(output folder: URL, group: any ProcessGroup = SingleProcess(), resume: Bool = false,
                    progress: (@Sendable (Progress) -> Void)? = nil) throws -> ExpertSet.Manifest {
        guard mode != .scripted else { throw ExpertError.invalidConfiguration("scripted experts need no training") }
        guard !goals.isEmpty else { throw ExpertError.invalidConfiguration("give at least one task") }
        guard stepsPerExpert >= 1 else { throw ExpertError.invalidConfiguration("the step budget must be at least 1") }
        if let problem = config.problem { throw ExpertError.invalidConfiguration(problem) }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw ExpertError.cannotWrite(path: folder.path, reason: "\(error.localizedDescription)")
        }
        let scale = rewardScale ?? ManipulationTrainingEnvironment.defaultRewardScale(environment, reward: reward)
        let jobs: [[Goal]] = mode == .perTask ? goals.map { [$0] } : [goals]
        let threadsPerJob = mode == .perTask ? 1 : max(1, workers)
        let myJobs = group.share(of: jobs.count)
        let tracker = ProgressTracker(jobs: myJobs.count, budget: myJobs.count * stepsPerExpert, report: progress)
        let results = ResultSlots<ExpertSet.Manifest.Entry>(count: myJobs.count)
        let root = SeededGenerator(seed: seed)

        // One learner per job, each on its own generator stream: results do not depend on
        // which worker (or rank) runs which job, so a worker takes the next job when it is free.
        try parallelForEachOnDemand(myJobs.count, workers: mode == .perTask ? workers : 1) { _, item in
            let j = myJobs[item]
            let name = String(format: "expert-%03d", j)
            if resume, let finished = try finishedJob(name, goals: jobs[j], in: folder) {
                tracker.finish(job: item, steps: stepsPerExpert)
                results.set(finished, at: item)
                return
            }
            let env = try ManipulationTrainingEnvironment(environment, goals: jobs[j], assets: assets, reward: reward)
            let started = Date()
            var jobSeeds = root.split(stream: UInt64(j))
            let result = try SACTraining.train(
                environment: env, config: config, rewardScale: scale, budget: stepsPerExpert,
                seed: jobSeeds.next(), threads: threadsPerJob,
                progress: { tracker.update(job: item, steps: $0.envSteps, success: $0.evalSuccess) })
            tracker.finish(job: item, steps: stepsPerExpert)
            let actorFile = folder.appendingPathComponent("\(name).safetensors")
            try Safetensors.save(parameters: result.bestActorParameters, of: result.learner.actor, to: actorFile,
                                 metadata: ["env": environment.rawValue, "features": StateFeatures.version,
                                            "goals": jobs[j].map(\.description).joined(separator: "; ")])
            try write(LearningCurveRow.csv(result.curve), to: folder.appendingPathComponent("\(name).csv"))
            let entry = ExpertSet.Manifest.Entry(file: "\(name).safetensors", curve: "\(name).csv", envSteps: result.envSteps,
                                                 seconds: Date().timeIntervalSince(started))
            try recordFinished(entry, name: name, goals: jobs[j], actorFile: actorFile, in: folder)
            results.set(entry, at: item)
        }
        let mine = try (0..<myJobs.count).map { item in
            guard let entry = results[item] else { throw ExpertError.invalidConfiguration("training job \(myJobs[item]) did not finish") }
            return entry
        }
        // Job j's entry is at position j / size of rank j mod size's list.
        let byRank = try group.allGather(mine)
        let entries = (0..<jobs.count).map { j in byRank[j % group.size][j / group.size] }
        return try group.broadcast {
            try evaluateAndWriteManifest(entries: entries, to: folder, root: root)
        }
    }

    /// Writes the manifest, evaluates the saved experts through the loader that demos and GMPS
    /// use, and writes the manifest again with each task's evaluation.
    private func evaluateAndWriteManifest(entries: [ExpertSet.Manifest.Entry], to folder: URL,
                                          root: SeededGenerator) throws -> ExpertSet.Manifest {
        let scale = rewardScale ?? ManipulationTrainingEnvironment.defaultRewardScale(environment, reward: reward)

        var manifest = ExpertSet.Manifest(env: environment, mode: mode, features: StateFeatures.version, goals: goals,
                                          seed: seed, rewardScale: scale, config: config, experts: entries, tasks: [])
        manifest.reward = reward == .dense ? nil : reward
        try writeManifest(manifest, to: folder)
        let set = try ExpertSet.load(from: folder)
        let env = try ManipulationEnv(environment, assets: assets, reward: reward)
        manifest.tasks = try goals.enumerated().map { i, goal in
            let expert = try set.expert(for: goal)
            let (success, ret) = try Self.evaluate(expert, goal: goal, in: env)
            var noise = root.split(stream: 1_000_000 + UInt64(i))
            var noisy = 0
            for _ in 0..<Self.noisyEpisodes {
                if try Self.evaluate(expert, goal: goal, in: env, noiseStd: config.evaluationNoiseStd, using: &noise).0 { noisy += 1 }
            }
            return .init(task: i, goal: goal, success: success, episodeReturn: ret,
                         noisySuccess: Double(noisy) / Double(Self.noisyEpisodes))
        }
        try writeManifest(manifest, to: folder)
        return manifest
    }

    // MARK: Resuming per expert

    /// `expert-NNN.json`: a finished job, written after its actor and learning curve.
    struct FinishedJob: Codable, Equatable {
        var environment: EnvironmentName, mode: ExpertMode, goals: [Goal], seed: UInt64, stepsPerExpert: Int
        var config: SACConfig, rewardScale: Float?
        /// nil: dense (records written before the setting existed have none).
        var reward: RewardKind?
        /// Checksum of the actor file as written.
        var actorChecksum: String
        var entry: ExpertSet.Manifest.Entry
    }

    private func finishedRecord(_ entry: ExpertSet.Manifest.Entry, goals: [Goal], checksum: String) -> FinishedJob {
        FinishedJob(environment: environment, mode: mode, goals: goals, seed: seed, stepsPerExpert: stepsPerExpert,
                    config: config, rewardScale: rewardScale, reward: reward == .dense ? nil : reward,
                    actorChecksum: checksum, entry: entry)
    }

    private func recordFinished(_ entry: ExpertSet.Manifest.Entry, name: String, goals: [Goal], actorFile: URL,
                                in folder: URL) throws {
        let actor: Data
        do { actor = try Data(contentsOf: actorFile) } catch {
            throw ExpertError.cannotWrite(path: actorFile.path, reason: "it cannot be read back (\(error.localizedDescription))")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let record = try encoder.encode(finishedRecord(entry, goals: goals, checksum: Checksum.of(actor)))
        try write(String(decoding: record, as: UTF8.self) + "\n", to: folder.appendingPathComponent("\(name).json"))
    }

    /// The entry of job `name` when an earlier training of this very job finished it and its
    /// actor file is intact; nil when it must train (no record, or an actor file that is
    /// missing or not the one recorded: an interruption while writing it). A record of another
    /// job is refused: the folder holds someone else's experts.
    private func finishedJob(_ name: String, goals: [Goal], in folder: URL) throws -> ExpertSet.Manifest.Entry? {
        let recordURL = folder.appendingPathComponent("\(name).json")
        guard let data = try? Data(contentsOf: recordURL) else { return nil }
        guard let record = try? JSONDecoder().decode(FinishedJob.self, from: data) else { return nil }
        let expected = finishedRecord(record.entry, goals: goals, checksum: record.actorChecksum)
        guard record == expected else {
            throw ExpertError.badExpertFolder(
                path: folder.path,
                problem: "\(name).json records an expert trained with other settings (\(record.environment) \(record.mode.rawValue), seed \(record.seed), \(record.stepsPerExpert) steps, goals \(record.goals)); resume only the same training, or use another folder")
        }
        guard let actor = try? Data(contentsOf: folder.appendingPathComponent(record.entry.file)),
              Checksum.of(actor) == record.actorChecksum,
              FileManager.default.fileExists(atPath: folder.appendingPathComponent(record.entry.curve).path) else { return nil }
        return record.entry
    }

    /// Noisy episodes per task in the final evaluation.
    public static let noisyEpisodes = 10

    /// One deterministic episode of `expert` on `goal`: (success at the last step, return).
    public static func evaluate(_ expert: any Expert, goal: Goal, in env: ManipulationEnv) throws -> (Bool, Double) {
        var unused = SeededGenerator(seed: 0)
        return try evaluate(expert, goal: goal, in: env, noiseStd: 0, using: &unused)
    }

    /// One episode of `expert` on `goal` with N(0, noiseStd²) added to each action.
    public static func evaluate(_ expert: any Expert, goal: Goal, in env: ManipulationEnv, noiseStd: Float,
                                using rng: inout SeededGenerator) throws -> (Bool, Double) {
        try env.reset(goal: goal)
        var total = 0.0, success = false
        for _ in 0..<env.horizon {
            var action = try expert.cleanAction(for: env.privilegedState())
            if noiseStd > 0 { action += SIMD3(rng.nextGaussian(), rng.nextGaussian(), rng.nextGaussian()) * noiseStd }
            let result = try env.step(action)
            total += result.reward
            success = result.success
        }
        return (success, total)
    }

    func writeManifest(_ manifest: ExpertSet.Manifest, to folder: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(manifest)
        try write(String(decoding: data, as: UTF8.self) + "\n", to: folder.appendingPathComponent(ExpertSet.manifestName))
    }

    func write(_ text: String, to url: URL) throws {
        do {
            try Data(text.utf8).write(to: url, options: .atomic)
        } catch {
            throw ExpertError.cannotWrite(path: url.path, reason: error.localizedDescription)
        }
    }
}
