import Foundation
import Testing

/// The commands that split their work over MPI ranks, launched the way a user launches them:
/// `mpirun --allow-run-as-root --oversubscribe -np 2 gmps-vision ...` (Open MPI, installed by
/// scripts/install-deps.sh). One process and two ranks must agree.
struct MPITests {
    /// A meta-training budget of a few seconds on 24x32 images; 3 tasks per iteration, so the
    /// two ranks get unequal shares. Scripted experts: what is split over ranks here is
    /// meta-training (SAC experts over ranks are the experts command's tests).
    static let tinyMetaTrain = ["meta-train", "--env", "push", "--experts", "scripted", "--tasks", "4", "--demos-per-task", "1",
                                "--tasks-per-iteration", "3", "--trajectories", "4", "--outer-steps", "2",
                                "--pretrain-steps", "10", "--size", "24x32", "--seed", "3"]

    /// Two ranks and one process, same seed, with DAgger from the first iteration (whose
    /// relabelled states travel between ranks): the same parameters up to the order of the
    /// floating-point sums, and the same statistics.
    @Test func metaTrainOnTwoRanksMatchesOneProcess() throws {
        let folder = try CLIRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let arguments = Self.tinyMetaTrain + ["--iterations", "2", "--dagger-start", "0"]
        let single = try CLIRunner.run(arguments + ["--out", folder + "/one", "--threads", "2"])
        #expect(single.status == 0, "stderr: \(single.standardError)")
        let ranks = try CLIRunner.mpirun(ranks: 2, arguments + ["--out", folder + "/two"])
        #expect(ranks.status == 0, "stderr: \(ranks.standardError)")
        try Self.expectSameTraining(folder + "/one", folder + "/two", iterations: 2)
        // Only rank 0 prints.
        #expect(ranks.standardOutput.components(separatedBy: "iteration 2:").count == 2, "\(ranks.standardOutput)")
    }

    /// An interrupted two-rank run resumed on two ranks ends where one uninterrupted process
    /// does: rank 0 broadcasts its checkpoint and the DAgger data of the first iteration. The
    /// ranks talk over TCP on loopback, as ranks on different machines do.
    @Test func twoRanksResumeFromRankZerosCheckpoint() throws {
        let folder = try CLIRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let tcp = ["--mca", "btl", "tcp,self"]
        let arguments = Self.tinyMetaTrain + ["--dagger-start", "0"]
        let first = try CLIRunner.mpirun(ranks: 2, arguments + ["--iterations", "1", "--out", folder + "/two"],
                                         launcherOptions: tcp)
        #expect(first.status == 0, "stderr: \(first.standardError)")
        let resumed = try CLIRunner.mpirun(ranks: 2, arguments + ["--iterations", "2", "--out", folder + "/two"],
                                           launcherOptions: tcp)
        #expect(resumed.status == 0, "stderr: \(resumed.standardError)")
        let single = try CLIRunner.run(arguments + ["--iterations", "2", "--out", folder + "/one"])
        #expect(single.status == 0, "stderr: \(single.standardError)")
        try Self.expectSameTraining(folder + "/one", folder + "/two", iterations: 2)
    }

    /// MAML-PG splits each meta-batch over the ranks as GMPS does: two ranks (3 tasks per
    /// iteration, unequal shares) train what one process trains.
    @Test func mamlOnTwoRanksMatchesOneProcess() throws {
        let folder = try CLIRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let arguments = ["baseline", "--algo", "maml-pg", "--env", "reach", "--tasks", "4", "--tasks-per-iteration", "3",
                         "--trajectories", "3", "--iterations", "2", "--size", "24x32", "--seed", "2"]
        let single = try CLIRunner.run(arguments + ["--out", folder + "/one"])
        #expect(single.status == 0, "stderr: \(single.standardError)")
        let ranks = try CLIRunner.mpirun(ranks: 2, arguments + ["--out", folder + "/two", "--json"])
        #expect(ranks.status == 0, "stderr: \(ranks.standardError)")
        #expect(ranks.standardOutput.components(separatedBy: "\"algorithm\"").count == 2, "only rank 0 reports")
        try Self.expectSameTraining(folder + "/one", folder + "/two", iterations: 2, outlierShare: 0.001)
        let other = try CLIRunner.mpirun(ranks: 2, ["baseline", "--algo", "expert", "--env", "reach", "--goal-count", "1"])
        #expect(other.status != 0 && other.standardError.contains("runs as one process"), "stderr: \(other.standardError)")
    }

