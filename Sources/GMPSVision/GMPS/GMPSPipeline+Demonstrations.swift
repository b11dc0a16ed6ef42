import Foundation
import VisionEnvs

/// The demonstrations stage of a run: every meta-training task's demonstrations, collected from
/// the run's experts into `RUN/demos/` (`gmps-vision demos`' format, resumed per task) or taken
/// from a given dataset, and read back through `DemoDataset.load` as the algorithm's data.
extension GMPSPipeline {
    /// The folder of a run's collected demonstrations.
    public static let demosFolder = "demos"

    /// Each meta-training task's demonstrations, in task order. Rank 0 collects or reads them
    /// and sends them to the other ranks, which need no shared file system for this stage.
    public func demonstrations(progress: (@Sendable (DemoCollection.Progress) -> Void)? = nil) throws -> [ImitationData] {
        let experts = try experts()
        let imageCount = 3 * config.imageHeight * config.imageWidth
        // Steps counts every demonstration episode's environment steps, imitated or not.
        var (local, steps) = group.isRoot ? try rootDemonstrations(experts: experts, progress: progress) : ([], 0)
        if group.size > 1 {
            steps = try group.broadcast { steps }
            local = try (0..<config.metaTrainTasks).map { t in
                try group.broadcast { ImitationData.Transfer(local[t]) }.imitationData(imageCount: imageCount)
            }
        }
        environmentSteps.demonstrations = steps
        return local
    }

    /// Rank 0: the collected tasks from `RUN/demos/`, the others from the dataset (the episodes
    /// `config.demoEpisodes` keeps), and the environment steps of all their episodes.
    private func rootDemonstrations(experts: ExpertSet?, progress: (@Sendable (DemoCollection.Progress) -> Void)?)
        throws -> (data: [ImitationData], steps: Int) {
        let goals = try goals(testCount: 0).train
        let expected = (env: config.environment, height: config.imageHeight, width: config.imageWidth)
        var byTask = [ImitationData?](repeating: nil, count: goals.count)
        var steps = 0
        let collected = collectedTaskIndices
        if !collected.isEmpty {
            guard let experts else { throw ExpertError.invalidConfiguration("demonstrations need experts; none were resolved") }
            var collection = DemoCollection(
                environment: config.environment, experts: experts, expertsDescription: config.experts.description,
                goals: collected.map { goals[$0] }, episodesPerTask: config.demosPerTask, noiseStd: config.demoNoise,
                seed: config.seed, imageHeight: config.imageHeight, imageWidth: config.imageWidth, workers: config.threads)
            // The draw order of the run's scripted demonstrations before they went through the
            // dataset: a default run computes what it did.
            collection.noiseStreams = .perTask
            collection.reward = config.reward
            let folder = run.file(Self.demosFolder)
            _ = try collection.run(output: folder, resume: true, progress: progress)
            let dataset = try DemoDataset.load(from: folder, expecting: expected)
            for (task, t) in zip(dataset.tasks, collected) {
                byTask[t] = task.imitationData(keeping: config.demoEpisodes)
                steps += task.steps
            }
        }
        if let path = config.demos {
            let dataset = try DemoDataset.load(from: URL(fileURLWithPath: path), expecting: expected)
            let given = (0..<goals.count).filter { byTask[$0] == nil }
            for (t, task) in try Self.tasks(given, of: goals, in: dataset, at: path, config: config) {
                byTask[t] = task.imitationData(keeping: config.demoEpisodes)
                steps += task.steps
            }
        }
        let data = try byTask.enumerated().map { t, data in
            guard let data else { throw MetaTrainingError.noDemonstrations(task: t) }
            return data
        }
        return (data, steps)
    }

    /// The dataset's task for each of `tasks` (matched by goal), or the mismatch named.
    static func tasks(_ tasks: [Int], of goals: [Goal], in dataset: DemoDataset, at path: String,
                      config: GMPSConfig) throws -> [(Int, DemoTask)] {
        func mismatch(_ problem: String) -> DemoDatasetError { .mismatch(path: path, problem: problem) }
        guard dataset.manifest.episodesPerTask == config.demosPerTask else {
            throw mismatch("it holds \(dataset.manifest.episodesPerTask) episodes per task and the run wants \(config.demosPerTask); pass --demos-per-task \(dataset.manifest.episodesPerTask) or collect the demos again")
        }
        return try tasks.map { t in
            guard let task = dataset.tasks.first(where: { $0.goal == goals[t] }) else {
                throw mismatch("it has no demonstrations for the run's task \(t), goal \(goals[t]) (a run's goals are the first --tasks goals of the meta split drawn with its --seed); collect them with `gmps-vision demos --env \(config.environment) --tasks \(goals.count) --goal-seed \(config.seed)`")
            }
            return (t, task)
        }
    }
}
