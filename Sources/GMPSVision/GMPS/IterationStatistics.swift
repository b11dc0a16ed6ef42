/// A meta-iteration's figures, summed over this rank's slots and then over all ranks:
/// mean-action success and return of θ and of each adapted φ_i, the exploring rollouts'
/// success (the pre-update policy's), and the environment steps by kind.
struct IterationStatistics {
    /// [pre success, pre return, post success, post return, exploration success,
    ///  exploring samples, evaluation samples], summed over the meta-batch.
    private var sums = [Double](repeating: 0, count: 7)
    private let taskCount: Double

    init(batch: MetaBatch, explored: ResultSlots<ExploringChain>, measured: ResultSlots<Measurement>,
         daggerActive: Bool) {
        for slot in batch.mySlots {
            guard let chain = explored[slot], let rollouts = chain.rollouts.first, let result = measured[slot] else { continue }
            sums[0] += result.pre.successRate
            sums[1] += result.pre.averageReturn
            sums[2] += result.post.successRate
            sums[3] += result.post.averageReturn
            sums[4] += rollouts.successRate
            // Every meta-trained step's exploring rollouts are training data.
            sums[5] += Double(chain.rollouts.reduce(0) { $0 + $1.sampleCount })
            // With DAgger, φ_i's rollouts are training data (counted as DAgger samples).
            sums[6] += Double(result.pre.sampleCount + (daggerActive ? 0 : result.post.sampleCount))
        }
        batch.group.sum(&sums)
        taskCount = Double(max(batch.tasks.count, 1))
    }

    /// Environment steps of the exploring rollouts of every meta-trained step (training data).
    var explorationSamples: Int { Int(sums[5]) }
    /// Environment steps spent only on measuring.
    var evaluationSamples: Int { Int(sums[6]) }

    func log(iteration: Int, imitationLoss: Double, meanAlpha: Double, learningRate: Double,
             onPolicySamples: Int, daggerSamples: Int, measurementSamples: Int, seconds: Double) -> IterationLog {
        var log = IterationLog(iteration: iteration,
                     preSuccess: sums[0] / taskCount, preReturn: sums[1] / taskCount,
                     postSuccess: sums[2] / taskCount, postReturn: sums[3] / taskCount,
                     explorationSuccess: sums[4] / taskCount, imitationLoss: imitationLoss,
                     meanAlpha: meanAlpha, learningRate: learningRate, onPolicySamples: onPolicySamples,
                     daggerSamples: daggerSamples, seconds: seconds)
        log.measurementSamples = measurementSamples
        return log
    }
}
