import Foundation
import Testing

/// The whole pipeline on its tiny budget, through the real entry point, and its errors.
struct RunCommandTests {
    /// The settings of the quick run below, as given on the command line.
    static let tasks = 3, demosPerTask = 2, iterations = 2, tasksPerIteration = 2, trajectories = 3, seed = 5
    static let horizon = 50  // reach

    @Test func quickRunWritesARunDirectoryAndJSON() throws {
        let folder = try CLIRunner.temporaryFolder() + "/run"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let result = try CLIRunner.run(["run", "--quick", "--env", "reach", "--out", folder, "--json",
                                        "--size", "24x32", "--adapt-steps", "1", "--eval-goals", "2", "--draws", "1",
                                        "--tasks", "\(Self.tasks)", "--demos-per-task", "\(Self.demosPerTask)",
                                        "--iterations", "\(Self.iterations)", "--tasks-per-iteration", "\(Self.tasksPerIteration)",
                                        "--trajectories", "\(Self.trajectories)", "--seed", "\(Self.seed)",
                                        "--dagger-share", "0.5", "--anchor-weight", "0.25",
                                        "--alpha-parameterisation", "log-per-group", "--alpha-learning-rate", "0.5",
                                        "--head-alpha", "0.25"])
        #expect(result.status == 0, "stderr: \(result.standardError)")
        let object = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any]
        let json = try #require(object)
        #expect(json["env"] as? String == "reach")
        #expect(json["iterations"] as? Int == Self.iterations)
        #expect(json["goals"] as? Int == 2 && json["draws"] as? Int == 1)

        // Success rates are rates; the scripted expert solves every held-out goal.
        let byStep = try #require(json["post_success_by_step"] as? [Double])
        #expect(byStep.count == 1, "one entry per adaptation step")
        #expect(json["post_success"] as? Double == byStep.first)
        for key in ["pre_success", "post_success", "multitask_bc_success", "expert_success"] {
            let value = try #require(json[key] as? Double, "missing \(key)")
            #expect((0...1).contains(value), "\(key) = \(value)")
        }
        #expect(byStep.allSatisfy { (0...1).contains($0) })
        #expect(json["expert_success"] as? Double == 1)

        let checkpoint = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/checkpoint.json")))
        let policyFile = try #require((checkpoint as? [String: Any])?["policyFile"] as? String)
        #expect(policyFile == "policy-000\(Self.iterations).safetensors")
        for file in ["config.json", "run.json", "progress.csv", "checkpoint.json", policyFile, "report.md",
                     "plots/success.png", "frames/goal-1-before.png", "frames/goal-1-after.png"] {
            #expect(FileManager.default.fileExists(atPath: folder + "/" + file), "missing \(file)")
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix("policy") || $0.hasPrefix(".") }
        #expect(leftovers.sorted() == [".lock", policyFile], "one policy file, no temporary files")

