/// What can go wrong training, saving or loading experts. Each message says what to do.
public enum ExpertError: Error, Equatable, CustomStringConvertible {
    /// A hyperparameter or option that cannot work.
    case invalidConfiguration(String)
    /// An expert folder or file that cannot be used (missing, corrupt, for another env).
    case badExpertFolder(path: String, problem: String)
    /// A state of the wrong size was given to an expert.
    case wrongStateSize(expected: Int, got: Int)
    /// Training produced NaN or infinite values.
    case diverged(String)
    /// Writing an output failed.
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let s):
            return "invalid expert configuration: \(s)."
        case .badExpertFolder(let path, let problem):
            return "cannot use the experts in \(path): \(problem). Train them again with `gmps-vision experts`, or pass `scripted`."
        case .wrongStateSize(let expected, let got):
            return "an expert state has \(expected) numbers, got \(got)."
        case .diverged(let s):
            return "SAC diverged (\(s)); lower the learning rates or the reward scale and train again."
        case .cannotWrite(let path, let reason):
            return "cannot write \(path): \(reason)."
        }
    }
}
