import ConvNet
import Foundation
import Testing
import VisionEnvs
@testable import GMPSVision

struct ExpertsTests {
    static func tinyConfig() -> SACConfig {
        var config = smallSACConfig()
        config.randomSteps = 100; config.updateAfter = 64; config.evaluateEvery = 100
        return config
    }

    @Test func perTaskExpertsAreSavedEvaluatedAndLoadable() throws {
        let goals = try TaskDistribution(.reach).metaSplit(seed: 0, trainCount: 2, testCount: 0).train
        let dir = DemoDatasetTests.folder()
        let training = ExpertTraining(environment: .reach, mode: .perTask, goals: goals, stepsPerExpert: 200, seed: 1,
                                      config: Self.tinyConfig(), workers: 2)
        let manifest = try training.run(output: dir)
        #expect(manifest.experts.count == 2 && manifest.tasks.count == 2)
        #expect(manifest.experts.map(\.envSteps) == [200, 200])
        let curve = try String(contentsOf: dir.appendingPathComponent("expert-001.csv"), encoding: .utf8)
        #expect(curve.hasPrefix(LearningCurveRow.csvHeader))
        let set = try ExpertSet.resolve(dir.path, environment: .reach)
        #expect(set.mode == .perTask && set.goals == goals)
        // The loaded expert acts as evaluated: replaying it reproduces the manifest's figures.
        let env = try ManipulationEnv(.reach)
        for t in manifest.tasks {
            let (success, ret) = try ExpertTraining.evaluate(try set.expert(for: t.goal), goal: t.goal, in: env)
            #expect(success == t.success && ret == t.episodeReturn)
        }
        let expert = try set.expert(for: goals[0])
        let a = try expert.cleanAction(for: env.privilegedState())
        #expect([a.x, a.y, a.z].allSatisfy { abs($0) <= 1 })
        let batch = try expert.cleanActions(for: env.privilegedState() + env.privilegedState())
        // Batched and single forward passes may round differently (GEMM blocking), not more.
        let worst = batch.map { (v: SIMD3<Float>) -> Float in
            let d: SIMD3<Float> = v - a
            return max(abs(d.x), abs(d.y), abs(d.z))
        }.max() ?? 1
        #expect(batch.count == 2 && worst < 1e-5)
        // A goal it was not trained for has no per-task expert.
        #expect(throws: ExpertError.self) { try set.expert(for: try Goal(.reach, [0, 0.8, 0.15])) }
        #expect(throws: ExpertError.wrongStateSize(expected: 6, got: 2)) { try expert.cleanAction(for: [0, 1]) }
    }

    @Test func sameSeedGivesTheSameExpertFolderBytes() throws {
        let goals = try TaskDistribution(.push).metaSplit(seed: 0, trainCount: 2, testCount: 0).train
        func train(seed: UInt64) throws -> URL {
            let dir = DemoDatasetTests.folder()
            _ = try ExpertTraining(environment: .push, mode: .perTask, goals: goals, stepsPerExpert: 200, seed: seed,
                                   config: Self.tinyConfig(), workers: 2).run(output: dir)
            return dir
        }
        let (a, b, c) = (try train(seed: 4), try train(seed: 4), try train(seed: 5))
        for file in ["expert-000.safetensors", "expert-001.safetensors"] {
            #expect(try Data(contentsOf: a.appendingPathComponent(file)) == Data(contentsOf: b.appendingPathComponent(file)), "\(file)")
        }
        // Curves and manifest differ only in the seconds things took.
        let curve = { (url: URL) throws -> [String] in
            try String(contentsOf: url.appendingPathComponent("expert-001.csv"), encoding: .utf8)
                .split(separator: "\n").map { $0.split(separator: ",").dropLast().joined(separator: ",") }
        }
        #expect(try curve(a) == curve(b))
        let strip = { (url: URL) throws -> ExpertSet.Manifest in
            var m = try JSONDecoder().decode(ExpertSet.Manifest.self, from: Data(contentsOf: url.appendingPathComponent(ExpertSet.manifestName)))
            for i in m.experts.indices { m.experts[i].seconds = 0 }
            return m
        }
        #expect(try strip(a) == strip(b))
        #expect(try Data(contentsOf: a.appendingPathComponent("expert-000.safetensors"))
                != Data(contentsOf: c.appendingPathComponent("expert-000.safetensors")))
    }

    @Test func goalConditionedExpertServesEveryGoal() throws {
        let goals = try TaskDistribution(.reach).metaSplit(seed: 0, trainCount: 3, testCount: 0).train
        let dir = DemoDatasetTests.folder()
        let manifest = try ExpertTraining(environment: .reach, mode: .goalConditioned, goals: goals, stepsPerExpert: 200,
                                          seed: 1, config: Self.tinyConfig(), workers: 1).run(output: dir)
        #expect(manifest.experts.count == 1 && manifest.tasks.count == 3)
        let set = try ExpertSet.load(from: dir)
        #expect(set.mode == .goalConditioned)
        _ = try set.expert(for: try Goal(.reach, [0, 0.8, 0.15]))
    }

    @Test func brokenOrForeignExpertFoldersAreRejected() throws {
        let goals = try TaskDistribution(.reach).metaSplit(seed: 0, trainCount: 1, testCount: 0).train
        let dir = DemoDatasetTests.folder()
        _ = try ExpertTraining(environment: .reach, mode: .perTask, goals: goals, stepsPerExpert: 100, seed: 1,
                               config: Self.tinyConfig(), workers: 1).run(output: dir)
        #expect(throws: ExpertError.self) { try ExpertSet.resolve(dir.path, environment: .push) }
        let weights = dir.appendingPathComponent("expert-000.safetensors")
        let bytes = try Data(contentsOf: weights)
        try bytes.prefix(bytes.count / 2).write(to: weights)
        #expect { try ExpertSet.load(from: dir) } throws: { error in
            guard case ExpertError.badExpertFolder(_, let problem) = error else { return false }
            return problem.contains("expert-000.safetensors")
        }
        try Data("not json".utf8).write(to: dir.appendingPathComponent(ExpertSet.manifestName))
        #expect(throws: ExpertError.self) { try ExpertSet.load(from: dir) }
        #expect(throws: ExpertError.self) { try ExpertSet.load(from: DemoDatasetTests.folder()) }
    }

    @Test func scriptedExpertsServeAnyGoalAndCheckStateSize() throws {
        let set = try ExpertSet.resolve("scripted", environment: .door)
        let expert = try set.expert(for: try Goal(.door, [0.5]))
        let env = try ManipulationEnv(.door)
        #expect(try expert.cleanAction(for: env.privilegedState()) == ScriptedExpert(.door).action(for: env.privilegedState()))
        #expect(throws: ExpertError.wrongStateSize(expected: 8, got: 9)) { try expert.cleanAction(for: [Float](repeating: 0, count: 9)) }
    }
}
