import ConvNet
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The one-writer lock of a run directory: `RUN/.lock`, held with flock(2) for as long as this
/// value lives. The kernel releases it when the process ends, however it ends (a crash, a
/// kill), so a lock is never stale. The file holds the holder's PID and command line, which a
/// refused writer shows. Readers (`evaluate`, `render meta:`) take no lock: every file they
/// read is replaced whole.
public final class RunLock: @unchecked Sendable {
    public static let fileName = ".lock"
    private let descriptor: Int32

    /// Takes the lock of `run`, or throws `busy` naming the process that holds it.
    public init(_ run: RunDirectory, command: String = CommandLine.arguments.joined(separator: " ")) throws {
        let path = run.file(Self.fileName).path
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw RunDirectory.Failure.cannotWrite(path: path, reason: String(cString: strerror(errno)))
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno
            close(descriptor)
            guard reason == EWOULDBLOCK else {
                throw RunDirectory.Failure.cannotWrite(path: path, reason: "cannot lock it: \(String(cString: strerror(reason)))")
            }
            let holder = ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "")
                .trimmingCharacters(in: .whitespacesAndNewlines)
            throw RunDirectory.Failure.busy(path: run.url.path, holder: holder.isEmpty ? "it is just starting" : holder)
        }
        let holder = Array("pid \(getpid()): \(command)\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = holder.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }   // releases the flock
}

extension RunDirectory {
    /// Opens `path` as its one writer: creates it, takes its lock, and removes what interrupted
    /// writes left. The writer keeps the lock alive for as long as it writes.
    public static func openForWriting(_ path: String) throws -> (run: RunDirectory, lock: RunLock) {
        let run = try RunDirectory(path: path)
        let lock = try RunLock(run)
        run.removeLeftovers()
        return (run, lock)
    }

    /// Removes the temporary files of interrupted writes (anywhere in the run) and the files a
    /// checkpoint being written left behind (here and in each snapshot run). Only a lock
    /// holder may call it: another writer's temporary file is not a leftover.
    public func removeLeftovers() {
        let files = allFiles()
        for name in files where AtomicWrite.isTemporaryName(URL(fileURLWithPath: name).lastPathComponent) { remove(name) }
        let runs = [self] + files.filter { $0.hasSuffix("/" + MetaCheckpoint.stateFile) }
            .map { RunDirectory(unopened: file(String($0.dropLast(MetaCheckpoint.stateFile.count + 1))).path) }
        for run in runs {
            for name in MetaCheckpoint.unreferencedFiles(in: run) { run.remove(name) }
        }
    }
}
