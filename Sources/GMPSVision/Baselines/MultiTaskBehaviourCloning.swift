import ConvNet
import VisionEnvs

/// Multi-task behaviour cloning (DESIGN.md section 4, baselines): one policy cloned on all
/// meta-training tasks' scripted demos, with no adaptation. It never sees the goal, so it
/// shows what adaptation adds.
///
/// This is GMPS's own behaviour-cloning pre-training (`MetaTrainer.pretrain`) with per-step
/// exploration, which learns no per-task codes: one goal-blind θ for all tasks. Its α is 0, so
/// the inner step leaves it unchanged and `gmps-vision evaluate` reports it before and after
/// "adaptation" alike.
public enum MultiTaskBehaviourCloning {
    /// Collects `config.gmps.demosPerTask` demos per goal and clones them for
    /// `config.gmps.pretrainSteps` Adam steps. Returns the state to checkpoint (α = 0) and the
    /// last loss; the run counts no on-policy samples.
    public static func train(config: BaselineConfig, goals: [Goal],
                             progress: (_ step: Int, _ loss: Float) -> Void = { _, _ in })
        throws -> (state: MetaTrainerState, loss: Float) {
        var gmps = config.gmps
        gmps.exploration = .perStep
        let trainer = try clonedTrainer(gmps: gmps, goals: goals)
        let loss = try trainer.pretrain(progress: progress)
        var state = trainer.state
        state.alpha = [Float](repeating: 0, count: state.alpha.count)
        return (state, loss)
    }

    /// θ behaviour-cloned as GMPS pre-trains it (per-step exploration: no task codes).
    public static func clonedParameters(config: BaselineConfig, goals: [Goal],
                                        progress: (_ step: Int, _ loss: Float) -> Void = { _, _ in }) throws -> [Float] {
        try train(config: config, goals: goals, progress: progress).state.theta
    }

    private static func clonedTrainer(gmps: GMPSConfig, goals: [Goal]) throws -> MetaTrainer {
        let demos = try scriptedImitationData(environment: gmps.environment, goals: goals, episodes: gmps.demosPerTask,
                                              noise: gmps.demoNoise, imageHeight: gmps.imageHeight, imageWidth: gmps.imageWidth,
                                              threads: gmps.threads, seed: gmps.seed)
        var trainerConfig = gmps
        // The trainer's rollout workers are never used here; keep them small.
        trainerConfig.trajectoriesPerTask = 2
        return try MetaTrainer(config: trainerConfig, goals: goals, demos: demos, expert: nil)
    }
}
