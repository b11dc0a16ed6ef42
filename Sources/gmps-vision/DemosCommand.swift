import ArgumentParser
import Foundation
import GMPSVision
import VisionEnvs

/// `gmps-vision demos`: rolls out experts with action noise on the meta-training tasks and
/// writes a demonstration dataset with the policy's images and the experts' clean actions.
struct DemosCommand: ParsableCommand, RunsOnRanks {
    static let configuration = CommandConfiguration(
        commandName: "demos",
        abstract: "Collect expert demonstrations with rendered images for the meta-training tasks.",
        discussion: """
            For each task, runs --per-task episodes executing the expert's action plus Gaussian \
            noise (--noise) and records, per step, the policy's image (uint8, --size), hand xyz, \
            the privileged state, the expert's clean action (the label) and the reward. Tasks: \
            the goals of a trained expert folder (its first --tasks), for scripted experts the first --tasks goals of the meta \
            split drawn with --goal-seed. Writes OUT/demos.json and OUT/task-NNN.safetensors \
            (format in the manifest's documentation, DemoDataset). Under mpirun -np N, task t is \
            collected by rank t mod N and rank 0 writes the manifest (OUT must be shared by the ranks).
            """
    )

    @OptionGroup var environment: EnvironmentOption

    @OptionGroup var reward: RewardOption

    @Option(help: "An expert folder written by `gmps-vision experts`, or scripted.") var experts: String

    @Option(help: "Episodes per task.") var perTask: Int

    @OptionGroup var folder: OutputFolderOption

    @Option(help: "Number of meta-training tasks (default: all of an expert folder's, 10 for scripted).") var tasks: Int?

    @Option(help: "Seed of the action noise.") var seed: UInt64 = 0

    @OptionGroup var goalSplit: GoalSeedOption

    @Option(help: "Standard deviation of the Gaussian noise on the executed actions.") var noise: Float = 0.3

    @Option(help: "Image size as HxW.") var size = ImageSize(height: 48, width: 64)

    @Option(help: "Tasks collected at once.") var workers = Launch.threadsPerRank

    @OptionGroup var models: AssetsOption

    @OptionGroup var output: JSONOption

    func validate() throws {
        guard (1...100_000).contains(perTask) else { throw ValidationError("--per-task must be between 1 and 100000; got \(perTask).") }
        if let tasks, !(1...1000).contains(tasks) { throw ValidationError("--tasks must be between 1 and 1000; got \(tasks).") }
        guard noise >= 0, noise.isFinite else { throw ValidationError("--noise must be a non-negative number; got \(noise).") }
        guard (1...256).contains(workers) else { throw ValidationError("--workers must be between 1 and 256; got \(workers).") }
        try size.check(atMost: GMPSConfig.maximumImageSide)
    }

    func run() throws {
        let name = environment.name, out = folder.path
        let set = try ExpertSet.resolve(experts, environment: name)
        let goals: [Goal]
        if !set.goals.isEmpty {
            if let tasks, tasks > set.goals.count {
                throw ValidationError("the expert folder has \(set.goals.count) tasks; --tasks \(tasks) asks for more.")
            }
            goals = Array(set.goals.prefix(tasks ?? set.goals.count))
        } else {
            goals = try TaskDistribution(name).metaSplit(seed: goalSplit.goalSeed, trainCount: tasks ?? 10, testCount: 0).train
        }
        var collection = DemoCollection(environment: name, experts: set, expertsDescription: experts, goals: goals,
                                        episodesPerTask: perTask, noiseStd: noise, seed: seed, imageHeight: size.height,
                                        imageWidth: size.width, workers: workers, assets: models.locator)
        collection.reward = reward.value()
        let group = Launch.group
        let share = group.share(of: goals.count).count
        let display = group.isRoot ? ProgressDisplay(stage: "demos \(name) (episodes\(group.size > 1 ? " of rank 0's tasks" : ""))", total: share * perTask) : nil
        let started = Date()
        let manifest = try collection.run(output: URL(fileURLWithPath: out), group: group) { p in
            display?.update(p.episodes, detail: "success so far \(String(format: "%.2f", p.successRate))")
        }
        guard group.isRoot else { return }
        let seconds = Date().timeIntervalSince(started)
        let episodes = manifest.tasks.map(\.episodes).reduce(0, +)
        let successes = manifest.tasks.map { $0.successRate * Double($0.episodes) }.reduce(0, +)
        let successRate = successes / Double(max(episodes, 1))
        let steps = manifest.tasks.map(\.steps).reduce(0, +)
        if output.json {
            try printJSON([
                "env": name.rawValue, "reward": reward.value().rawValue, "experts": experts, "out": out, "tasks": manifest.tasks.count, "ranks": group.size,
                "episodes": episodes, "env_steps": steps, "success_rate": successRate,
                "image": [size.height, size.width], "noise_std": Double("\(noise)") ?? Double(noise), "seconds": seconds,
            ])
        } else {
            print("\(name) demos from \(experts): \(manifest.tasks.count) tasks x \(perTask) episodes, \(steps) steps, "
                  + "success \(String(format: "%.2f", successRate)) (noise \(noise)), \(String(format: "%.1f", seconds)) s, written to \(out)")
        }
    }
}