    /// Experts and demonstrations sharded over two ranks: the same files as one process
    /// (wall-clock seconds aside), the manifests written once by rank 0.
    @Test func expertsAndDemosOnTwoRanksWriteTheSameFiles() throws {
        let folder = try CLIRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let experts = ["experts", "--env", "reach", "--tasks", "3", "--steps", "400", "--seed", "1"]
        #expect(try CLIRunner.run(experts + ["--out", folder + "/e1", "--workers", "1"]).status == 0)
        let ranks = try CLIRunner.mpirun(ranks: 2, experts + ["--out", folder + "/e2"])
        #expect(ranks.status == 0, "stderr: \(ranks.standardError)")
        for task in 0..<3 {
            let file = String(format: "expert-%03d.safetensors", task)
            #expect(FileManager.default.contents(atPath: "\(folder)/e1/\(file)") ==
                    FileManager.default.contents(atPath: "\(folder)/e2/\(file)"), "\(file)")
        }
        let (one, two) = try (Self.withoutSeconds(folder + "/e1/experts.json"), Self.withoutSeconds(folder + "/e2/experts.json"))
        #expect(one == two)

        let demos = ["demos", "--env", "reach", "--experts", folder + "/e1", "--per-task", "2", "--size", "16x16"]
        #expect(try CLIRunner.run(demos + ["--out", folder + "/d1"]).status == 0)
        let demoRanks = try CLIRunner.mpirun(ranks: 2, demos + ["--out", folder + "/d2"])
        #expect(demoRanks.status == 0, "stderr: \(demoRanks.standardError)")
        for file in ["demos.json", "task-000.safetensors", "task-001.safetensors", "task-002.safetensors"] {
            let a = FileManager.default.contents(atPath: "\(folder)/d1/\(file)")
            #expect(a != nil && a == FileManager.default.contents(atPath: "\(folder)/d2/\(file)"), "\(file)")
        }
    }

    /// A rank killed mid-run ends the job with Open MPI's message naming it; rank 0's last
    /// checkpoint stays usable and a plain run continues from it.
    @Test func aRankThatDiesEndsTheJobAndLeavesAUsableCheckpoint() throws {
        let folder = try CLIRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let run = folder + "/run"
        let job = try CLIRunner.startMPI(ranks: 2, Self.tinyMetaTrain + ["--iterations", "200", "--out", run])
        // Wait for the first checkpointed iteration, then kill rank 1.
        let progress = run + "/progress.csv"
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, job.process.isRunning,
              ((try? String(contentsOfFile: progress, encoding: .utf8))?.split(separator: "\n").count ?? 0) < 2 {
            Thread.sleep(forTimeInterval: 0.1)
        }
        let victim = try #require(CLIRunner.rankProcess(rank: 1, of: job.process.processIdentifier),
                                  "rank 1 of mpirun \(job.process.processIdentifier) not found")
        kill(victim, SIGKILL)
        let result = job.wait(timeout: 60)
        #expect(result.status != 0)
        #expect(result.standardError.contains("rank 1"), "stderr: \(result.standardError)")

        // A plain run resumes from the checkpoint and does one more iteration.
        let checkpoint = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/checkpoint.json")))
        let done = try #require((checkpoint as? [String: Any])?["iteration"] as? Int)
        #expect(done >= 1)
        let resumed = try CLIRunner.run(Self.tinyMetaTrain + ["--iterations", "\(done + 1)", "--out", run])
        #expect(resumed.status == 0, "stderr: \(resumed.standardError)")
        #expect(resumed.standardOutput.contains("iteration \(done + 1):"))
    }

    /// An error on the ranks ends the job with the message, the rank, and a non-zero status;
    /// a command that does not split its work refuses to start on several ranks.
    @Test func errorsUnderMPIAreClear() throws {
        let folder = try CLIRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let first = try CLIRunner.run(Self.tinyMetaTrain + ["--iterations", "0", "--pretrain-steps", "1", "--out", folder + "/run"])
        #expect(first.status == 0, "stderr: \(first.standardError)")
        var wrongEnv = Self.tinyMetaTrain + ["--iterations", "1", "--out", folder + "/run"]
        wrongEnv[2] = "door"
        let mismatch = try CLIRunner.mpirun(ranks: 2, wrongEnv)
        #expect(mismatch.status != 0)
        #expect(mismatch.standardError.contains("holds a push run"), "stderr: \(mismatch.standardError)")
        #expect(mismatch.standardError.contains("rank 0 of 2"), "stderr: \(mismatch.standardError)")

        let scene = try CLIRunner.mpirun(ranks: 2, ["scene", "--out", folder + "/scene"])
        #expect(scene.status != 0)
        #expect(scene.standardError.contains("runs as one process"), "stderr: \(scene.standardError)")
        #expect(!FileManager.default.fileExists(atPath: folder + "/scene"))

        let usage = try CLIRunner.mpirun(ranks: 2, ["meta-train", "--out", folder + "/x", "--tasks", "0"])
        #expect(usage.status != 0)
        #expect(usage.standardError.components(separatedBy: "--tasks must be at least 1").count == 2,
                "one rank reports a usage error every rank hits: \(usage.standardError)")
    }

    /// The meta-iteration benchmark runs on one process and on two ranks.
    @Test func benchMetaTrainRunsOnRanks() throws {
        let arguments = ["bench", "meta-train", "--quick", "--iterations", "1", "--json"]
        for (ranks, result) in [(1, try CLIRunner.run(arguments)), (2, try CLIRunner.mpirun(ranks: 2, arguments))] {
            #expect(result.status == 0, "stderr: \(result.standardError)")
            let object = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any]
            let seconds = try #require(object?["seconds_per_iteration"] as? Double)
            #expect(seconds > 0)
            #expect(object?["ranks"] as? Int == ranks)
        }
    }

    // MARK: Helpers

    /// Two run directories hold the same training: θ and α within 1e-4 (the reductions sum in
    /// another order; measured differences are about 1e-6), the same progress figures.
    /// `outlierShare`: the share of entries allowed beyond 1e-4. Adam's first steps move each
    /// parameter by about ±lr whatever the gradient's size, so where a gradient entry is ~0 the
    /// order of a sum can flip its step (MAML's lr 1e-3: measured 1.07e-4 on one entry); a
    /// missing allreduce flips a large share.
    static func expectSameTraining(_ a: String, _ b: String, iterations: Int, outlierShare: Double = 0) throws {
        func checkpoint(_ run: String) throws -> [String: Any] {
            let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/checkpoint.json")))
            return try #require(object as? [String: Any])
        }
        let (one, two) = try (checkpoint(a), checkpoint(b))
        #expect(one["iteration"] as? Int == iterations && two["iteration"] as? Int == iterations)
        #expect(one["onPolicySamples"] as? Int == two["onPolicySamples"] as? Int)
        for key in ["theta", "alpha"] {
            let x = try #require(one[key] as? [Double]), y = try #require(two[key] as? [Double])
            #expect(x.count == y.count && !x.isEmpty)
            let differences = zip(x, y).map { abs($0 - $1) }
            let outliers = differences.filter { $0 > 1e-4 }.count
            #expect(Double(outliers) <= outlierShare * Double(x.count),
                    "\(key): \(outliers) of \(x.count) differ by more than 1e-4, up to \(differences.max() ?? .infinity)")
        }
        // All but seconds, and validation figures where both runs validated: a run extended
        // with --iterations also validated after its earlier last iteration.
        func rows(_ run: String) throws -> [[Double?]] {
            let lines = try String(contentsOfFile: run + "/progress.csv", encoding: .utf8).split(separator: "\n")
            let seconds = try #require(lines.first?.split(separator: ",").firstIndex(of: "seconds"))
            return lines.dropFirst().map { line in
                line.split(separator: ",", omittingEmptySubsequences: false).enumerated()
                    .filter { $0.offset != seconds }.map { Double($0.element) }
            }
        }
        let (rowsA, rowsB) = try (rows(a), rows(b))
        let header = try String(contentsOfFile: a + "/progress.csv", encoding: .utf8).split(separator: "\n").first?
            .split(separator: ",").filter { $0 != "seconds" } ?? []
        #expect(rowsA.count == iterations && rowsB.count == iterations)
        for (rowA, rowB) in zip(rowsA, rowsB) {
            #expect(rowA.count == rowB.count && rowA.count == header.count)
            for case let (x?, y?) in zip(rowA, rowB) { #expect(abs(x - y) <= 1e-3 * max(1, abs(x)), "\(rowA) vs \(rowB)") }
            let outsideValidation = zip(header, zip(rowA, rowB)).filter { !$0.0.hasPrefix("validation_") }.map(\.1)
            #expect(outsideValidation.allSatisfy { ($0 == nil) == ($1 == nil) }, "\(rowA) vs \(rowB)")
        }
    }

    /// A JSON manifest without its wall-clock `seconds` fields.
    static func withoutSeconds(_ path: String) throws -> String {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
            .filter { !$0.contains("\"seconds\"") }.joined(separator: "\n")
    }
}

