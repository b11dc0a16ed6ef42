/// The distribution of hidden goals of one environment (DESIGN.md section 3), and the fixed
/// meta-train / meta-test goal lists derived from a seed.
public struct TaskDistribution: Sendable {
    public let environment: EnvironmentName

    public init(_ environment: EnvironmentName) {
        self.environment = environment
    }

    /// Goals are rounded to 1 / stepsPerUnit (0.1 mm or 0.1 mrad) so that goal files read well.
    public static let stepsPerUnit = 10_000.0

    /// One goal drawn uniformly from the environment's goal ranges.
    public func sample(using generator: inout some RandomNumberGenerator) -> Goal {
        let coordinates = environment.goalSamplingRanges.map { range in
            let value = Double.random(in: range, using: &generator)
            let rounded = (value * Self.stepsPerUnit).rounded() / Self.stepsPerUnit
            return min(max(rounded, range.lowerBound), range.upperBound)
        }
        // Inside the sampling ranges, which lie inside the goal limits: always valid.
        return Goal(unchecked: environment, coordinates)
    }

    /// `trainCount` meta-training and `testCount` meta-test goals from `seed`: the same seed
    /// gives the same lists; no goal appears twice, so the lists are disjoint.
    public func metaSplit(seed: UInt64, trainCount: Int, testCount: Int) -> MetaGoalSplit {
        var generator = SplitMix64(seed: seed)
        var seen = Set<Goal>()
        var goals: [Goal] = []
        while goals.count < max(trainCount, 0) + max(testCount, 0) {
            let goal = sample(using: &generator)
            if seen.insert(goal).inserted { goals.append(goal) }
        }
        let train = Array(goals.prefix(max(trainCount, 0)))
        return MetaGoalSplit(train: train, test: Array(goals.dropFirst(train.count)))
    }
}

/// Meta-training goals (experts, demos, meta-training) and held-out meta-test goals.
public struct MetaGoalSplit: Hashable, Sendable, Codable {
    public var train: [Goal]
    public var test: [Goal]
}

extension Goal {
    /// For goals already known valid (drawn from the sampling ranges).
    init(unchecked environment: EnvironmentName, _ coordinates: [Double]) {
        self.environment = environment
        self.coordinates = coordinates
    }
}
