import ConvNet
import Foundation
import VisionEnvs

/// Runs the methods of a comparison (issue 15), each seed into its own run directory
/// `OUT/<method>-seed<S>/`, and evaluates each on the seed's held-out goals (meta-test, or
/// validation to tune on: `ComparisonConfig.goals`) at snapshots along training. Per method and
/// seed, in order:
///
///   1. train, writing a snapshot run directory `snapshots/iter-NNNN` (config.json and a
///      checkpoint, which `gmps-vision evaluate --run` reads) at each of
///      `config.snapshotIterations`; GMPS and MAML resume from their checkpoints;
///   2. evaluate every snapshot on `curveGoals` held-out goals after one adaptation step
///      (`evaluation.json` beside it), then the last on `finalGoals` after
///      `finalAdaptationSteps` steps (`final.json`);
///   3. write `result.json`: a finished method/seed is read back, not rerun.
///
/// Every method of a seed is evaluated on the same goals with the same adaptation seed, so
/// their differences are the methods'. Each run directory is locked while it is written.
public final class Comparison {
    public let config: ComparisonConfig
    /// The comparison's folder, OUT.
    public let folder: RunDirectory
    /// Status lines for people (standard error in the CLI).
    public var log: (String) -> Void = { _ in }
    /// Progress of long stages, or nil for none.
    public var display: ((_ stage: String, _ total: Int) -> ProgressDisplay)?

    public static let snapshotsFolder = "snapshots"

    public init(config: ComparisonConfig, folder: RunDirectory) {
        self.config = config
        self.folder = folder
    }

    /// The run directory name of `method` on `seed`.
    public static func runName(_ method: ComparisonMethod, seed: UInt64) -> String { "\(method.rawValue)-seed\(seed)" }

    /// `method` on `seed`: read back when finished, else trained (or resumed) and evaluated.
    /// no-meta-training and maml-promp need the seed's GMPS run to have finished.
    public func run(_ method: ComparisonMethod, seed: UInt64) throws -> MethodRunResult {
        let (run, lock) = try RunDirectory.openForWriting(folder.file(Self.runName(method, seed: seed)).path)
        defer { withExtendedLifetime(lock) {} }
        if run.exists(MethodRunResult.file) {
            let result = try run.readJSON(MethodRunResult.self, from: MethodRunResult.file)
            log("\(Self.runName(method, seed: seed)): finished earlier; read back")
            return result
        }
        log("\(Self.runName(method, seed: seed)): \(method.label)")
        let result: MethodRunResult
        switch method {
        case .gmps: result = try runGMPS(seed: seed, in: run)
        case .noMetaTraining: result = try runWithoutMetaTraining(seed: seed, in: run)
        case .mamlPG, .mamlPGPretrained, .mamlProMP, .mamlProMPScratch: result = try runMAML(method, seed: seed, in: run)
        }
        try run.writeJSON(result, to: MethodRunResult.file)
        return result
    }

    // MARK: GMPS

    private func runGMPS(seed: UInt64, in run: RunDirectory) throws -> MethodRunResult {
        let gmps = config.gmps(seed: seed)
        _ = try run.settle(gmps, mayChange: ["threads"], hint: hint)
        var clock = try StageClock.load(from: run)
        let pipeline = GMPSPipeline(config: gmps, run: run)
        _ = try clock.time("experts", in: run) { try pipeline.experts() }
        let demos = try clock.time("demonstrations", in: run) { try pipeline.demonstrations() }
        let trainer = try pipeline.trainer(demos: demos, resume: true)
        let meta = display?("meta-training", gmps.iterations)
        for iteration in config.snapshotIterations(of: gmps.iterations) where trainer.state.iteration <= iteration {
            // Snapshot 0 is the pre-trained policy: behaviour cloning with task codes.
            try clock.time(iteration == 0 ? "pretraining" : "meta-training", in: run) {
                try pipeline.metaTrain(trainer, display: meta, stopAfter: iteration)
            }
            try saveSnapshot(trainer.state, config: gmps, policy: trainer.policy, in: run)
        }
        let curve = try evaluateSnapshots(in: run, gmps: gmps, clock: &clock)
        let final = try evaluateFinal(in: run, gmps: gmps, clock: &clock)
        let samples = SampleCounts(
            onPolicy: trainer.state.onPolicySamples, expert: pipeline.environmentSteps.expertTraining,
            demo: pipeline.environmentSteps.demonstrations,
            evaluation: trainer.state.evaluationSamples + curve.map(\.environmentSteps).reduce(0, +) + final.environmentSteps)
        return MethodRunResult(method: .gmps, seed: seed, curve: curve, final: final, samples: samples, seconds: clock.seconds)
    }