extension CLIRunner {
    /// `mpirun`'s arguments for `ranks` ranks of the built executable. As root (CI), Open MPI
    /// must be told that is intended; --oversubscribe lets 2 ranks share fewer cores.
    static func mpirunArguments(ranks: Int, _ arguments: [String], launcherOptions: [String] = []) -> [String] {
        ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", "\(ranks)"] + launcherOptions + [executable.path] + arguments
    }

    static func mpirun(ranks: Int, _ arguments: [String], launcherOptions: [String] = []) throws -> Result {
        let job = try Job(mpirunArguments(ranks: ranks, arguments, launcherOptions: launcherOptions))
        return job.wait(timeout: 300)
    }

    /// A started `mpirun` job whose output is collected as it comes.
    final class Job: @unchecked Sendable {
        let process = Process()
        private let output = Pipe(), errors = Pipe()
        private var outData = Data(), errData = Data()
        private let group = DispatchGroup()

        init(_ arguments: [String]) throws {
            guard FileManager.default.isExecutableFile(atPath: "/usr/bin/mpirun") else {
                throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey:
                    "mpirun not found: scripts/install-deps.sh installs Open MPI (openmpi-bin)"])
            }
            process.executableURL = URL(fileURLWithPath: "/usr/bin/mpirun")
            process.arguments = Array(arguments.dropFirst())
            process.standardOutput = output
            process.standardError = errors
            try process.run()
            for (pipe, isOutput) in [(output, true), (errors, false)] {
                group.enter()
                DispatchQueue.global().async {
                    let data = pipe.fileHandleForReading.readDataToEndOfFile()
                    if isOutput { self.outData = data } else { self.errData = data }
                    self.group.leave()
                }
            }
        }

        /// Waits for the job (killing it after `timeout` seconds) and returns its output.
        func wait(timeout: TimeInterval) -> Result {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
            group.wait()
            return Result(status: process.terminationStatus, standardOutput: String(decoding: outData, as: UTF8.self),
                          standardError: String(decoding: errData, as: UTF8.self))
        }
    }

    static func startMPI(ranks: Int, _ arguments: [String]) throws -> Job {
        try Job(mpirunArguments(ranks: ranks, arguments))
    }

    /// The process of rank `rank` among `mpirun`'s children (Open MPI starts local ranks as its
    /// children and tells each its rank in OMPI_COMM_WORLD_RANK).
    static func rankProcess(rank: Int, of launcher: Int32) -> Int32? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
        for entry in entries {
            guard let pid = Int32(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            // Fields after the command name: state, ppid, ...
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 1, Int32(fields[1]) == launcher,
                  let environment = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { continue }
            let variables = environment.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            if variables.contains("OMPI_COMM_WORLD_RANK=\(rank)") { return pid }
        }
        return nil
    }
}
