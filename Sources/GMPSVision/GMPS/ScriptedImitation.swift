import VisionEnvs

/// Demonstrations from a scripted expert collected in memory: for each goal, `episodes`
/// rollouts with Gaussian noise of `noise` on the executed action and the expert's clean action
/// as the label (FINDINGS.md: noiseless demos from one start state are all identical).
public func scriptedImitationData(environment: EnvironmentName, goals: [Goal], episodes: Int, noise: Float,
                                  imageHeight: Int, imageWidth: Int, threads: Int,
                                  seed: UInt64) throws -> [ImitationData] {
    let expert = ScriptedExpert(environment)
    let results = ResultSlots<ImitationData>(count: goals.count)
    let environments = try (0..<max(threads, 1)).map { _ in
        try VisionEnv(environment, imageHeight: imageHeight, imageWidth: imageWidth)
    }
    try parallelForEach(goals.count, workers: threads) { worker, task in
        let env = environments[worker]
        var rng = SeededGeneratorStream.make(seed: seed, stream: UInt64(task))
        var data = ImitationData(imageCount: env.imageCount)
        var frame = [Float](repeating: 0, count: env.imageCount)
        var frameBytes = [UInt8](repeating: 0, count: env.imageCount)
        for _ in 0..<episodes {
            try env.reset(goal: goals[task])
            for _ in 0..<env.horizon {
                frame.withUnsafeMutableBufferPointer { env.renderObservation(into: $0) }
                frame.withUnsafeBufferPointer { pixels in
                    frameBytes.withUnsafeMutableBufferPointer { FrameBytes.quantize(pixels, into: $0) }
                }
                let label = expert.action(for: env.privilegedState())
                let hand = env.handPosition
                data.append(image: frameBytes[...],
                            hand: [hand.x, hand.y, hand.z][...], action: [label.x, label.y, label.z])
                let executed = label + noise * SIMD3(rng.nextGaussian(), rng.nextGaussian(), rng.nextGaussian())
                try env.step(executed)
            }
        }
        results[task] = data
    }
    return results.values.compactMap { $0 }
}

import ConvNet

/// Seeded streams for collection jobs.
enum SeededGeneratorStream {
    static func make(seed: UInt64, stream: UInt64) -> SeededGenerator {
        SeededGenerator(seed: seed).split(stream: stream)
    }
}
