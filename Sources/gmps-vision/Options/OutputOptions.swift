import ArgumentParser
import VisionEnvs

/// `--out`, for the commands that write files into a folder of the user's choosing.
struct OutputFolderOption: ParsableArguments {
    @Option(name: .customLong("out"), help: "Folder to write into (created if missing).") var path: String

    func validate() throws {
        if path.isEmpty { throw ValidationError(Self.emptyPath) }
    }

    /// An empty --out would write into the current folder.
    static let emptyPath = "--out must name a folder; got an empty path."
}

/// `--json`: one JSON object on standard output instead of the text report.
struct JSONOption: ParsableArguments {
    @Flag(help: "Print one JSON object instead of text.") var json = false
}

/// `--assets`, for the commands that load MuJoCo models.
struct AssetsOption: ParsableArguments {
    @Option(name: .customLong("assets"),
            help: "Folder holding the MJCF models (default: $GMPS_VISION_ASSETS, then the repository's assets/).")
    var folder: String?

    var locator: AssetLocator { AssetLocator(folder: folder) }
}
