import ArgumentParser
import ConvNet
import Foundation

/// `gmps-vision bench convnet`: images per second of the networks, forward and training.
struct BenchConvNetCommand: ParsableCommand, Benchmark {
    static let configuration = CommandConfiguration(
        commandName: "convnet",
        abstract: "Images per second of the reference CNN and the vision policy (forward, training step).",
        discussion: """
            Reference CNN of DESIGN.md section 5: 3x64x64 → conv 32 k5 s2 → conv 32 k3 → conv 32 k3 \
            (ReLU, VALID) → FC 256 → FC 256 → 4; a training step is forward, MSE, backward and Adam. \
            Reports the median of several timed repetitions after a warm-up. The conv layers' GFLOP/s \
            come from per-stage timers of worker 0 during batch-64 passes. --json reports the \
            reference CNN only.
            """
    )

    static let defaultRepetitions = 5

    @OptionGroup var output: JSONOption

    @Option(help: "Workers a batch is split over (OpenBLAS itself runs one thread per worker).") var threads = 2

    @OptionGroup var timing: RepetitionsOption<Self>

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1; got \(threads).") }
    }

    var repetitions: Int { timing.repetitions }

    func run() throws {
        let reference = try Network(spec: .referenceCNN(), threads: threads)
        let fwd1 = try forwardRate(reference, batch: 1, iterations: 200)
        let fwd64 = try forwardRate(reference, batch: 64, iterations: 10)
        let train64 = try trainRate(reference, batch: 64, iterations: 4)
        let train256 = try trainRate(reference, batch: 256, iterations: 1)
        let conv = try convProfile(reference, batch: 64)
        // The fraction's denominator, measured in the same minutes on the same workers.
        let peak = BLAS.measuredSGEMMGFLOPs(workers: threads)
        if output.json {
            try printJSON([
                "network": "reference_cnn", "threads": threads, "blas_threads": BLAS.threads, "blas_core": BLAS.coreName,
                "repetitions": repetitions,
                "forward_b1_images_per_second": fwd1.wall.rounded(),
                "forward_b64_images_per_second": fwd64.wall.rounded(),
                "train_b64_images_per_second": train64.wall.rounded(),
                "train_b256_images_per_second": train256.wall.rounded(),
                "forward_b1_images_per_cpu_second": fwd1.perCPUSecond.rounded(),
                "forward_b64_images_per_cpu_second": fwd64.perCPUSecond.rounded(),
                "train_b64_images_per_cpu_second": train64.perCPUSecond.rounded(),
                "train_b256_images_per_cpu_second": train256.perCPUSecond.rounded(),
                "conv_forward_gflops": (conv.forward * 10).rounded() / 10,
                "conv_backward_gflops": (conv.backward * 10).rounded() / 10,
                "conv_forward_fraction_of_peak": (conv.forward / peak * 1000).rounded() / 1000,
                "conv_backward_fraction_of_peak": (conv.backward / peak * 1000).rounded() / 1000,
                "sgemm_peak_gflops": (peak * 10).rounded() / 10,
                "load_average_1min": oneMinuteLoadAverage() ?? -1,
            ])
            return
        }
        print("ConvNet, \(threads) worker(s), OpenBLAS \(BLAS.threads) thread(s) each (\(BLAS.coreName) kernels), median of \(repetitions) repetitions"
              + (oneMinuteLoadAverage().map { String(format: ", load average %.2f (other processes slow every figure)", $0) } ?? ""))
        print("")
        // No fixed PyTorch figures here: on a shared host they move by ±30% from minute to minute;
        // scripts/side-by-side.sh times both in the same minutes.
        print("reference CNN (3x64x64 → 3 conv → FC 256 → FC 256 → 4)     images/s   per CPU-s")
        row("  forward, batch 1", fwd1)
        row("  forward, batch 64", fwd64)
        row("  train step (MSE + Adam), batch 64", train64)
        row("  train step (MSE + Adam), batch 256", train256)
        print(String(format: "  conv layers: forward %.1f GFLOP/s, backward %.1f GFLOP/s (%.0f%% and %.0f%% of the %.0f GFLOP/s",
                     conv.forward, conv.backward, 100 * conv.forward / peak, 100 * conv.backward / peak, peak)
              + " OpenBLAS sgemm reaches on 1024³ products on \(threads) worker(s) now)")
        print("")
        let policy = try Network(spec: .visionPolicy(), threads: threads)
        print("vision policy (3x48x64 → 3 conv → spatial softmax → FC 100 → FC 100 → 3)")
        row("  forward, batch 1", try forwardRate(policy, batch: 1, iterations: 500))
        row("  forward, batch 64", try forwardRate(policy, batch: 64, iterations: 20))
        row("  train step (MSE + Adam), batch 64", try trainRate(policy, batch: 64, iterations: 10))
        print("")
        let split = try trainSplit(reference, batch: 64)
        print(String(format: "reference-CNN training step at batch 64: forward %.1f ms, backward %.1f ms, Adam %.1f ms (medians)",
                     split.forward * 1e3, split.backward * 1e3, split.adam * 1e3))
        print("where its forward and backward spend time (worker 0 in batch-parallel stages, wall time in dense ones):")
        for (stage, seconds, share) in try trainingProfile(reference, batch: 64) {
            print("  " + stage.padding(toLength: 28, withPad: " ", startingAt: 0)
                  + String(format: "%7.2f ms  %5.1f%%", seconds * 1e3, 100 * share))
        }
    }

    private func row(_ label: String, _ rate: Rate) {
        print(label.padding(toLength: 60, withPad: " ", startingAt: 0)
              + String(Int(rate.wall.rounded())).padding(toLength: 11, withPad: " ", startingAt: 0)
              + String(Int(rate.perCPUSecond.rounded())))
    }

    // MARK: Inputs

    private struct Batch {
        var images: [Float]
        var extras: [Float]?
        var targets: [Float]
    }

    private func makeBatch(_ net: Network, batch: Int) -> Batch {
        var rng = SeededGenerator(seed: 1)
        let images = (0..<(batch * net.imageInputCount)).map { _ in rng.nextUniformFloat() }
        let extras = net.extraInputCount > 0 ? (0..<(batch * net.extraInputCount)).map { _ in rng.nextGaussian() } : nil
        let targets = (0..<(batch * net.outputCount)).map { _ in rng.nextGaussian() * 0.5 }
        return Batch(images: images, extras: extras, targets: targets)
    }

    // MARK: Measurements

    /// Median images per second of `work` (which returns images processed) over the repetitions.
    /// Wall-clock images/s (median of the repetitions) and images per CPU-second of this
    /// process over all of them: the second barely moves when other processes share the cores.
    struct Rate {
        var wall: Double
        var perCPUSecond: Double
    }

    private func median(_ work: () throws -> Int) throws -> Rate {
        _ = try work()
        var rates: [Double] = []
        var items = 0
        let cpuStart = cpuSeconds()
        for _ in 0..<repetitions {
            let start = DispatchTime.now().uptimeNanoseconds
            let n = try work()
            items += n
            rates.append(Double(n) / max(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, 1e-9))
        }
        let cpu = cpuSeconds() - cpuStart
        rates.sort()
        let m = rates.count / 2
        return Rate(wall: rates.count % 2 == 1 ? rates[m] : (rates[m - 1] + rates[m]) / 2,
                    perCPUSecond: Double(items) / max(cpu, 1e-9))
    }

    /// User + system CPU seconds of this process so far.
    private func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6
    }

    private func forwardRate(_ net: Network, batch: Int, iterations: Int) throws -> Rate {
        let theta = net.initialParameters(seed: 1)
        let ws = net.makeWorkspace(maxBatch: batch)
        let input = makeBatch(net, batch: batch)
        return try median {
            for _ in 0..<iterations {
                _ = try net.forward(parameters: theta, images: input.images, extras: input.extras, batch: batch, workspace: ws)
            }
            return iterations * batch
        }
    }

    private func trainRate(_ net: Network, batch: Int, iterations: Int) throws -> Rate {
        var theta = net.initialParameters(seed: 1)
        var adam = Adam(parameterCount: net.parameterCount, learningRate: 1e-4, threads: threads)
        var gradient = [Float](repeating: 0, count: net.parameterCount)
        let ws = net.makeWorkspace(maxBatch: batch)
        let input = makeBatch(net, batch: batch)
        return try median {
            for _ in 0..<iterations {
                let out = try net.forward(parameters: theta, images: input.images, extras: input.extras, batch: batch, workspace: ws)
                let (_, dOut) = try MSELoss.valueAndGradient(output: out, target: input.targets)
                try net.backward(parameters: theta, outputGradient: dOut, workspace: ws, into: &gradient)
                try adam.update(&theta, gradient: gradient)
            }
            return iterations * batch
        }
    }

    /// Median seconds of the parts of a training step.
    private func trainSplit(_ net: Network, batch: Int) throws -> (forward: Double, backward: Double, adam: Double) {
        var theta = net.initialParameters(seed: 1)
        var adam = Adam(parameterCount: net.parameterCount, learningRate: 1e-4, threads: threads)
        var gradient = [Float](repeating: 0, count: net.parameterCount)
        let ws = net.makeWorkspace(maxBatch: batch)
        let input = makeBatch(net, batch: batch)
        var times: [[Double]] = [[], [], []]
        for _ in 0..<(repetitions + 1) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let out = try net.forward(parameters: theta, images: input.images, extras: input.extras, batch: batch, workspace: ws)
            let (_, dOut) = try MSELoss.valueAndGradient(output: out, target: input.targets)
            let t1 = DispatchTime.now().uptimeNanoseconds
            try net.backward(parameters: theta, outputGradient: dOut, workspace: ws, into: &gradient)
            let t2 = DispatchTime.now().uptimeNanoseconds
            try adam.update(&theta, gradient: gradient)
            let t3 = DispatchTime.now().uptimeNanoseconds
            for (i, dt) in [t1 - t0, t2 - t1, t3 - t2].enumerated() { times[i].append(Double(dt) / 1e9) }
        }
        let medians = times.map { $0.dropFirst().sorted()[repetitions / 2] }
        return (medians[0], medians[1], medians[2])
    }

    /// Achieved GFLOP/s of the convolutions (all workers together), from worker 0's stage timers
    /// over a few batch-`batch` training passes. Backward counts dW and dX GEMMs (no dX for conv0).
    private func convProfile(_ net: Network, batch: Int) throws -> (forward: Double, backward: Double) {
        let passes = 3
        let profile = try profiledTrainingPasses(net, batch: batch, passes: passes)
        let geometries = try convGeometries(net.spec)
        let perImageForward = Double(geometries.reduce(0) { $0 + $1.forwardFlops })
        let perImageBackward = Double(geometries.enumerated().reduce(0) { $0 + $1.element.forwardFlops * ($1.offset == 0 ? 1 : 2) })
        let forwardSeconds = profile.filter { $0.stage.hasPrefix("conv") && $0.stage.hasSuffix("forward") }.reduce(0) { $0 + $1.seconds }
        let backwardSeconds = profile.filter { $0.stage.hasPrefix("conv") && $0.stage.hasSuffix("backward") }.reduce(0) { $0 + $1.seconds }
        // Worker 0 handled ceil(batch / threads) images per pass; the others ran alongside it.
        let imagesOnWorker0 = Double(passes * ((batch + threads - 1) / threads))
        let workers = Double(min(threads, batch))
        return (perImageForward * imagesOnWorker0 * workers / forwardSeconds / 1e9,
                perImageBackward * imagesOnWorker0 * workers / backwardSeconds / 1e9)
    }

    /// Worker 0's seconds per stage over `passes` batch-`batch` training passes (after a warm-up).
    private func profiledTrainingPasses(_ net: Network, batch: Int, passes: Int) throws -> [(stage: String, seconds: Double)] {
        let theta = net.initialParameters(seed: 1)
        let ws = net.makeWorkspace(maxBatch: batch)
        let input = makeBatch(net, batch: batch)
        var gradient = theta
        let dOut = [Float](repeating: 0.01, count: batch * net.outputCount)
        _ = try net.forward(parameters: theta, images: input.images, batch: batch, workspace: ws)
        ws.profiling = true
        defer { ws.profiling = false }
        for _ in 0..<passes {
            _ = try net.forward(parameters: theta, images: input.images, batch: batch, workspace: ws)
            try net.backward(parameters: theta, outputGradient: dOut, workspace: ws, into: &gradient)
        }
        return ws.profile
    }

    /// Seconds per pass and share of the total per stage during batch-`batch` training passes.
    private func trainingProfile(_ net: Network, batch: Int) throws -> [(String, Double, Double)] {
        let passes = 3
        let profile = try profiledTrainingPasses(net, batch: batch, passes: passes)
        let total = profile.reduce(0) { $0 + $1.seconds }
        return profile.map { ($0.stage, $0.seconds / Double(passes), $0.seconds / max(total, 1e-12)) }
    }

    private func convGeometries(_ spec: NetworkSpec) throws -> [ConvGeometry] {
        guard let image = spec.image else { return [] }
        var (c, h, w) = (image.channels, image.height, image.width)
        return try spec.convolutions.map { conv in
            let g = try ConvGeometry(channels: c, height: h, width: w, outChannels: conv.outChannels,
                                     kernel: conv.kernel, stride: conv.stride, padding: conv.padding)
            (c, h, w) = (g.oc, g.oh, g.ow)
            return g
        }
    }
}
