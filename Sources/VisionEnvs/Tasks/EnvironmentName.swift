/// The three environments of DESIGN.md section 3, and the facts about each that do not
/// need a simulation: model file, horizon, goal shape and goal ranges.
public enum EnvironmentName: String, CaseIterable, Codable, Sendable, CustomStringConvertible {
    case push
    case door
    case reach

    /// Parses a user's spelling (`"push"`), or throws an error listing the known names.
    public init(parsing name: String) throws(VisionEnvError) {
        guard let known = EnvironmentName(rawValue: name.lowercased()) else {
            throw .unknownEnvironment(name)
        }
        self = known
    }

    public var description: String { rawValue }

    /// The MJCF file in `assets/`.
    public var modelFileName: String { "\(rawValue).xml" }

    /// Control steps per episode; `done` is true after the last.
    public var horizon: Int {
        switch self {
        case .push: return 50
        case .door: return 100
        case .reach: return 50
        }
    }

    /// What the goal's coordinates mean.
    public var goalAxes: [String] {
        switch self {
        case .push: return ["x", "y"]
        case .door: return ["angle"]
        case .reach: return ["x", "y", "z"]
        }
    }

    public var goalDimension: Int { goalAxes.count }

    /// The task distribution: goals are drawn uniformly from these ranges (DESIGN.md table).
    public var goalSamplingRanges: [ClosedRange<Double>] {
        switch self {
        case .push: return [-0.15...0.15, 0.75...0.85]
        case .door: return [0.2...1.0]
        case .reach: return [-0.15...0.15, 0.70...0.90, 0.05...0.25]
        }
    }

    /// Goals a user may ask for: wider than the sampling ranges (to probe generalisation)
    /// but physically meaningful — on the table, inside the gripper's workspace, or an
    /// angle the hinge allows.
    public var goalLimits: [ClosedRange<Double>] {
        let w = GripperPhysics.workspace
        switch self {
        case .push: return [-0.45...0.45, 0.2...1.0]
        case .door: return [0.0...1.5]
        case .reach: return [w.lower.x...w.upper.x, w.lower.y...w.upper.y, w.lower.z...w.upper.z]
        }
    }

    /// Length of the privileged state vector (see each task's `privilegedState`).
    public var privilegedStateDimension: Int {
        switch self {
        case .push: return 9
        case .door: return 8
        case .reach: return 6
        }
    }
}
