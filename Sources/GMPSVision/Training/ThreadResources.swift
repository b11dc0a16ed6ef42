import ConvNet

/// What each worker thread of a trainer or evaluator owns: a rollout worker (its environments
/// and rasterizers), a vision-network workspace and a head workspace. Thread w only ever
/// touches resources w, so nothing is shared between threads.
final class ThreadResources {
    let workers: [RolloutWorker]
    /// Vision-network workspaces for batches of up to `networkBatch` images.
    let workspaces: [Workspace]
    /// Head workspaces for the inner step on K·T samples.
    let headWorkspaces: [Workspace]

    var threads: Int { workers.count }

    /// `trajectories`: K, the most rollouts one collection runs; `networkBatch`: the largest
    /// image batch of a vision-network pass (an imitation minibatch, a trajectory).
    init(policy: MetaPolicy, config: GMPSConfig, threads: Int, trajectories: Int, networkBatch: Int) throws {
        let threads = max(threads, 1)
        workers = try (0..<threads).map { _ in
            try RolloutWorker(policy: policy, config: config, maxTrajectories: trajectories)
        }
        workspaces = (0..<threads).map { _ in policy.network.makeWorkspace(maxBatch: max(networkBatch, 1)) }
        let samples = trajectories * config.environment.horizon
        headWorkspaces = (0..<threads).map { _ in policy.head.makeWorkspace(maxBatch: max(samples, 1)) }
    }
}
