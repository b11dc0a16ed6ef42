import Foundation

/// One line of a maml-pg run's `progress.csv`.
public struct MAMLIterationLog: Codable, Sendable {
    public var iteration: Int
    /// Mean-action success and return of θ on this iteration's tasks, before adaptation.
    public var preSuccess: Double
    public var preReturn: Double
    /// The same for each task's adapted φ_i (the policies the outer gradient was taken at).
    public var postSuccess: Double
    public var postReturn: Double
    /// Success of the exploring pre-update rollouts the inner step learned from.
    public var explorationSuccess: Double
    /// Success and return of the exploring post-update rollouts the outer gradient used.
    public var postExplorationSuccess: Double
    public var postExplorationReturn: Double
    public var meanAlpha: Double
    public var learningRate: Double
    /// Cumulative on-policy environment steps: pre- and post-update rollouts.
    public var onPolicySamples: Int
    public var seconds: Double
    /// With several outer steps: the share of post-update samples (and latents) whose ratio the
    /// clip held, over the steps after the first; 0 with one step. Near 1: the trust region
    /// stops the steps; near 0: it never binds.
    public var clippedFraction: Double = 0

    public static let csvHeader = "iteration,pre_success,post_success,pre_return,post_return,exploration_success,post_exploration_success,post_exploration_return,mean_alpha,learning_rate,on_policy_samples,seconds,clipped_fraction"

    public var csvRow: String {
        func format(_ value: Double) -> String { String(format: "%.5g", value) }
        return [String(iteration), format(preSuccess), format(postSuccess), format(preReturn), format(postReturn),
                format(explorationSuccess), format(postExplorationSuccess), format(postExplorationReturn),
                format(meanAlpha), format(learningRate), String(onPolicySamples),
                String(format: "%.2f", seconds), format(clippedFraction)].joined(separator: ",")
    }
}
