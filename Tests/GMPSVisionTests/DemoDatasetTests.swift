import Foundation
import Testing
import VisionEnvs
@testable import GMPSVision

struct DemoDatasetTests {
    /// A small synthetic dataset: 2 tasks of reach, 2 episodes each, 4x5 images.
    static func synthetic() throws -> DemoDataset {
        let env = EnvironmentName.reach
        let goals = [try Goal(.reach, [0.1, 0.8, 0.1]), try Goal(.reach, [-0.1, 0.75, 0.2])]
        let (t, e, s, h, w) = (env.horizon, 2, env.privilegedStateDimension, 4, 5)
        let n = t * e
        let tasks = goals.enumerated().map { k, goal in
            DemoTask(goal: goal, episodeLength: t,
                     images: (0..<(n * 3 * h * w)).map { UInt8(truncatingIfNeeded: $0 * 7 + k) },
                     hands: (0..<(n * 3)).map { Float($0) * 0.01 }, states: (0..<(n * s)).map { Float($0) * 0.001 + Float(k) },
                     actions: (0..<(n * 3)).map { Float(($0 % 7) - 3) / 3 }, executedActions: (0..<(n * 3)).map { Float($0 % 5) / 5 },
                     rewards: (0..<n).map { -Float($0) / 100 }, successes: [true, k == 0])
        }
        let manifest = DemoDataset.Manifest(
            env: env, image: .init(height: h, width: w), stateDimension: s, actionDimension: 3, episodeLength: t,
            episodesPerTask: e, noiseStd: 0.3, experts: "scripted", seed: 1,
            tasks: tasks.enumerated().map { .init(task: $0, goal: $1.goal, file: DemoDataset.fileName(task: $0), episodes: e,
                                                  steps: n, successRate: $1.successRate) })
        return DemoDataset(manifest: manifest, tasks: tasks)
    }

    static func folder() -> URL {
        URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("demos-\(UUID().uuidString)")
    }

    /// `--demo-episodes successful` keeps the successful episodes' steps, in order; a task with no
    /// successful episode keeps all of them, and `all` keeps everything.
    @Test func successfulEpisodesAreKeptWithTheirOwnStepsAndLabels() throws {
        let tasks = try Self.synthetic().tasks, t = EnvironmentName.reach.horizon
        let half = tasks[1]   // episode 0 succeeded, episode 1 did not
        let kept = half.imitationData(keeping: .successful)
        #expect(kept.count == t)
        #expect(kept.images == Array(half.images[0..<(t * half.imageSize)]))
        #expect(kept.hands == Array(half.hands[0..<(3 * t)]) && kept.actions == Array(half.actions[0..<(3 * t)]))
        #expect(half.imitationData(keeping: .all).count == 2 * t)
        #expect(tasks[0].imitationData(keeping: .successful).actions == tasks[0].actions, "both episodes succeeded")
        var none = half
        none.successes = [false, false]
        #expect(none.imitationData(keeping: .successful).images == half.images, "no successful episode: all kept")
    }

    @Test func datasetRoundTripsThroughDisk() throws {
        let dataset = try Self.synthetic(), dir = Self.folder()
        try dataset.write(to: dir)
        let loaded = try DemoDataset.load(from: dir, expecting: (.reach, 4, 5))
        #expect(loaded.manifest == dataset.manifest)
        #expect(loaded.tasks == dataset.tasks)
        var pixels = [Float](repeating: 0, count: 60)
        pixels.withUnsafeMutableBufferPointer { loaded.tasks[1].image(2, into: $0) }
        #expect(pixels[0] == Float(dataset.tasks[1].images[120]) / 255)
        let imitation = loaded.tasks[1].imitationData
        #expect(imitation.count == loaded.tasks[1].steps && imitation.imageCount == 60 && imitation.actions == dataset.tasks[1].actions)
        let batch = loaded.tasks[1].minibatch([2, 0])
        #expect(Array(batch.images[0..<60]) == pixels)
        #expect(batch.hands == Array(dataset.tasks[1].hands[6..<9] + dataset.tasks[1].hands[0..<3]))
        #expect(batch.actions == Array(dataset.tasks[1].actions[6..<9] + dataset.tasks[1].actions[0..<3]))
    }

