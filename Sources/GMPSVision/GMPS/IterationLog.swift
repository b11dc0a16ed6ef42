import Foundation

/// One line of `progress.csv`.
public struct IterationLog: Codable, Sendable {
    public var iteration: Int
    /// Mean-action success and return of θ on this iteration's tasks, before adaptation, and of
    /// each task's φ_i adapted on fresh exploring rollouts (as at meta-test).
    public var preSuccess: Double
    public var preReturn: Double
    public var postSuccess: Double
    public var postReturn: Double
    /// Success of the exploring pre-update rollouts the inner step learned from.
    public var explorationSuccess: Double
    /// Outer imitation loss, averaged over the iteration's Adam steps.
    public var imitationLoss: Double
    public var meanAlpha: Double
    public var learningRate: Double
    public var onPolicySamples: Int
    public var daggerSamples: Int
    public var seconds: Double
    /// Environment steps so far spent measuring θ and φ_i (exploring probes and mean-action
    /// episodes not used as DAgger data): with `onPolicySamples`, every meta-training step.
    public var measurementSamples = 0
    /// The run's expert-training and demonstration environment steps (the same on every row).
    public var expertEnvSteps = 0
    public var demoEnvSteps = 0
    /// Mean-action success of θ on the held-out validation goals, and of θ adapted on them as
    /// at meta-test; nil on iterations without a validation (`GMPSConfig.validationEvery`).
    public var validationPreSuccess: Double? = nil
    public var validationPostSuccess: Double? = nil
    /// Mean α of each of `MetaPolicy.alphaGroupNames` (bias vector, head weights, head biases,
    /// log-std) after the iteration; nil in rows written before these columns.
    public var meanAlphaByGroup: [Double]? = nil
    /// The learned latent scales s_1 … s_{N−1} after the iteration (`MetaTrainerState.latentScales`);
    /// nil with one meta-trained step. One column, the scales separated by semicolons.
    public var latentScales: [Double]? = nil
    /// The anchors' own losses, unweighted and averaged over the iteration's outer steps:
    /// DAgger's anchor BC_i(θ) (`anchorWeight`) and the code anchor's BC_i(θ with task i's code)
    /// (`codeAnchorWeight`); nil where that anchor is off or in rows written before these columns.
    public var anchorLoss: Double? = nil
    public var codeAnchorLoss: Double? = nil

    /// Every environment step of meta-training so far.
    public var metaTrainingEnvSteps: Int { onPolicySamples + measurementSamples }

    /// The columns; later ones are appended so that readers of the earlier ones keep working.
    public static let csvHeader = "iteration,pre_success,post_success,pre_return,post_return,exploration_success,imitation_loss,mean_alpha,learning_rate,on_policy_samples,dagger_samples,seconds,measurement_samples,meta_training_env_steps,expert_env_steps,demo_env_steps,validation_pre_success,validation_post_success,alpha_bias_vector,alpha_head_weights,alpha_head_biases,alpha_log_std,latent_scales,anchor_loss,code_anchor_loss"

    public var csvRow: String {
        let groups = meanAlphaByGroup?.map(format) ?? [String](repeating: "", count: MetaPolicy.alphaGroupNames.count)
        let fields: [String] = [String(iteration), format(preSuccess), format(postSuccess), format(preReturn), format(postReturn),
         format(explorationSuccess), format(imitationLoss), format(meanAlpha), format(learningRate),
         String(onPolicySamples), String(daggerSamples), String(format: "%.2f", seconds), String(measurementSamples),
         String(metaTrainingEnvSteps), String(expertEnvSteps), String(demoEnvSteps),
         validationPreSuccess.map(format) ?? "", validationPostSuccess.map(format) ?? ""]
        let scales = latentScales?.map(format).joined(separator: ";") ?? ""
        let anchors = [anchorLoss, codeAnchorLoss].map { $0.map(format) ?? "" }
        return (fields + groups + [scales] + anchors).joined(separator: ",")
    }

    private func format(_ value: Double) -> String { String(format: "%.5g", value) }
}

extension IterationLog {
    /// Parses a `csvRow`, or one written before later columns were appended (the step
    /// columns read 0, the validation, α-group, latent-scale and anchor-loss columns nil); nil for
    /// a malformed line.
    public init?(csvRow: String) {
        let fields = csvRow.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let groups = MetaPolicy.alphaGroupNames.count
        guard [12, 16, 18, 18 + groups, 19 + groups, 21 + groups].contains(fields.count), let iteration = Int(fields[0]),
              let values = Optional(fields[1...8].compactMap(Double.init)), values.count == 8,
              let samples = Int(fields[9]), let dagger = Int(fields[10]), let seconds = Double(fields[11]) else { return nil }
        self.init(iteration: iteration, preSuccess: values[0], preReturn: values[2], postSuccess: values[1],
                  postReturn: values[3], explorationSuccess: values[4], imitationLoss: values[5],
                  meanAlpha: values[6], learningRate: values[7], onPolicySamples: samples,
                  daggerSamples: dagger, seconds: seconds)
        guard fields.count >= 16 else { return }
        guard let measurement = Int(fields[12]), let expert = Int(fields[14]), let demos = Int(fields[15]) else { return nil }
        (measurementSamples, expertEnvSteps, demoEnvSteps) = (measurement, expert, demos)
        guard fields.count >= 18 else { return }
        // Both empty (no validation that iteration) or both numbers.
        if !(fields[16].isEmpty && fields[17].isEmpty) {
            guard let pre = Double(fields[16]), let post = Double(fields[17]) else { return nil }
            (validationPreSuccess, validationPostSuccess) = (pre, post)
        }
        // Every group's mean α, or none.
        let alphas = fields.dropFirst(18).prefix(groups)
        if !alphas.isEmpty, !alphas.allSatisfy(\.isEmpty) {
            let means = alphas.compactMap(Double.init)
            guard means.count == groups else { return nil }
            meanAlphaByGroup = means
        }
        // The latent scales, or none.
        guard fields.count >= 19 + groups else { return }
        if !fields[18 + groups].isEmpty {
            let scales = fields[18 + groups].split(separator: ";").map(String.init)
            let parsed = scales.compactMap(Double.init)
            guard parsed.count == scales.count else { return nil }
            latentScales = parsed
        }
        // Each anchor's loss, or none.
        guard fields.count == 21 + groups else { return }
        for (field, keyPath) in zip(fields[(19 + groups)...], [\IterationLog.anchorLoss, \.codeAnchorLoss]) where !field.isEmpty {
            guard let value = Double(field) else { return nil }
            self[keyPath: keyPath] = value
        }
    }
}
