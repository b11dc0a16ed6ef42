import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Progress of one long stage on standard error: stage, count, a detail such as the success
/// so far, and the time left. On a terminal one line is rewritten in place; otherwise (a log
/// file, CI) plain lines, at most one every `interval` seconds, plus the last.
public final class ProgressDisplay: @unchecked Sendable {
    public let stage: String
    public let total: Int
    private let interactive: Bool
    private let interval: Double
    private let started = Date()
    private var lastPrinted = Date.distantPast
    private let lock = NSLock()
    private var finished = 0

    public init(stage: String, total: Int, interactive: Bool = isatty(STDERR_FILENO) != 0, interval: Double = 5) {
        self.stage = stage
        self.total = max(total, 1)
        self.interactive = interactive
        self.interval = interval
    }

    /// Reports `done` of `total` finished, with `detail` (e.g. "success 0.45").
    public func update(_ done: Int, detail: String = "") {
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        let final = done >= total
        guard final || now.timeIntervalSince(lastPrinted) >= (interactive ? 0.2 : interval) else { return }
        lastPrinted = now
        let line = Self.line(stage: stage, done: done, total: total, detail: detail,
                             elapsed: now.timeIntervalSince(started))
        if interactive {
            write("\r\u{1B}[2K" + line + (final ? "\n" : ""))
        } else {
            write(line + "\n")
        }
    }

    /// Reports one more finished (from any thread), counting them here.
    public func advance(detail: String = "") {
        lock.lock()
        finished += 1
        let done = finished
        lock.unlock()
        update(done, detail: detail)
    }

    /// "stage 12/60 · success 0.45 · 1m 20s left"
    static func line(stage: String, done: Int, total: Int, detail: String, elapsed: Double) -> String {
        var parts = ["\(stage) \(done)/\(total)"]
        if !detail.isEmpty { parts.append(detail) }
        if done > 0 && done < total {
            parts.append(duration(elapsed / Double(done) * Double(total - done)) + " left")
        } else if done >= total {
            parts.append("done in " + duration(elapsed))
        }
        return parts.joined(separator: " · ")
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m \(s % 60)s" }
        return "\(s / 3600)h \((s % 3600) / 60)m"
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