    /// The GMPS run's snapshot 0 (its pre-trained θ and initial α), evaluated with adaptation
    /// as GMPS is: a run directory of zero meta-iterations. Its experts and demonstrations are
    /// GMPS's, counted and timed here too.
    private func runWithoutMetaTraining(seed: UInt64, in run: RunDirectory) throws -> MethodRunResult {
        var gmps = config.gmps(seed: seed)
        let (gmpsResult, state, snapshot) = try gmpsStart(seed: seed, needed: "no-meta-training is its pre-trained policy", gmps: gmps)
        gmps.iterations = 0
        _ = try run.settle(gmps, mayChange: ["threads"], hint: hint)
        var clock = try StageClock.load(from: run)
        if !run.exists(MetaCheckpoint.stateFile) { try MetaCheckpoint.save(state, policy: try MetaPolicy(config: gmps), in: run) }
        try saveSnapshot(state, config: gmps, policy: try MetaPolicy(config: gmps), in: run)
        // The same goals, draws and θ as GMPS's first curve point: its evaluation, not another.
        let (ours, theirs) = (try Self.snapshot(0, of: run), snapshot)
        if !ours.exists(SnapshotEvaluation.file), theirs.exists(SnapshotEvaluation.file) {
            try ours.write(try theirs.read(SnapshotEvaluation.file), to: SnapshotEvaluation.file)
        }
        let curve = try evaluateSnapshots(in: run, gmps: gmps, clock: &clock)
        let final = try evaluateFinal(in: run, gmps: gmps, clock: &clock)
        var seconds = clock.seconds
        for stage in ["experts", "demonstrations", "pretraining"] { seconds[stage] = gmpsResult.seconds[stage] }
        let samples = SampleCounts(onPolicy: 0, expert: gmpsResult.samples.expert, demo: gmpsResult.samples.demo,
                                   evaluation: curve.map(\.environmentSteps).reduce(0, +) + final.environmentSteps)
        return MethodRunResult(method: .noMetaTraining, seed: seed, curve: curve, final: final, samples: samples, seconds: seconds)
    }

    /// The seed's finished GMPS run: its result, its snapshot 0's state and that snapshot.
    private func gmpsStart(seed: UInt64, needed: String, gmps: GMPSConfig) throws
        -> (result: MethodRunResult, state: MetaTrainerState, snapshot: RunDirectory) {
        let source = RunDirectory(unopened: folder.file(Self.runName(.gmps, seed: seed)).path)
        guard source.exists(MethodRunResult.file) else {
            throw ComparisonError.missingRun(path: source.url.path, needed: "\(needed); run gmps for seed \(seed) first")
        }
        let result = try source.readJSON(MethodRunResult.self, from: MethodRunResult.file)
        let snapshot = try Self.snapshot(0, of: source)
        let state = try MetaCheckpoint.load(from: snapshot, policy: try MetaPolicy(config: gmps), iterations: gmps.iterations)
        return (result, state, snapshot)
    }

    // MARK: MAML

