/// Sample efficiency from learning curves: how many on-policy samples a method needs to reach
/// a level of held-out success, and the ratio the paper claims (issue 15): the samples MAML
/// needs for its best success over the samples GMPS needs for that same success.
///
/// Semantics: **first crossing on the measured snapshots**, no interpolation. A curve reaches
/// a level at the samples of its first snapshot whose success is at or above it (within
/// `SampleEfficiency.tolerance`, so that a tie counts as reached); a later dip does not undo
/// it. Between snapshots nothing is assumed, so a count is "at most this many, at this
/// snapshot spacing": interpolating would credit a method with a level it was never measured at.
public enum SampleEfficiency {
    /// One snapshot of a learning curve: cumulative on-policy samples, held-out success.
    public struct Point: Codable, Equatable, Sendable {
        public var samples: Int
        public var success: Double

        public init(samples: Int, success: Double) {
            self.samples = samples
            self.success = success
        }
    }

    /// Successes are means of 0/1 outcomes, means of means over seeds: equal levels may differ
    /// by rounding in the last bits, never by this much.
    public static let tolerance = 1e-9

    /// The samples at the first point (in sample order) whose success reaches `level`, or nil.
    ///
    ///     samplesToReach(0.5, on: [(0, 0.1), (100, 0.5), (200, 0.3), (300, 0.7)]) == 100
    ///     samplesToReach(0.8, on: the same)                                         == nil
    public static func samplesToReach(_ level: Double, on curve: [Point]) -> Int? {
        curve.sorted { $0.samples < $1.samples }.first { $0.success >= level - tolerance }?.samples
    }

    /// The samples at the first point whose success passes `level` (strictly above it), or nil.
    public static func samplesToPass(_ level: Double, on curve: [Point]) -> Int? {
        curve.sorted { $0.samples < $1.samples }.first { $0.success > level + tolerance }?.samples
    }

    /// The highest success on `curve` (0 for an empty one).
    public static func best(_ curve: [Point]) -> Double { curve.map(\.success).max() ?? 0 }

    /// What `ratio(gmps:maml:)` found, with the figures it divided.
    public struct Ratio: Equatable, Sendable {
        /// Which side of the true ratio the figure is.
        public enum Bound: String, Sendable {
            /// Both counts measured.
            case exact
            /// The true ratio is at least this: MAML never reached GMPS's level within its
            /// budget, or GMPS reached the level at its first snapshot (0 samples: used the first
            /// positive snapshot's samples instead).
            case lower
            /// The true ratio is at most this: GMPS never reached MAML's best within its budget.
            case upper
        }

        /// MAML's samples over GMPS's; nil when undefined (both reach the level without a sample).
        public var value: Double?
        public var bound: Bound
        /// The success level the counts are for (MAML's best).
        public var level: Double
        /// The numerator: MAML's samples to its best, or its whole budget when bound is lower
        /// because MAML never reached GMPS's level.
        public var mamlSamples: Int
        /// The denominator: GMPS's samples to reach (or pass) `level`, or its whole budget when
        /// bound is upper.
        public var gmpsSamples: Int
    }

    /// The on-policy samples MAML needs to reach its best held-out success, divided by the
    /// samples GMPS needs to reach that same success (issue 15):
    ///
    /// - MAML's best ≥ GMPS's best (MAML reaches GMPS's level; a tie included): MAML's samples
    ///   to its best over GMPS's samples to reach it; exact. GMPS's best below MAML's cannot
    ///   happen here unless they tie.
    /// - MAML's best < GMPS's best (MAML never reaches GMPS's level): MAML's whole budget
    ///   (`mamlBudget`, else its last snapshot's samples) over GMPS's samples to pass MAML's
    ///   best (strictly above it, the conservative count), marked as a lower bound.
    /// - GMPS never reaching MAML's best is the first case with GMPS short: MAML's samples over
    ///   GMPS's whole budget (`gmpsBudget`, else its last snapshot's), an upper bound.
    ///
    /// A denominator of 0 (GMPS at the level before any on-policy sample) is replaced by GMPS's
    /// first positive snapshot, and the ratio marked a lower bound; nil when there is none, or
    /// when MAML too needed no sample. Returns nil for an empty curve.
    ///
    ///     gmps [(0, 0.2), (100, 0.6)], maml [(0, 0.1), (1000, 0.6)]
    ///       → 1000 / 100 = 10, exact (a tie at 0.6)
    ///     gmps [(0, 0.2), (100, 0.6), (200, 0.7)], maml [(0, 0.1), (1000, 0.6), (2000, 0.6)]
    ///       → 2000 / 200 = 10, lower bound (GMPS passes 0.6 at 200; MAML never reaches 0.7)
    public static func ratio(gmps: [Point], maml: [Point], gmpsBudget: Int? = nil, mamlBudget: Int? = nil) -> Ratio? {
        guard !gmps.isEmpty, !maml.isEmpty else { return nil }
        let (gmpsBest, mamlBest) = (best(gmps), best(maml))
        let mamlLast = mamlBudget ?? (maml.map(\.samples).max() ?? 0)
        let gmpsLast = gmpsBudget ?? (gmps.map(\.samples).max() ?? 0)
        let firstPositive = gmps.map(\.samples).filter { $0 > 0 }.min()

        func divide(_ numerator: Int, _ denominator: Int, _ bound: Ratio.Bound) -> Ratio {
            guard denominator == 0 else {
                return Ratio(value: Double(numerator) / Double(denominator), bound: bound, level: mamlBest,
                             mamlSamples: numerator, gmpsSamples: denominator)
            }
            // GMPS needed no on-policy sample: at most its first positive snapshot's.
            guard numerator > 0, let firstPositive else {
                return Ratio(value: nil, bound: bound, level: mamlBest, mamlSamples: numerator, gmpsSamples: 0)
            }
            return Ratio(value: Double(numerator) / Double(firstPositive), bound: .lower, level: mamlBest,
                         mamlSamples: numerator, gmpsSamples: firstPositive)
        }

        if mamlBest < gmpsBest - tolerance {
            // MAML never reaches GMPS's level; GMPS passes MAML's best somewhere (its best is higher).
            let passed = samplesToPass(mamlBest, on: gmps) ?? gmpsLast
            return divide(mamlLast, passed, .lower)
        }
        let mamlSamples = samplesToReach(mamlBest, on: maml) ?? mamlLast
        guard let gmpsSamples = samplesToReach(mamlBest, on: gmps) else {
            return divide(mamlSamples, gmpsLast, .upper)
        }
        return divide(mamlSamples, gmpsSamples, .exact)
    }
}
