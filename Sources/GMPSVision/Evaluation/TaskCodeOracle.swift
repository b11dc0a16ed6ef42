import Foundation
import VisionEnvs

/// What bias-vector adaptation could reach at best (a diagnostic; it reads the goal, so it is
/// no meta-test): the policy run with mean actions at the code pre-training learned for a goal.
/// On a meta-training goal that is the task's own code (how well behaviour cloning fits it);
/// on a held-out goal, the code a smooth map from goal to code gives (`CodeMap`), fitted to the
/// meta-training tasks' codes. Adaptation moves only the bias vector, so where the policy fails
/// at the fitted code, finding the goal faster would not help: the decoder is the limit.
public enum TaskCodeOracle {
    /// codes ≈ features(goal) · W, least squares over the meta-training tasks, with
    /// features [1, g_i, g_i g_j (i ≤ j)] (quadratic) when there are more tasks than those,
    /// else [1, g_i] (linear).
    public struct CodeMap: Sendable {
        public enum Degree: String, Sendable { case linear, quadratic }
        public let degree: Degree
        /// G: the goal's coordinates.
        public let goalDimension: Int
        /// B: a code's length.
        public let codeLength: Int
        /// W (features × B), row-major.
        public let weights: [Double]
        /// 1 − Σ residual² / Σ (code − mean code)², over the fitted tasks and all B dimensions:
        /// how much of the codes a smooth function of the goal explains.
        public let explainedFraction: Double

        /// Fits the map to `goals` (tasks × G) and their `codes` (tasks × B, row-major).
        /// Throws when there are no more tasks than a linear map's features, or the goals do
        /// not determine the fit (all on one line, say).
        public init(goals: [[Double]], codes: [Float], codeLength: Int) throws {
            let tasks = goals.count, g = goals.first?.count ?? 0, b = codeLength
            guard b > 0, codes.count == tasks * b, goals.allSatisfy({ $0.count == g }) else {
                throw TaskCodeOracleError.mismatch("\(tasks) goals and \(codes.count) code values do not make codes of length \(b), one per goal.")
            }
            let degree: Degree = tasks > Self.featureCount(.quadratic, goalDimension: g) ? .quadratic : .linear
            let f = Self.featureCount(degree, goalDimension: g)
            guard tasks > f else {
                throw TaskCodeOracleError.tooFewTasks("fitting codes to \(g)-coordinate goals needs more than \(f) meta-training tasks; this run has \(tasks).")
            }
            // Normal equations XᵀX W = Xᵀ C (F × F, F × B), solved by Cholesky.
            let rows = goals.map { Self.features(of: $0, degree: degree) }
            var gram = [Double](repeating: 0, count: f * f), right = [Double](repeating: 0, count: f * b)
            for (t, x) in rows.enumerated() {
                for i in 0..<f {
                    for j in 0..<f { gram[i * f + j] += x[i] * x[j] }
                    for k in 0..<b { right[i * b + k] += x[i] * Double(codes[t * b + k]) }
                }
            }
            guard let w = Self.solveSymmetric(gram, right, n: f, columns: b) else {
                throw TaskCodeOracleError.degenerate("the meta-training goals do not determine a \(degree.rawValue) map to the codes (they lie on a lower-dimensional set).")
            }
            (self.degree, goalDimension, self.codeLength, weights) = (degree, g, b, w)
            var residual = 0.0, spread = 0.0
            for k in 0..<b {
                let mean = (0..<tasks).reduce(0.0) { $0 + Double(codes[$1 * b + k]) } / Double(tasks)
                for (t, x) in rows.enumerated() {
                    let fitted = (0..<f).reduce(0.0) { $0 + x[$1] * w[$1 * b + k] }
                    residual += pow(Double(codes[t * b + k]) - fitted, 2)
                    spread += pow(Double(codes[t * b + k]) - mean, 2)
                }
            }
            explainedFraction = spread > 0 ? 1 - residual / spread : 1
        }

        /// The fitted code of `goal` (B).
        public func code(for goal: [Double]) -> [Float] {
            let x = Self.features(of: goal, degree: degree)
            return (0..<codeLength).map { k in Float(x.indices.reduce(0.0) { $0 + x[$1] * weights[$1 * codeLength + k] }) }
        }

        static func featureCount(_ degree: Degree, goalDimension g: Int) -> Int {
            degree == .linear ? 1 + g : 1 + g + g * (g + 1) / 2
        }

        static func features(of goal: [Double], degree: Degree) -> [Double] {
            var x = [1.0] + goal
            if degree == .quadratic {
                for i in goal.indices { for j in i..<goal.count { x.append(goal[i] * goal[j]) } }
            }
            return x
        }

        /// A X = B for symmetric positive-definite A (n × n) and B (n × columns), or nil where
        /// A is singular to working precision.
        static func solveSymmetric(_ a: [Double], _ rhs: [Double], n: Int, columns: Int) -> [Double]? {
            var l = [Double](repeating: 0, count: n * n)
            let scale = (0..<n).map { a[$0 * n + $0] }.max() ?? 0
            for i in 0..<n {
                for j in 0...i {
                    var sum = a[i * n + j]
                    for k in 0..<j { sum -= l[i * n + k] * l[j * n + k] }
                    if i == j {
                        guard sum > 1e-12 * scale else { return nil }
                        l[i * n + i] = sum.squareRoot()
                    } else {
                        l[i * n + j] = sum / l[j * n + j]
                    }
                }
            }
            var x = rhs
            for c in 0..<columns {
                for i in 0..<n {            // L y = b
                    var sum = x[i * columns + c]
                    for k in 0..<i { sum -= l[i * n + k] * x[k * columns + c] }
                    x[i * columns + c] = sum / l[i * n + i]
                }
                for i in stride(from: n - 1, through: 0, by: -1) {   // Lᵀ x = y
                    var sum = x[i * columns + c]
                    for k in (i + 1)..<n { sum -= l[k * n + i] * x[k * columns + c] }
                    x[i * columns + c] = sum / l[i * n + i]
                }
            }
            return x
        }
    }
}

public enum TaskCodeOracleError: Error, CustomStringConvertible {
    case mismatch(String)
    case tooFewTasks(String)
    case degenerate(String)
    case noCodes(String)

    public var description: String {
        switch self {
        case .mismatch(let s), .tooFewTasks(let s), .degenerate(let s), .noCodes(let s): return s
        }
    }
}
