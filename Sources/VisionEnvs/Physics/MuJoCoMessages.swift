import CMuJoCo
import Foundation

/// Where MuJoCo's own messages go. Its default handlers print to standard output (where
/// `--json` writes its one object) and append to MUJOCO_LOG.TXT in the working directory; an
/// unstable model repeats its warning every step (about 17,000 lines for one training run).
/// Installed once, before the first model loads: warnings go to standard error, each kind once
/// and at most `shownWarnings` kinds (an unstable simulation also stops the episode with
/// `VisionEnvError.unstableSimulation`, naming the model).
enum MuJoCoMessages {
    static let shownWarnings = 5

    private static let lock = NSLock()
    /// The kinds shown so far: a message with its numbers taken out (a time, a DOF index).
    nonisolated(unsafe) private static var kinds = Set<String>()

    /// Evaluated once (Swift initialises a static let exactly once, thread-safely).
    static let installed: Void = {
        gmps_mujoco_set_handlers({ message in
            MuJoCoMessages.warn(message.map { String(cString: $0) } ?? "")
        }, { message in
            // MuJoCo cannot continue after an error: the handler must not return into it.
            let text = message.map { String(cString: $0) } ?? "unknown error"
            FileHandle.standardError.write(Data("Error: MuJoCo stopped: \(text)\n".utf8))
            exit(1)
        })
    }()

    private static func warn(_ text: String) {
        let kind = String(text.filter { !$0.isNumber })
        lock.lock()
        let (isNew, count) = (kinds.count < shownWarnings && kinds.insert(kind).inserted, kinds.count)
        lock.unlock()
        guard isNew else { return }
        let more = count == shownWarnings ? " (further kinds of MuJoCo warnings are not shown)" : ""
        FileHandle.standardError.write(Data("MuJoCo warning: \(text)\(more)\n".utf8))
    }
}
