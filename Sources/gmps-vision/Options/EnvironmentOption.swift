import ArgumentParser
import VisionEnvs

/// `--env push|door|reach`, in any case (as `EnvironmentName(parsing:)` reads it); an unknown
/// name is argument-parser's error listing the three.
extension EnvironmentName: ExpressibleByArgument {
    public init?(argument: String) {
        try? self.init(parsing: argument)
    }
}

/// `--env`, for the commands that need to be told which environment.
struct EnvironmentOption: ParsableArguments {
    @Option(name: .customLong("env"), help: "Environment.") var name: EnvironmentName
}

/// `--env`, push unless given: the training and benchmark commands.
struct EnvironmentOrPushOption: ParsableArguments {
    @Option(name: .customLong("env"), help: "Environment.") var name: EnvironmentName = .push
}
