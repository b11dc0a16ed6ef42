import Foundation

/// What one method on one seed measured, written last into its run directory as `result.json`:
/// its presence marks the method/seed finished, and a rerun of the comparison reads it instead
/// of training again.
public struct MethodRunResult: Codable, Equatable, Sendable {
    public static let file = "result.json"

    public var method: ComparisonMethod
    public var seed: UInt64
    /// The learning curve on held-out goals: one point per snapshot, in training order.
    public var curve: [SnapshotEvaluation]
    /// The table's evaluation of the last snapshot.
    public var final: FinalEvaluation
    /// Environment steps by kind.
    public var samples: SampleCounts
    /// Wall seconds by stage (experts, demonstrations, pretraining, meta-training, evaluation),
    /// summed over the invocations that ran them.
    public var seconds: [String: Double]

    /// The curve as `SampleEfficiency` reads it: on-policy samples, success after one step.
    public var efficiencyCurve: [SampleEfficiency.Point] {
        curve.map { SampleEfficiency.Point(samples: $0.onPolicySamples, success: $0.postSuccess) }
    }

    public var totalSeconds: Double { seconds.values.reduce(0, +) }
}

/// One snapshot evaluated on held-out goals (the curve's protocol: one adaptation step).
public struct SnapshotEvaluation: Codable, Equatable, Sendable {
    public static let file = "evaluation.json"

    /// Meta-iterations done at the snapshot.
    public var iteration: Int
    /// Cumulative on-policy samples of training at the snapshot.
    public var onPolicySamples: Int
    public var preSuccess: Double
    /// Success after one adaptation step.
    public var postSuccess: Double
    /// Environment steps this evaluation took.
    public var environmentSteps: Int
    public var seconds: Double
}

/// The table's evaluation: success before and after each adaptation step.
public struct FinalEvaluation: Codable, Equatable, Sendable {
    public static let file = "final.json"

    public var iteration: Int
    public var goals: Int
    public var draws: Int
    public var preSuccess: Double
    /// After each adaptation step.
    public var postSuccess: [Double]
    /// Standard deviation across draws of each step's success over goals.
    public var postSuccessSpread: [Double]
    public var environmentSteps: Int
    public var seconds: Double
}

/// Environment steps of a method by kind (DESIGN.md §4: every step is counted).
public struct SampleCounts: Codable, Equatable, Sendable {
    /// The method's own rollouts that training learns from (pre- and post-update, DAgger).
    public var onPolicy = 0
    /// Off-policy SAC training of experts (0 for scripted ones).
    public var expert = 0
    /// Demonstration episodes.
    public var demo = 0
    /// Measuring only: training's mean-action measurement rollouts and the comparison's evaluations.
    public var evaluation = 0

    public var total: Int { onPolicy + expert + demo + evaluation }

    public init(onPolicy: Int = 0, expert: Int = 0, demo: Int = 0, evaluation: Int = 0) {
        (self.onPolicy, self.expert, self.demo, self.evaluation) = (onPolicy, expert, demo, evaluation)
    }
}

/// Wall seconds by stage, kept in a run directory as `stage_seconds.json` and saved after
/// each stage, so that a resumed method adds to what the interrupted one spent (a stage cut
/// short by the interruption is not counted).
struct StageClock: Codable {
    static let file = "stage_seconds.json"

    var seconds: [String: Double] = [:]

    static func load(from run: RunDirectory) throws -> StageClock {
        run.exists(file) ? try run.readJSON(StageClock.self, from: file) : StageClock()
    }

    /// Runs `body`, adds its wall time to `stage` and saves.
    mutating func time<T>(_ stage: String, in run: RunDirectory, _ body: () throws -> T) throws -> T {
        let started = Date()
        let value = try body()
        seconds[stage, default: 0] += Date().timeIntervalSince(started)
        try run.writeJSON(self, to: Self.file)
        return value
    }
}
