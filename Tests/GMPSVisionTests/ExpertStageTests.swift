import ConvNet
import Foundation
import Testing
import VisionEnvs
@testable import GMPSVision

/// A run's experts and demonstrations stages: the labels are the given experts' actions, a
/// folder for other goals is refused by name, an interrupted expert stage resumes to the same
/// bytes, and demo-only tasks get no DAgger labels.
struct ExpertStageTests {
    static func config(tasks: Int = 2) -> GMPSConfig {
        var config = PipelineTests.config(iterations: 1)
        config.metaTrainTasks = tasks
        config.tasksPerIteration = tasks
        return config
    }

    static func goals(_ config: GMPSConfig, seed: UInt64? = nil) throws -> [Goal] {
        try TaskDistribution(config.environment).metaSplit(seed: seed ?? config.seed, trainCount: config.metaTrainTasks,
                                                       testCount: 0).train
    }

    /// The constant action of `constantExperts` before tanh.
    static let preActivation: [Float] = [0.5, -0.3, 0.2]

    /// An expert folder for `goals` whose every actor ignores the state: all weights zero, the
    /// output bias `preActivation`, so that each action is tanh(preActivation).
    static func constantExperts(_ environment: EnvironmentName, goals: [Goal]) throws -> URL {
        let folder = DemoDatasetTests.folder()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var sac = SACConfig()
        sac.hidden = [4]
        let network = try Network(spec: .mlp(inputs: StateFeatures(environment).count, hidden: sac.hidden, outputs: 6,
                                             activation: .relu), threads: 1)
        var parameters = [Float](repeating: 0, count: network.parameterCount)
        parameters.replaceSubrange((parameters.count - 6)..<(parameters.count - 3), with: preActivation)
        var entries: [ExpertSet.Manifest.Entry] = []
        for j in goals.indices {
            let name = String(format: "expert-%03d", j)
            try Safetensors.save(parameters: parameters, of: network, to: folder.appendingPathComponent("\(name).safetensors"),
                                 metadata: [:])
            entries.append(.init(file: "\(name).safetensors", curve: "\(name).csv", envSteps: 1000, seconds: 0))
        }
        let manifest = ExpertSet.Manifest(env: environment, mode: .perTask, features: StateFeatures.version, goals: goals,
                                          seed: 0, rewardScale: 1, config: sac, experts: entries, tasks: [])
        try JSONEncoder().encode(manifest).write(to: folder.appendingPathComponent(ExpertSet.manifestName))
        return folder
    }

    /// With `demoEpisodes = .successful` each task's imitation data is its successful episodes
    /// (all of them where none succeeded), while the run still counts every episode's steps.
    @Test func successfulEpisodesOnlyAreImitatedAndEveryEpisodeIsCounted() throws {
        var config = Self.config(tasks: 4)
        config.experts = .scripted
        config.demosPerTask = 4
        config.demoNoise = 1.0   // so that the controller misses some episodes
        config.demoEpisodes = .successful
        let run = try PipelineTests.temporaryRun()
        defer { try? FileManager.default.removeItem(at: run.url) }
        let pipeline = GMPSPipeline(config: config, run: run)
        let demos = try pipeline.demonstrations()
        let horizon = config.environment.horizon
        #expect(pipeline.environmentSteps.demonstrations == 4 * 4 * horizon)
        let dataset = try DemoDataset.load(from: run.file(GMPSPipeline.demosFolder))
        var filtered = 0
        for (data, task) in zip(demos, dataset.tasks) {
            let successes = task.successes.filter { $0 }.count
            #expect(data.count == (successes == 0 ? task.episodes : successes) * horizon)
            if successes > 0 && successes < task.episodes { filtered += 1 }
        }
        #expect(filtered > 0, "some task mixes successes and misses: \(dataset.tasks.map(\.successes))")
    }