        // progress.csv: one row per iteration; the sample count grows by the exploring rollouts
        // (tasks per iteration × K × horizon) plus the DAgger samples (none: DAgger is off).
        let progress = try String(contentsOfFile: folder + "/progress.csv", encoding: .utf8).split(separator: "\n")
        let header = progress[0].split(separator: ",").map(String.init)
        let rows = progress.dropFirst().map { $0.split(separator: ",").map(String.init) }
        #expect(rows.count == Self.iterations, "one row per iteration")
        let column = { (name: String) in try #require(header.firstIndex(of: name), "no \(name) column") }
        let (iteration, samples, dagger) = try (column("iteration"), column("on_policy_samples"), column("dagger_samples"))
        #expect(rows.map { Int($0[iteration]) } == Array(1...Self.iterations))
        var expectedSamples = 0
        for row in rows {
            expectedSamples += Self.tasksPerIteration * Self.trajectories * Self.horizon + (Int(row[dagger]) ?? -1)
            #expect(Int(row[samples]) == expectedSamples, "on_policy_samples after iteration \(row[iteration])")
        }
        #expect(expectedSamples == Self.iterations * Self.tasksPerIteration * Self.trajectories * Self.horizon)
        #expect(json["on_policy_samples"] as? Int == expectedSamples)

        // config.json holds the settings given above, over --quick's.
        let configData = try Data(contentsOf: URL(fileURLWithPath: folder + "/config.json"))
        let config = try #require(try JSONSerialization.jsonObject(with: configData) as? [String: Any])
        let given: [String: Int] = [
            "metaTrainTasks": Self.tasks, "demosPerTask": Self.demosPerTask, "iterations": Self.iterations,
            "tasksPerIteration": Self.tasksPerIteration, "trajectoriesPerTask": Self.trajectories, "seed": Self.seed,
            "imageHeight": 24, "imageWidth": 32, "outerSteps": 2, "pretrainSteps": 20,
        ]
        for (key, value) in given { #expect(config[key] as? Int == value, "config.json \(key)") }
        #expect(config["environment"] as? String == "reach")
        #expect((config["exploration"] as? [String: Any])?["latentOnly"] != nil, "latent-only exploration by default")
        #expect(config["daggerShare"] as? Double == 0.5 && config["anchorWeight"] as? Double == 0.25)
        #expect(config["alphaParameterisation"] as? String == "log-per-group" && config["alphaLearningRate"] as? Double == 0.5)
        #expect(config["initialAlpha"] as? Double == 0.25 && config["initialBiasVectorAlpha"] as? Double == 1.5, "--head-alpha, and the bias vector's default")
        // Each group's mean α: the bias vector's moves from 1.5 at log α's rate; the unadapted groups stay 0.
        let biasAlpha = try column("alpha_bias_vector"), headAlpha = try column("alpha_head_weights")
        let fields = progress.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        #expect(fields.allSatisfy { Double($0[biasAlpha]).map { $0 > 0 && $0 != 1.5 } == true && Double($0[headAlpha]) == 0 },
                "\(fields.map { [$0[biasAlpha], $0[headAlpha]] })")

        // The held-out learning curve: --quick validates after the last iteration only.
        let validation = try (column("validation_pre_success"), column("validation_post_success"))
        let last = progress.last.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) } ?? []
        for value in [last[validation.0], last[validation.1]] {
            #expect(Double(value).map { (0...1).contains($0) } == true, "validation success \(value)")
        }
        #expect(FileManager.default.fileExists(atPath: folder + "/plots/validation_success.png"))

        // The run's meta-policy, adapted to a goal, through the render command.
        let frames = folder + "-frames"
        defer { try? FileManager.default.removeItem(atPath: frames) }
        let render = try CLIRunner.run(["render", "--env", "reach", "--policy", "meta:" + folder, "--adapted",
                                        "--out", frames, "--show-goal"])
        #expect(render.status == 0, "stderr: \(render.standardError)")
        #expect(FileManager.default.fileExists(atPath: frames + "/episode-000-sheet.png"))
        let wrongEnv = try CLIRunner.run(["render", "--env", "push", "--policy", "meta:" + folder, "--out", frames])
        #expect(wrongEnv.standardError.contains("holds a reach run"))

        // The same --out again is refused; --resume of a finished run does no more iterations.
        let again = try CLIRunner.run(["run", "--quick", "--env", "reach", "--out", folder])
        #expect(again.status != 0)
        #expect(again.standardError.contains("--resume"))
        let otherEnv = try CLIRunner.run(["run", "--quick", "--env", "push", "--out", folder])
        #expect(otherEnv.standardError.contains("holds a reach run"))
    }

    @Test func quickRunWithSACExpertsTrainsThemAndCountsEveryStep() throws {
        let folder = try CLIRunner.temporaryFolder() + "/sac"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let result = try CLIRunner.run(["run", "--quick", "--env", "reach", "--out", folder, "--json", "--experts", "sac",
                                        "--size", "24x32", "--adapt-steps", "1", "--eval-goals", "1", "--draws", "1",
                                        "--tasks", "2", "--iterations", "1", "--trajectories", "2", "--seed", "3"])
        #expect(result.status == 0, "stderr: \(result.standardError)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        #expect(json["experts"] as? String == "sac")
        #expect(json["expert_env_steps"] as? Int == 2 * 300, "--quick's SAC budget per expert")
        #expect(json["demo_env_steps"] as? Int == 2 * 1 * Self.horizon)
        // K rollouts per task explore (measurement adapts on them too), plus θ's and φ's episodes.
        #expect(json["meta_training_env_steps"] as? Int == 2 * (2 + 2) * Self.horizon)
        #expect(json["evaluation_env_steps"] as? Int ?? 0 > 0)
        for file in ["experts/experts.json", "experts/expert-001.safetensors", "demos/demos.json", "demos/task-001.safetensors"] {
            #expect(FileManager.default.fileExists(atPath: folder + "/" + file), "missing \(file)")
        }
        let demos = try String(contentsOfFile: folder + "/demos/demos.json", encoding: .utf8)
        #expect(demos.contains("\"experts\" : \"sac\""))
        let report = try String(contentsOfFile: folder + "/report.md", encoding: .utf8)
        #expect(report.contains("| experts | 600 |"), "the report's steps and wall time by stage")
        let progress = try String(contentsOfFile: folder + "/progress.csv", encoding: .utf8).split(separator: "\n")
        #expect(progress[0].contains(",seconds,measurement_samples,meta_training_env_steps,expert_env_steps,demo_env_steps,validation_pre_success,validation_post_success,"))
        let header = progress[0].split(separator: ",").map(String.init)
        let lastRow = try #require(progress.last).split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        #expect(lastRow.count == header.count, "a field per column")
        let steps = try ["meta_training_env_steps", "expert_env_steps", "demo_env_steps"].map { name in
            Int(lastRow[try #require(header.firstIndex(of: name), "no \(name) column")])
        }
        #expect(steps == [json["meta_training_env_steps"] as? Int ?? -1, 600, 2 * Self.horizon])
    }

    @Test func unknownEnvironmentAndBadNumbersAreClearErrors() throws {
        let env = try CLIRunner.run(["run", "--quick", "--env", "pong", "--out", "/tmp/unused-gmps-run"])
        #expect(env.status != 0)
        #expect(env.standardError.contains("pong"))
        let trajectories = try CLIRunner.run(["run", "--quick", "--trajectories", "1"])
        #expect(trajectories.status != 0)
        #expect(trajectories.standardError.contains("--trajectories"))
        let size = try CLIRunner.run(["run", "--quick", "--size", "8x8"])
        #expect(size.standardError.contains("--size"))
        let share = try CLIRunner.run(["run", "--quick", "--dagger-share", "1.5"])
        #expect(share.status != 0 && share.standardError.contains("--dagger-share must be in [0, 1]"), "\(share.standardError)")
        let anchor = try CLIRunner.run(["meta-train", "--out", "/tmp/unused-gmps-run", "--anchor-weight=-1"])
        #expect(anchor.status != 0 && anchor.standardError.contains("--anchor-weight"), "\(anchor.standardError)")
        let noise = try CLIRunner.run(["run", "--quick", "--demo-noise=-0.1"])
        #expect(noise.status != 0 && noise.standardError.contains("--demo-noise must be a standard deviation in [0, 2]"),
                "\(noise.standardError)")
        let stepSize = try CLIRunner.run(["run", "--quick", "--bias-vector-alpha=-1"])
        #expect(stepSize.status != 0 && stepSize.standardError.contains("--bias-vector-alpha must be at least 0"),
                "\(stepSize.standardError)")
        let alphaRate = try CLIRunner.run(["run", "--quick", "--alpha-learning-rate", "0"])
        #expect(alphaRate.status != 0 && alphaRate.standardError.contains("--alpha-learning-rate must be positive"),
                "\(alphaRate.standardError)")
    }

    @Test func resumingAFolderWithoutARunSaysWhatToDo() throws {
        let folder = try CLIRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let result = try CLIRunner.run(["run", "--resume", folder])
        #expect(result.status != 0)
        #expect(result.standardError.contains("no run"))
    }
}
