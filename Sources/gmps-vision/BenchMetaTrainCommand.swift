import ArgumentParser
import ConvNet
import Foundation
import GMPSVision
import VisionEnvs

/// `gmps-vision bench meta-train`: wall seconds per GMPS meta-iteration at the default
/// configuration, on one process or split over the ranks of `mpirun -np N`.
struct BenchMetaTrainCommand: ParsableCommand, RunsOnRanks {
    static let configuration = CommandConfiguration(
        commandName: "meta-train",
        abstract: "Seconds per GMPS meta-iteration (default configuration), on one process or under mpirun.",
        discussion: """
            Collects the scripted demonstrations and pre-trains for a few steps so that the task \
            codes exist (untimed; the code anchor's outer loss needs them), runs one untimed \
            meta-iteration, then times --iterations more and reports the median: rollouts of \
            every task in the meta-batch, the outer Adam steps with their per-task \
            meta-gradients, and the measurement rollouts. Under mpirun -np N each rank takes its share of every \
            meta-batch; compare `mpirun -np 1` with `mpirun -np 2`. Use a release build.
            """
    )

    @OptionGroup var environment: EnvironmentOrPushOption

    @Option(help: "Timed meta-iterations; the median is reported.") var iterations = 5

    @Option(help: "Worker threads per process (default: the cores shared among this machine's ranks).") var threads: Int?

    @Flag(help: "The tiny configuration of `run --quick` instead of the default (a smoke test, not a figure).") var quick = false

    @OptionGroup var output: JSONOption

    func validate() throws {
        guard (1...100).contains(iterations) else { throw ValidationError("--iterations must be between 1 and 100; got \(iterations).") }
        if let threads, !(1...256).contains(threads) { throw ValidationError("--threads must be between 1 and 256; got \(threads).") }
    }

    func run() throws {
        let group = Launch.group
        let name = environment.name
        var config = quick ? GMPSConfig.quick(name) : GMPSConfig(environment: name)
        config.threads = threads ?? Launch.threadsPerRank
        let goals = try TaskDistribution(config.environment).metaSplit(seed: config.seed, trainCount: config.metaTrainTasks,
                                                                  testCount: 0).train
        let demos = try scriptedImitationData(environment: config.environment, goals: goals, episodes: config.demosPerTask,
                                              noise: config.demoNoise, imageHeight: config.imageHeight,
                                              imageWidth: config.imageWidth, threads: config.threads, seed: config.seed)
        // Speed does not depend on how well pre-training fits: a few steps give the task codes,
        // so the outer steps include the code anchor as a default run's do.
        config.pretrainSteps = min(config.pretrainSteps, 10)
        let trainer = try MetaTrainer(config: config, goals: goals, demos: demos, experts: nil, group: group)
        try trainer.pretrain()
        _ = try trainer.runIteration()  // warm-up: caches, first allocations
        var seconds: [Double] = []
        var steps: [[Double]] = [[], [], []]   // rollouts, outer steps, measurement
        for _ in 0..<iterations {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try trainer.runIteration()
            seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            let split = trainer.lastStepSeconds
            for (i, t) in [split.rollouts, split.outerSteps, split.measurement].enumerated() { steps[i].append(t) }
        }
        guard group.isRoot else { return }
        let perIteration = median(seconds)
        let (rollouts, outer, measurement) = (median(steps[0]), median(steps[1]), median(steps[2]))
        // Environment steps per iteration: exploring rollouts, then per task K probes + θ + φ_i.
        let envSteps = config.tasksPerIteration * (config.trajectoriesPerTask + 2) * config.environment.horizon
        let load = oneMinuteLoadAverage()
        if output.json {
            try printJSON([
                "env": config.environment.rawValue, "ranks": group.size, "threads_per_rank": config.threads,
                "tasks_per_iteration": config.tasksPerIteration, "trajectories_per_task": config.trajectoriesPerTask,
                "outer_steps": config.outerSteps, "iterations": iterations,
                "seconds_per_iteration": perIteration, "env_steps_per_second": Double(envSteps) / perIteration,
                "rollout_seconds": rollouts, "outer_step_seconds": outer, "measurement_seconds": measurement,
                "blas_core": BLAS.coreName, "load_average_1min": load ?? -1,
            ])
        } else {
            print(String(format: "%@: %.2f s per meta-iteration (median of %d; %d ranks x %d threads; %d tasks x K %d, %d outer steps)",
                         config.environment.rawValue, perIteration, iterations, group.size, config.threads,
                         config.tasksPerIteration, config.trajectoriesPerTask, config.outerSteps)
                  + (load.map { String(format: ", load average %.2f", $0) } ?? ""))
            print(String(format: "  rollouts %.2f s, outer steps (inner step + imitation) %.2f s, measurement %.2f s (medians)",
                         rollouts, outer, measurement))
        }
    }
}