    @Test func demonstrationsAndDaggerLabelsAreTheGivenExpertsActions() throws {
        var config = Self.config()
        let experts = try Self.constantExperts(config.environment, goals: Self.goals(config))
        let run = try PipelineTests.temporaryRun()
        defer { try? FileManager.default.removeItem(at: run.url); try? FileManager.default.removeItem(at: experts) }
        config.experts = .folder(experts.path)
        config.daggerStartIteration = 0
        let pipeline = GMPSPipeline(config: config, run: run)
        let expected = Self.preActivation.map(tanhf)
        let state = try ManipulationEnv(config.environment).privilegedState()
        let a = try #require(try pipeline.experts()).expert(for: Self.goals(config)[0]).cleanAction(for: state)
        #expect([a.x, a.y, a.z] == expected, "the saved actor's action is tanh of its output bias")

        let demos = try pipeline.demonstrations()
        #expect(pipeline.environmentSteps.expertTraining == 2000, "the folder's training steps, from its manifest")
        #expect(pipeline.environmentSteps.demonstrations == config.metaTrainTasks * config.demosPerTask * config.environment.horizon)
        for data in demos {
            #expect(!data.isEmpty && data.actions == Array((0..<data.count).map { _ in expected }.joined()))
        }
        // The run's dataset holds the same labels, and the scripted expert's would differ.
        let dataset = try DemoDataset.load(from: run.file(GMPSPipeline.demosFolder))
        #expect(dataset.tasks.map(\.actions) == demos.map(\.actions) && dataset.manifest.experts == experts.path)
        let scripted = try ScriptedExpert(config.environment).cleanAction(for: Array(dataset.tasks[0].states.prefix(config.environment.privilegedStateDimension)))
        #expect([scripted.x, scripted.y, scripted.z] != expected)

        let trainer = try pipeline.trainer(demos: demos, resume: false)
        try pipeline.metaTrain(trainer)
        let dagger = trainer.dagger.flatMap(\.actions)
        #expect(!dagger.isEmpty && dagger == Array((0..<(dagger.count / 3)).map { _ in expected }.joined()))
    }

    @Test func scriptedDemonstrationsThroughTheDatasetAreTheBytesOfTheFormerCollector() throws {
        var config = Self.config()
        config.experts = .scripted
        config.demosPerTask = 2
        let run = try PipelineTests.temporaryRun()
        defer { try? FileManager.default.removeItem(at: run.url) }
        let demos = try GMPSPipeline(config: config, run: run).demonstrations()
        var bytes = Data()
        for data in demos {
            bytes += Data(data.images)
            data.hands.withUnsafeBytes { bytes += Data($0) }
            data.actions.withUnsafeBytes { bytes += Data($0) }
        }
        // Computed by scriptedImitationData as it was before 3d1bfc2's successor merged the
        // collectors (reach, seed 1, 2 goals × 2 episodes, 24×32): the scripted run's data.
        #expect(Checksum.of(bytes) == "fnv1a64:293761a4610d330a")
        // Resuming keeps the complete task files and reads the same data.
        let again = try GMPSPipeline(config: config, run: run).demonstrations()
        #expect(again.map(\.actions) == demos.map(\.actions) && again.map(\.images) == demos.map(\.images))
    }

    @Test func expertAndDemoFoldersForOtherGoalsAreRefusedNamingTheDifference() throws {
        var config = Self.config()
        let otherGoals = try Self.goals(config, seed: 0)
        let experts = try Self.constantExperts(config.environment, goals: otherGoals)
        let doorExperts = try Self.constantExperts(.door, goals: try TaskDistribution(.door).metaSplit(seed: 1, trainCount: 2, testCount: 0).train)
        let demos = DemoDatasetTests.folder()
        let run = try PipelineTests.temporaryRun()
        defer { for url in [experts, doorExperts, demos, run.url] { try? FileManager.default.removeItem(at: url) } }

        config.experts = .folder(experts.path)
        let wrongGoals = #expect(throws: ExpertError.self) { try GMPSPipeline(config: config, run: run).experts() }
        #expect(wrongGoals?.description.contains("task 0's goal") == true)
        #expect(wrongGoals?.description.contains("--goal-seed \(config.seed)") == true)
        config.experts = .folder(doorExperts.path)
        let wrongEnv = #expect(throws: ExpertError.self) { try GMPSPipeline(config: config, run: run).experts() }
        #expect(wrongEnv?.description.contains("for door, not reach") == true)

        _ = try DemoCollection(environment: config.environment, experts: .scripted(config.environment), expertsDescription: "scripted",
                               goals: otherGoals, episodesPerTask: config.demosPerTask, seed: 0,
                               imageHeight: config.imageHeight, imageWidth: config.imageWidth).run(output: demos)
        config.experts = .scripted
        config.demos = demos.path
        let wrongDemos = #expect(throws: DemoDatasetError.self) { try GMPSPipeline(config: config, run: run).demonstrations() }
        #expect(wrongDemos?.description.contains("no demonstrations for the run's task 0") == true)
        config.imageWidth = 48
        let wrongSize = #expect(throws: DemoDatasetError.self) { try GMPSPipeline(config: config, run: run).demonstrations() }
        #expect(wrongSize?.description.contains("the run wants reach at 24x48") == true)
    }

