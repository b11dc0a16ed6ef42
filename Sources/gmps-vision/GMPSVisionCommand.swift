import ArgumentParser
import ConvNet
import Foundation
import GMPSVision

/// `gmps-vision`: train and evaluate image-based meta-policies with Guided Meta-Policy Search.
struct GMPSVisionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gmps-vision",
        abstract: "Guided Meta-Policy Search from pixels, on a CPU.",
        discussion: """
            experts, demos, meta-train, run and baseline --algo maml-pg also run as several \
            processes under MPI: mpirun -np N gmps-vision COMMAND ... (see the README, "Beyond \
            one machine").
            """,
        subcommands: [RunCommand.self, SceneCommand.self, RenderCommand.self, ExpertsCommand.self, DemosCommand.self, MetaTrainCommand.self, EvaluateCommand.self, BaselineCommand.self, CompareCommand.self, BenchCommand.self]
    )
}

/// A command that splits its work over the ranks of an MPI job (`Launch.group`); every other
/// command runs as one process and refuses to start as several.
protocol RunsOnRanks {
    /// Whether this invocation splits its work (a command may do so for some settings only).
    var splitsOverRanks: Bool { get }
}

extension RunsOnRanks {
    var splitsOverRanks: Bool { true }
}

/// The process group of this launch: MPI's world under `mpirun`/`srun`, one process otherwise.
enum Launch {
    nonisolated(unsafe) static var group: any ProcessGroup = SingleProcess()

    /// Threads for one process: the cores it may run on. `mpirun` binds each rank to its own
    /// core(s) by default, so the affinity mask already says how the ranks share the machine;
    /// without a mask, all cores shared among this machine's ranks.
    static var threadsPerRank: Int {
        if let cores = allowedCores, cores >= 1 { return cores }
        return max(1, ProcessInfo.processInfo.activeProcessorCount / MPIProcessGroup.launcherLocalSize)
    }

    /// Cores in this process's affinity mask (Linux: `Cpus_allowed` in /proc/self/status, a
    /// comma-separated hexadecimal mask).
    static var allowedCores: Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed:") }) else { return nil }
        let mask = line.dropFirst("Cpus_allowed:".count).filter { $0 != "," && !$0.isWhitespace }
        return mask.reduce(0) { $0 + (Int(String($1), radix: 16) ?? 0).nonzeroBitCount }
    }
}

/// A Foundation error (a file system or JSON error) as a sentence; any other error as it is.
func readable(_ error: any Error) -> any Error {
    ErrorSentence.describe(error).map { Sentence(description: $0 + ".") } ?? error
}

/// Figures depend on OpenBLAS's kernels: says on standard error when the environment's
/// OPENBLAS_CORETYPE was narrower than the CPU's and so replaced (`run`, `compare`).
func noteKernelOverride() {
    if let note = BLAS.environmentOverrideNote { FileHandle.standardError.write(Data(("note: " + note + "\n").utf8)) }
}

/// An error that is one sentence for the user.
struct Sentence: Error, CustomStringConvertible {
    var description: String
}

/// What rank 0 settled about a run directory before every rank starts on it.
struct SettledRun: Codable {
    var path: String
    var config: GMPSConfig
    var resuming: Bool
}

/// Parses, starts MPI when launched by an MPI launcher (and only then: a plain run never
/// touches MPI), runs the command, and ends MPI. An error on one rank of several aborts the
/// whole job with the message and the rank, instead of leaving the others waiting forever.
@main
enum Entry {
    static func main() {
        let launched = MPIProcessGroup.isLaunched
        var command: any ParsableCommand
        do {
            command = try GMPSVisionCommand.parseAsRoot()
        } catch {
            // Every rank parses the same arguments: rank 0 says what is wrong and its status
            // is the job's. The others leave quietly, so that the launcher does not tear the
            // job down (and print its banner) before rank 0 has written the message.
            if launched && MPIProcessGroup.launcherRank != 0 { exit(ExitCode.success.rawValue) }
            exitReporting(error)
        }
        guard launched else {
            do { try command.run() } catch { exitReporting(readable(error)) }
            return
        }

        let world: MPIProcessGroup
        do {
            world = try MPIProcessGroup()
        } catch {
            exitReporting(error)
        }
        Launch.group = world
        if world.size > 1 && !((command as? any RunsOnRanks)?.splitsOverRanks ?? false) {
            if world.isRoot {
                let name = type(of: command).configuration.commandName ?? "this command"
                FileHandle.standardError.write(Data("Error: `\(name)` runs as one process; start it without mpirun (only experts, demos, meta-train, run and baseline --algo maml-pg split their work over ranks).\n".utf8))
            }
            world.finish()
            exit(ExitCode.validationFailure.rawValue)
        }
        do {
            try command.run()
        } catch {
            let error = readable(error)
            if world.size > 1 { world.abort(GMPSVisionCommand.fullMessage(for: error)) }
            world.finish()
            exitReporting(error)
        }
        world.finish()
    }

    /// `GMPSVisionCommand.exit(withError:)`, but an error's message leaves in one write:
    /// ArgumentParser writes standard error a byte at a time, and under mpirun the launcher's
    /// own lines land inside such a message.
    static func exitReporting(_ error: any Error) -> Never {
        let code = GMPSVisionCommand.exitCode(for: error)
        guard code != .success else { GMPSVisionCommand.exit(withError: error) }  // help, version: standard output
        let message = GMPSVisionCommand.fullMessage(for: error)
        if !message.isEmpty { FileHandle.standardError.write(Data((message + "\n").utf8)) }
        exit(code.rawValue)
    }
}
