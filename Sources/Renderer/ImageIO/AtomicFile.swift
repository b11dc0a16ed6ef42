import Foundation

/// Writes `data` to `path` all-or-nothing: a temporary file beside it, then a rename, so a
/// reader never sees half a file and a failed write leaves the old file in place.
func writeAtomically(_ data: Data, to path: String) throws(ImageFileError) {
    let url = URL(fileURLWithPath: path)
    let folder = url.deletingLastPathComponent().path
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
        throw .cannotWrite(path: path, reason: "the folder \(folder) does not exist")
    }
    do {
        try data.write(to: url, options: .atomic)
    } catch {
        throw .cannotWrite(path: path, reason: (error as NSError).localizedDescription)
    }
}