    @Test func truncatedTaskFileIsRejected() throws {
        let dir = Self.folder()
        try Self.synthetic().write(to: dir)
        let file = dir.appendingPathComponent("task-001.safetensors")
        let bytes = try Data(contentsOf: file)
        try bytes.prefix(bytes.count - 100).write(to: file)
        #expect { try DemoDataset.load(from: dir) } throws: { error in
            guard case DemoDatasetError.truncated(let path, _) = error else { return false }
            return path.hasSuffix("task-001.safetensors")
        }
        try Data([1, 2, 3]).write(to: file)
        #expect { try DemoDataset.load(from: dir) } throws: { ($0 as? DemoDatasetError).map { if case .truncated = $0 { true } else { false } } ?? false }
    }

    @Test func corruptManifestAndHeaderAreRejected() throws {
        let dir = Self.folder()
        try Self.synthetic().write(to: dir)
        let manifest = dir.appendingPathComponent(DemoDataset.manifestName)
        let good = try Data(contentsOf: manifest)
        try Data("{\"format\": \"gmps-vision-demos\"".utf8).write(to: manifest)
        #expect { try DemoDataset.load(from: dir) } throws: { ($0 as? DemoDatasetError).map { if case .corrupt = $0 { true } else { false } } ?? false }
        try good.write(to: manifest)
        // Garbage in a task file's JSON header.
        let file = dir.appendingPathComponent("task-000.safetensors")
        var bytes = try Data(contentsOf: file)
        bytes[9] = UInt8(ascii: "#")
        try bytes.write(to: file)
        #expect { try DemoDataset.load(from: dir) } throws: { ($0 as? DemoDatasetError).map { if case .corrupt = $0 { true } else { false } } ?? false }
        try FileManager.default.removeItem(at: file)
        #expect(throws: DemoDatasetError.notFound(path: file.path)) { try DemoDataset.load(from: dir) }
    }

    @Test func mismatchedDatasetsAreRejected() throws {
        let dir = Self.folder()
        var dataset = try Self.synthetic()
        try dataset.write(to: dir)
        // Another environment or image size than the run wants.
        #expect { try DemoDataset.load(from: dir, expecting: (.push, 4, 5)) } throws: { ($0 as? DemoDatasetError).map { if case .mismatch = $0 { true } else { false } } ?? false }
        #expect { try DemoDataset.load(from: dir, expecting: (.reach, 48, 64)) } throws: { ($0 as? DemoDatasetError).map { if case .mismatch = $0 { true } else { false } } ?? false }
        // A manifest that promises a different image size than the files hold.
        dataset.manifest.image = .init(height: 5, width: 4)
        try DemoDataset.writeManifest(dataset.manifest, to: dir)
        #expect { try DemoDataset.load(from: dir) } throws: { ($0 as? DemoDatasetError).map { if case .mismatch = $0 { true } else { false } } ?? false }
        // Task files swapped: goals no longer match the manifest.
        dataset = try Self.synthetic()
        try dataset.write(to: dir)
        dataset.manifest.tasks.swapAt(0, 1)
        dataset.manifest.tasks[0].task = 0; dataset.manifest.tasks[1].task = 1
        try DemoDataset.writeManifest(dataset.manifest, to: dir)
        #expect { try DemoDataset.load(from: dir) } throws: { ($0 as? DemoDatasetError).map { if case .mismatch = $0 { true } else { false } } ?? false }
        // A newer format version.
        dataset = try Self.synthetic()
        dataset.manifest.version = 99
        try DemoDataset.writeManifest(dataset.manifest, to: dir)
        #expect { try DemoDataset.load(from: dir) } throws: { ($0 as? DemoDatasetError).map { if case .unsupportedVersion = $0 { true } else { false } } ?? false }
    }
}
