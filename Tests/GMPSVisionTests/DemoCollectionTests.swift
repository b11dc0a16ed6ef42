import ConvNet
import Foundation
import Testing
import VisionEnvs
@testable import GMPSVision

struct DemoCollectionTests {
    static func collect(seed: UInt64, noise: Float = 0.3) throws -> (DemoDataset, URL) {
        let goals = try TaskDistribution(.push).metaSplit(seed: 0, trainCount: 2, testCount: 0).train
        let dir = DemoDatasetTests.folder()
        let collection = DemoCollection(environment: .push, experts: .scripted(.push), expertsDescription: "scripted",
                                        goals: goals, episodesPerTask: 2, noiseStd: noise, seed: seed,
                                        imageHeight: 12, imageWidth: 16, workers: 2)
        let manifest = try collection.run(output: dir)
        let dataset = try DemoDataset.load(from: dir, expecting: (.push, 12, 16))
        #expect(dataset.manifest == manifest)
        return (dataset, dir)
    }

    @Test func noisyEpisodesFromOneStartDifferWhileLabelsAreTheCleanExpertAction() throws {
        let (dataset, _) = try Self.collect(seed: 5)
        let task = dataset.tasks[0]
        let (t, s) = (task.episodeLength, 9)
        // Same start state, different paths.
        #expect(Array(task.states[0..<s]) == Array(task.states[(t * s)..<(t * s + s)]))
        #expect(Array(task.states[(10 * s)..<(11 * s)]) != Array(task.states[((t + 10) * s)..<((t + 10) * s + s)]))
        #expect(Array(task.images[0..<(3 * 12 * 16)]) == Array(task.images[(t * 576)..<(t * 576 + 576)]))
        // Every label is the scripted expert's clean action in the recorded state; the executed one is not.
        let expert = ScriptedExpert(.push)
        var executedDiffers = 0
        for i in 0..<task.steps {
            let a = try expert.cleanAction(for: Array(task.states[(i * s)..<((i + 1) * s)]))
            #expect([a.x, a.y, a.z] == Array(task.actions[(3 * i)..<(3 * i + 3)]))
            if Array(task.executedActions[(3 * i)..<(3 * i + 3)]) != [a.x, a.y, a.z] { executedDiffers += 1 }
        }
        #expect(executedDiffers == task.steps)
        // The hand in the image data and the state agree.
        #expect(Array(task.hands[0..<3]) == Array(task.states[0..<3]))
        #expect(try dataset.goals == TaskDistribution(.push).metaSplit(seed: 0, trainCount: 2, testCount: 0).train)
    }

    @Test func sameSeedGivesTheSameDatasetBytes() throws {
        let (_, a) = try Self.collect(seed: 7), (_, b) = try Self.collect(seed: 7), (_, c) = try Self.collect(seed: 8)
        for file in ["task-000.safetensors", "task-001.safetensors", DemoDataset.manifestName] {
            #expect(try Data(contentsOf: a.appendingPathComponent(file)) == Data(contentsOf: b.appendingPathComponent(file)), "\(file)")
        }
        let file = "task-001.safetensors"
        #expect(try Data(contentsOf: a.appendingPathComponent(file)) != Data(contentsOf: c.appendingPathComponent(file)))
    }
}
