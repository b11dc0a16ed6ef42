import ConvNet

/// Where a run's experts come from: what labels its demonstrations and DAgger states.
///
/// In `config.json` a string: `scripted`, `sac` (per-task SAC experts, the paper's setting),
/// `sac:goal-conditioned`, or the path of an expert folder written by `gmps-vision experts`
/// (write `./sac` for a folder named like a keyword).
public enum ExpertSource: Codable, Equatable, Sendable, CustomStringConvertible {
    /// VisionEnvs' hand-written demonstrators.
    case scripted
    /// SAC experts on privileged state, trained by the run into `RUN/experts/`.
    case sac(ExpertMode)
    /// An existing expert folder, checked against the run's environment and goals.
    case folder(String)

    /// Parses `scripted`, `sac`, `sac:per-task`, `sac:goal-conditioned` or a folder path.
    public init(_ text: String) {
        switch text {
        case "scripted": self = .scripted
        case "sac", "sac:per-task": self = .sac(.perTask)
        case "sac:goal-conditioned": self = .sac(.goalConditioned)
        default: self = .folder(text)
        }
    }

    public var description: String {
        switch self {
        case .scripted: return "scripted"
        case .sac(let mode): return mode == .goalConditioned ? "sac:goal-conditioned" : "sac"
        case .folder(let path): return path
        }
    }

    public init(from decoder: Decoder) throws {
        self.init(try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension GMPSConfig {
    /// The meta-training tasks (indices into the run's meta-training goals) that have
    /// demonstrations only: `demoOnlyTasks` of them, rounded down, drawn from the seed's own
    /// stream (the run's other random streams do not see the draw). Sorted.
    public var demoOnlyTaskIndices: [Int] {
        let count = Int((Double(demoOnlyTasks) * Double(metaTrainTasks)).rounded(.down))
        guard count > 0 else { return [] }
        var rng = SeededGenerator(seed: seed).split(stream: Self.demoOnlyStream)
        return Array(Array(0..<metaTrainTasks).shuffled(using: &rng).prefix(count)).sorted()
    }

    /// The stream of `seed` that picks the demo-only tasks.
    static let demoOnlyStream: UInt64 = 0xDE30_0000
}
