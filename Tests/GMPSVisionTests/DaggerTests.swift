import ConvNet
import Testing
import VisionEnvs
@testable import GMPSVision

/// DAgger's two promises: relabelled states carry the expert's action for their own state, and
/// an outer minibatch holds at most `daggerShare` of them (FINDINGS.md: uncapped DAgger
/// collapsed exploration).
struct DaggerTests {
    /// A task's data whose every action is `marker` (to tell demos from DAgger rows in a batch).
    static func data(samples: Int, imageCount: Int, marker: Float) -> ImitationData {
        ImitationData(images: [UInt8](repeating: 7, count: samples * imageCount),
                      hands: [Float](repeating: 0.1, count: samples * 3),
                      actions: [Float](repeating: marker, count: samples * 3), imageCount: imageCount)
    }

    @Test func anOuterMinibatchHoldsAtMostTheDaggerShareOfRelabelledStates() throws {
        var config = MetaTrainerTests.tinyConfig()
        config.demosPerTaskBatch = 8
        config.daggerShare = 0.25
        let imageCount = 3 * config.imageHeight * config.imageWidth
        let goals = try TaskDistribution(config.environment).metaSplit(seed: config.seed, trainCount: config.metaTrainTasks,
                                                                   testCount: 0).train
        let demos = goals.map { _ in Self.data(samples: 5, imageCount: imageCount, marker: 0.5) }
        var dagger = goals.map { _ in Self.data(samples: 40, imageCount: imageCount, marker: -0.5) }
        dagger[1] = ImitationData(imageCount: imageCount)
        let trainer = try MetaTrainer(config: config, goals: goals, demos: demos,
                                      experts: DaggerExperts(byTask: goals.map { _ in ScriptedExpert(config.environment) }),
                                      dagger: dagger)
        var rng = SeededGenerator(seed: 4)
        func rows(_ batch: ImitationBatch, marker: Float) -> Int {
            stride(from: 0, to: batch.actions.count, by: 3).filter { batch.actions[$0] == marker }.count
        }
        let mixed = trainer.imitationBatch(task: 0, dagger: true, using: &rng)
        #expect(mixed.count == 8 && rows(mixed, marker: -0.5) == 2 && rows(mixed, marker: 0.5) == 6,
                "a quarter of 8 from DAgger, however much DAgger data there is")
        let before = trainer.imitationBatch(task: 0, dagger: false, using: &rng)
        #expect(rows(before, marker: -0.5) == 0, "before DAgger starts, demonstrations only")
        let none = trainer.imitationBatch(task: 1, dagger: true, using: &rng)
        #expect(none.count == 8 && rows(none, marker: 0.5) == 8, "a task without relabelled states keeps a full batch of demos")
    }

    @Test func relabelledStatesCarryTheExpertsActionForTheirOwnState() throws {
        let (k, t, s, imageCount) = (2, 3, 4, 6)
        let n = k * t
        let states = (0..<(n * s)).map { Float($0) / 10 }
        let rollouts = TaskRollouts(
            goal: try Goal(.reach, [0, 0.8, 0.15]), trajectoryCount: k, horizon: t,
            hands: (0..<(n * 3)).map { Float($0) }, headInputs: [], actions: [Float](repeating: 9, count: n * 3),
            logProbabilities: [Float](repeating: 0, count: n), rewards: [Float](repeating: 0, count: n),
            states: states, images: (0..<(n * imageCount)).map { UInt8($0 % 256) },
            successes: [false, false], finalStates: [], latents: nil, latentMean: nil)
        // An expert whose action names the state it saw.
        let data = rollouts.relabelled(imageCount: imageCount, stateCount: s) { state in [state[0], state[1], -state[3]] }
        #expect(data.count == n)
        for row in 0..<n {
            #expect(Array(data.actions[(row * 3)..<((row + 1) * 3)]) == [states[row * s], states[row * s + 1], -states[row * s + 3]])
            #expect(Array(data.hands[(row * 3)..<((row + 1) * 3)]) == Array(rollouts.hands[(row * 3)..<((row + 1) * 3)]))
            #expect(Array(data.images[(row * imageCount)..<((row + 1) * imageCount)])
                    == Array(rollouts.images[(row * imageCount)..<((row + 1) * imageCount)]))
        }
        var unrecorded = rollouts
        unrecorded.images = []
        #expect(unrecorded.relabelled(imageCount: imageCount, stateCount: s) { _ in [0, 0, 0] }.isEmpty,
                "no frames, nothing to imitate")
    }
}
