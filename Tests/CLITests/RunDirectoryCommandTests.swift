import Foundation
import Glibc
import Testing

/// Run directories through the real entry point: one writer at a time, a run's settings kept,
/// and a missing run read by no one into existence.
struct RunDirectoryCommandTests {
    /// `meta-train` on a budget of a few seconds (MPITests' settings).
    static let tinyMetaTrain = MPITests.tinyMetaTrain

    @Test func aSecondWriterIsRefusedNamingTheHolderAndTheRunIsLeftUntouched() throws {
        let folder = try CLIRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // This test process holds the lock as a running meta-train would.
        let lockFile = folder + "/.lock"
        let descriptor = open(lockFile, O_RDWR | O_CREAT, 0o644)
        #expect(descriptor >= 0 && flock(descriptor, LOCK_EX | LOCK_NB) == 0)
        defer { close(descriptor) }
        let holder = Array("pid \(getpid()): gmps-vision meta-train --out \(folder)\n".utf8)
        #expect(pwrite(descriptor, holder, holder.count, 0) == holder.count)

        let second = try CLIRunner.run(Self.tinyMetaTrain + ["--iterations", "1", "--out", folder])
        #expect(second.status != 0)
        #expect(second.standardError.contains("in use by another gmps-vision process (pid \(getpid())"),
                "stderr: \(second.standardError)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == [".lock"], "nothing written")
    }

    @Test func aRunGoesOnOnlyOnItsOwnSettings() throws {
        let folder = try CLIRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let run = folder + "/run"
        let first = try CLIRunner.run(Self.tinyMetaTrain + ["--iterations", "1", "--out", run])
        #expect(first.status == 0, "stderr: \(first.standardError)")
        let config = try Data(contentsOf: URL(fileURLWithPath: run + "/config.json"))
        let checkpoint = try Data(contentsOf: URL(fileURLWithPath: run + "/checkpoint.json"))

        let other = try CLIRunner.run(Self.tinyMetaTrain + ["--iterations", "1", "--out", run, "--seed", "6", "--adapt", "head"])
        #expect(other.status != 0)
        #expect(other.standardError.contains("--adapt (adaptedParameters) \"bias-vector\" → \"head\""), "stderr: \(other.standardError)")
        #expect(other.standardError.contains("--seed (seed) 3 → 6"), "stderr: \(other.standardError)")
        // --adapt head explores per-trajectory (its policy gradient needs per-step noise) unless told.
        #expect(other.standardError.contains("--exploration (exploration)"), "stderr: \(other.standardError)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: run + "/config.json")) == config)
        #expect(try Data(contentsOf: URL(fileURLWithPath: run + "/checkpoint.json")) == checkpoint)

        // More iterations and other threads continue the run.
        let more = try CLIRunner.run(Self.tinyMetaTrain + ["--iterations", "2", "--threads", "1", "--out", run])
        #expect(more.status == 0, "stderr: \(more.standardError)")
        #expect(more.standardOutput.contains("iteration 2:"))
    }

    /// `meta-train --json` prints one object whose figures are progress.csv's last row.
    @Test func metaTrainJSONSaysHowFarTheRunGot() throws {
        let folder = try CLIRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let run = folder + "/run"
        let result = try CLIRunner.run(Self.tinyMetaTrain + ["--iterations", "2", "--out", run, "--json"])
        #expect(result.status == 0, "stderr: \(result.standardError)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any],
                                "stdout: \(result.standardOutput)")
        #expect(json["env"] as? String == "push" && json["experts"] as? String == "scripted")
        #expect(json["iterations"] as? Int == 2)
        let rows = try String(contentsOfFile: run + "/progress.csv", encoding: .utf8).split(separator: "\n")
        let header = rows[0].split(separator: ","), last = try #require(rows.last).split(separator: ",", omittingEmptySubsequences: false)
        func column(_ name: String) throws -> Substring { last[try #require(header.firstIndex(of: Substring(name)))] }
        #expect(json["on_policy_samples"] as? Int == Int(try column("on_policy_samples")))
        #expect(json["meta_training_env_steps"] as? Int == Int(try column("meta_training_env_steps")))
        let post = try #require(json["post_success"] as? Double)
        #expect(abs(post - (Double(try column("post_success")) ?? -1)) < 1e-4)
        for key in ["validation_pre_success", "validation_post_success", "imitation_loss", "seconds", "run_dir"] {
            #expect(json[key] != nil, "\(key) missing")
        }
    }

    @Test func resumeRestoresQuickAndRefusesOtherSettings() throws {
        let folder = try CLIRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let run = folder + "/run"
        let first = try CLIRunner.run(["run", "--quick", "--env", "reach", "--out", run, "--size", "24x32", "--tasks", "3",
                                       "--iterations", "1", "--tasks-per-iteration", "2", "--trajectories", "3",
                                       "--adapt-steps", "1", "--json"])
        #expect(first.status == 0, "stderr: \(first.standardError)")

        let seed = try CLIRunner.run(["run", "--resume", run, "--iterations", "2", "--seed", "9"])
        #expect(seed.status != 0)
        #expect(seed.standardError.contains("--seed (seed) 1 → 9"), "stderr: \(seed.standardError)")
        let draws = try CLIRunner.run(["run", "--resume", run, "--draws", "7"])
        #expect(draws.standardError.contains("--draws (draws) 2 → 7"), "stderr: \(draws.standardError)")

        // --quick's evaluation (3 goals, 2 draws) comes back without --quick.
        let resumed = try CLIRunner.run(["run", "--resume", run, "--iterations", "2", "--json"])
        #expect(resumed.status == 0, "stderr: \(resumed.standardError)")
        let json = try JSONSerialization.jsonObject(with: Data(resumed.standardOutput.utf8)) as? [String: Any]
        #expect(json?["iterations"] as? Int == 2)
        #expect(json?["goals"] as? Int == 3 && json?["draws"] as? Int == 2, "\(resumed.standardOutput)")
    }

    @Test func aMissingRunIsASentenceAndNothingIsCreated() throws {
        let folder = try CLIRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let missing = folder + "/missing", frames = folder + "/frames"
        for arguments in [["evaluate", "--run", missing], ["render", "--env", "reach", "--policy", "meta:" + missing, "--out", frames],
                          ["run", "--resume", missing]] {
            let result = try CLIRunner.run(arguments)
            #expect(result.status != 0)
            #expect(result.standardError.contains("there is no run at \(missing)"), "\(arguments): \(result.standardError)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty, "nothing created")

        let empty = try CLIRunner.run(Self.tinyMetaTrain + ["--out", ""])
        #expect(empty.status != 0)
        #expect(empty.standardError.contains("--out must name a folder"), "stderr: \(empty.standardError)")
    }
}
