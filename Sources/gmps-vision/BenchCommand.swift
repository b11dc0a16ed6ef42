import ArgumentParser

/// `gmps-vision bench …`: speed benchmarks, run on a release build.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the speed of the renderer, environments, networks and meta-training (use a release build).",
        subcommands: [BenchRenderCommand.self, BenchEnvCommand.self, BenchConvNetCommand.self, BenchSACCommand.self, BenchMetaTrainCommand.self]
    )
}
