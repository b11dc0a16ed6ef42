import ConvNet
import Foundation
import VisionEnvs

/// MAML with a policy-gradient outer objective from pixels (Finn et al. 2017), first order: the
/// standard meta-RL that GMPS is measured against (DESIGN.md section 4, baselines).
///
/// Per iteration, for each task i of the meta-batch:
///   1. K pre-update rollouts with π_θ, exploring as GMPS does (`exploration`: per-step noise,
///      or a latent per rollout);
///   2. the inner step of GMPS: φ_i = θ + α ⊙ ∇_θ Ĵ_i(θ) on the tail (`InnerStep`, learned α);
///   3. K post-update rollouts with π_φi, exploring the same way, frames recorded;
///   4. the outer gradient ∇_φ J_i(φ_i) on the post-update rollouts through the full network,
///      conv encoder included (`FullNetworkPolicyGradient`).
/// Then an Adam ascent step on θ along mean_i ∇_φ J_i (first-order MAML drops the Jacobian of
/// φ_i with respect to θ), and on α along mean_i ∇_φ J_i ⊙ ∇_θ Ĵ_i (exact: φ is linear in α).
/// With `outerSteps` M > 1, M such steps on the same rollouts, as ProMP does: φ_i(θ, α) =
/// θ + α ⊙ ∇Ĵ_i(θ_0) moves with each step (first order: the inner gradient stays θ_0's), and
/// steps after the first ascend the clipped surrogate (`outerClip`, PPO's ε), which keeps them
/// within a trust region of the policies that collected the rollouts. M = 1 is plain
/// first-order MAML: the post-update rollouts are on-policy only for φ_i.
/// Every pre- and post-update environment step counts as on-policy samples; the mean-action
/// rollouts that measure progress count as evaluation samples.
///
/// It shares GMPS's skeleton: the policy, the inner step, the state and its Adam step, the
/// random streams and the meta-batch split over ranks (`MetaBatch`), so it runs under MPI the
/// same way. The run is written like a GMPS run: `checkpoint.json` holds a `MetaTrainerState`,
/// so `gmps-vision evaluate --run` adapts it at meta-test exactly as it adapts GMPS.
public final class MAMLPolicyGradientTrainer {
    public let config: BaselineConfig
    public let policy: MetaPolicy
    public let inner: InnerStep
    public let outer: FullNetworkPolicyGradient
    public private(set) var state: MetaTrainerState
    /// The meta-training goals.
    public let goals: [Goal]
    public let group: any ProcessGroup

    private let streams: RandomStreams
    private let resources: ThreadResources

    /// `initialTheta`: start from these parameters (e.g. behaviour-cloned) instead of random ones.
    public init(config: BaselineConfig, goals: [Goal], initialTheta: [Float]? = nil,
                state: MetaTrainerState? = nil, group: any ProcessGroup = SingleProcess()) throws {
        if let problem = config.problem() { throw BaselineError.invalidConfiguration(problem) }
        guard !goals.isEmpty else { throw BaselineError.invalidConfiguration("maml-pg needs at least one meta-training goal.") }
        let gmps = config.gmps
        self.config = config
        policy = try MetaPolicy(config: gmps)
        inner = InnerStep(policy: policy, config: gmps)
        outer = FullNetworkPolicyGradient(policy: policy, discount: gmps.discount)
        self.goals = goals
        self.group = group
        if let state {
            try state.checkFits(policy)
            try state.checkFits(gmps)
        }
        self.state = try state ?? MetaTrainerState(policy: policy, config: gmps, initialTheta: initialTheta)
        streams = RandomStreams(seed: gmps.seed)
        resources = try ThreadResources(policy: policy, config: gmps, threads: gmps.threads,
                                        trajectories: gmps.trajectoriesPerTask, networkBatch: gmps.environment.horizon)
    }

    /// What one task of the meta-batch contributes.
    private struct TaskResult {
        /// ∇_θ Ĵ_i(θ_0) on the tail: φ_i(θ, α) = θ + α ⊙ this at every outer step.
        var innerGradient: [Float]
        var pre: TaskRollouts
        var post: TaskRollouts
        var measuredPre: TaskRollouts
        var measuredPost: TaskRollouts
    }

