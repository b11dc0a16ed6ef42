import ConvNet
import VisionEnvs

/// Collects rollouts of the meta-policy from pixels on one thread: K environments of one task
/// step in lockstep so that the encoder runs at batch K. One worker per thread; it owns its
/// environments, rasterizers, network workspaces and step buffers. Per step it allocates only
/// the head's output and the environments' state vectors.
///
/// The path of one step: the renderer writes each environment's frame straight into the batch
/// buffer (CHW Float32) → the encoder turns the K frames and hands into head inputs
/// [keypoints, hand xyz], copied straight into the rollouts' rows (the inner step adapts the
/// head on exactly these) → the head gives the action means (at batch K, or per rollout with
/// its own latent) → `GaussianPolicy.sample` draws the action and its log-probability.
public final class RolloutWorker {
    public let policy: MetaPolicy
    public let environment: EnvironmentName
    /// What the environments pay per step (the rollouts' rewards).
    public let reward: RewardKind
    private var environments: [VisionEnv] = []
    private let imageHeight: Int
    private let imageWidth: Int
    private var workspace: Workspace
    private var headWorkspace: Workspace
    /// (K, 3, H, W): this step's frames.
    private var images: [Float] = []
    /// (K, 3): this step's hand positions.
    private var hands: [Float] = []
    /// (K, F+E): this step's head inputs.
    private var stepInputs: [Float] = []
    /// (A): one action.
    private var action: [Float]

    /// `maxTrajectories`: the most rollouts one `collect` runs at once (more grow the buffers).
    public init(policy: MetaPolicy, environment: EnvironmentName, imageHeight: Int, imageWidth: Int,
                maxTrajectories: Int, reward: RewardKind = .dense) throws {
        self.policy = policy
        self.environment = environment
        self.reward = reward
        self.imageHeight = imageHeight
        self.imageWidth = imageWidth
        workspace = policy.network.makeWorkspace(maxBatch: 1)
        headWorkspace = policy.head.makeWorkspace(maxBatch: 1)
        action = [Float](repeating: 0, count: policy.actionCount)
        try grow(to: max(maxTrajectories, 1))
    }

    /// A worker for the configuration's environment, reward and image size.
    public convenience init(policy: MetaPolicy, config: GMPSConfig, maxTrajectories: Int) throws {
        try self.init(policy: policy, environment: config.environment, imageHeight: config.imageHeight,
                      imageWidth: config.imageWidth, maxTrajectories: maxTrajectories, reward: config.reward)
    }

    private func grow(to count: Int) throws {
        while environments.count < count {
            environments.append(try VisionEnv(environment, imageHeight: imageHeight, imageWidth: imageWidth, reward: reward))
        }
        workspace = policy.network.makeWorkspace(maxBatch: count)
        headWorkspace = policy.head.makeWorkspace(maxBatch: count)
    }

    /// Rolls out `trajectories` episodes of `goal` with parameters θ (P).
    /// `recordImages`: keep every frame as uint8 (for DAgger relabelling and MAML's outer gradient).
    public func collect(goal: Goal, parameters theta: [Float], exploration: Exploration, trajectories: Int,
                        recordImages: Bool = false,
                        using generator: inout some RandomNumberGenerator) throws -> TaskRollouts {
        let k = trajectories
        if k > environments.count { try grow(to: k) }
        let horizon = environment.horizon
        let a = policy.actionCount, b = policy.biasVectorCount, inputCount = policy.headInputCount
        let stateCount = environment.privilegedStateDimension
        let imageCount = 3 * imageHeight * imageWidth
        let tail = policy.tail(of: theta)
        let logStd = policy.policy.logStd(theta)
        let std = logStd.map { expf($0) }

        var rollouts = TaskRollouts(
            goal: goal, trajectoryCount: k, horizon: horizon,
            hands: [Float](repeating: 0, count: k * horizon * 3),
            headInputs: [Float](repeating: 0, count: k * horizon * inputCount),
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

        // The batch buffers hold exactly K samples (the networks take whole arrays, no copy).
        if images.count != k * imageCount { images = [Float](repeating: 0, count: k * imageCount) }
        if hands.count != k * 3 { hands = [Float](repeating: 0, count: k * 3) }
        if stepInputs.count != k * inputCount { stepInputs = [Float](repeating: 0, count: k * inputCount) }
        for trajectory in 0..<k { try environments[trajectory].reset(goal: goal) }
        for t in 0..<horizon {
            // Observe: pixels straight into the batch buffer, hand xyz beside them.
            images.withUnsafeMutableBufferPointer { buffer in
                for trajectory in 0..<k {
                    let frame = UnsafeMutableBufferPointer(rebasing: buffer[(trajectory * imageCount)..<((trajectory + 1) * imageCount)])
                    environments[trajectory].renderObservation(into: frame)
                    let hand = environments[trajectory].handPosition
                    (hands[trajectory * 3], hands[trajectory * 3 + 1], hands[trajectory * 3 + 2]) = (hand.x, hand.y, hand.z)
                    if recordImages {
                        let row = (trajectory * horizon + t) * imageCount
                        rollouts.images.withUnsafeMutableBufferPointer { bytes in
                            FrameBytes.quantize(UnsafeBufferPointer(frame),
                                                into: UnsafeMutableBufferPointer(rebasing: bytes[row..<(row + imageCount)]))
                        }
                    }
                }
            }
            // Encode: the K frames → head inputs, into this step's buffer and the rollouts' rows
            // (row k·T + t, so consecutive rollouts are T rows apart).
            try policy.network.encode(parameters: theta, images: images, extras: hands, batch: k, workspace: workspace)
            stepInputs.withUnsafeMutableBufferPointer { policy.network.copyHeadInputs(workspace: workspace, into: $0.baseAddress!) }
            rollouts.headInputs.withUnsafeMutableBufferPointer {
                policy.network.copyHeadInputs(workspace: workspace, into: $0.baseAddress! + t * inputCount,
                                              stride: horizon * inputCount)
            }
            // Act: the head at batch K, or per rollout when each has its own latent.
            var means: [Float]
            if headParameters.isEmpty {
                means = try policy.head.forward(parameters: tail, extras: stepInputs, batch: k, workspace: headWorkspace)
            } else {
                means = [Float](repeating: 0, count: k * a)
                for trajectory in 0..<k {
                    let mean = try policy.head.forward(
                        parameters: headParameters[trajectory],
                        extras: Array(stepInputs[(trajectory * inputCount)..<((trajectory + 1) * inputCount)]),
                        batch: 1, workspace: headWorkspace)
                    means.replaceSubrange((trajectory * a)..<((trajectory + 1) * a), with: mean)
                }
            }
            for trajectory in 0..<k {
                let row = trajectory * horizon + t
                rollouts.logProbabilities[row] = GaussianPolicy.sample(
                    mean: means[(trajectory * a)..<((trajectory + 1) * a)], std: std, logStd: logStd,
                    noisy: exploration.perStepNoise, into: &action, using: &generator)
                rollouts.hands.replaceSubrange((row * 3)..<((row + 1) * 3), with: hands[(trajectory * 3)..<((trajectory + 1) * 3)])
                rollouts.actions.replaceSubrange((row * a)..<((row + 1) * a), with: action)
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
