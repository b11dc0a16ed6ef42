import ConvNet
import VisionEnvs

/// Collects rollouts of the meta-policy from pixels on one thread: K environments of one task
/// step in lockstep so that the encoder runs at batch K. One worker per thread; it owns its
/// environments, rasterizers and network workspaces, and allocates nothing per step once warm.
public final class RolloutWorker {
    public let policy: MetaPolicy
    public let environment: EnvironmentName
    private var environments: [VisionEnv] = []
    private let imageHeight: Int
    private let imageWidth: Int
    private let workspace: Workspace
    private let headWorkspace: Workspace
    private var images: [Float] = []

    /// `maxTrajectories`: the most rollouts one `collect` runs at once.
    public init(policy: MetaPolicy, environment: EnvironmentName, imageHeight: Int, imageWidth: Int,
                maxTrajectories: Int) throws {
        self.policy = policy
        self.environment = environment
        self.imageHeight = imageHeight
        self.imageWidth = imageWidth
        workspace = policy.network.makeWorkspace(maxBatch: max(maxTrajectories, 1))
        headWorkspace = policy.head.makeWorkspace(maxBatch: 1)
        try growEnvironments(to: maxTrajectories)
    }

    private func growEnvironments(to count: Int) throws {
        while environments.count < count {
            environments.append(try VisionEnv(environment, imageHeight: imageHeight, imageWidth: imageWidth))
        }
        images = [Float](repeating: 0, count: count * 3 * imageHeight * imageWidth)
    }

    /// Rolls out `trajectories` episodes of `goal` with parameters θ (P).
    /// `recordImages`: keep every frame as uint8 (for DAgger relabelling).
    public func collect(goal: Goal, parameters theta: [Float], exploration: Exploration, trajectories: Int,
                        recordImages: Bool = false,
                        using generator: inout some RandomNumberGenerator) throws -> TaskRollouts {
        if trajectories > environments.count { try growEnvironments(to: trajectories) }
        let k = trajectories
        let horizon = environment.horizon
        let a = policy.actionCount, f = policy.network.imageFeatureCount, b = policy.biasVectorCount
        let stateCount = environment.privilegedStateDimension
        let imageCount = 3 * imageHeight * imageWidth
        let tail = policy.tail(of: theta)
        let logStd = policy.policy.logStd(theta)
        let std = logStd.map { expf($0) }

        var rollouts = TaskRollouts(
            goal: goal, trajectoryCount: k, horizon: horizon,
            hands: [Float](repeating: 0, count: k * horizon * 3),
            features: [Float](repeating: 0, count: k * horizon * f),
            actions: [Float](repeating: 0, count: k * horizon * a),
            logProbabilities: [Float](repeating: 0, count: k * horizon),
            rewards: [Float](repeating: 0, count: k * horizon),
            states: [Float](repeating: 0, count: k * horizon * stateCount),
            images: recordImages ? [UInt8](repeating: 0, count: k * horizon * imageCount) : [],
            successes: [Bool](repeating: false, count: k),
            finalStates: [Float](repeating: 0, count: k * stateCount), latents: nil, latentMean: nil)

        // Structured exploration: one bias vector per rollout, fixed for its whole length.
        var headParameters: [[Float]] = []
        if let latentStd = exploration.latentStd {
            let mean = policy.biasVector(ofTail: tail)
            var latents = [Float](repeating: 0, count: k * b)
            for trajectory in 0..<k {
                var parameters = tail
                for j in 0..<b {
                    let z = mean[j] + latentStd * generator.nextGaussian()
                    latents[trajectory * b + j] = z
                    parameters[j] = z
                }
                headParameters.append(parameters)
            }
            rollouts.latents = latents
            rollouts.latentMean = mean
        }

        // The batch buffer holds exactly K frames (forward takes the whole array, no copy).
        if images.count != k * imageCount { images = [Float](repeating: 0, count: k * imageCount) }
        for trajectory in 0..<k { try environments[trajectory].reset(goal: goal) }
        var hands = [Float](repeating: 0, count: k * 3)
        for t in 0..<horizon {
            // Observe: pixels straight into the batch buffer, hand xyz beside them.
            images.withUnsafeMutableBufferPointer { buffer in
                for trajectory in 0..<k {
                    let slice = UnsafeMutableBufferPointer(rebasing: buffer[(trajectory * imageCount)..<((trajectory + 1) * imageCount)])
                    environments[trajectory].renderObservation(into: slice)
                    let hand = environments[trajectory].handPosition
                    hands[trajectory * 3] = hand.x
                    hands[trajectory * 3 + 1] = hand.y
                    hands[trajectory * 3 + 2] = hand.z
                    if recordImages {
                        let row = (trajectory * horizon + t) * imageCount
                        rollouts.images.withUnsafeMutableBufferPointer { bytes in
                            FrameBytes.quantize(UnsafeBufferPointer(slice),
                                                into: UnsafeMutableBufferPointer(rebasing: bytes[row..<(row + imageCount)]))
                        }
                    }
                }
            }
            // Act: the encoder at batch K; the head per rollout when each has its own latent.
            var means = try policy.network.forward(parameters: theta, images: images,
                                                   extras: hands, batch: k, workspace: workspace)
            let features = policy.network.lastImageFeatures(workspace: workspace)
            if !headParameters.isEmpty {
                for trajectory in 0..<k {
                    let input = policy.headInputs(features: Array(features[(trajectory * f)..<((trajectory + 1) * f)]),
                                                  hands: Array(hands[(trajectory * 3)..<((trajectory + 1) * 3)]), batch: 1)
                    let mean = try policy.head.forward(parameters: headParameters[trajectory], extras: input,
                                                       batch: 1, workspace: headWorkspace)
                    means.replaceSubrange((trajectory * a)..<((trajectory + 1) * a), with: mean)
                }
            }
            for trajectory in 0..<k {
                let row = trajectory * horizon + t
                var action = [Float](repeating: 0, count: a)
                var logProbability: Float = 0
                for j in 0..<a {
                    let mean = means[trajectory * a + j]
                    let noise: Float = exploration == .none ? 0 : generator.nextGaussian()
                    action[j] = mean + std[j] * noise
                    logProbability += -0.5 * noise * noise - logStd[j] - 0.9189385
                }
                rollouts.hands.replaceSubrange((row * 3)..<((row + 1) * 3), with: hands[(trajectory * 3)..<((trajectory + 1) * 3)])
                rollouts.features.replaceSubrange((row * f)..<((row + 1) * f), with: features[(trajectory * f)..<((trajectory + 1) * f)])
                rollouts.actions.replaceSubrange((row * a)..<((row + 1) * a), with: action)
                rollouts.logProbabilities[row] = logProbability
                rollouts.states.replaceSubrange((row * stateCount)..<((row + 1) * stateCount),
                                                with: environments[trajectory].privilegedState())
                let result = try environments[trajectory].step(action)
                rollouts.rewards[row] = Float(result.reward)
                if t == horizon - 1 {
                    rollouts.successes[trajectory] = result.success
                    rollouts.finalStates.replaceSubrange((trajectory * stateCount)..<((trajectory + 1) * stateCount),
                                                         with: environments[trajectory].privilegedState())
                }
            }
        }
        return rollouts
    }
}

#if canImport(Glibc)
import Glibc
#endif
