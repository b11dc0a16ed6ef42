import Foundation

/// Errors from Foundation in words a user reads: JSON decoding errors with where in the file
/// and what is wrong; file-system errors with the path and the reason. Raw NSError text
/// ("Error Domain=NSCocoaErrorDomain Code=516 …") never reaches the user.
public enum ErrorSentence {
    /// `error` as a sentence without a final period ("cannot use PATH: REASON"), or nil when it
    /// is not Foundation's (a Swift error of this project already says what is wrong).
    public static func describe(_ error: any Error) -> String? {
        if let decoding = error as? DecodingError { return describe(decoding) }
        guard let reason = reason(error) else { return nil }
        let ns = error as NSError
        let path = ns.userInfo[NSFilePathErrorKey] as? String ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path
        return path.map { "cannot use \($0): \(reason)" } ?? reason
    }

    /// Why a file operation failed, for a message that names the file itself (a DecodingError
    /// described in full); nil when `error` is not Foundation's.
    public static func reason(_ error: any Error) -> String? {
        if let decoding = error as? DecodingError { return describe(decoding) }
        let ns = error as NSError
        guard ns.domain == NSCocoaErrorDomain || ns.domain == NSPOSIXErrorDomain else { return nil }
        let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError
        let path = ns.userInfo[NSFilePathErrorKey] as? String ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path
        if let file = path.flatMap(fileInTheWay) { return "\(file) is a file, not a folder" }
        let reason: String
        switch (ns.domain, ns.code) {
        case (NSCocoaErrorDomain, CocoaError.fileNoSuchFile.rawValue), (NSCocoaErrorDomain, CocoaError.fileReadNoSuchFile.rawValue),
             (NSPOSIXErrorDomain, Int(ENOENT)):
            reason = "there is no such file or folder"
        case (NSCocoaErrorDomain, CocoaError.fileWriteFileExists.rawValue), (NSPOSIXErrorDomain, Int(EEXIST)):
            reason = "a file with that name already exists (a folder is needed there)"
        case (NSCocoaErrorDomain, CocoaError.fileReadNoPermission.rawValue), (NSCocoaErrorDomain, CocoaError.fileWriteNoPermission.rawValue),
             (NSPOSIXErrorDomain, Int(EACCES)):
            reason = "permission denied"
        case (NSCocoaErrorDomain, CocoaError.fileWriteOutOfSpace.rawValue), (NSPOSIXErrorDomain, Int(ENOSPC)):
            reason = "the disk is full"
        case (NSPOSIXErrorDomain, _):
            reason = String(cString: strerror(Int32(ns.code))).lowercased()
        default:
            reason = underlying.flatMap { Self.reason($0) }
                ?? ns.localizedDescription.trimmingCharacters(in: CharacterSet(charactersIn: ". "))
        }
        return reason
    }

    /// The first existing part of `path` (itself or a parent) that is a file where a folder
    /// is needed, when the path's last part is meant to be a folder or to sit in one.
    private static func fileInTheWay(_ path: String) -> String? {
        var url = URL(fileURLWithPath: path)
        while url.path != "/" && !url.path.isEmpty {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) {
                return isFolder.boolValue || url.path == URL(fileURLWithPath: path).path ? nil : url.path
            }
            url.deleteLastPathComponent()
        }
        return nil
    }

    /// "seed: -1 is out of range; expected a whole number from 0 to …", "threads should be a
    /// number", "it is not valid JSON".
    public static func describe(_ error: DecodingError) -> String {
        func place(_ path: [any CodingKey]) -> String {
            path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
                .trimmingCharacters(in: CharacterSet(charactersIn: "."))
        }
        let detail = { (text: String) in text.trimmingCharacters(in: CharacterSet(charactersIn: ". ")) }
        switch error {
        case let .keyNotFound(key, context):
            return "\(place(context.codingPath + [key])) is missing"
        case let .typeMismatch(_, context), let .valueNotFound(_, context):
            return "\(place(context.codingPath)): \(detail(context.debugDescription))"
        case let .dataCorrupted(context):
            if context.codingPath.isEmpty { return "it is not valid JSON (\(detail(context.debugDescription)))" }
            return "\(place(context.codingPath)): \(detail(context.debugDescription))"
        @unknown default:
            return "it does not have the expected form"
        }
    }
}
