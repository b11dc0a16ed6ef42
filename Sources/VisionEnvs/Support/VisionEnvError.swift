/// What can go wrong creating or driving an environment. Each case says what to do.
public enum VisionEnvError: Error, Equatable, CustomStringConvertible {
    /// No environment has this name.
    case unknownEnvironment(String)
    /// The MJCF file is not in the assets folder.
    case assetNotFound(file: String, folder: String)
    /// MuJoCo refused the model; `message` is MuJoCo's own text.
    case modelLoadFailed(path: String, message: String)
    /// The model lacks an element the environment needs (a body, site, joint or camera).
    case missingModelElement(path: String, kind: String, name: String)
    /// An action had NaN or infinite components.
    case nonFiniteAction([Float])
    /// An action had the wrong number of components.
    case wrongActionCount(expected: Int, got: Int)
    /// A goal does not belong to this environment, has the wrong dimension or is out of reach.
    case invalidGoal(String)
    /// More distinct goals were asked for than the environment's distribution holds.
    case tooManyGoals(EnvironmentName, requested: Int, capacity: Int)
    /// The simulation turned non-finite (MuJoCo found a NaN, infinite or huge value).
    case unstableSimulation(path: String, time: Double, quantity: String)
    /// The image size is not positive.
    case invalidImageSize(height: Int, width: Int)

    public var description: String {
        switch self {
        case let .unknownEnvironment(name):
            let known = EnvironmentName.allCases.map(\.rawValue).joined(separator: ", ")
            return "unknown environment '\(name)'; choose one of: \(known)."
        case let .assetNotFound(file, folder):
            return "cannot find the model file \(file) in \(folder). Pass the folder that holds the "
                + "models with --assets DIR or set \(AssetLocator.environmentVariable) (an --assets "
                + "folder wins over the variable, which wins over the repository's assets/)."
        case let .modelLoadFailed(path, message):
            return "MuJoCo cannot load \(path): \(message)"
        case let .missingModelElement(path, kind, name):
            return "the model \(path) has no \(kind) named '\(name)', which the environment needs."
        case let .nonFiniteAction(action):
            return "the action \(action) has a NaN or infinite component; actions must be finite numbers (they are clipped to [-1, 1])."
        case let .wrongActionCount(expected, got):
            return "an action has \(expected) components (dx, dy, dz), got \(got)."
        case let .invalidGoal(reason):
            return "invalid goal: \(reason)"
        case let .tooManyGoals(environment, requested, capacity):
            return "the \(environment) task distribution holds \(capacity) distinct goals (its goal ranges on a "
                + "1/\(Int(TaskDistribution.stepsPerUnit)) grid), and \(requested) were asked for (meta-training "
                + "and meta-test goals together); ask for at most \(capacity)."
        case let .unstableSimulation(path, time, quantity):
            return "the simulation of \(path) became unstable at t = \(time) s (MuJoCo found a NaN, infinite or "
                + "huge value in \(quantity)); check the model's physical parameters (gravity, masses, "
                + "timestep, solver settings)."
        case let .invalidImageSize(height, width):
            return "the image size must be positive, got \(height) x \(width) (height x width)."
        }
    }
}
