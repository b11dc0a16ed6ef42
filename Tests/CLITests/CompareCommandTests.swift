import Foundation
import Testing

/// `gmps-vision compare --quick` end to end through the real entry point: every method's run
/// directories, compare.md and compare.png, the JSON keys, a second seed trained alone beside a
/// finished first one (--only-seed), and reruns that read the finished runs back instead of
/// training again.
struct CompareCommandTests {
    static func json(_ text: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] ?? [:]
    }

    @Test func quickComparisonWritesItsRunsReportPlotAndJSONAndResumes() throws {
        let folder = try CLIRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let arguments = ["compare", "--env", "reach", "--quick", "--out", folder, "--json", "--seeds"]
        let result = try CLIRunner.run(arguments + ["1"])
        #expect(result.status == 0, "\(result.standardError)")
        let object = try Self.json(result.standardOutput)

        for key in ["env", "reward", "seeds", "budget", "maml_budget", "methods", "samples_ratio",
                    "samples_ratio_is_lower_bound", "samples_ratio_is_upper_bound", "report", "plot"] {
            #expect(object[key] != nil, "missing \(key)")
        }
        #expect(object["samples_ratio"] is Double || object["samples_ratio"] is NSNull)
        #expect(object["samples_ratio_is_lower_bound"] is Bool)
        #expect(object["maml_budget"] as? Int == 10 * (object["budget"] as? Int ?? -1))
        let methods = try #require(object["methods"] as? [[String: Any]])
        let names = ["gmps", "no-meta-training", "maml-pg", "maml-pg-pretrained", "maml-promp"]
        #expect(methods.compactMap { $0["name"] as? String } == names)
        for method in methods {
            let name = method["name"] as? String ?? "?"
            for key in ["name", "post_success", "on_policy_samples", "total_env_steps", "curve"] {
                #expect(method[key] != nil, "\(name) lacks \(key)")
            }
            #expect((method["post_success"] as? Double).map { (0...1).contains($0) } == true)
            #expect((method["total_env_steps"] as? Int ?? 0) > (method["on_policy_samples"] as? Int ?? .max),
                    "evaluation steps come on top of the on-policy ones")
        }
        let onPolicy = Dictionary(uniqueKeysWithValues: methods.map { ($0["name"] as? String ?? "", $0["on_policy_samples"] as? Int ?? -1) })
        #expect(onPolicy["no-meta-training"] == 0, "no meta-training spends no on-policy sample")
        #expect((onPolicy["gmps"] ?? 0) >= (object["budget"] as? Int ?? .max), "GMPS spends its budget")
        #expect((onPolicy["maml-pg"] ?? 0) >= (object["maml_budget"] as? Int ?? .max), "MAML spends ten times it")

        let files = FileManager.default
        for name in ["compare.md", "compare.png", "comparison.json"] {
            #expect(files.fileExists(atPath: folder + "/" + name), "missing \(name)")
        }
        func checkRuns(seed: Int) {
            for method in names {
                let run = "\(folder)/\(method)-seed\(seed)"
                for name in ["config.json", "checkpoint.json", "result.json", "final.json", "snapshots/iter-0000/evaluation.json"] {
                    #expect(files.fileExists(atPath: run + "/" + name), "\(method)-seed\(seed) lacks \(name)")
                }
            }
        }
        checkRuns(seed: 1)
        let png = try Data(contentsOf: URL(fileURLWithPath: folder + "/compare.png"))
        #expect(png.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        let markdown = try String(contentsOfFile: folder + "/compare.md", encoding: .utf8)
        for text in ["| GMPS | 1 |", "| MAML-PG | 1 |", "after 3 steps", "![held-out success", "Samples ratio", "gmps-vision compare"] {
            #expect(markdown.contains(text), "compare.md lacks \(text)")
        }

        // maml-promp starts where GMPS's meta-training starts: the same θ and α at snapshot 0,
        // so the same evaluation of it (wall time aside), with GMPS's exploration.
        func start(_ method: String) throws -> [String: Any] {
            var object = try Self.json(String(contentsOfFile: "\(folder)/\(method)-seed1/snapshots/iter-0000/evaluation.json", encoding: .utf8))
            object["seconds"] = nil
            return object
        }
        #expect(NSDictionary(dictionary: try start("maml-promp")) == NSDictionary(dictionary: try start("gmps")))
        let promp = try Self.json(String(contentsOfFile: folder + "/maml-promp-seed1/config.json", encoding: .utf8))
        #expect((promp["exploration"] as? [String: Any])?["perTrajectory"] != nil)
        #expect((promp["outerSteps"] as? Int ?? 0) > 1)

        // A snapshot is a run that evaluate reads.
        let evaluate = try CLIRunner.run(["evaluate", "--run", folder + "/maml-pg-seed1/snapshots/iter-0000", "--goal-count", "1",
                                          "--draws", "1", "--trajectories", "2", "--json"])
        #expect(evaluate.status == 0, "\(evaluate.standardError)")

        // A second seed alone (--only-seed): its runs, seed 1 untouched, no report.
        let reportBefore = try Data(contentsOf: URL(fileURLWithPath: folder + "/compare.md"))
        let alone = try CLIRunner.run(arguments + ["2", "--only-seed", "2"])
        #expect(alone.status == 0, "\(alone.standardError)")
        #expect(!alone.standardError.contains("read back"), "seed 1 is not touched")
        checkRuns(seed: 2)
        let seedTwo = try Self.json(alone.standardOutput)
        #expect(seedTwo["seed"] as? Int == 2)
        #expect((seedTwo["methods"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == names)
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder + "/compare.md")) == reportBefore, "no report from one seed")
        let outside = try CLIRunner.run(arguments + ["2", "--only-seed", "3"])
        #expect(outside.status != 0 && outside.standardError.contains("--only-seed must be one of the seeds 1...2"), "\(outside.standardError)")

        // Then the two seeds together: both read back, not trained again, and reported.
        let more = try CLIRunner.run(arguments + ["2"])
        #expect(more.status == 0, "\(more.standardError)")
        #expect(more.standardError.components(separatedBy: "finished earlier; read back").count - 1 == 10)
        let two = try Self.json(more.standardOutput)
        #expect((two["methods"] as? [[String: Any]])?.allSatisfy { $0["seeds"] as? Int == 2 } == true)

        // The same command again trains nothing and reports the same.
        let again = try CLIRunner.run(arguments + ["2"])
        #expect(again.status == 0, "\(again.standardError)")
        #expect(again.standardError.components(separatedBy: "finished earlier; read back").count - 1 == 10)
        #expect(NSDictionary(dictionary: try Self.json(again.standardOutput)) == NSDictionary(dictionary: two))

        // Other settings in the same folder are refused, naming them.
        let other = try CLIRunner.run(["compare", "--env", "reach", "--quick", "--budget", "5000", "--out", folder])
        #expect(other.status != 0)
        #expect(other.standardError.contains("budget 800 → 5000"), "\(other.standardError)")
    }

    /// maml-promp-scratch runs alone: GMPS's exploration and ProMP's outer steps from random
    /// parameters, no GMPS run needed and no demonstration or expert sample counted; continued
    /// without --goals, on its own goals. (On an AVX-512 CPU its environment asks for Haswell's
    /// kernels, which compare says it replaced.)
    @Test func mamlProMPFromScratchNeedsNoGMPSRunAndNoDemonstration() throws {
        let folder = try CLIRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let narrowed = OpenBLASKernelsTests.cpuHasAVX512
        let arguments = ["compare", "--env", "reach", "--quick", "--seeds", "1", "--methods", "maml-promp-scratch", "--out", folder, "--json"]
        let result = try CLIRunner.run(arguments + ["--goals", "validation"], environment: narrowed ? ["OPENBLAS_CORETYPE": "Haswell"] : [:])
        #expect(result.status == 0, "\(result.standardError)")
        if narrowed {
            #expect(result.standardError.contains("note: OPENBLAS_CORETYPE=Haswell in the environment is narrower"), "\(result.standardError)")
        }
        let methods = try Self.json(result.standardOutput)["methods"] as? [[String: Any]]
        #expect(methods?.compactMap { $0["name"] as? String } == ["maml-promp-scratch"])
        #expect(!FileManager.default.fileExists(atPath: folder + "/gmps-seed1"))
        let run = try Self.json(String(contentsOfFile: folder + "/maml-promp-scratch-seed1/result.json", encoding: .utf8))
        let samples = try #require(run["samples"] as? [String: Any])
        #expect(samples["demo"] as? Int == 0 && samples["expert"] as? Int == 0, "\(samples)")
        #expect((samples["onPolicy"] as? Int ?? 0) > 0)
        let config = try Self.json(String(contentsOfFile: folder + "/maml-promp-scratch-seed1/config.json", encoding: .utf8))
        #expect((config["exploration"] as? [String: Any])?["perTrajectory"] != nil)
        #expect((config["outerSteps"] as? Int ?? 0) > 1)
        #expect(config["pretrainInit"] as? Bool != true)

        // Continued without --goals, the comparison keeps its own (validation); the other split is refused.
        let again = try CLIRunner.run(arguments)
        #expect(again.status == 0 && again.standardError.contains("finished earlier; read back"), "\(again.standardError)")
        #expect(try Self.json(again.standardOutput)["goals"] as? String == "validation")
        let other = try CLIRunner.run(arguments + ["--goals", "meta-test"])
        #expect(other.status != 0 && other.standardError.contains("goals"), "\(other.standardError)")
    }

    @Test func badOptionsAreSentences() throws {
        let noEnv = try CLIRunner.run(["compare", "--quick"])
        #expect(noEnv.status != 0)
        #expect(noEnv.standardError.contains("--env"))
        let seeds = try CLIRunner.run(["compare", "--env", "push", "--seeds", "0"])
        #expect(seeds.standardError.contains("--seeds must be at least 1"), "\(seeds.standardError)")
        let methods = try CLIRunner.run(["compare", "--env", "push", "--methods", "gmps,ppo"])
        #expect(methods.status != 0)
        #expect(methods.standardError.contains("--methods"), "\(methods.standardError)")
        let alone = try CLIRunner.run(["compare", "--env", "push", "--methods", "no-meta-training"])
        #expect(alone.standardError.contains("include gmps"), "\(alone.standardError)")
        let promp = try CLIRunner.run(["compare", "--env", "push", "--methods", "maml-pg,maml-promp"])
        #expect(promp.standardError.contains("maml-promp starts from the GMPS run's pre-trained policy; include gmps."), "\(promp.standardError)")
    }
}
