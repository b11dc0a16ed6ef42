import Foundation
import VisionEnvs

/// The experts stage of a run (DESIGN.md §4, "A run, stage by stage"): experts on privileged
/// state for the run's own meta-training goals, which label its demonstrations and DAgger states.
extension GMPSPipeline {
    /// The folder of a run's trained experts (`gmps-vision experts`' format).
    public static let expertsFolder = "experts"

    /// The meta-training tasks that have an expert (all but the demo-only ones).
    public var expertTaskIndices: [Int] {
        let demoOnly = Set(config.demoOnlyTaskIndices)
        return (0..<config.metaTrainTasks).filter { !demoOnly.contains($0) }
    }

    /// The meta-training tasks whose demonstrations the run collects from its experts into
    /// `RUN/demos/`: all without a dataset; with one, the expert tasks of a hybrid run, else none.
    public var collectedTaskIndices: [Int] {
        guard config.demos != nil else { return Array(0..<config.metaTrainTasks) }
        return config.demoOnlyTaskIndices.isEmpty ? [] : expertTaskIndices
    }

    /// Whether anything reads the experts: collection, or DAgger on a task that has one.
    var needsExperts: Bool {
        !expertTaskIndices.isEmpty && (!collectedTaskIndices.isEmpty || config.daggerStartIteration != nil)
    }

    /// Resolves the run's experts once (every rank calls it: training is collective):
    /// scripted; trained SAC experts for the expert tasks' goals into `RUN/experts/`, resumed
    /// per expert; or an existing folder, refused when it is for another environment or lacks
    /// an expert task's goal. nil when nothing reads them.
    public func experts(progress: (@Sendable (ExpertTraining.Progress) -> Void)? = nil) throws -> ExpertSet? {
        if let resolved = resolvedExperts { return resolved.set }
        let set = try resolveExperts(progress: progress)
        resolvedExperts = (set, set?.trainingSteps ?? 0)
        environmentSteps.expertTraining = set?.trainingSteps ?? 0
        return set
    }

    private func resolveExperts(progress: (@Sendable (ExpertTraining.Progress) -> Void)?) throws -> ExpertSet? {
        guard needsExperts else { return nil }
        let goals = try goals(testCount: 0).train
        let expertGoals = expertTaskIndices.map { goals[$0] }
        switch config.experts {
        case .scripted:
            return .scripted(config.environment)
        case .sac(let mode):
            let folder = run.file(Self.expertsFolder)
            let training = ExpertTraining(environment: config.environment, mode: mode, goals: expertGoals,
                                          stepsPerExpert: config.expertSteps, seed: config.seed, reward: config.reward,
                                          workers: config.threads)
            _ = try training.run(output: folder, group: group, resume: true, progress: progress)
            return try ExpertSet.load(from: folder)
        case .folder(let path):
            let set = try ExpertSet.resolve(path, environment: config.environment)
            try Self.check(set, at: path, covers: expertTaskIndices, of: goals, seed: config.seed)
            return set
        }
    }

    /// Refuses an expert folder that lacks an expert for one of the run's expert tasks.
    static func check(_ set: ExpertSet, at path: String, covers tasks: [Int], of goals: [Goal], seed: UInt64) throws {
        guard let missing = tasks.first(where: { !set.goals.contains(goals[$0]) }) else { return }
        throw ExpertError.badExpertFolder(
            path: path,
            problem: "its \(set.goals.count) \(set.mode.rawValue) experts were not trained for this run's meta-training goals "
                + "(task \(missing)'s goal \(goals[missing]) is not among them); a run's goals are the first --tasks "
                + "goals of the meta split drawn with its --seed, so train them with `gmps-vision experts --env "
                + "\(goals[missing].environment) --tasks \(goals.count) --goal-seed \(seed)`, or use --experts sac")
    }
}

/// Environment steps of a run by kind (DESIGN.md §4: every environment step is counted).
public struct EnvironmentSteps: Codable, Equatable, Sendable {
    /// Off-policy SAC training of the experts (0 for scripted experts); a given folder's as its
    /// manifest records them.
    public var expertTraining = 0
    /// Demonstration episodes: collected by the run, or in the given dataset for the tasks used.
    public var demonstrations = 0
    /// On-policy meta-training: pre-update rollouts, measurement rollouts and DAgger rollouts.
    public var metaTraining = 0
    /// Evaluation: so far the validations during meta-training (`GMPSPipeline+Validation`);
    /// meta-test evaluation and the report's reference rows are counted by the run command.
    public var evaluation = 0

    public init() {}
}
