import Foundation
import VisionEnvs

/// `evaluate --task-code-oracle`: the policy at the codes pre-training learned (`TaskCodeOracle`).
extension GMPSPipeline {
    /// The oracle's two measurements and the map from goal to code it used.
    public struct TaskCodeOracleResult {
        /// The meta-training goals, each at its own code.
        public var training: EvaluationSummary
        /// `goals`, each at the fitted code of its goal.
        public var heldOut: EvaluationSummary
        public var map: TaskCodeOracle.CodeMap
    }

    /// Runs θ with mean actions at each meta-training task's own code in `codes` (tasks × B,
    /// the checkpoint's `taskCodes`) and at the fitted code of each of `goals`; one episode a goal.
    public func taskCodeOracle(theta: [Float], codes: [Float]?, goals: [Goal], seed: UInt64,
                               display: ProgressDisplay? = nil) throws -> TaskCodeOracleResult {
        let policy = try MetaPolicy(config: config)
        let b = policy.biasVectorCount
        let trainingGoals = try self.goals(testCount: 0).train
        guard let codes, !codes.isEmpty else {
            throw TaskCodeOracleError.noCodes("the run's checkpoint holds no task codes: pre-training learns them only with a latent per rollout (per-trajectory or latent-only exploration) and a bias vector, and runs written before December 7, 2026 kept them only with --code-anchor-weight. Train a new run (`--iterations 0` is enough) to use --task-code-oracle.")
        }
        guard codes.count == trainingGoals.count * b, codes.allSatisfy(\.isFinite) else {
            throw TaskCodeOracleError.mismatch("the checkpoint holds \(codes.count) task-code values, or one not finite; \(trainingGoals.count) tasks with a bias vector of \(b) need \(trainingGoals.count * b).")
        }
        let map = try TaskCodeOracle.CodeMap(goals: trainingGoals.map(\.coordinates), codes: codes, codeLength: b)
        let resources = try ThreadResources(policy: policy, config: config, threads: config.threads,
                                            trajectories: 1, networkBatch: 1)
        func run(_ goals: [Goal], code: (Int) -> [Float]) throws -> EvaluationSummary {
            let results = try GoalEvaluation.evaluate(goals: goals, seed: seed, draws: 0, workers: resources.workers,
                                                      finishedGoal: { display?.advance() }) { _, _, index in
                (before: policy.replacingBiasVector(of: theta, with: code(index)), adapt: { _ in [] })
            }
            return EvaluationSummary(results, adaptationSteps: 0)
        }
        let training = try run(trainingGoals) { Array(codes[($0 * b)..<(($0 + 1) * b)]) }
        let heldOut = try run(goals) { map.code(for: goals[$0].coordinates) }
        return TaskCodeOracleResult(training: training, heldOut: heldOut, map: map)
    }
}
