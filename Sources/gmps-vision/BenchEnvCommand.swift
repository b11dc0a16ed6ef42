import ArgumentParser
import Foundation
import VisionEnvs

/// `gmps-vision bench env`: control steps per second of an environment, without and with the
/// policy's frame, on one thread and on every core.
struct BenchEnvCommand: ParsableCommand, Benchmark {
    static let configuration = CommandConfiguration(
        commandName: "env",
        abstract: "Environment steps per second, with and without rendering, one thread and all cores.",
        discussion: """
            A step is one control step (5 MuJoCo steps) plus reward and success, under uniform \
            random actions, resetting with a fresh goal at the horizon. "With render" adds the \
            policy's 48x64 frame rendered into a Float32 CHW buffer every step. All cores: one \
            environment per thread, every thread stepping at once. Medians of several timed \
            repetitions; use a release build.
            """
    )

    static let defaultRepetitions = 5

    @OptionGroup var output: JSONOption

    @OptionGroup var environment: EnvironmentOrPushOption

    @Option(help: "Control steps per thread per repetition.") var steps = 20_000

    @OptionGroup var timing: RepetitionsOption<Self>

    @Option(help: "Threads for the all-cores figures (default: every active core).")
    var threads = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        guard steps >= 1, threads >= 1 else {
            throw ValidationError("--steps and --threads must be at least 1.")
        }
    }

    func run() throws {
        let name = environment.name, repetitions = timing.repetitions
        let single = try EnvWorkers(name, count: 1)
        let parallel = try EnvWorkers(name, count: threads)
        let stepsPerThread = steps
        let figures: [(key: String, value: Double)] = [
            ("steps_per_second", medianThroughput(repetitions: repetitions) {
                single.run(steps: stepsPerThread, render: false)
            }),
            ("steps_with_render_per_second", medianThroughput(repetitions: repetitions) {
                single.run(steps: stepsPerThread, render: true)
            }),
            ("steps_per_second_all_cores", medianThroughput(repetitions: repetitions) {
                parallel.run(steps: stepsPerThread, render: false)
            }),
            ("steps_with_render_per_second_all_cores", medianThroughput(repetitions: repetitions) {
                parallel.run(steps: stepsPerThread, render: true)
            }),
        ]
        if output.json {
            var object: [String: Any] = [
                "env": name.rawValue, "threads": threads, "image_height": VisionEnv.defaultImageHeight,
                "image_width": VisionEnv.defaultImageWidth, "steps_per_repetition": steps,
                "repetitions": repetitions, "frame_skip": 5,
            ]
            for (key, value) in figures { object[key] = value.rounded() }
            try printJSON(object)
            return
        }
        print("\(name): control steps/s (5 MuJoCo steps each), median of \(repetitions) x \(steps) steps per thread")
        for (key, value) in figures {
            print(key.padding(toLength: 42, withPad: " ", startingAt: 0) + String(Int(value.rounded())))
        }
        print("threads for the all-cores figures: \(threads)")
    }
}

/// One environment, CHW buffer and generator per thread, created before any timing.
/// Each thread touches only its own slot, so sharing the box across threads is safe.
private final class EnvWorkers: @unchecked Sendable {
    let envs: [VisionEnv]
    let buffers: [UnsafeMutableBufferPointer<Float>]
    let generators: UnsafeMutableBufferPointer<SplitMix64>
    let distribution: TaskDistribution

    init(_ name: EnvironmentName, count: Int) throws {
        envs = try (0..<count).map { _ in try VisionEnv(name) }
        buffers = envs.map { UnsafeMutableBufferPointer<Float>.allocate(capacity: $0.imageCount) }
        generators = .allocate(capacity: count)
        _ = generators.initialize(from: (0..<count).map { SplitMix64(seed: 7).split(UInt64($0)) })
        distribution = TaskDistribution(name)
    }

    deinit {
        for buffer in buffers { buffer.deallocate() }
        generators.deallocate()
    }

    /// `steps` steps on every worker at once; returns the total number of steps taken.
    func run(steps: Int, render: Bool) -> Int {
        if envs.count == 1 {
            work(0, steps: steps, render: render)
        } else {
            DispatchQueue.concurrentPerform(iterations: envs.count) { work($0, steps: steps, render: render) }
        }
        return steps * envs.count
    }

    private func work(_ worker: Int, steps: Int, render: Bool) {
        let env = envs[worker]
        var generator = generators[worker]
        for _ in 0..<steps {
            let action = SIMD3(Float.random(in: -1...1, using: &generator), Float.random(in: -1...1, using: &generator),
                               Float.random(in: -1...1, using: &generator))
            // Finite actions of the right size: step cannot throw here.
            let done = (try? env.step(action))?.done ?? true
            if render { env.renderObservation(into: buffers[worker]) }
            if done { try? env.reset(goal: distribution.sample(using: &generator)) }
        }
        generators[worker] = generator
    }
}
