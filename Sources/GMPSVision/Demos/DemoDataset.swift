import ConvNet
import Foundation
import VisionEnvs

/// A demonstration dataset: for each meta-training task, expert episodes as the meta-policy
/// sees them (images, hand xyz) with the expert's clean action as the label.
///
/// On disk, a folder:
///
///     demos.json              the manifest (`DemoDataset.Manifest`): format name and version,
///                             env, image size, state size, episode length, episodes per task,
///                             action-noise std, the experts used, seed, and per task its goal,
///                             file, step count and success rate
///     task-NNN.safetensors    one file per task (NNN = task index), tensors with N = episodes × T:
///         images            U8  (N, 3, H, W)   the policy's view before each step, RGB, 0–255
///         hands             F32 (N, 3)         hand xyz before each step
///         states            F32 (N, S)         privileged state before each step (goal included)
///         actions           F32 (N, 3)         the expert's clean action in that state (the label)
///         executed_actions  F32 (N, 3)         what was executed: label + N(0, σ²) noise, clipped
///         rewards           F32 (N)            reward of each step
///         successes         U8  (E)            1 when the episode's last step succeeded
///       and metadata {format, version, env, task, goal (JSON)}.
///
/// Steps are stored episode after episode; every episode has the environment's horizon T.
/// `load(from:)` checks every count, shape and goal against the manifest.
public struct DemoDataset: Sendable {
    public var manifest: Manifest
    public var tasks: [DemoTask]

    public var environment: EnvironmentName { manifest.env }
    public var imageHeight: Int { manifest.image.height }
    public var imageWidth: Int { manifest.image.width }
    public var goals: [Goal] { tasks.map(\.goal) }

    public struct Manifest: Codable, Equatable, Sendable {
        public static let formatName = "gmps-vision-demos"
        public static let currentVersion = 1
        public var format = Manifest.formatName
        public var version = Manifest.currentVersion
        public var env: EnvironmentName
        public var image: ImageShape
        public var stateDimension: Int
        public var actionDimension: Int
        public var episodeLength: Int
        public var episodesPerTask: Int
        /// Standard deviation of the Gaussian noise added to the executed actions.
        public var noiseStd: Double
        /// "scripted", or the expert folder the labels came from.
        public var experts: String
        public var seed: UInt64
        /// How the noise was drawn, when not each episode from its own stream (`DemoCollection.NoiseStreams`).
        public var noiseStreams: DemoCollection.NoiseStreams? = nil
        /// What the recorded rewards are, when not dense (written only when sparse).
        public var reward: RewardKind? = nil
        public var tasks: [TaskEntry]

        public struct ImageShape: Codable, Equatable, Sendable {
            public var channels: Int, height: Int, width: Int
            public init(channels: Int = 3, height: Int, width: Int) { self.channels = channels; self.height = height; self.width = width }
        }

        public struct TaskEntry: Codable, Equatable, Sendable {
            public var task: Int
            public var goal: Goal
            public var file: String
            public var episodes: Int
            public var steps: Int
            public var successRate: Double
            enum CodingKeys: String, CodingKey {
                case task, goal, file, episodes, steps
                case successRate = "success_rate"
            }
        }

        enum CodingKeys: String, CodingKey {
            case format, version, env, image, experts, seed, tasks
            case stateDimension = "state_dimension", actionDimension = "action_dimension"
            case episodeLength = "episode_length", episodesPerTask = "episodes_per_task", noiseStd = "noise_std"
            case noiseStreams = "noise_streams", reward
        }
    }

    public static let manifestName = "demos.json"

    public init(manifest: Manifest, tasks: [DemoTask]) {
        self.manifest = manifest; self.tasks = tasks
    }

    // MARK: Writing

