import Foundation

/// Atomic file writes: a temporary file in the destination's folder, then rename(2), so a
/// reader never sees a half-written file and a crash leaves the old file intact.
public enum AtomicWrite {
    public static func write(_ data: Data, to url: URL) throws {
        let dir = url.deletingLastPathComponent()
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)-\(UInt64.random(in: 0...UInt64.max))")
        do {
            try data.write(to: tmp)
        } catch {
            throw SafetensorsError.cannotWrite(path: url.path, reason: (error as NSError).localizedDescription)
        }
        if rename(tmp.path, url.path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: tmp)
            throw SafetensorsError.cannotWrite(path: url.path, reason: reason)
        }
    }
}
