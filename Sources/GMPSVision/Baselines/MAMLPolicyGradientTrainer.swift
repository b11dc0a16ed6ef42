import ConvNet
import Foundation
import VisionEnvs

/// One line of a maml-pg run's `progress.csv`.
public struct MAMLIterationLog: Codable, Sendable {
    public var iteration: Int
    /// Mean-action success and return of θ on this iteration's tasks, before adaptation.
    public var preSuccess: Double
    public var preReturn: Double
    /// The same for each task's adapted φ_i (the policies the outer gradient was taken at).
    public var postSuccess: Double
    public var postReturn: Double
    /// Success of the exploring pre-update rollouts the inner step learned from.
    public var explorationSuccess: Double
    /// Success and return of the exploring post-update rollouts the outer gradient used.
    public var postExplorationSuccess: Double
    public var postExplorationReturn: Double
    public var meanAlpha: Double
    public var learningRate: Double
    /// Cumulative on-policy environment steps: pre- and post-update rollouts.
    public var onPolicySamples: Int
    public var seconds: Double

    public static let csvHeader = "iteration,pre_success,post_success,pre_return,post_return,exploration_success,post_exploration_success,post_exploration_return,mean_alpha,learning_rate,on_policy_samples,seconds"

    public var csvRow: String {
        func format(_ value: Double) -> String { String(format: "%.5g", value) }
        return [String(iteration), format(preSuccess), format(postSuccess), format(preReturn), format(postReturn),
                format(explorationSuccess), format(postExplorationSuccess), format(postExplorationReturn),
                format(meanAlpha), format(learningRate), String(onPolicySamples),
                String(format: "%.2f", seconds)].joined(separator: ",")
    }
}

/// MAML with a policy-gradient outer objective from pixels (Finn et al. 2017), first order: the
/// standard meta-RL that GMPS is measured against (DESIGN.md section 4, baselines).
///
/// Per iteration, for each task i of the meta-batch:
///   1. K pre-update rollouts with π_θ (per-step Gaussian noise);
///   2. the inner step of GMPS: φ_i = θ + α ⊙ ∇_θ Ĵ_i(θ) on the tail (`InnerStep`, learned α);
///   3. K post-update rollouts with π_φi, frames recorded;
///   4. the outer gradient ∇_φ J_i(φ_i): REINFORCE on the post-update rollouts through the full
///      network, conv encoder included (`FullNetworkPolicyGradient`).
/// Then one Adam ascent step on θ along mean_i ∇_φ J_i (first-order MAML drops the Jacobian of
/// φ_i with respect to θ), and on α along mean_i ∇_φ J_i ⊙ ∇_θ Ĵ_i (exact: φ is linear in α).
/// One outer step per iteration, because the post-update rollouts are on-policy only for φ_i.
/// Every pre- and post-update environment step counts as on-policy samples; the mean-action
/// rollouts that measure progress count as evaluation samples.
///
/// The run is written like a GMPS run: `checkpoint.json` holds a `MetaTrainerState`, so
/// `gmps-vision evaluate --run` adapts it at meta-test exactly as it adapts GMPS.
public final class MAMLPolicyGradientTrainer {
    public let config: BaselineConfig
    public let policy: MetaPolicy
    public let inner: InnerStep
    public let outer: FullNetworkPolicyGradient
    public private(set) var state: MetaTrainerState
    /// The meta-training goals.
    public let goals: [Goal]

    private let workers: [RolloutWorker]
    private let workspaces: [Workspace]
    private let headWorkspaces: [Workspace]

