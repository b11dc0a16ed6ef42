/// Success, return and final distance over goals and draws, before and after each step.
public struct EvaluationSummary: Sendable {
    public var preSuccess: Double
    public var preReturn: Double
    public var preFinalDistance: Double
    /// Per adaptation step.
    public var postSuccess: [Double]
    /// Standard deviation across draws of the success rate over goals, per step.
    public var postSuccessSpread: [Double]
    public var postReturn: [Double]
    public var postFinalDistance: [Double]
    public var perGoal: [GoalEvaluation]

    public init(_ results: [GoalEvaluation], adaptationSteps: Int) {
        func mean(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count) }
        perGoal = results
        preSuccess = mean(results.map { $0.preSuccess ? 1 : 0 })
        preReturn = mean(results.map(\.preReturn))
        preFinalDistance = mean(results.map(\.preFinalDistance))
        let draws = adaptationSteps > 0 ? (results.first?.postSuccess.count ?? 0) : 0
        postSuccess = []
        postSuccessSpread = []
        postReturn = []
        postFinalDistance = []
        for step in 0..<adaptationSteps {
            let all = results.flatMap { $0.postSuccess.map { $0[step] ? 1.0 : 0.0 } }
            postSuccess.append(mean(all))
            let perDraw = (0..<draws).map { draw in mean(results.map { $0.postSuccess[draw][step] ? 1 : 0 }) }
            let m = mean(perDraw)
            // Identical draws (a deterministic policy) have no spread, not a rounding residue of 1e-17.
            let variance = mean(perDraw.map { ($0 - m) * ($0 - m) })
            postSuccessSpread.append(variance < 1e-12 ? 0 : variance.squareRoot())
            postReturn.append(mean(results.flatMap { $0.postReturn.map { $0[step] } }))
            postFinalDistance.append(mean(results.flatMap { $0.postFinalDistance.map { $0[step] } }))
        }
    }

    /// The `--json` fields; post-adaptation values are after the last step, with per-step lists.
    public var jsonObject: [String: Any] {
        [
            "adapt_steps": postSuccess.count,
            "pre_success": preSuccess, "pre_return": preReturn, "pre_final_distance": preFinalDistance,
            "post_success": postSuccess.last ?? 0, "post_success_spread": postSuccessSpread.last ?? 0,
            "post_return": postReturn.last ?? 0, "post_final_distance": postFinalDistance.last ?? 0,
            "post_success_by_step": postSuccess, "post_return_by_step": postReturn,
            "per_goal": perGoal.map { goal -> [String: Any] in
                [
                    "goal": goal.goal, "pre_success": goal.preSuccess, "pre_return": goal.preReturn,
                    "post_success": Double(goal.postSuccess.filter { $0.last ?? false }.count)
                        / Double(max(goal.postSuccess.count, 1)),
                    "post_final_distance": goal.postFinalDistance.map { $0.last ?? 0 }.reduce(0, +)
                        / Double(max(goal.postFinalDistance.count, 1)),
                    // Per draw, the privileged state after the last adaptation step's episode.
                    "post_final_states": goal.postFinalStates.map { $0.last ?? [] },
                ]
            },
        ]
    }

    public func table(environment: CustomStringConvertible, goals: Int, draws: Int) -> String {
        var lines = ["\(environment): \(goals) held-out goals × \(draws) adaptation draws",
                     "                 success        return   final distance"]
        func row(_ name: String, _ success: Double, _ spread: Double?, _ ret: Double, _ distance: Double) -> String {
            let s = spread.map { String(format: "%.2f ± %.2f", success, $0) } ?? String(format: "%.2f       ", success)
            return name.padding(toLength: 17, withPad: " ", startingAt: 0) + s
                + String(format: "   %8.2f   %.3f m", ret, distance)
        }
        lines.append(row("before", preSuccess, nil, preReturn, preFinalDistance))
        for step in postSuccess.indices {
            lines.append(row("after \(step + 1) step\(step == 0 ? "" : "s")", postSuccess[step], postSuccessSpread[step],
                             postReturn[step], postFinalDistance[step]))
        }
        return lines.joined(separator: "\n")
    }
}
