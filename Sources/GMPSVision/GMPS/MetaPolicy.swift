import ConvNet

/// The image-based meta-policy of DESIGN.md section 4 and the part of it the inner step adapts.
///
/// θ (P) is laid out by the vision network as
///   [conv weights and biases, spatial-softmax temperature | bias vector (B), FC head, log-std (A)]
///    └──────────── encoder: outer loop only ─────────────┘ └──────── tail: adapted ─────────┘
/// The inner step adapts the tail on the encoder's keypoints recorded during the rollout
/// (detached features): FINDINGS.md measured second order through the conv encoder at ~0.7 s
/// per Adam step, against ~0.05 s on the head. The encoder learns through the outer loss.
///
/// The tail is exactly the parameter vector of `head`: an MLP on [keypoints, hand xyz] with the
/// same bias vector, layers and log-std, so the inner step runs on 2·C + 3 numbers per sample
/// instead of an image.
public struct MetaPolicy: Sendable {
    public let network: Network
    public let policy: GaussianPolicy
    public let head: Network
    public let headPolicy: GaussianPolicy
    /// Index in θ of the first adapted parameter (the bias vector).
    public let tailStart: Int

    /// The policy a configuration describes: the vision network of DESIGN.md section 4 at the
    /// configuration's image size and initial action noise. Every trainer, evaluator and
    /// command builds its policy here, so a run directory's policy is always the same one.
    /// `threads`: workers per batch inside one network call (1 inside parallel rollout workers).
    public init(config: GMPSConfig, threads: Int = 1) throws {
        try self.init(spec: .visionPolicy(imageHeight: config.imageHeight, imageWidth: config.imageWidth,
                                          biasVector: config.biasVectorLength, initialStd: config.initialStd),
                      threads: threads)
    }

    public init(spec: NetworkSpec, threads: Int = 1) throws {
        guard spec.image != nil, spec.logStd != nil else {
            throw ConvNetError.invalidArchitecture("the meta-policy needs an image input and a log-std")
        }
        network = try Network(spec: spec, threads: threads)
        policy = try GaussianPolicy(network: network)
        head = try Network(spec: network.headSpec, threads: 1)
        headPolicy = try GaussianPolicy(network: head)
        tailStart = network.headParameterRange.lowerBound
        // The head's layout must be the vision network's tail, tensor for tensor.
        let tail = network.layout.tensors.filter { $0.offset >= tailStart }
        guard tail.map(\.name) == head.layout.tensors.map(\.name),
              tail.map(\.shape) == head.layout.tensors.map(\.shape),
              network.parameterCount - tailStart == head.parameterCount else {
            throw ConvNetError.invalidArchitecture("the policy head's layout does not match the vision network's tail")
        }
    }

    /// P: all meta-parameters.
    public var parameterCount: Int { network.parameterCount }
    /// The adapted parameters' count (the length of α).
    public var tailCount: Int { head.parameterCount }
    /// B: the bias-transformation vector's length.
    public var biasVectorCount: Int { network.spec.biasVector }
    /// A.
    public var actionCount: Int { network.outputCount }
    /// F + E: a head input per sample (keypoints, then hand xyz).
    public var headInputCount: Int { head.extraInputCount }

    /// 1 for each tail parameter the inner step adapts, 0 for the rest (tailCount).
    public func alphaMask(_ adapted: GMPSConfig.AdaptedParameters) -> [Float] {
        switch adapted {
        case .head: return [Float](repeating: 1, count: tailCount)
        case .biasVector: return (0..<tailCount).map { $0 < biasVectorCount ? 1 : 0 }
        }
    }

    /// θ[tailStart...] as the head's parameter vector.
    public func tail(of theta: [Float]) -> [Float] { Array(theta[tailStart...]) }

    /// θ with its tail replaced.
    public func replacingTail(of theta: [Float], with tail: [Float]) -> [Float] {
        var result = theta
        result.replaceSubrange(tailStart..., with: tail)
        return result
    }

    /// A group of tail parameters: one log α under `GMPSConfig.AlphaParameterisation.logPerGroup`,
    /// one mean-α column in progress.csv.
    public struct AlphaGroup: Sendable, Equatable {
        /// "bias_vector", "head_weights", "head_biases" or "log_std".
        public var name: String
        /// Indices into the tail (α's indices).
        public var ranges: [Range<Int>]
        public var indices: [Int] { ranges.flatMap { Array($0) } }
    }

    /// The tail's groups, always these four in this order (a group the head lacks is empty).
    public static let alphaGroupNames = ["bias_vector", "head_weights", "head_biases", "log_std"]

    /// The tail's parameters by `alphaGroupNames`, from the head's layout.
    public var alphaGroups: [AlphaGroup] {
        Self.alphaGroupNames.map { name in
            let tensors = head.layout.tensors.filter { tensor in
                switch name {
                case "head_weights": return tensor.group == "head" && tensor.shape.count > 1
                case "head_biases": return tensor.group == "head" && tensor.shape.count == 1
                default: return tensor.group == name
                }
            }
            return AlphaGroup(name: name, ranges: tensors.map(\.range))
        }
    }

    /// The bias vector (B) inside a tail.
    public func biasVector(ofTail tail: [Float]) -> [Float] { Array(tail[0..<biasVectorCount]) }

    /// Where the bias vector sits in θ (B indices, the tail's first).
    public var biasVectorSlot: Range<Int> { tailStart..<(tailStart + biasVectorCount) }

    /// θ with its bias vector replaced by `code` (B): the policy of the task that code stands for.
    public func replacingBiasVector(of theta: [Float], with code: some Collection<Float>) -> [Float] {
        var result = theta
        result.replaceSubrange(biasVectorSlot, with: code)
        return result
    }
}
