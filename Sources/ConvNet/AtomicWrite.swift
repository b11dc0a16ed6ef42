import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Atomic, durable file writes: a temporary file in the destination's folder, flushed to disk
/// (fsync), renamed over the destination (rename(2)), then the folder flushed so the rename
/// itself survives a power cut. A reader never sees a half-written file; a crash leaves the
/// old file intact and at worst a temporary file that `isTemporaryName` recognises.
public enum AtomicWrite {
    /// The temporary file beside `url`: `.NAME.tmp-PID-RANDOM`.
    static func temporaryURL(for url: URL) -> URL {
        url.deletingLastPathComponent().appendingPathComponent(
            ".\(url.lastPathComponent)\(temporaryMarker)\(getpid())-\(UInt64.random(in: 0...UInt64.max))")
    }

    static let temporaryMarker = ".tmp-"

    /// Whether `name` is a temporary file an interrupted write left: this writer's
    /// `.NAME.tmp-…`, or Foundation's `.dat.nosync…` of `Data.write(options: .atomic)`
    /// (which earlier versions used).
    public static func isTemporaryName(_ name: String) -> Bool {
        name.hasPrefix(".") && (name.contains(temporaryMarker) || name.hasPrefix(".dat.nosync"))
    }

    public static func write(_ data: Data, to url: URL) throws {
        let tmp = temporaryURL(for: url)
        func fail(_ reason: String) -> SafetensorsError {
            unlink(tmp.path)   // a full disk must not stay full of the partial file
            return .cannotWrite(path: url.path, reason: reason)
        }
        let fd = open(tmp.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SafetensorsError.cannotWrite(path: url.path, reason: String(cString: strerror(errno))) }
        var written = 0
        let failure: String? = data.withUnsafeBytes { bytes -> String? in
            while let base = bytes.baseAddress, written < bytes.count {
                let n = Glibc.write(fd, base + written, bytes.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    return String(cString: strerror(errno))
                }
                written += n
            }
            return fsync(fd) == 0 ? nil : String(cString: strerror(errno))
        }
        let closed = close(fd) == 0
        if let failure { throw fail(failure) }
        if !closed { throw fail(String(cString: strerror(errno))) }
        if rename(tmp.path, url.path) != 0 { throw fail(String(cString: strerror(errno))) }
        syncFolder(of: url)
    }

    /// Flushes the folder holding `url`, so a rename or unlink in it is on disk. Best effort:
    /// some file systems refuse fsync on a folder, and the file itself is already safe.
    public static func syncFolder(of url: URL) {
        let fd = open(url.deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }
}
