import ConvNet
import Foundation
import VisionEnvs

/// Collects a `DemoDataset`: for each task, `episodesPerTask` episodes in which the executed
/// action is the expert's clean action plus Gaussian noise (clipped to [-1, 1]) while the
/// label is the clean action. From one start state a deterministic expert would repeat the
/// same episode; the noise makes the demos cover the states around its path (FINDINGS.md).
public struct DemoCollection: Sendable {
    public var environment: EnvironmentName
    public var experts: ExpertSet
    /// Where the labels came from ("scripted" or the expert folder), for the manifest.
    public var expertsDescription: String
    public var goals: [Goal]
    public var episodesPerTask: Int
    /// σ of the executed-action noise.
    public var noiseStd: Float
    public var seed: UInt64
    public var imageHeight: Int, imageWidth: Int
    /// Tasks collected at once (one environment and renderer each).
    public var workers: Int
    public var assets: AssetLocator
    /// How each task's stream draws the noise of its episodes.
    public var noiseStreams: NoiseStreams = .perEpisode
    /// What the environments pay: the recorded rewards.
    public var reward: RewardKind = .dense

    /// How the executed-action noise is drawn from a task's random stream.
    public enum NoiseStreams: String, Codable, Sendable {
        /// Each episode from its own sub-stream of the task's stream (the `demos` command's).
        case perEpisode = "per-episode"
        /// The task's episodes one after another from the task's stream itself: the draw order
        /// of the run's scripted demonstrations before they went through the dataset, kept so
        /// that a default run computes what it computed before.
        case perTask = "per-task"
    }

    public init(environment: EnvironmentName, experts: ExpertSet, expertsDescription: String, goals: [Goal],
                episodesPerTask: Int, noiseStd: Float = 0.3, seed: UInt64, imageHeight: Int = VisionEnv.defaultImageHeight,
                imageWidth: Int = VisionEnv.defaultImageWidth, workers: Int = 2, assets: AssetLocator = AssetLocator()) {
        self.environment = environment; self.experts = experts; self.expertsDescription = expertsDescription
        self.goals = goals; self.episodesPerTask = episodesPerTask; self.noiseStd = noiseStd; self.seed = seed
        self.imageHeight = imageHeight; self.imageWidth = imageWidth; self.workers = workers; self.assets = assets
    }

    /// Episodes done of all, and the success rate of those done.
    public struct Progress: Sendable {
        public var episodes: Int, total: Int, successRate: Double
    }

