import ConvNet
import Foundation
import VisionEnvs

/// The held-out learning curve: every `validationEvery` iterations (and after the last), θ, α
/// are evaluated on the validation goals as meta-test evaluates them. Validation reads the
/// trainer's state and changes nothing of it; its draws come from the seed's own stream
/// (`RandomStreams.validation`), the same draws at every iteration, so that the curve's
/// changes are θ's and not the draws'. Its environment steps are evaluation steps.
extension GMPSPipeline {
    /// The validation goals: after the meta-training goals and `GMPSConfig.validationTestReserve`
    /// meta-test goals in the seeded split.
    /// `count` (default the config's `validationGoals`) of them; a larger count extends the list,
    /// so tuning on more validation goals still never meets a meta-test goal.
    public func validationGoals(count: Int? = nil) throws -> [Goal] {
        try Self.validationGoals(config: config, count: count ?? config.validationGoals)
    }

    /// The first `count` validation goals of a run of `config`.
    public static func validationGoals(config: GMPSConfig, count: Int) throws -> [Goal] {
        try TaskDistribution(config.environment).metaSplit(
            seed: config.seed, trainCount: config.metaTrainTasks, testCount: GMPSConfig.validationTestReserve,
            validationCount: count).validation
    }

    /// Whether meta-iteration `iteration` (1-based, as in progress.csv) ends with a validation.
    public func validates(after iteration: Int) -> Bool {
        config.validationEvery > 0 && (iteration % config.validationEvery == 0 || iteration == config.iterations)
    }

    /// Success of the state's θ before and after adaptation on the validation goals.
    func validate(_ state: MetaTrainerState) throws -> (pre: Double, post: Double) {
        var rng = SeededGenerator(seed: config.seed).split(stream: RandomStreams.validation)
        let summary = try evaluate(theta: state.theta, alpha: state.alpha, latentScales: state.latentScales,
                                   goals: try validationGoals(),
                                   adaptationSteps: config.validationAdaptationSteps, draws: config.validationDraws,
                                   seed: rng.next())
        return (summary.preSuccess, summary.postSuccess.last ?? summary.preSuccess)
    }

    /// Environment steps of the validations recorded in `progress` (each takes the same number).
    var validationEnvSteps: Int {
        let each = MetaTestEvaluator.environmentSteps(
            goals: config.validationGoals, draws: config.validationDraws, adaptationSteps: config.validationAdaptationSteps,
            trajectories: config.trajectoriesPerTask, horizon: config.environment.horizon)
        return progress.filter { $0.validationPreSuccess != nil }.count * each
    }
}
