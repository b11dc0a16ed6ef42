extension TaskRollouts {
    /// The inner step's view of these rollouts: Â = standardised discounted returns-to-go minus a
    /// linear baseline on hand xyz and time, fitted to this task's rollouts (DESIGN.md section 4);
    /// with latents, also each rollout's standardised return (the latent's advantage).
    public func innerStepData(policy: MetaPolicy, discount: Float) -> InnerStepData {
        var returns: [Float] = []
        returns.reserveCapacity(sampleCount)
        var trajectoryReturns: [Float] = []
        for trajectory in 0..<trajectoryCount {
            let range = (trajectory * horizon)..<((trajectory + 1) * horizon)
            let toGo = discountedReturnsToGo(Array(rewards[range]), discount: discount)
            returns += toGo
            trajectoryReturns.append(toGo.first ?? 0)
        }
        let scaledReturns = standardized(returns)
        var baseline = LinearFeatureBaseline(observationSize: 3)
        let perTrajectory = (0..<trajectoryCount).map { trajectory in
            (observations: Array(hands[(trajectory * horizon * 3)..<((trajectory + 1) * horizon * 3)]),
             returns: Array(scaledReturns[(trajectory * horizon)..<((trajectory + 1) * horizon)]))
        }
        baseline.fit(perTrajectory)
        var advantages: [Float] = []
        advantages.reserveCapacity(sampleCount)
        for trajectory in perTrajectory {
            let predicted = baseline.predict(observations: trajectory.observations, steps: horizon)
            advantages += zip(trajectory.returns, predicted).map { $0 - $1 }
        }
        return InnerStepData(
            headInputs: headInputs,
            actions: actions, behaviourLogProbabilities: logProbabilities, advantages: advantages,
            trajectoryLength: horizon, latents: latents, behaviourLatentMean: latentMean,
            trajectoryAdvantages: latents == nil ? nil : standardized(trajectoryReturns))
    }
}