    public func runIteration() throws -> MAMLIterationLog {
        let started = Date()
        let gmps = config.gmps
        let iteration = state.iteration
        let learningRate = gmps.learningRate(at: iteration)
        state.setLearningRate(learningRate, alpha: gmps.alphaLearningRate)
        let k = gmps.trajectoriesPerTask
        let workers = resources.workers

        // 1. Sample the meta-batch of tasks.
        var taskRNG = streams.generator(.taskSampling, iteration: iteration)
        let batch = MetaBatch(taskCount: goals.count, size: gmps.tasksPerIteration, using: &taskRNG,
                              group: group, threads: resources.threads)

        // 2. Per task: pre-update rollouts → inner step → post-update rollouts (with frames).
        let theta = state.theta, alpha = state.alpha
        let exploration = gmps.exploration
        let results = try batch.map { worker, slot -> TaskResult in
            var rng = streams.generator(.exploration(slot: slot), iteration: iteration)
            let goal = goals[batch.tasks[slot]]
            let pre = try workers[worker].collect(goal: goal, parameters: theta, exploration: exploration,
                                                  trajectories: k, using: &rng)
            let step = try inner.adapt(theta: theta, alpha: alpha, data: pre.innerStepData(policy: policy, discount: gmps.discount),
                                       workspace: resources.headWorkspaces[worker])
            let post = try workers[worker].collect(goal: goal, parameters: step.phi, exploration: exploration,
                                                   trajectories: k, recordImages: true, using: &rng)
            let measuredPre = try workers[worker].collect(goal: goal, parameters: theta, exploration: .none,
                                                          trajectories: 1, using: &rng)
            let measuredPost = try workers[worker].collect(goal: goal, parameters: step.phi, exploration: .none,
                                                           trajectories: 1, using: &rng)
            return TaskResult(innerGradient: step.gradient, pre: pre, post: post,
                              measuredPre: measuredPre, measuredPost: measuredPost)
        }

        // 3. The outer steps: ascend mean_i J_i(φ_i(θ, α)) over all ranks' tasks (Adam descends,
        //    hence the minus; negating is exact, so this is the negated mean bit for bit). The
        //    first step's ratios are 1 by construction: plain REINFORCE, no clip.
        var clipCounts = [Double](repeating: 0, count: 2)   // held by the clip, all terms (means over tasks)
        for outerStep in 0..<gmps.outerSteps {
            let theta = state.theta, alpha = state.alpha
            let gradients = try batch.map { worker, slot -> [[Float]] in
                guard let result = results[slot] else { return [] }
                let adaptedTail = VectorOps.adapted(theta: policy.tail(of: theta), alpha: alpha, gradient: result.innerGradient)
                let outerResult = try outer.gradient(
                    parameters: policy.replacingTail(of: theta, with: adaptedTail), rollouts: result.post,
                    latentStd: exploration.latentStd, clip: outerStep == 0 ? nil : config.outerClip,
                    workspace: resources.workspaces[worker])
                let terms = result.post.sampleCount + (exploration.latentStd == nil ? 0 : result.post.trajectoryCount)
                let outerGradient = outerResult.gradient
                return [outerGradient, zip(policy.tail(of: outerGradient), result.innerGradient).map { $0 * $1 },
                        [Float(outerResult.clippedSamples), Float(outerStep == 0 ? 0 : terms)]]
            }
            // The counts' mean over the meta-batch: their ratio is the clipped fraction.
            let mean = batch.mean(of: gradients, shapes: [policy.parameterCount, policy.tailCount, 2])
            clipCounts[0] += Double(mean[2][0])
            clipCounts[1] += Double(mean[2][1])
            try state.descend(thetaGradient: mean[0].map { -$0 }, alphaGradient: mean[1].map { -$0 },
                              alphaMask: policy.alphaMask(gmps.adaptedParameters), alphaGroups: policy.alphaGroups,
                              learnAlpha: gmps.learnAlpha,
                              iteration: iteration, what: "outer policy gradient")
        }

        // 4. Count and log: per-task figures summed over ranks, then averaged.
        var sums = [Double](repeating: 0, count: 9)
        for slot in batch.mySlots {
            guard let result = results[slot] else { continue }
            let figures = [result.measuredPre.successRate, result.measuredPre.averageReturn,
                           result.measuredPost.successRate, result.measuredPost.averageReturn,
                           result.pre.successRate, result.post.successRate, result.post.averageReturn,
                           Double(result.pre.sampleCount + result.post.sampleCount),
                           Double(result.measuredPre.sampleCount + result.measuredPost.sampleCount)]
            for (index, figure) in figures.enumerated() { sums[index] += figure }
        }
        group.sum(&sums)
        state.onPolicySamples += Int(sums[7])
        state.evaluationSamples += Int(sums[8])
        state.iteration += 1
        state.seconds += Date().timeIntervalSince(started)
        let taskCount = Double(max(batch.tasks.count, 1))
        return MAMLIterationLog(
            iteration: iteration + 1,
            preSuccess: sums[0] / taskCount, preReturn: sums[1] / taskCount,
            postSuccess: sums[2] / taskCount, postReturn: sums[3] / taskCount,
            explorationSuccess: sums[4] / taskCount,
            postExplorationSuccess: sums[5] / taskCount, postExplorationReturn: sums[6] / taskCount,
            meanAlpha: state.meanAdaptedAlpha(policy.alphaMask(gmps.adaptedParameters)),
            learningRate: Double(learningRate), onPolicySamples: state.onPolicySamples, seconds: state.seconds,
            clippedFraction: clipCounts[1] > 0 ? clipCounts[0] / clipCounts[1] : 0)
    }

