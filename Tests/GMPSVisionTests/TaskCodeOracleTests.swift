import Foundation
import Testing
import ConvNet
@testable import GMPSVision

/// The task-code oracle's map from goal to code (`TaskCodeOracle.CodeMap`) and where it puts a code.
struct TaskCodeOracleTests {
    /// Codes that are a quadratic function of 2-D goals: the fit recovers the function on a goal
    /// it never saw and explains all of the codes' spread; noise on the codes lowers that share.
    @Test func aQuadraticMapOfTheGoalIsRecovered() throws {
        var rng = SeededGenerator(seed: 5)
        let goals = (0..<12).map { _ in [Double.random(in: -0.15...0.15, using: &rng), Double.random(in: 0.7...0.85, using: &rng)] }
        // W (6 features × B = 3): [1, x, y, x², xy, y²] → code.
        let truth: [[Double]] = [[0.3, -1, 2], [4, 0.5, -3], [-2, 1, 0.7], [10, -6, 2], [-5, 8, 1], [3, 2, -9]]
        func code(_ goal: [Double]) -> [Double] {
            let (x, y) = (goal[0], goal[1])
            let features = [1, x, y, x * x, x * y, y * y]
            return (0..<3).map { k in features.indices.reduce(0) { $0 + features[$1] * truth[$1][k] } }
        }
        let codes = goals.flatMap { code($0).map(Float.init) }
        let map = try TaskCodeOracle.CodeMap(goals: goals, codes: codes, codeLength: 3)
        #expect(map.degree == .quadratic)
        #expect(map.explainedFraction > 0.99999, "\(map.explainedFraction)")
        let unseen = [0.05, 0.78]
        for (fitted, expected) in zip(map.code(for: unseen), code(unseen)) {
            #expect(abs(Double(fitted) - expected) < 2e-3 * max(1, abs(expected)), "fitted \(fitted), true \(expected)")
        }
        let noisy = codes.map { $0 + Float.random(in: -0.5...0.5, using: &rng) }
        let noisyMap = try TaskCodeOracle.CodeMap(goals: goals, codes: noisy, codeLength: 3)
        #expect(noisyMap.explainedFraction < map.explainedFraction)
        #expect(noisyMap.explainedFraction > 0, "most of the spread is still the goal's")
    }

    /// Too few tasks for a quadratic map: a linear one (2-D goals need more than 6 tasks for the
    /// quadratic, more than 3 for the linear); fewer still, or goals on one line: a clear error.
    @Test func fewTasksGiveALinearMapAndDegenerateGoalsAnError() throws {
        let five = [[0.0, 0.7], [0.1, 0.75], [-0.1, 0.8], [0.05, 0.85], [-0.05, 0.72]]
        let linearCodes = five.flatMap { [Float(2 * $0[0] - $0[1]), Float(3 * $0[1] + 1)] }
        let map = try TaskCodeOracle.CodeMap(goals: five, codes: linearCodes, codeLength: 2)
        #expect(map.degree == .linear)
        #expect(map.explainedFraction > 0.99999)
        let fitted = map.code(for: [0.02, 0.8])
        #expect(abs(fitted[0] - Float(2 * 0.02 - 0.8)) < 1e-4 && abs(fitted[1] - Float(3 * 0.8 + 1)) < 1e-4)

        #expect(throws: TaskCodeOracleError.self) {
            try TaskCodeOracle.CodeMap(goals: Array(five.prefix(3)), codes: Array(linearCodes.prefix(6)), codeLength: 2)
        }
        let line = (0..<8).map { [0.01 * Double($0), 0.7 + 0.01 * Double($0)] }
        #expect(throws: TaskCodeOracleError.self) {
            try TaskCodeOracle.CodeMap(goals: line, codes: [Float](repeating: 1, count: 16), codeLength: 2)
        }
        #expect(throws: TaskCodeOracleError.self) {
            try TaskCodeOracle.CodeMap(goals: five, codes: [1, 2, 3], codeLength: 2)
        }
    }

    /// The oracle's parameters are θ with the bias vector, and nothing else, set to the code.
    @Test func theCodeGoesIntoTheBiasVectorAlone() throws {
        let problem = try MetaGradientTests.makeProblem(latents: true)
        let policy = problem.policy
        let code: [Float] = [0.25, -1.5]
        #expect(code.count == policy.biasVectorCount)
        let parameters = policy.replacingBiasVector(of: problem.theta, with: code)
        #expect(policy.biasVector(ofTail: policy.tail(of: parameters)) == code)
        let slot = policy.tailStart..<(policy.tailStart + code.count)
        for j in problem.theta.indices where !slot.contains(j) { #expect(parameters[j] == problem.theta[j]) }
    }
}
