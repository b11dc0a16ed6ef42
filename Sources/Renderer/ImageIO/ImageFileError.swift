/// Why an image file could not be written or read. Every case names the file.
public enum ImageFileError: Error, Equatable, CustomStringConvertible {
    /// The image has no pixels; there is nothing to encode.
    case emptyImage(path: String)
    /// The encoder refused the image (its own words in `reason`).
    case encodingFailed(path: String, reason: String)
    /// The file could not be created or written (missing folder, permissions, full disk).
    case cannotWrite(path: String, reason: String)
    /// The file is missing, unreadable or not a valid image of that format.
    case cannotRead(path: String, reason: String)

    public var description: String {
        switch self {
        case let .emptyImage(path):
            return "cannot write \(path): the image is empty (0 pixels). Render a scene with a non-zero width and height."
        case let .encodingFailed(path, reason):
            return "cannot encode \(path): \(reason)."
        case let .cannotWrite(path, reason):
            return "cannot write \(path): \(reason). Check that the folder exists and is writable, and that the disk has space."
        case let .cannotRead(path, reason):
            return "cannot read \(path): \(reason)."
        }
    }
}
