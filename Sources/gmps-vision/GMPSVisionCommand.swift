import ArgumentParser

/// `gmps-vision`: train and evaluate image-based meta-policies with Guided Meta-Policy Search.
@main
struct GMPSVisionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gmps-vision",
        abstract: "Guided Meta-Policy Search from pixels, on a CPU.",
        subcommands: [RunCommand.self, SceneCommand.self, RenderCommand.self, ExpertsCommand.self, DemosCommand.self, MetaTrainCommand.self, EvaluateCommand.self, BaselineCommand.self, BenchCommand.self]
    )
}
