import Foundation
import GMPSVision
import Testing
import VisionEnvs

/// config.json keeps every setting: each field set away from its default survives
/// encode → decode. The Mirror check makes a newly added field fail here until the test gives
/// it a non-default value too.
struct ConfigurationCodingTests {
    /// A configuration whose every field differs from `GMPSConfig()`.
    static var everyFieldChanged: GMPSConfig {
        var config = GMPSConfig()
        config.environment = .door
        config.reward = .sparse
        config.metaTrainTasks = 7
        config.demosPerTask = 3
        config.demoNoise = 0.11
        config.demoEpisodes = .successful
        config.experts = .sac(.goalConditioned)
        config.expertSteps = 1234
        config.demos = "/data/push-demos"
        config.demoOnlyTasks = 0.25
        config.imageHeight = 24
        config.imageWidth = 32
        config.initialStd = 0.42
        config.biasVectorLength = 2
        config.initialAlpha = 0.07
        config.initialBiasVectorAlpha = 0.6
        config.adaptedParameters = .head
        config.learnAlpha = false
        config.alphaParameterisation = .logPerGroup
        config.alphaLearningRate = 0.01
        config.tasksPerIteration = 4
        config.trajectoriesPerTask = 6
        config.exploration = .perTrajectory(latentStd: 0.8)
        config.adaptationLatentDecay = 0.35
        config.latentScaleLearningRate = 0.02
        config.discount = 0.95
        config.importanceWeightClip = 3
        config.iterations = 9
        config.outerSteps = 5
        config.learningRate = 2e-4
        config.finalLearningRate = 3e-5
        config.pretrainLearningRate = 5e-4
        config.demosPerTaskBatch = 12
        config.secondOrder = true
        config.anchorWeight = 0.25
        config.codeAnchorWeight = 0.5
        config.featureRefreshEvery = 5
        config.pretrainSteps = 123
        config.pretrainBatch = 17
        config.taskCodeWhitening = .full
        config.daggerStartIteration = 2
        config.daggerShare = 0.4
        config.validationGoals = 6
        config.validationEvery = 3
        config.validationDraws = 4
        config.validationAdaptationSteps = 2
        config.seed = 99
        config.threads = 3
        return config
    }

    /// The stored properties of `value` whose printed value equals `reference`'s.
    static func unchangedFields<T>(_ value: T, from reference: T) -> [String] {
        let changed = Mirror(reflecting: value).children, original = Mirror(reflecting: reference).children
        #expect(changed.count == original.count)
        return zip(changed, original).compactMap { changed, original in
            String(describing: changed.value) == String(describing: original.value) ? changed.label ?? "?" : nil
        }
    }