    /// `initialTheta`: start from these parameters (e.g. behaviour-cloned) instead of random ones.
    public init(config: BaselineConfig, goals: [Goal], initialTheta: [Float]? = nil,
                state: MetaTrainerState? = nil) throws {
        if let problem = config.problem() { throw BaselineError.invalidConfiguration(problem) }
        guard !goals.isEmpty else { throw BaselineError.invalidConfiguration("maml-pg needs at least one meta-training goal.") }
        let gmps = config.gmps
        self.config = config
        policy = try MetaPolicy(spec: .visionPolicy(imageHeight: gmps.imageHeight, imageWidth: gmps.imageWidth,
                                                    initialStd: gmps.initialStd), threads: 1)
        inner = InnerStep(policy: policy, importanceWeightClip: gmps.importanceWeightClip, latentStd: nil)
        outer = FullNetworkPolicyGradient(policy: policy, discount: gmps.discount)
        self.goals = goals
        if let state {
            guard state.theta.count == policy.parameterCount, state.alpha.count == policy.tailCount else {
                throw BaselineError.invalidConfiguration("the checkpoint's parameters (\(state.theta.count)) do not fit this configuration's policy (\(policy.parameterCount)).")
            }
            self.state = state
        } else {
            let theta = initialTheta ?? policy.network.initialParameters(seed: gmps.seed)
            guard theta.count == policy.parameterCount else {
                throw BaselineError.invalidConfiguration("the initial parameters (\(theta.count)) do not fit the policy (\(policy.parameterCount)).")
            }
            var alpha = policy.alphaMask(gmps.adaptedParameters).map { $0 * gmps.initialAlpha }
            for j in 0..<policy.biasVectorCount { alpha[j] = gmps.initialBiasVectorAlpha }
            self.state = MetaTrainerState(
                theta: theta, alpha: alpha,
                thetaOptimizer: Adam(parameterCount: theta.count, learningRate: gmps.learningRate),
                alphaOptimizer: Adam(parameterCount: policy.tailCount, learningRate: gmps.learningRate),
                pretrained: initialTheta != nil)
        }
        let threads = gmps.threads, horizon = gmps.environment.horizon
        let policy = self.policy
        workers = try (0..<threads).map { _ in
            try RolloutWorker(policy: policy, environment: gmps.environment, imageHeight: gmps.imageHeight,
                              imageWidth: gmps.imageWidth, maxTrajectories: gmps.trajectoriesPerTask)
        }
        workspaces = (0..<threads).map { _ in policy.network.makeWorkspace(maxBatch: horizon) }
        headWorkspaces = (0..<threads).map { _ in policy.head.makeWorkspace(maxBatch: gmps.trajectoriesPerTask * horizon) }
    }

    /// A generator for one purpose of one iteration: streams never depend on thread timing.
    private func generator(iteration: Int, stream: UInt64) -> SeededGenerator {
        SeededGenerator(seed: config.gmps.seed).split(stream: UInt64(iteration + 1) &* 1_000_003 &+ stream)
    }

    /// What one task of the meta-batch contributes.
    private struct TaskResult {
        var thetaGradient: [Float]
        var alphaGradient: [Float]
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
        state.thetaOptimizer.learningRate = learningRate
        state.alphaOptimizer.learningRate = learningRate
        let k = gmps.trajectoriesPerTask

        // 1. Sample the meta-batch of tasks.
        var taskRNG = generator(iteration: iteration, stream: 0)
        let tasks = Array((0..<goals.count).shuffled(using: &taskRNG).prefix(gmps.tasksPerIteration))