    @Test func anInterruptedExpertStageResumesToTheBytesOfAnUninterruptedOne() throws {
        var config = Self.config()
        config.experts = .sac(.perTask)
        config.expertSteps = 200
        let straight = try PipelineTests.temporaryRun(), resumed = try PipelineTests.temporaryRun()
        defer { for run in [straight, resumed] { try? FileManager.default.removeItem(at: run.url) } }
        _ = try GMPSPipeline(config: config, run: straight).experts()
        _ = try GMPSPipeline(config: config, run: resumed).experts()

        // The state an interruption during expert 1 leaves: expert 0 finished and recorded,
        // expert 1 half written (its actor, no record), no manifest.
        let folder = resumed.file(GMPSPipeline.expertsFolder)
        for name in ["expert-001.json", "expert-001.csv", ExpertSet.manifestName] {
            try FileManager.default.removeItem(at: folder.appendingPathComponent(name))
        }
        try Data("partial".utf8).write(to: folder.appendingPathComponent("expert-001.safetensors"))
        let kept = folder.appendingPathComponent("expert-000.safetensors")
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 0)], ofItemAtPath: kept.path)

        let pipeline = GMPSPipeline(config: config, run: resumed)
        let set = try #require(try pipeline.experts())
        #expect(try set.goals == Self.goals(config) && pipeline.environmentSteps.expertTraining == 2 * 200)
        let date = try FileManager.default.attributesOfItem(atPath: kept.path)[.modificationDate] as? Date
        #expect(date == Date(timeIntervalSince1970: 0), "a finished expert is kept, not trained again")
        let other = straight.file(GMPSPipeline.expertsFolder)
        for name in ["expert-000.safetensors", "expert-001.safetensors"] {
            let same = try Data(contentsOf: folder.appendingPathComponent(name)) == Data(contentsOf: other.appendingPathComponent(name))
            #expect(same, "\(name): the bytes of the uninterrupted stage")
        }
        // Learning curves: the same rows but for their last column, wall time.
        let curve = { (url: URL) throws -> [String] in
            try String(contentsOf: url.appendingPathComponent("expert-001.csv"), encoding: .utf8)
                .split(separator: "\n").map { $0.split(separator: ",").dropLast().joined(separator: ",") }
        }
        #expect(try curve(folder) == curve(other))
        func manifest(_ run: RunDirectory) throws -> ExpertSet.Manifest {
            var m = try JSONDecoder().decode(ExpertSet.Manifest.self, from: Data(contentsOf: run.file("\(GMPSPipeline.expertsFolder)/\(ExpertSet.manifestName)")))
            m.experts = m.experts.map { var e = $0; e.seconds = 0; return e }
            return m
        }
        #expect(try manifest(resumed) == manifest(straight), "the same manifest but for wall times")
    }

    @Test func demoOnlyTasksGetNoDaggerLabels() throws {
        var config = Self.config(tasks: 4)
        config.daggerStartIteration = 0
        config.demoOnlyTasks = 0.5
        let demos = DemoDatasetTests.folder()
        let run = try PipelineTests.temporaryRun()
        defer { try? FileManager.default.removeItem(at: demos); try? FileManager.default.removeItem(at: run.url) }
        _ = try DemoCollection(environment: config.environment, experts: .scripted(config.environment), expertsDescription: "scripted",
                               goals: Self.goals(config), episodesPerTask: config.demosPerTask, seed: 9,
                               imageHeight: config.imageHeight, imageWidth: config.imageWidth).run(output: demos)
        config.demos = demos.path
        let demoOnly = config.demoOnlyTaskIndices
        #expect(demoOnly.count == 2 && demoOnly == config.demoOnlyTaskIndices, "half the tasks, drawn from the seed")

        let pipeline = GMPSPipeline(config: config, run: run)
        #expect(pipeline.collectedTaskIndices == (0..<4).filter { !demoOnly.contains($0) })
        let data = try pipeline.demonstrations()
        let given = try DemoDataset.load(from: demos)
        for t in 0..<4 {
            // Demo-only tasks read the dataset; the others are collected from their experts.
            #expect((data[t].images == given.tasks[t].images) == demoOnly.contains(t), "task \(t)")
        }
        let trainer = try pipeline.trainer(demos: data, resume: false)
        try pipeline.metaTrain(trainer)
        for t in 0..<4 {
            #expect(trainer.dagger[t].isEmpty == demoOnly.contains(t), "task \(t): DAgger labels only where there is an expert")
        }
    }
}
