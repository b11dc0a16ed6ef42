/// What an environment pays per step (DESIGN.md section 3). Success is the same either way.
public enum RewardKind: String, CaseIterable, Codable, Sendable, CustomStringConvertible {
    /// The task's shaped reward, as in the paper's code (push: reach and place terms; door:
    /// progress while holding the handle; reach: −distance).
    case dense
    /// 1 at a step whose state passes the task's success test, 0 otherwise: what meta-RL by RL
    /// finds hard and imitation in the outer loop copes with.
    case sparse

    public var description: String { rawValue }

    /// Reads the word, naming the two kinds when it is neither (a config.json edited by hand).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let word = try container.decode(String.self)
        guard let kind = RewardKind(rawValue: word) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "must be dense or sparse; got \"\(word)\"")
        }
        self = kind
    }
}

extension ManipulationTask {
    /// The reward of `kind` for the current state: `reward(_:)` when dense; when sparse,
    /// 1 exactly when `isSuccess(_:)` holds.
    public func reward(_ physics: GripperPhysics, kind: RewardKind) -> Double {
        switch kind {
        case .dense: return reward(physics)
        case .sparse: return isSuccess(physics) ? 1 : 0
        }
    }
}
