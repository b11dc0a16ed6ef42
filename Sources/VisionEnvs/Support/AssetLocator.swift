import Foundation

/// Finds the MJCF models at run time. They are not a SwiftPM resource: the repository's
/// top-level `assets/` folder is their one home, and an installed binary is pointed at a
/// copy of it.
///
/// The folder is the first of these that is given:
/// 1. `folder` (a command's `--assets` option);
/// 2. the environment variable `GMPS_VISION_ASSETS`;
/// 3. the repository's `assets/` folder, found from this source file's path at build time.
/// A folder that is given but lacks the file is an error, not a reason to look elsewhere:
/// silently loading another copy of a model would hide the mistake.
public struct AssetLocator: Sendable {
    public static let environmentVariable = "GMPS_VISION_ASSETS"

    /// An explicit folder that wins over everything else.
    public var folder: String?

    public init(folder: String? = nil) {
        self.folder = folder
    }

    /// The folder models are loaded from.
    public var assetFolder: String {
        if let folder { return folder }
        if let fromEnvironment = ProcessInfo.processInfo.environment[Self.environmentVariable],
           !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        return Self.repositoryAssets
    }

    /// `<repository>/assets`, three levels up from `Sources/VisionEnvs/Support/AssetLocator.swift`.
    static let repositoryAssets: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Support
        .deletingLastPathComponent()  // VisionEnvs
        .deletingLastPathComponent()  // Sources
        .deletingLastPathComponent()  // repository
        .appendingPathComponent("assets").path

    /// The path of `fileName` in `assetFolder`.
    public func path(of fileName: String) throws(VisionEnvError) -> String {
        let folder = assetFolder
        let candidate = URL(fileURLWithPath: folder).appendingPathComponent(fileName).path
        guard FileManager.default.fileExists(atPath: candidate) else {
            throw .assetNotFound(file: fileName, folder: folder)
        }
        return candidate
    }
}
