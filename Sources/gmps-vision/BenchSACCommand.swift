import ArgumentParser
import ConvNet
import Foundation
import GMPSVision

/// `gmps-vision bench sac`: SAC gradient updates per second on synthetic transitions, the
/// counterpart of the PyTorch peer `torch_sac.py` (same sizes, same threads, same timing).
struct BenchSACCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sac",
        abstract: "SAC gradient updates per second on synthetic data (state 9, action 3).",
        discussion: """
            One update is what an expert's training does per step: twin critics against Polyak \
            targets, the tanh-squashed Gaussian actor, the entropy temperature, the target \
            averaging, on a batch sampled from a replay buffer of 100,000 random transitions. \
            Like torch_sac.py: 50 untimed updates, then 5 rounds of 200 (--updates), median \
            round. Use a release build.
            """
    )

    // The sizes of torch_sac.py's arguments, and the length of a timed round.
    @Option(help: "Width of each of the two hidden layers of the actor and the critics.") var hidden = 64
    @Option(help: "Transitions per update.") var batch = 128
    @Option(help: "Workers a batch is split over (1: everything on the calling thread).") var threads = 1
    @Option(help: "Updates per timed round (5 rounds; 50 untimed updates first).") var updates = 200

    @OptionGroup var output: JSONOption

    static let stateDimension = 9, actionDimension = 3, transitions = 100_000
    static let warmUpdates = 50, rounds = 5

    func validate() throws {
        guard (1...4096).contains(hidden) else { throw ValidationError("--hidden must be between 1 and 4096; got \(hidden).") }
        guard (1...65536).contains(batch) else { throw ValidationError("--batch must be between 1 and 65536; got \(batch).") }
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be between 1 and 256; got \(threads).") }
        guard (1...100_000).contains(updates) else { throw ValidationError("--updates must be between 1 and 100000; got \(updates).") }
    }

    func run() throws {
        var config = SACConfig()
        config.hidden = [hidden, hidden]
        config.batchSize = batch
        let (s, a) = (Self.stateDimension, Self.actionDimension)
        let learner = try SACLearner(config: config, stateDimension: s, actionDimension: a, seed: 1, threads: threads)
        var rng = SeededGenerator(seed: 2)
        var buffer = ReplayBuffer(capacity: Self.transitions, stateDimension: s, actionDimension: a)
        for _ in 0..<Self.transitions {
            buffer.append(state: (0..<s).map { _ in rng.nextGaussian() }, action: (0..<a).map { _ in 2 * rng.nextUniformFloat() - 1 },
                          reward: rng.nextGaussian(), nextState: (0..<s).map { _ in rng.nextGaussian() })
        }
        for _ in 0..<Self.warmUpdates { try learner.update(buffer.sample(batch, using: &rng), using: &rng) }
        var rates: [Double] = []
        for _ in 0..<Self.rounds {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<updates { try learner.update(buffer.sample(batch, using: &rng), using: &rng) }
            rates.append(Double(updates) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9))
        }
        let rate = (median(rates) * 10).rounded() / 10
        let load = oneMinuteLoadAverage()
        if output.json {
            try printJSON(["updates_per_second": rate, "hidden": hidden, "batch": batch, "threads": threads,
                           "blas_core": BLAS.coreName, "load_average_1min": load ?? -1])
        } else {
            print(String(format: "SAC, hidden %d x 2, batch %d, %d thread(s): %.1f updates/s (median of %d rounds of %d)",
                         hidden, batch, threads, rate, Self.rounds, updates)
                  + (load.map { String(format: ", load average %.2f", $0) } ?? ""))
        }
    }
}
