/// A hidden goal: which environment it is for and its coordinates (push: block xy in metres;
/// door: opening angle in radians; reach: gripper xyz in metres).
///
/// Only valid goals exist: the initialiser checks the dimension, finiteness and limits.
/// JSON: `{"env": "push", "goal": [0.1, 0.8]}`.
public struct Goal: Hashable, Sendable, Codable, CustomStringConvertible {
    public let environment: EnvironmentName
    public let coordinates: [Double]

    public init(_ environment: EnvironmentName, _ coordinates: [Double]) throws(VisionEnvError) {
        if let problem = Goal.problem(with: coordinates, for: environment) {
            throw .invalidGoal(problem)
        }
        self.environment = environment
        self.coordinates = coordinates
    }

    /// A sentence naming what is wrong with `coordinates` as a goal of `environment`, or nil.
    public static func problem(with coordinates: [Double], for environment: EnvironmentName) -> String? {
        let axes = environment.goalAxes
        guard coordinates.count == axes.count else {
            return "a \(environment) goal has \(axes.count) number\(axes.count == 1 ? "" : "s") "
                + "(\(axes.joined(separator: ", "))), got \(coordinates.count)."
        }
        for (index, (value, limits)) in zip(coordinates, environment.goalLimits).enumerated() {
            guard value.isFinite else {
                return "the \(environment) goal's \(axes[index]) is \(value), not a finite number."
            }
            guard limits.contains(value) else {
                return "the \(environment) goal's \(axes[index]) = \(value) is outside "
                    + "[\(limits.lowerBound), \(limits.upperBound)]."
            }
        }
        return nil
    }

    /// The task's distance to this goal in a privileged state of its environment: push, the
    /// block to the goal in the table plane; door, |angle − target|; reach, the hand to the
    /// goal. In Double, from the state's Float positions and the exact goal coordinates (not
    /// the state's Float copy of the goal). Of an episode's last state: its "final distance".
    public func distance(inPrivilegedState state: [Float]) -> Double {
        let g = coordinates
        switch environment {
        case .push:
            return PushTask.distanceToGoal(block: SIMD3(PushState(state).block), goal: SIMD2(g[0], g[1]))
        case .door:
            return DoorTask.distanceToGoal(angle: Double(DoorState(state).angle), target: g[0])
        case .reach:
            return ReachTask.distanceToGoal(hand: SIMD3(ReachState(state).hand), goal: SIMD3(g[0], g[1], g[2]))
        }
    }

    public var description: String {
        "\(environment) goal [" + coordinates.map { "\($0)" }.joined(separator: ", ") + "]"
    }

    private enum CodingKeys: String, CodingKey {
        case environment = "env"
        case coordinates = "goal"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let name = try container.decode(String.self, forKey: .environment)
        let coordinates = try container.decode([Double].self, forKey: .coordinates)
        guard let environment = EnvironmentName(rawValue: name) else {
            throw DecodingError.dataCorruptedError(
                forKey: .environment, in: container,
                debugDescription: VisionEnvError.unknownEnvironment(name).description)
        }
        if let problem = Goal.problem(with: coordinates, for: environment) {
            throw DecodingError.dataCorruptedError(forKey: .coordinates, in: container,
                                                   debugDescription: problem)
        }
        self.environment = environment
        self.coordinates = coordinates
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(environment.rawValue, forKey: .environment)
        try container.encode(coordinates, forKey: .coordinates)
    }
}
