import VisionEnvs

/// Demonstrations of the scripted experts in memory (the baselines' and benchmarks' data):
/// `DemoCollection` with the run's scripted draw order (one noise stream per task), as
/// imitation data.
public func scriptedImitationData(environment: EnvironmentName, goals: [Goal], episodes: Int, noise: Float,
                                  imageHeight: Int, imageWidth: Int, threads: Int,
                                  seed: UInt64, reward: RewardKind = .dense) throws -> [ImitationData] {
    var collection = DemoCollection(environment: environment, experts: .scripted(environment), expertsDescription: "scripted",
                                    goals: goals, episodesPerTask: episodes, noiseStd: noise, seed: seed,
                                    imageHeight: imageHeight, imageWidth: imageWidth, workers: threads)
    collection.noiseStreams = .perTask
    collection.reward = reward
    return try collection.tasks().map(\.imitationData)
}
