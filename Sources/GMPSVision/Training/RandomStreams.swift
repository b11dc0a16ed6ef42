import ConvNet

/// What a random stream is for. Each purpose of each iteration (and each slot of the
/// meta-batch) draws from its own stream, so no result depends on thread timing, on how slots
/// are spread over ranks, or on where a run was interrupted and resumed.
public enum RandomStream: Sendable {
    /// Behaviour-cloning pre-training, one stream per Adam step.
    case pretraining(step: Int)
    /// Which tasks form the iteration's meta-batch.
    case taskSampling
    /// Slot s's exploring pre-update rollouts (and, for MAML, everything else slot s draws).
    case exploration(slot: Int)
    /// Slot s's imitation minibatch at outer step k.
    case outerBatch(step: Int, slot: Int)
    /// Slot s's measurement: fresh probes, the inner step, θ and φ with mean actions.
    case measurement(slot: Int)
}

/// The generators of a trainer, all split from the master seed by (iteration, purpose).
public struct RandomStreams: Sendable {
    public let seed: UInt64

    public init(seed: UInt64) { self.seed = seed }

    /// The generator for `stream` at meta-iteration `iteration` (pre-training has none).
    public func generator(_ stream: RandomStream, iteration: Int = 0) -> SeededGenerator {
        let (iteration, index) = Self.coordinates(stream, iteration: iteration)
        return SeededGenerator(seed: seed).split(stream: UInt64(iteration + 1) &* 1_000_003 &+ index)
    }

    /// The stream of the master seed that seeds validation (`GMPSPipeline.validate`): far above
    /// every iteration's ((iteration + 1) · 1,000,003 + index stays below it for 10⁸ iterations),
    /// so validation draws nothing training draws.
    public static let validation: UInt64 = 0x7A1D_0000_0000

    /// Where each purpose sits in the split space. These numbers decide every random draw of a
    /// run: changing one changes every result (and resumed runs would no longer match).
    /// Known overlap, kept because changing it changes every result: from outer step 10 on,
    /// outer-batch streams reach the measurement streams (10,000 + 10·1,000 = 20,000), and
    /// slots past 999 would reach the next step's.
    static func coordinates(_ stream: RandomStream, iteration: Int) -> (iteration: Int, index: UInt64) {
        switch stream {
        case let .pretraining(step): return (-1, UInt64(step))
        case .taskSampling: return (iteration, 0)
        case let .exploration(slot): return (iteration, 100 + UInt64(slot))
        case let .outerBatch(step, slot): return (iteration, 10_000 + UInt64(step) * 1_000 + UInt64(slot))
        case let .measurement(slot): return (iteration, 20_000 + UInt64(slot))
        }
    }
}