    /// Writes every task file, then the manifest (all atomic).
    public func write(to folder: URL) throws(DemoDatasetError) {
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw .cannotWrite(path: folder.path, reason: error.localizedDescription)
        }
        for (entry, task) in zip(manifest.tasks, tasks) {
            try Self.writeTask(task, index: entry.task, environment: environment, image: manifest.image,
                               to: folder.appendingPathComponent(entry.file))
        }
        try Self.writeManifest(manifest, to: folder)
    }

    static func fileName(task: Int) -> String { String(format: "task-%03d.safetensors", task) }

    static func writeTask(_ task: DemoTask, index: Int, environment: EnvironmentName, image: Manifest.ImageShape,
                          to url: URL) throws(DemoDatasetError) {
        let n = task.steps, s = task.states.count / max(n, 1)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]   // same dataset, same bytes
        let goalJSON = (try? encoder.encode(task.goal)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let file = Safetensors.Contents(tensors: [
            ("images", .u8(shape: [n, image.channels, image.height, image.width], bytes: task.images)),
            ("hands", .f32(shape: [n, 3], values: task.hands)),
            ("states", .f32(shape: [n, s], values: task.states)),
            ("actions", .f32(shape: [n, 3], values: task.actions)),
            ("executed_actions", .f32(shape: [n, 3], values: task.executedActions)),
            ("rewards", .f32(shape: [n], values: task.rewards)),
            ("successes", .u8(shape: [task.episodes], bytes: task.successes.map { $0 ? 1 : 0 })),
        ], metadata: ["format": Manifest.formatName, "version": "\(Manifest.currentVersion)", "env": environment.rawValue,
                      "task": "\(index)", "goal": goalJSON])
        do {
            try Safetensors.write(file, to: url, layout: .sortedKeys)
        } catch let error as SafetensorsError {
            throw .cannotWrite(path: url.path, reason: error.problem)
        } catch {
            throw .cannotWrite(path: url.path, reason: error.localizedDescription)
        }
    }

    static func writeManifest(_ manifest: Manifest, to folder: URL) throws(DemoDatasetError) {
        let url = folder.appendingPathComponent(manifestName)
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try (encoder.encode(manifest) + Data("\n".utf8)).write(to: url, options: .atomic)
        } catch {
            throw .cannotWrite(path: url.path, reason: error.localizedDescription)
        }
    }

    // MARK: Loading

    /// Reads and validates a dataset folder. With `expecting`, the dataset must be for that
    /// environment and image size.
    public static func load(from folder: URL, expecting expected: (env: EnvironmentName, height: Int, width: Int)? = nil)
        throws(DemoDatasetError) -> DemoDataset {
        let manifestURL = folder.appendingPathComponent(manifestName)
        guard let data = try? Data(contentsOf: manifestURL) else {
            throw .notFound(path: manifestURL.path)
        }
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: data)
        } catch {
            throw .corrupt(path: manifestURL.path, problem: "it is not a valid demos manifest (\(error))")
        }
        func bad(_ problem: String) -> DemoDatasetError { .corrupt(path: manifestURL.path, problem: problem) }
        guard manifest.format == Manifest.formatName else { throw bad("its format is \"\(manifest.format)\", not \"\(Manifest.formatName)\"") }
        guard manifest.version == Manifest.currentVersion else {
            throw .unsupportedVersion(path: manifestURL.path, version: manifest.version, supported: Manifest.currentVersion)
        }
        let env = manifest.env
        guard manifest.image.channels == 3, manifest.image.height > 0, manifest.image.width > 0 else {
            throw bad("the image shape \(manifest.image) is not 3 x H x W with positive sizes")
        }
        guard manifest.stateDimension == env.privilegedStateDimension, manifest.actionDimension == 3,
              manifest.episodeLength == env.horizon, manifest.episodesPerTask >= 1, !manifest.tasks.isEmpty else {
            throw bad("its sizes do not fit \(env): state \(manifest.stateDimension) (expected \(env.privilegedStateDimension)), "
                      + "actions \(manifest.actionDimension) (3), episode length \(manifest.episodeLength) (\(env.horizon)), "
                      + "\(manifest.episodesPerTask) episodes per task, \(manifest.tasks.count) tasks")
        }
        if let expected {
            guard expected.env == env, expected.height == manifest.image.height, expected.width == manifest.image.width else {
                throw .mismatch(path: folder.path, problem: "the dataset is \(env) at \(manifest.image.height)x\(manifest.image.width), "
                                + "the run wants \(expected.env) at \(expected.height)x\(expected.width); collect demos for it with `gmps-vision demos`")
            }
        }
        var tasks: [DemoTask] = []
        for (i, entry) in manifest.tasks.enumerated() {
            guard entry.task == i, entry.goal.environment == env, entry.episodes == manifest.episodesPerTask,
                  entry.steps == entry.episodes * manifest.episodeLength, !entry.file.contains("/") else {
                throw bad("task entry \(i) is inconsistent (task \(entry.task), \(entry.episodes) episodes, \(entry.steps) steps, file \(entry.file))")
            }
            tasks.append(try loadTask(entry, manifest: manifest, url: folder.appendingPathComponent(entry.file)))
        }
        return DemoDataset(manifest: manifest, tasks: tasks)
    }

    static func loadTask(_ entry: Manifest.TaskEntry, manifest: Manifest, url: URL) throws(DemoDatasetError) -> DemoTask {
        let path = url.path
        guard let data = try? Data(contentsOf: url) else { throw .notFound(path: path) }
        let file: Safetensors.Contents
        do {
            file = try Safetensors.parse(data, path: path)
        } catch let error as SafetensorsError {
            if case .truncated(_, let detail) = error { throw .truncated(path: path, detail: detail) }
            throw .corrupt(path: path, problem: error.problem)
        } catch {
            throw .corrupt(path: path, problem: "\(error)")
        }
        let n = entry.steps, s = manifest.stateDimension, img = manifest.image
        func tensor(_ name: String) throws(DemoDatasetError) -> Safetensors.StoredTensor {
            guard let e = file.tensor(named: name) else { throw .corrupt(path: path, problem: "it has no tensor \"\(name)\"") }
            return e
        }
        func mismatch(_ name: String, _ e: Safetensors.StoredTensor, _ dtype: Safetensors.DType, _ shape: [Int]) -> DemoDatasetError {
            .mismatch(path: path, problem: "tensor \"\(name)\" is \(e.dtype.rawValue) \(e.shape), the manifest implies \(dtype.rawValue) \(shape)")
        }
        func floats(_ name: String, _ shape: [Int]) throws(DemoDatasetError) -> [Float] {
            let e = try tensor(name)
            guard let values = e.floats, e.shape == shape else { throw mismatch(name, e, .f32, shape) }
            return values
        }
        func bytes(_ name: String, _ shape: [Int]) throws(DemoDatasetError) -> [UInt8] {
            let e = try tensor(name)
            guard let values = e.bytes, e.shape == shape else { throw mismatch(name, e, .u8, shape) }
            return values
        }
        guard file.metadata["env"] == manifest.env.rawValue, file.metadata["task"] == "\(entry.task)" else {
            throw .mismatch(path: path, problem: "it holds task \(file.metadata["task"] ?? "?") of \(file.metadata["env"] ?? "?"), the manifest expects task \(entry.task) of \(manifest.env)")
        }
        guard let goalText = file.metadata["goal"], let goal = try? JSONDecoder().decode(Goal.self, from: Data(goalText.utf8)),
              goal == entry.goal else {
            throw .mismatch(path: path, problem: "its goal \(file.metadata["goal"] ?? "?") is not the manifest's \(entry.goal)")
        }
        let task = DemoTask(
            goal: goal, episodeLength: manifest.episodeLength,
            images: try bytes("images", [n, img.channels, img.height, img.width]),
            hands: try floats("hands", [n, 3]),
            states: try floats("states", [n, s]),
            actions: try floats("actions", [n, 3]),
            executedActions: try floats("executed_actions", [n, 3]),
            rewards: try floats("rewards", [n]),
            successes: try bytes("successes", [entry.episodes]).map { $0 != 0 })
        for (name, values) in [("hands", task.hands), ("states", task.states), ("actions", task.actions),
                               ("executed_actions", task.executedActions), ("rewards", task.rewards)] {
            guard values.allSatisfy(\.isFinite) else { throw .corrupt(path: path, problem: "tensor \"\(name)\" holds NaN or infinite values") }
        }
        guard task.actions.allSatisfy({ abs($0) <= 1 }) else { throw .corrupt(path: path, problem: "expert actions lie outside [-1, 1]") }
        return task
    }
}