    /// metaTrainedSteps above 1 cannot go with the second order and the feature refresh that
    /// `everyFieldChanged` sets (a config.json holding them is refused), so it round-trips here
    /// and is the one field left at its default there.
    @Test func everyGMPSFieldRoundTripsThroughJSON() throws {
        let config = Self.everyFieldChanged
        #expect(Self.unchangedFields(config, from: GMPSConfig()) == ["metaTrainedSteps"],
                "give each listed field a non-default value in everyFieldChanged")
        let decoded = try JSONDecoder().decode(GMPSConfig.self, from: JSONEncoder().encode(config))
        #expect(decoded == config)
        #expect(Self.unchangedFields(decoded, from: GMPSConfig()) == ["metaTrainedSteps"])
        var multiStep = config
        (multiStep.secondOrder, multiStep.featureRefreshEvery, multiStep.metaTrainedSteps) = (false, 0, 3)
        #expect(try JSONDecoder().decode(GMPSConfig.self, from: JSONEncoder().encode(multiStep)) == multiStep)
    }

    @Test func everyBaselineFieldRoundTripsThroughJSON() throws {
        let reference = BaselineConfig(algorithm: .mamlPG)
        var config = BaselineConfig(algorithm: .pgScratch, gmps: Self.everyFieldChanged)
        config.pretrainInit = true
        config.scratchLearningRate = 0.02
        config.scratchAdam = false
        config.outerClip = 0.3
        #expect(Self.unchangedFields(config, from: reference) == [],
                "give each listed field a non-default value here")
        let data = try JSONEncoder().encode(config)
        #expect(try JSONDecoder().decode(BaselineConfig.self, from: data) == config)
        #expect(try JSONDecoder().decode(GMPSConfig.self, from: data) == config.gmps, "evaluate reads a baseline's config.json")
    }

    /// comparison.json: every setting round-trips, and one written before a setting existed
    /// (here without maml-promp's two) reads back with that setting's default.
    @Test func comparisonSettingsRoundTripAndOlderFilesKeepDefaults() throws {
        var config = ComparisonConfig(environment: .door, budget: 1234)
        config.reward = .sparse
        config.experts = .scripted
        config.seeds = 2
        config.mamlBudgetFactor = 3
        config.methods = [.gmps, .mamlProMP]
        config.quick = true
        (config.curvePoints, config.curveGoals, config.curveDraws) = (4, 5, 6)
        (config.finalGoals, config.finalDraws, config.finalAdaptationSteps) = (7, 8, 2)
        (config.mamlLearningRate, config.mamlAlpha, config.mamlPretrainSteps) = (0.5, 0.25, 9)
        (config.mamlOuterSteps, config.mamlOuterClip, config.threads) = (4, 0.1, 1)
        config.mamlProMPLearningRate = 3e-4
        config.goals = .validation
        let data = try JSONEncoder().encode(config)
        #expect(try JSONDecoder().decode(ComparisonConfig.self, from: data) == config)
        var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object.count == 22, "every field is written: \(object.keys.sorted())")
        object["goals"] = nil
        object["mamlOuterSteps"] = nil
        object["mamlOuterClip"] = nil
        let older = try JSONDecoder().decode(ComparisonConfig.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(older.mamlOuterSteps == ComparisonConfig(environment: .door).mamlOuterSteps)
        #expect(older.mamlOuterClip == ComparisonConfig(environment: .door).mamlOuterClip)
        #expect(older.curveGoals == 5 && older.budget == 1234 && older.methods == [.gmps, .mamlProMP])
        #expect(older.goals == .metaTest, "a comparison written before --goals evaluated on meta-test goals")
    }

    /// compare --goals: meta-test is each seed's meta-test split; validation is the goals
    /// `evaluate --goals validation` adapts on, disjoint from meta-test and meta-training goals.
    @Test func aComparisonEvaluatesOnTheGoalsItNames() throws {
        var config = ComparisonConfig(environment: .push)
        let gmps = config.gmps(seed: 2)
        let split = try TaskDistribution(.push).metaSplit(seed: 2, trainCount: gmps.metaTrainTasks, testCount: 20)
        #expect(try config.evaluationGoals(seed: 2, count: 20) == split.test)
        config.goals = .validation
        let validation = try config.evaluationGoals(seed: 2, count: 20)
        let pipeline = GMPSPipeline(config: gmps, run: RunDirectory(unopened: "/tmp/unused-gmps-run"))
        #expect(try validation == pipeline.validationGoals(count: 20))
        #expect(validation.count == 20 && Set(validation).isDisjoint(with: split.test + split.train))
        #expect(try config.evaluationGoals(seed: 3, count: 20) != validation, "each seed its own goals")
    }

    /// compare --experts: GMPS and the methods that start from its run use the given source;
    /// unset, the default run's; a folder (one seed's goals) is refused. --maml-promp-learning-rate
    /// replaces GMPS's schedule in maml-promp alone.
    @Test func aComparisonsExpertsReachEveryMethodThatImitates() {
        var config = ComparisonConfig(environment: .push)
        #expect(config.gmps(seed: 2).experts == GMPSConfig(environment: .push).experts)
        config.experts = .scripted
        #expect(config.gmps(seed: 2).experts == .scripted)
        #expect(config.maml(seed: 2, method: .mamlProMP).gmps.experts == .scripted)
        #expect(config.maml(seed: 2, method: .mamlProMP).gmps.learningRate == GMPSConfig().learningRate)
        // GMPS explores latent-only by default; MAML's outer policy gradient needs per-step noise,
        // so it draws the same latents with it.
        #expect(config.gmps(seed: 2).exploration == .latentOnly(latentStd: 1))
        #expect(config.maml(seed: 2, method: .mamlProMP).gmps.exploration == .perTrajectory(latentStd: 1))
        #expect(config.maml(seed: 2, method: .mamlProMP).problem() == nil)
        config.mamlProMPLearningRate = 1e-3
        let promp = config.maml(seed: 2, method: .mamlProMP).gmps
        #expect(promp.learningRate == 1e-3 && promp.finalLearningRate == 1e-3, "constant when given")
        #expect(config.maml(seed: 2, method: .mamlPG).gmps.learningRate == config.mamlLearningRate)
        (config.mamlOuterSteps, config.mamlOuterClip) = (5, 0.1)
        let stepped = config.maml(seed: 2, method: .mamlProMP)
        #expect(stepped.gmps.outerSteps == 5 && stepped.outerClip == 0.1, "ProMP's outer steps and clip reach it")
        config.mamlOuterSteps = 0
        #expect(config.problem()?.contains("--maml-promp-outer-steps") == true)
        (config.mamlOuterSteps, config.mamlOuterClip) = (3, 1)
        #expect(config.problem()?.contains("--maml-promp-clip") == true)
        config.mamlOuterClip = 0.2
        var scratch = config.maml(seed: 2, method: .mamlProMPScratch)
        #expect(scratch == config.maml(seed: 2, method: .mamlProMP), "with a rate given, maml-promp-scratch differs in its start alone")
        config.mamlProMPLearningRate = nil
        scratch = config.maml(seed: 2, method: .mamlProMPScratch)
        #expect(scratch.gmps.learningRate == config.mamlLearningRate && scratch.gmps.finalLearningRate == config.mamlLearningRate,
                "from random parameters, MAML-PG's rate")
        scratch.gmps.learningRate = GMPSConfig().learningRate
        scratch.gmps.finalLearningRate = GMPSConfig().finalLearningRate
        #expect(scratch == config.maml(seed: 2, method: .mamlProMP), "and otherwise maml-promp's settings")
        config.methods = [.mamlProMPScratch]
        #expect(config.problem() == nil, "it needs no GMPS run")
        #expect(!ComparisonConfig(environment: .push).methods.contains(.mamlProMPScratch), "asked for by name")
        config.experts = .folder("/runs/push-experts")
        #expect(config.problem()?.contains("scripted or sac, not a folder") == true)
    }

    @Test func expertSourcesRoundTripAsTheirCommandLineWords() throws {
        for text in ["scripted", "sac", "sac:goal-conditioned", "/runs/push-experts"] {
            let source = ExpertSource(text)
            #expect(source.description == text)
            #expect(try JSONDecoder().decode(ExpertSource.self, from: JSONEncoder().encode(source)) == source)
        }
        #expect(ExpertSource("sac:per-task") == .sac(.perTask))
        var config = GMPSConfig()
        config.demoOnlyTasks = 0.5
        #expect(config.invalidSetting()?.field == "demoOnlyTasks", "demo-only tasks need a dataset")
    }

    @Test func anEmptyFileIsTheDefaultConfiguration() throws {
        // Except the code anchor: a file without its weight was written before it existed.
        var defaults = GMPSConfig()
        defaults.codeAnchorWeight = 0
        #expect(try JSONDecoder().decode(GMPSConfig.self, from: Data("{}".utf8)) == defaults)
        let baseline = try JSONDecoder().decode(BaselineConfig.self, from: Data(#"{"algorithm": "expert"}"#.utf8))
        #expect(baseline == BaselineConfig(algorithm: .expert))
    }

    /// Door's default run trains its experts longer; a door config.json written with the old
    /// budget keeps it.
    @Test func theExpertBudgetIsTheEnvironmentsAndAWrittenOneIsKept() throws {
        #expect(GMPSConfig(environment: .push).expertSteps == 40_000)
        #expect(GMPSConfig(environment: .reach).expertSteps == 40_000)
        #expect(GMPSConfig(environment: .door).expertSteps == 100_000)
        var old = GMPSConfig()
        old.environment = .door
        let written = try JSONEncoder().encode(old)
        #expect(try JSONDecoder().decode(GMPSConfig.self, from: written).expertSteps == 40_000)
        // Push's default run collects more demonstrations; a push run written before keeps its 5.
        #expect(GMPSConfig(environment: .push).demosPerTask == 10)
        #expect(GMPSConfig(environment: .reach).demosPerTask == 5 && GMPSConfig(environment: .door).demosPerTask == 5)
        old.environment = .push
        #expect(try JSONDecoder().decode(GMPSConfig.self, from: JSONEncoder().encode(old)).demosPerTask == 5)
    }

    @Test func aSettingOutOfRangeIsNamedByItsKey() {
        var config = GMPSConfig()
        #expect(config.invalidSetting() == nil)
        config.trajectoriesPerTask = 1
        #expect(config.invalidSetting()?.field == "trajectoriesPerTask")
        #expect(config.invalidSetting()?.sentence(naming: "--trajectories")
                == "--trajectories must be at least 2: advantages need more than one rollout; got 1.")
        config = GMPSConfig()
        config.imageWidth = 8
        #expect(config.problem() == "imageWidth 48x8 is too small for the policy's three convolutions; use at least 16x16 (default 48x64).")
    }
}