    /// Collects every task and writes the dataset into `folder`; returns its manifest.
    ///
    /// Over the ranks of `group`, task t is collected and written by rank t mod size (the
    /// folder must be one every rank can write: a shared file system across machines); rank 0
    /// writes the manifest once every rank has finished. Each task has its own random stream,
    /// so the files do not depend on the number of ranks or workers. With `resume`, a task
    /// file already in `folder` that loads as this collection's task is kept, not collected again.
    public func run(output folder: URL, group: any ProcessGroup = SingleProcess(), resume: Bool = false,
                    progress: (@Sendable (Progress) -> Void)? = nil) throws -> DemoDataset.Manifest {
        try checkSettings()
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw DemoDatasetError.cannotWrite(path: folder.path, reason: error.localizedDescription)
        }
        let myTasks = group.share(of: goals.count)
        var manifest = emptyManifest
        let entries = ResultSlots<DemoDataset.Manifest.TaskEntry>(count: myTasks.count)
        let kept: [Int: DemoDataset.Manifest.TaskEntry] = resume ? myTasks.reduce(into: [:]) { kept, t in
            kept[t] = existingEntry(task: t, in: folder, manifest: manifest)
        } : [:]
        for (item, t) in myTasks.enumerated() { if let entry = kept[t] { entries.set(entry, at: item) } }
        let missing = myTasks.enumerated().filter { kept[$0.element] == nil }
        try collect(missing.map(\.element), progress: progress) { index, task in
            let t = missing[index].element, file = DemoDataset.fileName(task: t)
            try DemoDataset.writeTask(task, index: t, environment: environment, image: manifest.image,
                                      to: folder.appendingPathComponent(file))
            entries.set(.init(task: t, goal: task.goal, file: file, episodes: task.episodes, steps: task.steps,
                              successRate: task.successRate), at: missing[index].offset)
        }
        let mine = try (0..<myTasks.count).map { item in
            guard let entry = entries[item] else {
                throw ExpertError.invalidConfiguration("demo collection of task \(myTasks[item]) did not finish")
            }
            return entry
        }
        manifest.tasks = try group.allGather(mine).flatMap { $0 }.sorted { $0.task < $1.task }
        if group.isRoot { try DemoDataset.writeManifest(manifest, to: folder) }
        return manifest
    }

    /// Every task's demonstrations in memory, in task order (nothing written).
    public func tasks() throws -> [DemoTask] {
        try checkSettings()
        let slots = ResultSlots<DemoTask>(count: goals.count)
        try collect(Array(goals.indices), progress: nil) { t, task in slots.set(task, at: t) }
        return try goals.indices.map { t in
            guard let task = slots[t] else { throw ExpertError.invalidConfiguration("demo collection of task \(t) did not finish") }
            return task
        }
    }

    private func checkSettings() throws {
        guard !goals.isEmpty else { throw ExpertError.invalidConfiguration("give at least one task") }
        guard episodesPerTask >= 1 else { throw ExpertError.invalidConfiguration("collect at least one episode per task") }
        guard noiseStd >= 0, noiseStd.isFinite else { throw ExpertError.invalidConfiguration("the noise std must be a non-negative number") }
    }

    /// The manifest of this collection before any task is in it.
    var emptyManifest: DemoDataset.Manifest {
        DemoDataset.Manifest(
            env: environment, image: .init(height: imageHeight, width: imageWidth),
            stateDimension: environment.privilegedStateDimension, actionDimension: 3, episodeLength: environment.horizon,
            episodesPerTask: episodesPerTask, noiseStd: Double("\(noiseStd)") ?? Double(noiseStd), experts: expertsDescription,
            seed: seed, noiseStreams: noiseStreams == .perEpisode ? nil : noiseStreams,
            reward: reward == .dense ? nil : reward, tasks: [])
    }

    /// Task `t`'s entry when its file in `folder` loads as this collection's task `t`.
    private func existingEntry(task t: Int, in folder: URL, manifest: DemoDataset.Manifest) -> DemoDataset.Manifest.TaskEntry? {
        let steps = episodesPerTask * environment.horizon, file = DemoDataset.fileName(task: t)
        var entry = DemoDataset.Manifest.TaskEntry(task: t, goal: goals[t], file: file, episodes: episodesPerTask,
                                                   steps: steps, successRate: 0)
        guard let task = try? DemoDataset.loadTask(entry, manifest: manifest, url: folder.appendingPathComponent(file)) else {
            return nil
        }
        entry.successRate = task.successRate
        return entry
    }

    /// Collects `tasks` (indices into `goals`), `workers` at a time (one environment and
    /// renderer each); `done(i, task)` receives the i-th's episodes.
    private func collect(_ tasks: [Int], progress: (@Sendable (Progress) -> Void)?,
                         done: (Int, DemoTask) throws -> Void) throws {
        guard !tasks.isEmpty else { return }
        let counter = EpisodeCounter(total: tasks.count * episodesPerTask, report: progress)
        let root = SeededGenerator(seed: seed)
        let workerCount = max(1, min(workers, tasks.count))
        let envs = try (0..<workerCount).map { _ in
            try VisionEnv(environment, imageHeight: imageHeight, imageWidth: imageWidth, assets: assets, reward: reward)
        }
        try parallelForEach(tasks.count, workers: workerCount) { worker, item in
            try done(item, try collect(task: tasks[item], in: envs[worker], rng: root.split(stream: UInt64(tasks[item])),
                                       counter: counter))
        }
    }

    /// The episodes of task `t`, from its own generator stream (one stream per episode).
    func collect(task t: Int, in env: VisionEnv, rng: SeededGenerator, counter: EpisodeCounter) throws -> DemoTask {
        let goal = goals[t]
        let expert = try experts.expert(for: goal)
        let horizon = env.horizon, pixels = env.imageCount
        let n = episodesPerTask * horizon
        var task = DemoTask(goal: goal, episodeLength: horizon, images: [], hands: [], states: [], actions: [],
                            executedActions: [], rewards: [], successes: [])
        task.images.reserveCapacity(n * pixels)
        var frame = [Float](repeating: 0, count: pixels)
        var frameBytes = [UInt8](repeating: 0, count: pixels)
        var taskStream = rng
        for episode in 0..<episodesPerTask {
            var noise = noiseStreams == .perEpisode ? rng.split(stream: UInt64(episode)) : taskStream
            defer { taskStream = noise }
            try env.reset(goal: goal)
            var success = false
            for _ in 0..<horizon {
                // Record what the meta-policy would see, then the expert's label for this state.
                frame.withUnsafeMutableBufferPointer { env.renderObservation(into: $0) }
                frame.withUnsafeBufferPointer { pixels in
                    frameBytes.withUnsafeMutableBufferPointer { FrameBytes.quantize(pixels, into: $0) }
                }
                task.images += frameBytes
                let hand = env.handPosition
                task.hands += [hand.x, hand.y, hand.z]
                let state = env.privilegedState()
                task.states += state
                let label = try expert.cleanAction(for: state)
                task.actions += [label.x, label.y, label.z]
                let jitter = SIMD3(noise.nextGaussian(), noise.nextGaussian(), noise.nextGaussian()) * noiseStd
                let executed = (label + jitter).clamped(lowerBound: SIMD3(repeating: -1), upperBound: SIMD3(repeating: 1))
                task.executedActions += [executed.x, executed.y, executed.z]
                let result = try env.step(executed)
                task.rewards.append(Float(result.reward))
                success = result.success
            }
            task.successes.append(success)
            counter.add(success: success)
        }
        return task
    }
}

/// Counts finished episodes across workers.
final class EpisodeCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var done = 0, successes = 0
    private let total: Int
    private let report: (@Sendable (DemoCollection.Progress) -> Void)?

    init(total: Int, report: (@Sendable (DemoCollection.Progress) -> Void)?) { self.total = total; self.report = report }

    func add(success: Bool) {
        let p: DemoCollection.Progress = lock.withLock {
            done += 1
            if success { successes += 1 }
            return .init(episodes: done, total: total, successRate: Double(successes) / Double(done))
        }
        report?(p)
    }
}
