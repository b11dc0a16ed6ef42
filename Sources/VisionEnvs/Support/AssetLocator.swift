import Foundation

/// Finds the MJCF models at run time. They are not a SwiftPM resource: the repository's
/// top-level `assets/` folder is their one home, and an installed binary is pointed at a
/// copy of it.
///
/// Folders are searched in this order:
/// 1. `folder`, when given (a command's `--assets` option);
/// 2. the environment variable `GMPS_VISION_ASSETS`;
/// 3. the repository's `assets/` folder, found from this source file's path at build time.
public struct AssetLocator: Sendable {
    public static let environmentVariable = "GMPS_VISION_ASSETS"

    /// An explicit folder that wins over everything else.
    public var folder: String?

    public init(folder: String? = nil) {
        self.folder = folder
    }

    /// The folders searched, in order.
    public var searchFolders: [String] {
        var folders: [String] = []
        if let folder { folders.append(folder) }
        if let fromEnvironment = ProcessInfo.processInfo.environment[Self.environmentVariable],
           !fromEnvironment.isEmpty {
            folders.append(fromEnvironment)
        }
        folders.append(Self.repositoryAssets)
        return folders
    }

    /// `<repository>/assets`, three levels up from `Sources/VisionEnvs/Support/AssetLocator.swift`.
    static let repositoryAssets: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Support
        .deletingLastPathComponent()  // VisionEnvs
        .deletingLastPathComponent()  // Sources
        .deletingLastPathComponent()  // repository
        .appendingPathComponent("assets").path

    /// The path of `fileName` in the first folder that has it.
    public func path(of fileName: String) throws(VisionEnvError) -> String {
        let searched = searchFolders
        for folder in searched {
            let candidate = URL(fileURLWithPath: folder).appendingPathComponent(fileName).path
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
        }
        throw .assetNotFound(file: fileName, searched: searched)
    }
}