        // 2. Per task: pre-update rollouts → inner step → post-update rollouts → ∇_φ J(φ_i).
        let theta = state.theta, alpha = state.alpha
        let slots = ResultSlots<TaskResult>(count: tasks.count)
        try parallelForEach(tasks.count, workers: workers.count) { worker, slot in
            var rng = generator(iteration: iteration, stream: 100 + UInt64(slot))
            let goal = goals[tasks[slot]]
            let pre = try workers[worker].collect(goal: goal, parameters: theta, exploration: .perStep,
                                                  trajectories: k, using: &rng)
            let data = pre.innerStepData(policy: policy, discount: gmps.discount)
            let tail = policy.tail(of: theta)
            let c = try inner.coefficients(tail: tail, data: data, workspace: headWorkspaces[worker])
            let g = try inner.gradient(tail: tail, coefficients: c, data: data, workspace: headWorkspaces[worker])
            let phi = policy.replacingTail(of: theta, with: inner.adaptedTail(tail, alpha: alpha, gradient: g))
            var post = try workers[worker].collect(goal: goal, parameters: phi, exploration: .perStep,
                                                   trajectories: k, recordImages: true, using: &rng)
            let (_, outerGradient) = try outer.gradient(parameters: phi, rollouts: post, workspace: workspaces[worker])
            post.images = []   // K·T frames per task; not needed past the gradient
            let alphaGradient = zip(policy.tail(of: outerGradient), g).map { $0 * $1 }
            let measuredPre = try workers[worker].collect(goal: goal, parameters: theta, exploration: .none,
                                                          trajectories: 1, using: &rng)
            let measuredPost = try workers[worker].collect(goal: goal, parameters: phi, exploration: .none,
                                                           trajectories: 1, using: &rng)
            slots[slot] = TaskResult(thetaGradient: outerGradient, alphaGradient: alphaGradient, pre: pre, post: post,
                                     measuredPre: measuredPre, measuredPost: measuredPost)
        }
        let results = slots.values.compactMap { $0 }

        // 3. The outer step: ascend mean_i J_i(φ_i) (Adam minimises, hence the minus).
        var thetaGradient = [Float](repeating: 0, count: policy.parameterCount)
        var alphaGradient = [Float](repeating: 0, count: policy.tailCount)
        let scale = -1 / Float(max(results.count, 1))
        for result in results {
            VectorOps.axpy(scale, result.thetaGradient, &thetaGradient)
            VectorOps.axpy(scale, result.alphaGradient, &alphaGradient)
        }
        let alphaMask = policy.alphaMask(gmps.adaptedParameters)
        for j in alphaGradient.indices where alphaMask[j] == 0 { alphaGradient[j] = 0 }
        guard thetaGradient.allSatisfy(\.isFinite), alphaGradient.allSatisfy(\.isFinite) else {
            throw BaselineError.nonFinite(iteration: iteration, what: "outer policy gradient")
        }
        var (newTheta, newAlpha) = (state.theta, state.alpha)
        try state.thetaOptimizer.update(&newTheta, gradient: thetaGradient)
        if gmps.learnAlpha { try state.alphaOptimizer.update(&newAlpha, gradient: alphaGradient) }
        guard newTheta.allSatisfy(\.isFinite), newAlpha.allSatisfy(\.isFinite) else {
            throw BaselineError.nonFinite(iteration: iteration, what: "parameters")
        }
        (state.theta, state.alpha) = (newTheta, newAlpha)

        // 4. Count and log.
        state.onPolicySamples += results.reduce(0) { $0 + $1.pre.sampleCount + $1.post.sampleCount }
        state.evaluationSamples += results.reduce(0) { $0 + $1.measuredPre.sampleCount + $1.measuredPost.sampleCount }
        state.iteration += 1
        let seconds = Date().timeIntervalSince(started)
        state.seconds += seconds
        func mean(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count) }
        let adapted = zip(state.alpha, alphaMask).filter { $0.1 != 0 }.map { Double($0.0) }
        return MAMLIterationLog(
            iteration: iteration + 1,
            preSuccess: mean(results.map(\.measuredPre.successRate)),
            preReturn: mean(results.map(\.measuredPre.averageReturn)),
            postSuccess: mean(results.map(\.measuredPost.successRate)),
            postReturn: mean(results.map(\.measuredPost.averageReturn)),
            explorationSuccess: mean(results.map(\.pre.successRate)),
            postExplorationSuccess: mean(results.map(\.post.successRate)),
            postExplorationReturn: mean(results.map(\.post.averageReturn)),
            meanAlpha: mean(adapted), learningRate: Double(learningRate),
            onPolicySamples: state.onPolicySamples, seconds: state.seconds)
    }
}
