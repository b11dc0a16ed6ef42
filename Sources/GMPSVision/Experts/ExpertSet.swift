import ConvNet
import Foundation
import VisionEnvs

/// How the experts of one environment were made.
public enum ExpertMode: String, Codable, Sendable, CaseIterable {
    /// VisionEnvs' hand-written demonstrators (any goal).
    case scripted
    /// One SAC expert per meta-training task (the paper's setting).
    case perTask = "per-task"
    /// One SAC expert for all tasks, the goal read from the privileged state.
    case goalConditioned = "goal-conditioned"
}

/// The experts of one environment, by task: what `demos` labels with and what GMPS's DAgger
/// relabels with.
///
///     let experts = try ExpertSet.resolve("runs/push-experts", environment: .push)   // or "scripted"
///     let expert = try experts.expert(for: goal)
///     let label = try expert.cleanAction(for: env.privilegedState())
public struct ExpertSet: Sendable {
    public let environment: EnvironmentName
    public let mode: ExpertMode
    /// The tasks the experts were trained for (per-task: one expert each, in this order;
    /// goal-conditioned: the goals it trained on). Empty for scripted experts.
    public let goals: [Goal]
    let experts: [any Expert]
    /// Environment steps the experts trained for, from the folder's manifest (0: scripted).
    public private(set) var trainingSteps = 0

    /// Hand-written experts for every goal of `environment`.
    public static func scripted(_ environment: EnvironmentName) -> ExpertSet {
        ExpertSet(environment: environment, mode: .scripted, goals: [], experts: [ScriptedExpert(environment)])
    }

    /// "scripted", or a folder written by `gmps-vision experts` (checked against `environment`).
    public static func resolve(_ argument: String, environment: EnvironmentName) throws -> ExpertSet {
        if argument == "scripted" { return scripted(environment) }
        let set = try load(from: URL(fileURLWithPath: argument))
        guard set.environment == environment else {
            throw ExpertError.badExpertFolder(path: argument, problem: "its experts are for \(set.environment), not \(environment)")
        }
        return set
    }

    /// The expert for `goal`: the scripted or goal-conditioned expert for any goal, the
    /// per-task expert trained on exactly this goal.
    public func expert(for goal: Goal) throws -> any Expert {
        guard goal.environment == environment else {
            throw ExpertError.invalidConfiguration("a \(goal.environment) goal was given to \(environment) experts")
        }
        switch mode {
        case .scripted, .goalConditioned: return experts[0]
        case .perTask:
            guard let i = goals.firstIndex(of: goal) else {
                throw ExpertError.invalidConfiguration(
                    "no per-task expert was trained for \(goal); use the goals of the expert folder (\(goals.count) tasks) or a goal-conditioned or scripted expert")
            }
            return experts[i]
        }
    }

    // MARK: Folder format

    /// `experts.json`, the manifest of an expert folder.
    ///
    /// A folder holds `experts.json`, one `expert-NNN.safetensors` per expert (per-task: NNN is
    /// the task index; goal-conditioned: `expert-000` only) with the actor's parameters (the
    /// network's `NetworkSpec` in the metadata), and `expert-NNN.csv`, its learning curve.
    public struct Manifest: Codable, Equatable, Sendable {
        public static let formatName = "gmps-vision-experts"
        public static let currentVersion = 1
        public var format = Manifest.formatName
        public var version = Manifest.currentVersion
        public var env: EnvironmentName
        public var mode: ExpertMode
        /// The state features the actors read (`StateFeatures.version`).
        public var features: String
        public var goals: [Goal]
        public var seed: UInt64
        public var rewardScale: Float
        /// What the experts learned from and were scored with; nil: dense (written only when
        /// sparse, so that a dense folder's manifest reads as before the setting existed).
        public var reward: RewardKind? = nil
        public var config: SACConfig
        public var experts: [Entry]
        /// Per meta-training task: how its expert did.
        public var tasks: [TaskResult]

        public struct Entry: Codable, Equatable, Sendable {
            public var file: String
            public var curve: String
            /// Training steps this expert used.
            public var envSteps: Int
            public var seconds: Double
        }

        public struct TaskResult: Codable, Equatable, Sendable {
            public var task: Int
            public var goal: Goal
            /// Deterministic evaluation of the saved expert on this task: success at the last
            /// step and the undiscounted return.
            public var success: Bool
            public var episodeReturn: Double
            /// Success rate of the expert over episodes with Gaussian noise on its actions
            /// (σ = `config.evaluationNoiseStd`; what noisy demos will reach).
            public var noisySuccess: Double
        }

        enum CodingKeys: String, CodingKey {
            case format, version, env, mode, features, goals, seed, experts, tasks, config, reward
            case rewardScale = "reward_scale"
        }
    }

    public static let manifestName = "experts.json"

    /// Reads and checks an expert folder; every problem is an `ExpertError.badExpertFolder`.
    public static func load(from folder: URL) throws -> ExpertSet {
        let path = folder.path
        func bad(_ problem: String) -> ExpertError { .badExpertFolder(path: path, problem: problem) }
        let manifestURL = folder.appendingPathComponent(manifestName)
        guard let data = try? Data(contentsOf: manifestURL) else {
            throw bad("there is no readable \(manifestName) in it")
        }
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: data)
        } catch {
            throw bad("\(manifestName) is not a valid expert manifest (\(error))")
        }
        guard manifest.format == Manifest.formatName, manifest.version == Manifest.currentVersion else {
            throw bad("\(manifestName) is format \(manifest.format) version \(manifest.version); this build reads \(Manifest.formatName) version \(Manifest.currentVersion)")
        }
        guard manifest.features == StateFeatures.version else {
            throw bad("the experts read state features \(manifest.features); this build has \(StateFeatures.version)")
        }
        let expected = manifest.mode == .perTask ? manifest.goals.count : (manifest.mode == .goalConditioned ? 1 : 0)
        guard manifest.experts.count == expected, manifest.mode != .scripted else {
            throw bad("a \(manifest.mode.rawValue) folder with \(manifest.goals.count) goals needs \(expected) experts, the manifest lists \(manifest.experts.count)")
        }
        guard manifest.goals.allSatisfy({ $0.environment == manifest.env }) else { throw bad("its goals are not all \(manifest.env) goals") }
        let network = try Network(spec: .mlp(inputs: StateFeatures(manifest.env).count, hidden: manifest.config.hidden,
                                             outputs: 6, activation: .relu), threads: 1)
        var experts: [any Expert] = []
        for entry in manifest.experts {
            let url = folder.appendingPathComponent(entry.file)
            let parameters: [Float]
            do {
                parameters = try Safetensors.load(for: network, from: url)
            } catch {
                throw bad("\(entry.file): \(error)")
            }
            guard parameters.allSatisfy(\.isFinite) else { throw bad("\(entry.file) holds NaN or infinite weights") }
            experts.append(try SACExpert(environment: manifest.env, network: network, parameters: parameters))
        }
        var set = ExpertSet(environment: manifest.env, mode: manifest.mode, goals: manifest.goals, experts: experts)
        set.trainingSteps = manifest.experts.map(\.envSteps).reduce(0, +)
        return set
    }
}