/// One task's demonstrations. N = episodes × episodeLength steps, stored episode after episode.
public struct DemoTask: Sendable, Equatable {
    public var goal: Goal
    public var episodeLength: Int
    /// (N, 3, H, W) RGB bytes: the policy's view before each step.
    public var images: [UInt8]
    /// (N, 3) hand xyz, (N, S) privileged state, (N, 3) clean expert labels, (N, 3) executed actions, (N) rewards.
    public var hands: [Float], states: [Float], actions: [Float], executedActions: [Float], rewards: [Float]
    /// (E) whether each episode's last step succeeded.
    public var successes: [Bool]

    public init(goal: Goal, episodeLength: Int, images: [UInt8], hands: [Float], states: [Float], actions: [Float],
                executedActions: [Float], rewards: [Float], successes: [Bool]) {
        self.goal = goal; self.episodeLength = episodeLength; self.images = images; self.hands = hands
        self.states = states; self.actions = actions; self.executedActions = executedActions
        self.rewards = rewards; self.successes = successes
    }

    /// N.
    public var steps: Int { rewards.count }
    /// E.
    public var episodes: Int { successes.count }
    public var successRate: Double { Double(successes.filter { $0 }.count) / Double(max(episodes, 1)) }

    /// Floats in one image (3·H·W).
    public var imageSize: Int { images.count / max(steps, 1) }

