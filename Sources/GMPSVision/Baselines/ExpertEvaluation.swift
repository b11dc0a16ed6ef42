import VisionEnvs

/// The scripted expert on held-out goals: the upper bound of the baselines (DESIGN.md section
/// 4). It reads the privileged state, goal included, and acts with its clean action (its "mean
/// action"); it needs no adaptation, so "before" and every "after" are the same rollout.
public enum ExpertEvaluation {
    /// One noiseless expert episode per goal, reported in the format of meta-test evaluation
    /// with `draws` identical draws of `steps` steps (the expert and the environment are
    /// deterministic, so repeated episodes are the same bytes).
    public static func evaluate(environment: EnvironmentName, goals: [Goal], draws: Int,
                                steps: Int = 1, reward: RewardKind = .dense) throws -> [GoalEvaluation] {
        let expert = ScriptedExpert(environment)
        let env = try ManipulationEnv(environment, reward: reward)
        return try goals.map { goal in
            try env.reset(goal: goal)
            var total = 0.0
            var success = false
            for _ in 0..<env.horizon {
                let result = try env.step(expert.action(for: env.privilegedState()))
                total += result.reward
                success = result.success
            }
            let distance = goal.distance(inPrivilegedState: env.privilegedState())
            return GoalEvaluation(goal: goal.coordinates, preSuccess: success, preReturn: total,
                                  preFinalDistance: distance,
                                  postSuccess: Array(repeating: Array(repeating: success, count: steps), count: draws),
                                  postReturn: Array(repeating: Array(repeating: total, count: steps), count: draws),
                                  postFinalDistance: Array(repeating: Array(repeating: distance, count: steps), count: draws))
        }
    }
}