    /// Runs `config.gmps.iterations` meta-iterations, writing `progress.csv` and the checkpoint
    /// after each (rank 0; every rank trains), and every `snapshotEvery` iterations also a
    /// snapshot run directory `snapshots/iter-NNNN` that `gmps-vision evaluate` reads (a held-out
    /// learning curve against on-policy samples). Returns the last iteration's log.
    @discardableResult
    public func train(in run: RunDirectory, snapshotEvery: Int = 0,
                      progress: (MAMLIterationLog) -> Void = { _ in }) throws -> MAMLIterationLog? {
        if group.isRoot { try run.writeJSON(config, to: "config.json") }
        // A trainer resumed from the run's checkpoint keeps the rows of the iterations it did.
        var rows = group.isRoot ? Self.progressRows(in: run, upTo: state.iteration) : []
        var last: MAMLIterationLog?
        while state.iteration < config.gmps.iterations {
            let entry = try runIteration()
            last = entry
            guard group.isRoot else { continue }
            rows.append(entry.csvRow)
            try run.writeCSV(header: MAMLIterationLog.csvHeader, rows: rows, to: "progress.csv")
            try MetaCheckpoint.save(state, policy: policy, in: run)
            if snapshotEvery > 0, entry.iteration % snapshotEvery == 0 {
                let snapshot = try RunDirectory(path: run.file(String(format: "snapshots/iter-%04d", entry.iteration)).path)
                try snapshot.writeJSON(config, to: "config.json")
                try MetaCheckpoint.save(state, policy: policy, in: snapshot)
            }
            progress(entry)
        }
        if group.isRoot, config.gmps.iterations == 0 { try MetaCheckpoint.save(state, policy: policy, in: run) }
        return last
    }

    /// The rows of `run`'s progress.csv for iterations 1…`iteration` (none for a fresh start).
    static func progressRows(in run: RunDirectory, upTo iteration: Int) -> [String] {
        guard iteration > 0, let text = try? String(contentsOf: run.file("progress.csv"), encoding: .utf8) else { return [] }
        return text.split(separator: "\n").dropFirst().map(String.init).filter { row in
            row.split(separator: ",").first.flatMap { Int($0) }.map { $0 <= iteration } ?? false
        }
    }
}
