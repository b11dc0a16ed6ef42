import ConvNet
import Foundation
import Testing
import VisionEnvs
@testable import GMPSVision

/// `reward: sparse` reaches every place a reward is computed: SAC's environment, the experts'
/// manifest, demonstrations, the meta-policy's rollouts, the scripted reference, and the run
/// directory's settings.
struct SparseRewardFlowTests {
    /// A reach goal 3 cm beside the gripper's start: random rollouts succeed at some steps and not at others.
    static func nearbyReachGoal() throws -> Goal {
        let hand = try ManipulationEnv(.reach).physics.handPosition
        return try Goal(.reach, [hand.x + 0.03, hand.y, hand.z])
    }

    @Test func rolloutsOfASparseConfigurationPayOneExactlyOnSuccessSteps() throws {
        var config = GMPSConfig.quick(.reach)
        (config.imageHeight, config.imageWidth, config.reward) = (24, 32, .sparse)
        let policy = try MetaPolicy(config: config)
        let resources = try ThreadResources(policy: policy, config: config, threads: 2, trajectories: 4, networkBatch: 1)
        #expect(resources.workers.allSatisfy { $0.reward == .sparse }, "every worker of a trainer or evaluator")
        let goal = try Self.nearbyReachGoal()
        var rng = SeededGenerator(seed: 4)
        let rollouts = try resources.workers[0].collect(goal: goal, parameters: policy.network.initialParameters(seed: 2),
                                                        exploration: .perStep, trajectories: 4, using: &rng)
        let (k, t) = (rollouts.trajectoryCount, rollouts.horizon)
        var paid = 0
        for trajectory in 0..<k {
            for step in 0..<t {
                let row = trajectory * t + step
                // The hand after this step: the next step's, or the final state's.
                let next = step + 1 < t ? Array(rollouts.hands[(3 * (row + 1))..<(3 * (row + 2))])
                                        : Array(rollouts.finalStates[(6 * trajectory)..<(6 * trajectory + 3)])
                let solved = ReachTask.isSuccess(hand: SIMD3(next.map(Double.init)), goal: SIMD3(goal.coordinates))
                #expect(rollouts.rewards[row] == (solved ? 1 : 0), "trajectory \(trajectory) step \(step)")
                paid += Int(rollouts.rewards[row])
            }
            #expect(rollouts.rewards[trajectory * t + t - 1] == (rollouts.successes[trajectory] ? 1 : 0))
        }
        #expect(paid > 0 && paid < k * t, "both kinds of step occur (\(paid) of \(k * t) paid)")
    }

    @Test func sacTrainsOnTheSparseRewardAtScaleOne() throws {
        #expect(ManipulationTrainingEnvironment.defaultRewardScale(.push, reward: .sparse) == 1)
        #expect(ManipulationTrainingEnvironment.defaultRewardScale(.push) == 0.1, "dense keeps its scale")
        let goal = try Goal(.push, [0.1, 0.8])
        let env = try ManipulationTrainingEnvironment(.push, goals: [goal], reward: .sparse)
        _ = try env.reset(evaluationTask: 0)
        let expert = ScriptedExpert(.push)
        var successes = 0
        for _ in 0..<env.horizon {
            let action = expert.action(for: env.env.privilegedState())
            let result = try env.step([action.x, action.y, action.z])
            #expect(result.reward == (result.success ? 1 : 0))
            successes += result.success ? 1 : 0
        }
        #expect(successes > 0, "the scripted pusher gets there")
    }