    private func runMAML(_ method: ComparisonMethod, seed: UInt64, in run: RunDirectory) throws -> MethodRunResult {
        let maml = config.maml(seed: seed, method: method)
        let gmps = maml.gmps
        let pretrained = maml.pretrainInit
        _ = try run.settle(maml, mayChange: ["threads"], hint: hint)
        var clock = try StageClock.load(from: run)
        let goals = try TaskDistribution(gmps.environment).metaSplit(seed: seed, trainCount: gmps.metaTrainTasks, testCount: 0).train
        let policy = try MetaPolicy(config: gmps)
        let state = run.exists(MetaCheckpoint.stateFile)
            ? try MetaCheckpoint.load(from: run, policy: policy, iterations: gmps.iterations) : nil
        var initialTheta: [Float]?
        var gmpsResult: MethodRunResult?
        if method == .mamlProMP {
            let start = try gmpsStart(seed: seed, needed: "maml-promp starts from its pre-trained policy", gmps: config.gmps(seed: seed))
            gmpsResult = start.result
            initialTheta = start.state.theta
        } else if pretrained && state == nil {
            initialTheta = try clock.time("pretraining", in: run) {
                try MultiTaskBehaviourCloning.clonedParameters(config: maml, goals: goals)
            }
        }
        let trainer = try MAMLPolicyGradientTrainer(config: maml, goals: goals, initialTheta: initialTheta, state: state)
        if trainer.state.iteration == 0 { try saveSnapshot(trainer.state, config: maml, policy: trainer.policy, in: run) }
        let every = max(1, gmps.iterations / max(config.curvePoints, 1))
        let progress = display?(method.rawValue, gmps.iterations)
        _ = try clock.time("meta-training", in: run) {
            try trainer.train(in: run, snapshotEvery: every) { entry in
                progress?.update(entry.iteration, detail: String(format: "post %.2f · %d samples", entry.postSuccess, entry.onPolicySamples))
            }
        }
        try saveSnapshot(trainer.state, config: maml, policy: trainer.policy, in: run)
        let curve = try evaluateSnapshots(in: run, gmps: gmps, clock: &clock)
        let final = try evaluateFinal(in: run, gmps: gmps, clock: &clock)
        // maml-promp's start is GMPS's pre-training: its experts and demonstrations count here too.
        let demoSteps = gmpsResult?.samples.demo ?? (pretrained ? gmps.metaTrainTasks * gmps.demosPerTask * gmps.environment.horizon : 0)
        let samples = SampleCounts(
            onPolicy: trainer.state.onPolicySamples, expert: gmpsResult?.samples.expert ?? 0, demo: demoSteps,
            evaluation: trainer.state.evaluationSamples + curve.map(\.environmentSteps).reduce(0, +) + final.environmentSteps)
        var seconds = clock.seconds
        if let gmpsResult { for stage in ["experts", "demonstrations", "pretraining"] { seconds[stage] = gmpsResult.seconds[stage] } }
        return MethodRunResult(method: method, seed: seed, curve: curve, final: final, samples: samples, seconds: seconds)
    }

    // MARK: Snapshots and their evaluation

    /// The snapshot run directory of `iteration` in `run`.
    static func snapshot(_ iteration: Int, of run: RunDirectory) throws -> RunDirectory {
        try RunDirectory(existing: run.file(String(format: "\(snapshotsFolder)/iter-%04d", iteration)).path,
                         hint: "the comparison writes it while training; rerun the comparison to train again")
    }

    /// Writes `state` as the snapshot of its iteration (unless there is one): config.json and a checkpoint.
    private func saveSnapshot<C: Encodable>(_ state: MetaTrainerState, config: C, policy: MetaPolicy,
                                            in run: RunDirectory) throws {
        let path = run.file(String(format: "\(Self.snapshotsFolder)/iter-%04d", state.iteration)).path
        let snapshot = try RunDirectory(path: path)
        guard !snapshot.exists(MetaCheckpoint.stateFile) else { return }
        try snapshot.writeJSON(config, to: RunDirectory.configFile)
        try MetaCheckpoint.save(state, policy: policy, in: snapshot)
    }

