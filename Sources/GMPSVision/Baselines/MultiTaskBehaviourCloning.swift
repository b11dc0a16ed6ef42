import ConvNet
import Foundation
import VisionEnvs

/// Multi-task behaviour cloning (DESIGN.md section 4, baselines): one policy cloned on all
/// meta-training tasks' scripted demos, with no adaptation. It never sees the goal, so it
/// shows what adaptation adds.
///
/// This is GMPS's own behaviour cloning (`BehaviourCloning`) with per-step exploration, which
/// learns no per-task codes: one goal-blind θ for all tasks. Its α is 0, so the inner step
/// leaves it unchanged and `gmps-vision evaluate` reports it before and after "adaptation"
/// alike.
public enum MultiTaskBehaviourCloning {
    /// Collects `config.gmps.demosPerTask` demos per goal and clones them for
    /// `config.gmps.pretrainSteps` Adam steps. Returns the state to checkpoint (α = 0) and the
    /// last loss; the run counts no on-policy samples.
    public static func train(config: BaselineConfig, goals: [Goal], group: any ProcessGroup = SingleProcess(),
                             progress: (_ step: Int, _ loss: Float) -> Void = { _, _ in })
        throws -> (state: MetaTrainerState, loss: Float) {
        var gmps = config.gmps
        gmps.exploration = .perStep
        let policy = try MetaPolicy(config: gmps)
        let demos = try scriptedImitationData(environment: gmps.environment, goals: goals, episodes: gmps.demosPerTask,
                                              noise: gmps.demoNoise, imageHeight: gmps.imageHeight,
                                              imageWidth: gmps.imageWidth, threads: gmps.threads, seed: gmps.seed,
                                              reward: gmps.reward)
        let cloning = try BehaviourCloning(config: gmps, policy: policy, demos: demos, group: group)
        var state = try MetaTrainerState(policy: policy, config: gmps)
        let loss = try cloning.train(&state.theta, progress: progress)
        state.pretrained = true
        state.alpha = [Float](repeating: 0, count: state.alpha.count)
        return (state, loss)
    }

    /// θ behaviour-cloned as GMPS pre-trains it (per-step exploration: no task codes).
    public static func clonedParameters(config: BaselineConfig, goals: [Goal], group: any ProcessGroup = SingleProcess(),
                                        progress: (_ step: Int, _ loss: Float) -> Void = { _, _ in }) throws -> [Float] {
        try train(config: config, goals: goals, group: group, progress: progress).state.theta
    }

    /// Trains and writes a run directory that `gmps-vision evaluate --run` reads: `config.json`,
    /// `progress.csv` (step, loss, seconds every 50 steps and at the last) and the checkpoint.
    /// Returns the state and the last loss.
    @discardableResult
    public static func train(config: BaselineConfig, goals: [Goal], in run: RunDirectory,
                             progress: (_ step: Int, _ loss: Float) -> Void = { _, _ in })
        throws -> (state: MetaTrainerState, loss: Float) {
        try run.writeJSON(config, to: "config.json")
        let started = Date()
        var rows: [String] = []
        var (state, loss) = try train(config: config, goals: goals) { step, loss in
            progress(step, loss)
            if (step + 1) % 50 == 0 || step + 1 == config.gmps.pretrainSteps {
                rows.append(String(format: "%d,%.5g,%.2f", step + 1, loss, Date().timeIntervalSince(started)))
            }
        }
        state.seconds = Date().timeIntervalSince(started)
        try MetaCheckpoint.save(state, policy: try MetaPolicy(config: config.gmps), in: run)
        try run.writeCSV(header: "step,loss,seconds", rows: rows, to: "progress.csv")
        return (state, loss)
    }
}