    /// Step `i`'s image as Float32 CHW in [0, 1] (what the meta-policy sees), written into
    /// `buffer` (3·H·W floats).
    public func image(_ i: Int, into buffer: UnsafeMutableBufferPointer<Float>) {
        let size = imageSize
        images.withUnsafeBufferPointer { bytes in
            FrameBytes.dequantize(UnsafeBufferPointer(rebasing: bytes[(i * size)..<((i + 1) * size)]), into: buffer)
        }
    }

    /// A minibatch of B steps for behaviour cloning: images (B,3,H,W) in [0, 1], hands (B,3)
    /// and expert labels (B,3), in the order of `indices`.
    ///
    ///     let batch = task.minibatch([0, 7, 3])   // batch.images.count == 3 * task.imageSize
    public func minibatch(_ indices: [Int]) -> (images: [Float], hands: [Float], actions: [Float]) {
        let size = imageSize
        var pixels = [Float](repeating: 0, count: indices.count * size)
        var hands: [Float] = [], labels: [Float] = []
        hands.reserveCapacity(indices.count * 3); labels.reserveCapacity(indices.count * 3)
        pixels.withUnsafeMutableBufferPointer { out in
            for (b, i) in indices.enumerated() {
                image(i, into: UnsafeMutableBufferPointer(rebasing: out[(b * size)..<((b + 1) * size)]))
                hands += self.hands[(3 * i)..<(3 * i + 3)]
                labels += actions[(3 * i)..<(3 * i + 3)]
            }
        }
        return (pixels, hands, labels)
    }
}

/// What is wrong with a demonstration dataset, and what to do about it.
public enum DemoDatasetError: Error, Equatable, CustomStringConvertible {
    case notFound(path: String)
    case corrupt(path: String, problem: String)
    case truncated(path: String, detail: String)
    case mismatch(path: String, problem: String)
    case unsupportedVersion(path: String, version: Int, supported: Int)
    case cannotWrite(path: String, reason: String)

    public var description: String {
        let redo = " Collect the demos again with `gmps-vision demos`."
        switch self {
        case .notFound(let p): return "no demonstration data at \(p)." + redo
        case .corrupt(let p, let problem): return "\(p) is corrupt: \(problem)." + redo
        case .truncated(let p, let detail): return "\(p) is truncated: \(detail)." + redo
        case .mismatch(let p, let problem): return "\(p) does not match: \(problem)."
        case .unsupportedVersion(let p, let v, let s): return "\(p) is format version \(v); this build reads version \(s)." + redo
        case .cannotWrite(let p, let reason): return "cannot write \(p): \(reason)."
        }
    }
}

/// Which of a task's demonstration episodes the policy imitates.
public enum DemoEpisodeSelection: String, Codable, CaseIterable, Sendable {
    /// Every episode: the noisy ones that missed the goal too (their labels are still the
    /// expert's clean actions).
    case all
    /// Only the episodes whose last step succeeded; a task with none keeps all of its episodes.
    case successful
}

extension DemoTask {
    /// The demonstrations as GMPS's imitation data (images stay uint8; labels are the clean
    /// expert actions).
    public var imitationData: ImitationData {
        ImitationData(images: images, hands: hands, actions: actions, imageCount: imageSize)
    }

    /// The steps of the episodes `selection` keeps, in episode order, as imitation data.
    public func imitationData(keeping selection: DemoEpisodeSelection) -> ImitationData {
        let kept = successes.indices.filter { successes[$0] }
        guard selection == .successful, !kept.isEmpty, kept.count < episodes else { return imitationData }
        let size = imageSize, length = episodeLength
        var data = ImitationData(imageCount: size)
        for e in kept {
            let steps = (e * length)..<((e + 1) * length)
            data.append(contentsOf: ImitationData(
                images: Array(images[(steps.lowerBound * size)..<(steps.upperBound * size)]),
                hands: Array(hands[(3 * steps.lowerBound)..<(3 * steps.upperBound)]),
                actions: Array(actions[(3 * steps.lowerBound)..<(3 * steps.upperBound)]), imageCount: size))
        }
        return data
    }
}