    /// The snapshots of `run`, by iteration.
    private func snapshotIterations(in run: RunDirectory) -> [Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: run.file(Self.snapshotsFolder).path)) ?? []
        return names.compactMap { $0.hasPrefix("iter-") ? Int($0.dropFirst(5)) : nil }.sorted()
    }

    /// Every snapshot's curve point, evaluated once (`evaluation.json` in the snapshot).
    private func evaluateSnapshots(in run: RunDirectory, gmps: GMPSConfig, clock: inout StageClock) throws -> [SnapshotEvaluation] {
        let iterations = snapshotIterations(in: run)
        let goals = try config.evaluationGoals(seed: gmps.seed, count: config.curveGoals)
        let progress = display?("evaluation (snapshots)", iterations.count)
        var curve: [SnapshotEvaluation] = []
        for (index, iteration) in iterations.enumerated() {
            let snapshot = try Self.snapshot(iteration, of: run)
            if snapshot.exists(SnapshotEvaluation.file) {
                curve.append(try snapshot.readJSON(SnapshotEvaluation.self, from: SnapshotEvaluation.file))
                continue
            }
            let state = try MetaCheckpoint.load(from: snapshot, policy: try MetaPolicy(config: gmps), iterations: .max)
            let started = Date()
            let summary = try clock.time("evaluation", in: run) {
                try GMPSPipeline(config: gmps, run: snapshot).evaluate(
                    theta: state.theta, alpha: state.alpha, latentScales: state.latentScales, goals: goals,
                    adaptationSteps: 1, draws: config.curveDraws,
                    seed: gmps.seed &+ 7)
            }
            let point = SnapshotEvaluation(
                iteration: iteration, onPolicySamples: state.onPolicySamples, preSuccess: summary.preSuccess,
                postSuccess: summary.postSuccess.first ?? summary.preSuccess,
                environmentSteps: MetaTestEvaluator.environmentSteps(goals: goals.count, draws: config.curveDraws, adaptationSteps: 1,
                                                                     trajectories: gmps.trajectoriesPerTask, horizon: gmps.environment.horizon),
                seconds: Date().timeIntervalSince(started))
            try snapshot.writeJSON(point, to: SnapshotEvaluation.file)
            progress?.update(index + 1, detail: String(format: "iteration %d: %.2f → %.2f", iteration, point.preSuccess, point.postSuccess))
            curve.append(point)
        }
        return curve
    }

    /// The last snapshot on the table's protocol, evaluated once (`final.json` in the run).
    private func evaluateFinal(in run: RunDirectory, gmps: GMPSConfig, clock: inout StageClock) throws -> FinalEvaluation {
        if run.exists(FinalEvaluation.file) { return try run.readJSON(FinalEvaluation.self, from: FinalEvaluation.file) }
        guard let last = snapshotIterations(in: run).last else {
            throw ComparisonError.missingRun(path: run.file(Self.snapshotsFolder).path, needed: "no snapshot to evaluate")
        }
        let snapshot = try Self.snapshot(last, of: run)
        let state = try MetaCheckpoint.load(from: snapshot, policy: try MetaPolicy(config: gmps), iterations: .max)
        let goals = try config.evaluationGoals(seed: gmps.seed, count: config.finalGoals)
        let steps = config.finalAdaptationSteps
        let started = Date()
        let summary = try clock.time("evaluation", in: run) {
            try GMPSPipeline(config: gmps, run: snapshot).evaluate(
                theta: state.theta, alpha: state.alpha, latentScales: state.latentScales, goals: goals,
                adaptationSteps: steps, draws: config.finalDraws,
                seed: gmps.seed &+ 7, display: display?("evaluation (goals)", goals.count))
        }
        let final = FinalEvaluation(
            iteration: last, goals: goals.count, draws: config.finalDraws, preSuccess: summary.preSuccess,
            postSuccess: summary.postSuccess, postSuccessSpread: summary.postSuccessSpread,
            environmentSteps: MetaTestEvaluator.environmentSteps(goals: goals.count, draws: config.finalDraws, adaptationSteps: steps,
                                                                 trajectories: gmps.trajectoriesPerTask, horizon: gmps.environment.horizon),
            seconds: Date().timeIntervalSince(started))
        try run.writeJSON(final, to: FinalEvaluation.file)
        return final
    }

    private var hint: String {
        "a comparison's runs continue only on their own settings; give the comparison another --out for others."
    }
}

/// A comparison that cannot go on, as a sentence.
public enum ComparisonError: Error, CustomStringConvertible {
    /// A run directory the step needs is not there (`needed`: why it is needed).
    case missingRun(path: String, needed: String)

    public var description: String {
        switch self {
        case let .missingRun(path, needed): return "\(path) is missing: \(needed)."
        }
    }
}