    @Test func sparseExpertsSayWhatTheyLearnedFrom() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gmps-sparse-experts-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let goals = try TaskDistribution(.reach).metaSplit(seed: 1, trainCount: 1, testCount: 0).train
        let manifest = try ExpertTraining(environment: .reach, mode: .perTask, goals: goals, stepsPerExpert: 150, seed: 1,
                                          config: smallSACConfig(), reward: .sparse, workers: 1).run(output: folder)
        #expect(manifest.reward == .sparse && manifest.rewardScale == 1)
        // A sparse return is the number of steps at which the task was solved.
        let episodeReturn = try #require(manifest.tasks.first?.episodeReturn)
        #expect(episodeReturn == episodeReturn.rounded() && (0...50).contains(episodeReturn))
        let json = try String(contentsOf: folder.appendingPathComponent(ExpertSet.manifestName), encoding: .utf8)
        #expect(json.contains("\"reward\" : \"sparse\""))
    }

    @Test func demosRecordSparseRewardsAndOnlyASparseManifestNamesTheReward() throws {
        let goals = try TaskDistribution(.push).metaSplit(seed: 0, trainCount: 1, testCount: 0).train
        var collection = DemoCollection(environment: .push, experts: .scripted(.push), expertsDescription: "scripted",
                                        goals: goals, episodesPerTask: 2, noiseStd: 0.1, seed: 3,
                                        imageHeight: 12, imageWidth: 16, workers: 1)
        #expect(collection.emptyManifest.reward == nil, "a dense dataset's demos.json is as it was")
        collection.reward = .sparse
        #expect(collection.emptyManifest.reward == .sparse)
        let task = try #require(try collection.tasks().first)
        #expect(task.rewards.allSatisfy { $0 == 0 || $0 == 1 } && task.rewards.contains(1))
        for episode in 0..<task.episodes {
            #expect(task.rewards[episode * task.episodeLength + task.episodeLength - 1] == (task.successes[episode] ? 1 : 0))
        }
    }

    @Test func theScriptedReferenceReturnCountsSolvedSteps() throws {
        let goals = try TaskDistribution(.door).metaSplit(seed: 2, trainCount: 0, testCount: 2).test
        let sparse = try ExpertEvaluation.evaluate(environment: .door, goals: goals, draws: 1, reward: .sparse)
        let dense = try ExpertEvaluation.evaluate(environment: .door, goals: goals, draws: 1)
        for (s, d) in zip(sparse, dense) {
            #expect(s.preSuccess == d.preSuccess && s.preFinalDistance == d.preFinalDistance, "success unchanged")
            #expect(s.preReturn == s.preReturn.rounded() && s.preReturn <= 100 && s.preReturn != d.preReturn)
            if s.preSuccess { #expect(s.preReturn >= 1) }
        }
    }

    // MARK: The run directory

    @Test func aConfigWrittenBeforeTheSettingLoadsAsDense() throws {
        let run = try PipelineTests.temporaryRun()
        defer { try? FileManager.default.removeItem(at: run.url) }
        let config = PipelineTests.config(iterations: 1)
        var object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(config)) as? [String: Any])
        #expect(object.removeValue(forKey: "reward") as? String == "dense")
        try run.write(try JSONSerialization.data(withJSONObject: object), to: RunDirectory.configFile)
        #expect(try run.storedConfiguration(GMPSConfig.self) == config)

        object["reward"] = "medium"
        try run.write(try JSONSerialization.data(withJSONObject: object), to: RunDirectory.configFile)
        let refusal = RunDirectoryTests.failure { _ = try run.storedConfiguration(GMPSConfig.self) }
        #expect(refusal.contains("reward: must be dense or sparse; got \"medium\""), "\(refusal)")
    }

    @Test func continuingWithAnotherRewardIsRefused() throws {
        let run = try PipelineTests.temporaryRun()
        defer { try? FileManager.default.removeItem(at: run.url) }
        var config = PipelineTests.config(iterations: 1)
        config.reward = .sparse
        _ = try run.settle(config, mayChange: ["iterations", "threads"], hint: "")
        var dense = config
        dense.reward = .dense
        do {
            _ = try run.settle(dense, mayChange: ["iterations", "threads"], hint: "")
            Issue.record("another reward was accepted")
        } catch let RunDirectory.Failure.settingsDiffer(_, changes, _) {
            #expect(changes == [SettingChange(key: "reward", old: "\"sparse\"", new: "\"dense\"")])
        }
        #expect(try run.storedConfiguration(GMPSConfig.self)?.reward == .sparse)
    }
}
