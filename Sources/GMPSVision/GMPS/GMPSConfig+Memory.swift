import ConvNet
import Foundation
import VisionEnvs

/// The memory a configuration holds at once, estimated from its sizes before anything is
/// allocated: settings that cannot fit are refused with the estimate and the machine's memory,
/// instead of ending in an allocation failure or the kernel's OOM killer hours later.
///
/// A lower bound on purpose (it never refuses what fits): it counts the frames, the network
/// activations, the simulations and the samples of the largest stages, not allocator overhead
/// or the stages' temporaries.
public struct MemoryEstimate: Sendable {
    /// One stage's memory: its bytes, how they arise, and the `config.json` key of the setting
    /// that scales them most (the one a message names).
    public struct Part: Sendable {
        public var field: String
        public var bytes: Double
        public var formula: String
    }

    public var parts: [Part]

    public var total: Double { parts.reduce(0) { $0 + $1.bytes } }

    /// Bytes of one environment's MuJoCo model and state (mostly `mjData`'s arena): measured
    /// as 6.4 MB per rollout slot at 16x16 (meta-train with K = 400 against K = 20, one thread).
    public static let simulationBytes = 6_000_000.0
    /// Bytes per pixel of one environment's rasterizer: colour (4), inverse depth (4), object
    /// index (2) and shadow mask (1).
    public static let rasterizerBytesPerPixel = 11.0

    /// What this process may use: the machine's memory, or the container's limit when lower
    /// (cgroup v2 `memory.max`).
    public static var physicalMemory: Double {
        let machine = Double(ProcessInfo.processInfo.physicalMemory)
        guard let text = try? String(contentsOfFile: "/sys/fs/cgroup/memory.max", encoding: .utf8),
              let limit = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)), limit > 0 else { return machine }
        return min(machine, limit)
    }

    /// Bytes of a meta-test evaluation's goals and results: per goal the split's entry and its
    /// record, per draw and step a success, a return and a distance (with array overhead).
    public static func evaluation(goals: Int, draws: Int, steps: Int) -> Double {
        Double(goals) * (400 + Double(draws) * (100 + 17 * Double(steps)))
    }

    /// A sentence when an evaluation's results cannot fit in memory (`goalsOption` names the
    /// goal count's option), else nil.
    public static func evaluationProblem(goals: Int, draws: Int, steps: Int, goalsOption: String) -> String? {
        let (bytes, available) = (evaluation(goals: goals, draws: draws, steps: steps), physicalMemory)
        guard bytes > available else { return nil }
        return "\(goalsOption) \(goals) × --draws \(draws) × --adapt-steps \(steps) needs about \(describe(bytes)) "
            + "for the results, more than the \(describe(available)) this machine has; evaluate fewer."
    }

    /// The largest part, with the total, when the total exceeds `available` bytes; else nil.
    func exceeding(_ available: Double) -> (field: String, sentence: String)? {
        guard total > available, let largest = parts.max(by: { $0.bytes < $1.bytes }) else { return nil }
        return (largest.field, "needs about \(Self.describe(total)) of memory at once, the most for "
                + "\(largest.formula), more than the \(Self.describe(available)) this machine has; use a smaller value.")
    }

    /// "3.4 GB": bytes in decimal units, two significant digits.
    public static func describe(_ bytes: Double) -> String {
        let units = ["bytes", "kB", "MB", "GB", "TB", "PB", "EB"]
        var (value, unit) = (bytes, 0)
        while value >= 1000 && unit < units.count - 1 { (value, unit) = (value / 1000, unit + 1) }
        return unit == 0 ? "\(Int(value)) bytes" : String(format: value < 10 ? "%.1f %@" : "%.0f %@", value, units[unit])
    }
}

extension GMPSConfig {
    /// Memory of the stages that hold the most at once (DESIGN.md section 4's loop): the
    /// demonstrations, the rollout workers (K environments each, stepping in lockstep through
    /// the encoder at batch K), a meta-batch's rollouts, and the imitation minibatches'
    /// activations. Counts are products of settings, so the arithmetic is in Double (no overflow).
    public var memoryEstimate: MemoryEstimate {
        guard let policy = try? MetaPolicy(config: self) else { return MemoryEstimate(parts: []) }
        let float = Double(MemoryLayout<Float>.stride)
        let pixels = Double(imageHeight) * Double(imageWidth)
        let horizon = Double(environment.horizon)
        let (k, threads, tasks) = (Double(trajectoriesPerTask), Double(max(threads, 1)), Double(tasksPerIteration))

        // Demonstrations: uint8 frames, hand and expert action per step.
        let demoSteps = Double(metaTrainTasks) * Double(demosPerTask) * horizon
        let demos = MemoryEstimate.Part(
            field: Double(demosPerTask) / 5 > Double(metaTrainTasks) / 60 ? "demosPerTask" : "metaTrainTasks",
            bytes: demoSteps * (3 * pixels + 6 * float),
            formula: "demonstrations (\(metaTrainTasks) tasks × \(demosPerTask) episodes × \(environment.horizon) frames "
                + "of \(imageHeight)x\(imageWidth))")

        // Rollout workers: per rollout slot a simulation, a rasterizer, a Float frame and the
        // encoder's activations at batch K.
        let slot = MemoryEstimate.simulationBytes + MemoryEstimate.rasterizerBytesPerPixel * pixels + 3 * pixels * float
            + policy.network.workspaceBytesPerSample
        let workers = MemoryEstimate.Part(
            field: threads / 2 > k / 20 ? "threads" : "trajectoriesPerTask",
            bytes: threads * (k * slot + policy.network.workspaceScratchBytes),
            formula: "rollout workers (\(self.threads) threads × \(trajectoriesPerTask) rollouts in lockstep × "
                + "\(MemoryEstimate.describe(slot)) for each one's simulation, frame and activations)")

        // A meta-batch's rollouts (every step's head input, action, reward and state; frames
        // too once DAgger relabels them or the keypoints are refreshed) and the inner step's head activations on K·T samples.
        let perStep = Double(3 + policy.headInputCount + 2 * policy.actionCount + 4 + environment.privilegedStateDimension)
            * float + (daggerStartIteration == nil && featureRefreshEvery == 0 ? 0 : 3 * pixels)
        let rollouts = MemoryEstimate.Part(
            field: Double(tasksPerIteration) / 10 > Double(trajectoriesPerTask) / 20 ? "tasksPerIteration" : "trajectoriesPerTask",
            bytes: tasks * k * horizon * perStep + threads * (k * horizon * policy.head.workspaceBytesPerSample + policy.head.workspaceScratchBytes),
            formula: "a meta-batch's rollouts (\(tasksPerIteration) tasks × \(trajectoriesPerTask) rollouts × "
                + "\(environment.horizon) steps)")

        // Imitation minibatches through the whole network, per thread.
        let outer = MemoryEstimate.Part(
            field: "demosPerTaskBatch", bytes: threads * policy.network.workspaceBytes(maxBatch: demosPerTaskBatch),
            formula: "the outer step's activations (\(self.threads) threads × \(demosPerTaskBatch) images)")
        let perTask = max(1, pretrainBatch / max(1, min(metaTrainTasks, 8)))
        let pretrain = MemoryEstimate.Part(
            field: "pretrainBatch", bytes: threads * policy.network.workspaceBytes(maxBatch: perTask),
            formula: "pre-training's activations (\(self.threads) threads × \(perTask) images)")
        return MemoryEstimate(parts: [demos, workers, rollouts, outer, pretrain])
    }
}
