/// One method's learning curves over seeds, snapshot by snapshot: the mean (the line a plot
/// draws and `SampleEfficiency` reads) and the min–max band around it.
///
/// Seeds share a snapshot schedule (the same configuration but the seed), so their i-th
/// snapshots are at the same samples unless DAgger's relabelling counts differ; the band's x is
/// the mean. A seed with fewer snapshots (an unfinished one) ends the band where it ends.
///
///     seeds [[(0, 0.1), (100, 0.5)], [(0, 0.3), (100, 0.7)]]
///       → (0: 0.2 in 0.1…0.3), (100: 0.6 in 0.5…0.7)
public struct SeedBand: Equatable, Sendable {
    public struct Point: Equatable, Sendable {
        public var samples: Int
        public var mean: Double
        public var min: Double
        public var max: Double
    }

    public var points: [Point]

    public init(seeds: [[SampleEfficiency.Point]]) {
        let count = seeds.map(\.count).min() ?? 0
        points = (0..<count).map { index in
            let column = seeds.map { $0[index] }
            let successes = column.map(\.success)
            let samples = column.map(\.samples).reduce(0, +) / Swift.max(column.count, 1)
            return Point(samples: samples, mean: successes.reduce(0, +) / Double(successes.count),
                         min: successes.min() ?? 0, max: successes.max() ?? 0)
        }
    }

    /// The mean curve, as `SampleEfficiency` reads curves.
    public var meanCurve: [SampleEfficiency.Point] { points.map { .init(samples: $0.samples, success: $0.mean) } }

    /// The mean and the standard deviation over seeds (population: the spread of the seeds run, as
    /// `EvaluationSummary` gives the spread of its draws; 0 for one seed).
    ///
    ///     meanAndSpread([0.2, 0.4]) == (0.3, 0.1)
    public static func meanAndSpread(_ values: [Double]) -> (mean: Double, spread: Double) {
        guard !values.isEmpty else { return (0, 0) }
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
        return (mean, variance < 1e-12 ? 0 : variance.squareRoot())
    }
}
