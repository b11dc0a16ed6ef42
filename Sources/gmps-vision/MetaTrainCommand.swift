import ArgumentParser
import Foundation
import GMPSVision
import VisionEnvs

/// `gmps-vision meta-train`: GMPS meta-training of the pixel meta-policy.
struct MetaTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meta-train",
        abstract: "Meta-train an image-based policy with Guided Meta-Policy Search."
    )

    @Option(help: "Environment: push, door or reach.")
    var env = "push"

    @Option(help: "Run directory to write (config.json, progress.csv, checkpoints).")
    var out: String

    @Option(help: "Scripted demonstrations per meta-training task (collected in memory).")
    var scriptedDemos = 10

    @Option(help: "Meta-training tasks (goals from the meta-train split).")
    var tasks = 20

    @Option(help: "Meta-iterations.")
    var iterations: Int?

    @Option(help: "Tasks per iteration.")
    var tasksPerIteration: Int?

    @Option(help: "Rollouts per task per iteration (K).")
    var trajectories: Int?

    @Option(help: "Outer Adam steps per iteration.")
    var outerSteps: Int?

    @Option(help: "Behaviour-cloning pre-training steps.")
    var pretrainSteps: Int?

    @Option(help: "Exploration: per-step or per-trajectory.")
    var exploration = "per-trajectory"

    @Option(help: "Standard deviation of the per-trajectory latent.")
    var latentStd: Float = 1.0

    @Option(help: "Initial inner step size α.")
    var alpha: Float?

    @Option(help: "Adapted parameters: bias-vector or head.")
    var adapt = "bias-vector"

    @Option(help: "Initial per-step action standard deviation.")
    var std: Float?

    @Option(help: "Initial α of the bias vector.")
    var biasAlpha: Float?

    @Option(help: "Master seed.")
    var seed: UInt64 = 1

    @Flag(help: "Use the second-order meta-gradient.")
    var secondOrder = false

    func run() throws {
        let name = try EnvironmentName(parsing: env)
        var config = GMPSConfig()
        config.environment = name
        config.seed = seed
        if let iterations { config.iterations = iterations }
        if let tasksPerIteration { config.tasksPerIteration = tasksPerIteration }
        if let trajectories { config.trajectoriesPerTask = trajectories }
        if let outerSteps { config.outerSteps = outerSteps }
        if let pretrainSteps { config.pretrainSteps = pretrainSteps }
        if let alpha { config.initialAlpha = alpha }
        if let biasAlpha { config.initialBiasVectorAlpha = biasAlpha }
        config.secondOrder = secondOrder
        if let std { config.initialStd = std }
        guard let adapted = GMPSConfig.AdaptedParameters(rawValue: adapt) else {
            throw ValidationError("--adapt must be bias-vector or head.")
        }
        config.adaptedParameters = adapted
        config.exploration = exploration == "per-step" ? .perStep : .perTrajectory(latentStd: latentStd)
        let run = try RunDirectory(path: out)
        try run.writeJSON(config, to: "config.json")

        config.metaTrainTasks = tasks
        let split = TaskDistribution(name).metaSplit(seed: seed, trainCount: tasks, testCount: 20)
        let started = Date()
        let demos = try scriptedImitationData(environment: name, goals: split.train, episodes: scriptedDemos,
                                              noise: 0.3, imageHeight: config.imageHeight,
                                              imageWidth: config.imageWidth, threads: config.threads, seed: seed)
        log("demos: \(demos.reduce(0) { $0 + $1.count }) samples in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        let expert = ScriptedExpert(name)
        let trainer = try MetaTrainer(config: config, goals: split.train, demos: demos,
                                      expert: { state in let a = expert.action(for: state); return [a.x, a.y, a.z] })
        let loss = try trainer.pretrain { step, loss in
            if step % 50 == 0 { log("pretrain step \(step): loss \(loss)") }
        }
        log("pretrain done: loss \(loss), \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        var rows: [String] = []
        for _ in 0..<config.iterations {
            let entry = try trainer.runIteration()
            rows.append(entry.csvRow)
            try run.writeCSV(header: IterationLog.csvHeader, rows: rows, to: "progress.csv")
            try MetaCheckpoint.save(trainer.state, policy: trainer.policy, in: run)
            log("iter \(entry.iteration): pre \(entry.preSuccess) post \(entry.postSuccess) explore \(entry.explorationSuccess) loss \(String(format: "%.4f", entry.imitationLoss)) α \(String(format: "%.4f", entry.meanAlpha)) samples \(entry.onPolicySamples) \(String(format: "%.1f", entry.seconds)) s")
        }
    }

    private func log(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
