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

    /// How many distinct goals the distribution can produce: each axis holds its range's
    /// values on the 1 / stepsPerUnit grid, ends included (door: 8,001 angles; push:
    /// 3,001 × 1,001 positions; reach: 3,001 × 2,001 × 2,001).
    public var capacity: Int {
        environment.goalSamplingRanges.reduce(1) { product, range in
            product * (Int(((range.upperBound - range.lowerBound) * Self.stepsPerUnit).rounded()) + 1)
        }
    }

    /// `trainCount` meta-training, `testCount` meta-test and `validationCount` validation goals
    /// from `seed`: the same seed gives the same lists; no goal appears twice, so the lists are
    /// disjoint. Validation goals are drawn after the others from the same stream, so asking for
    /// them leaves the training and test goals as they were. Asking for more goals than
    /// `capacity` is an error (the search for new ones would never end).
    public func metaSplit(seed: UInt64, trainCount: Int, testCount: Int,
                          validationCount: Int = 0) throws(VisionEnvError) -> MetaGoalSplit {
        let (train, test, validation) = (max(trainCount, 0), max(testCount, 0), max(validationCount, 0))
        guard train <= capacity - test, validation <= capacity - test - train else {
            throw .tooManyGoals(environment, requested: train + test + validation, capacity: capacity)
        }
        var generator = SplitMix64(seed: seed)
        var seen = Set<Goal>()
        var goals: [Goal] = []
        while goals.count < train + test + validation {
            let goal = sample(using: &generator)
            if seen.insert(goal).inserted { goals.append(goal) }
        }
        return MetaGoalSplit(train: Array(goals.prefix(train)), test: Array(goals[train..<(train + test)]),
                             validation: Array(goals.suffix(validation)))
    }
}

/// Meta-training goals (experts, demos, meta-training), held-out meta-test goals, and held-out
/// validation goals (the learning curve on goals meta-training never sees).
public struct MetaGoalSplit: Hashable, Sendable, Codable {
    public var train: [Goal]
    public var test: [Goal]
    public var validation: [Goal] = []
}
extension Goal {
    /// For goals already known valid (drawn from the sampling ranges).
    init(unchecked environment: EnvironmentName, _ coordinates: [Double]) {
        self.environment = environment
        self.coordinates = coordinates
    }
}
