import ArgumentParser
import ConvNet
import Foundation
import GMPSVision
import Renderer
import VisionEnvs

/// `gmps-vision render`: runs episodes of an environment and writes every frame the policy
/// would see, plus one contact sheet per episode.
struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Write the frames of episodes of an environment as image files.",
        discussion: """
            Writes OUT/episode-NNN/frame-SSS.png (or .jpeg) for every step (SSS = 000 is the state after \
            reset) and OUT/episode-NNN-sheet.png, a grid of the episode's frames over time, and \
            prints each episode's goal, return and success. Goals come from --goal, from \
            --goals FILE (used in turn), or are drawn from the environment's task distribution \
            with --seed. The same seed gives the same frames, byte for byte.
            """
    )

    enum Policy: ExpressibleByArgument {
        case random
        case scripted
        /// The experts in a folder written by `gmps-vision experts` (`expert:DIR`).
        case expert(String)
        /// The meta-policy of a run directory (`meta:RUN`), before or (`--adapted`) after adaptation.
        case meta(String)

        init?(argument: String) {
            switch argument {
            case "random": self = .random
            case "scripted": self = .scripted
            default:
                if argument.hasPrefix("meta:"), argument.count > 5 {
                    self = .meta(String(argument.dropFirst(5)))
                    return
                }
                guard argument.hasPrefix("expert:"), argument.count > 7 else { return nil }
                self = .expert(String(argument.dropFirst(7)))
            }
        }

        static var allValueStrings: [String] { ["random", "scripted", "expert:DIR", "meta:RUN"] }
    }

    @OptionGroup var environment: EnvironmentOption

    @OptionGroup var folder: OutputFolderOption

    @Option(help: "Who acts: random (uniform in [-1, 1]^3), scripted (the demonstrator), expert:DIR (trained experts) or meta:RUN (a meta-trained policy, mean actions).")
    var policy = Policy.scripted

    @Flag(help: "With meta:RUN, adapt to each episode's goal first (one inner step on fresh rollouts, reward only).")
    var adapted = false

    @Option(help: "Number of episodes (default: one per goal of --goals, else 1).") var episodes: Int?

    @Option(help: "One goal for every episode: x,y (push), angle (door) or x,y,z (reach).") var goal: String?

    @Option(help: "A goals file {\"env\": ENV, \"goals\": [[...], ...]}, its goals used in turn.") var goals: String?

    @Option(help: "Seed of the goal draws and the random policy.") var seed: UInt64 = 0

    @Option(help: "Image size as HxW.") var size = ImageSize(height: 48, width: 64)

    @Flag(help: "Draw the hidden goal (frames for people; the policy never sees it).") var showGoal = false

    @Option(help: "Image file format of the frames: png or jpeg (contact sheets are PNG).") var format = ImageFormat.png

    @OptionGroup var models: AssetsOption

    func validate() throws {
        try size.check(atMost: ImageSize.largestPictureSide)
        let name = environment.name
        if let episodes, !(1...10_000).contains(episodes) {
            throw ValidationError("--episodes must be between 1 and 10000; got \(episodes).")
        }
        if goal != nil && goals != nil {
            throw ValidationError("give either --goal or --goals, not both.")
        }
        if let goal { _ = try parseGoal(goal, for: name) }
        if adapted, case .meta = policy {} else if adapted {
            throw ValidationError("--adapted applies to --policy meta:RUN only.")
        }
    }

    func run() throws {
        let name = environment.name, out = folder.path
        let env = try VisionEnv(name, imageHeight: size.height, imageWidth: size.width, assets: models.locator)
        let episodeGoals = try chooseGoals(for: name)
        let meta = try metaPolicy(for: name)   // a missing or damaged run: nothing is created
        try makeFolder(out)
        let expert = ScriptedExpert(name)
        let trained: ExpertSet? = if case .expert(let folder) = policy { try ExpertSet.resolve(folder, environment: name) } else { nil }
        let master = SplitMix64(seed: seed)

        for (episode, episodeGoal) in episodeGoals.enumerated() {
            // Actions come from their own stream: the goal never changes what a random policy does.
            var actions = master.split(1 + UInt64(episode))
            let folder = URL(fileURLWithPath: out).appendingPathComponent(String(format: "episode-%03d", episode))
            try makeFolder(folder.path)
            try env.reset(goal: episodeGoal)
            let actor: any Expert = try trained?.expert(for: episodeGoal) ?? expert
            // The meta-policy acts on its own observation size, in a copy of the environment
            // stepped with the same actions (MuJoCo is deterministic).
            let metaParameters = try meta.map { meta in
                adapted ? try meta.pipeline.adapted(theta: meta.state.theta, alpha: meta.state.alpha,
                                                    latentScales: meta.state.latentScales, goal: episodeGoal,
                                                    steps: 1, seed: seed &+ UInt64(episode))
                        : meta.state.theta
            }
            if let meta { try meta.env.reset(goal: episodeGoal) }
            // Frames go to disk as they come; the sheet keeps thumbnails of at most 160 px.
            var thumbnails: [RGBImage] = []
            var frameCount = 0
            func record(_ frame: RGBImage) throws {
                let path = folder.appendingPathComponent(String(format: "frame-%03d.%@", frameCount, format.rawValue)).path
                switch format {
                case .png: try PNGFile.write(frame, to: path)
                case .jpeg: try JPEGFile.write(frame, to: path)
                }
                thumbnails.append(ContactSheet.thumbnail(frame, maxWidth: 160))
                frameCount += 1
            }
            try record(env.renderImage(showGoal: showGoal))
            var episodeReturn = 0.0
            var result = StepResult(reward: 0, success: false, done: false)
            while !result.done {
                let action: SIMD3<Float>
                switch policy {
                case .random:
                    action = SIMD3(Float.random(in: -1...1, using: &actions), Float.random(in: -1...1, using: &actions),
                                   Float.random(in: -1...1, using: &actions))
                case .scripted, .expert:
                    action = try actor.cleanAction(for: env.privilegedState())
                case .meta:
                    guard let meta, let parameters = metaParameters else { return }
                    let hand = meta.env.handPosition
                    let mean = try meta.policy.network.forward(
                        parameters: parameters, images: meta.env.observationImage(), extras: [hand.x, hand.y, hand.z],
                        batch: 1, workspace: meta.workspace)
                    action = SIMD3(mean[0], mean[1], mean[2])
                    try meta.env.step(action)
                }
                result = try env.step(action)
                episodeReturn += result.reward
                try record(env.renderImage(showGoal: showGoal))
            }
            let sheetPath = URL(fileURLWithPath: out)
                .appendingPathComponent(String(format: "episode-%03d-sheet.png", episode)).path
            try PNGFile.write(ContactSheet.compose(thumbnails, columns: 10), to: sheetPath)
            let coordinates = episodeGoal.coordinates.map { String(format: "%.4f", $0) }.joined(separator: ", ")
            print("episode \(episode): goal [\(coordinates)], return \(String(format: "%.2f", episodeReturn)), "
                  + "success \(result.success), \(frameCount) frames in \(folder.path)")
        }
    }

    /// The run's policy, checkpoint and an environment at the policy's image size (meta:RUN).
    private func metaPolicy(for name: EnvironmentName) throws
        -> (pipeline: GMPSPipeline, policy: MetaPolicy, state: MetaTrainerState, env: VisionEnv, workspace: Workspace)? {
        guard case .meta(let path) = policy else { return nil }
        let (run, config) = try RunDirectory.existingRun(path, hint: "train one with `gmps-vision run --out \(path)`")
        guard config.environment == name else {
            throw ValidationError("\(path) holds a \(config.environment) run; render it with --env \(config.environment).")
        }
        let policy = try MetaPolicy(config: config)
        let state = try MetaCheckpoint.load(from: run, policy: policy, iterations: config.iterations)
        let env = try VisionEnv(name, imageHeight: config.imageHeight, imageWidth: config.imageWidth,
                                assets: models.locator)
        return (GMPSPipeline(config: config, run: run), policy, state, env, policy.network.makeWorkspace(maxBatch: 1))
    }

    private func makeFolder(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw RenderCommandError("cannot create the folder \(path): \((error as NSError).localizedDescription) "
                                     + "Choose an --out folder you can write to.")
        }
    }

    private func chooseGoals(for name: EnvironmentName) throws -> [Goal] {
        if let goal {
            return Array(repeating: try parseGoal(goal, for: name), count: episodes ?? 1)
        }
        if let goals {
            let list = try GoalsFile.read(goals, expecting: name)
            return (0..<(episodes ?? list.count)).map { list[$0 % list.count] }
        }
        var generator = SplitMix64(seed: seed).split(0)
        let distribution = TaskDistribution(name)
        return (0..<(episodes ?? 1)).map { _ in distribution.sample(using: &generator) }
    }

    private func parseGoal(_ text: String, for name: EnvironmentName) throws -> Goal {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        let numbers = parts.compactMap(Double.init)
        guard numbers.count == parts.count else {
            throw ValidationError("--goal must be numbers separated by commas (e.g. 0.1,0.8); got '\(text)'.")
        }
        do {
            return try Goal(name, numbers)
        } catch {
            throw ValidationError("--goal: \(error.description)")
        }
    }
}

/// A failure the render command explains in one sentence.
struct RenderCommandError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
