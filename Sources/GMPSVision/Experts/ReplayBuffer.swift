/// A ring buffer of transitions (s, a, r, s′) for off-policy learning.
///
/// No terminal flags: every environment here ends only at its horizon (a time limit, not a
/// terminal state), so SAC always bootstraps from s′.
///
/// Shapes: S = state dimension, A = action dimension, N = transitions stored.
public struct ReplayBuffer: Sendable {
    public let capacity: Int
    public let stateDimension: Int
    public let actionDimension: Int
    /// (capacity,S), (capacity,A), (capacity), (capacity,S).
    private(set) var states: [Float]
    private(set) var actions: [Float]
    private(set) var rewards: [Float]
    private(set) var nextStates: [Float]
    /// Transitions stored (N ≤ capacity).
    public private(set) var count = 0
    /// Where the next transition goes (the oldest one once full).
    private var nextIndex = 0

    public init(capacity: Int, stateDimension: Int, actionDimension: Int) {
        self.capacity = max(1, capacity)
        self.stateDimension = stateDimension
        self.actionDimension = actionDimension
        states = [Float](repeating: 0, count: self.capacity * stateDimension)
        actions = [Float](repeating: 0, count: self.capacity * actionDimension)
        rewards = [Float](repeating: 0, count: self.capacity)
        nextStates = [Float](repeating: 0, count: self.capacity * stateDimension)
    }

    /// A batch of B transitions: states (B,S), actions (B,A), rewards (B), nextStates (B,S).
    public struct Batch: Sendable {
        public var states: [Float], actions: [Float], rewards: [Float], nextStates: [Float]
        public var size: Int { rewards.count }
    }

    /// Stores one transition, overwriting the oldest once the buffer is full.
    /// state and nextState are (S), action is (A).
    public mutating func append(state: [Float], action: [Float], reward: Float, nextState: [Float]) {
        precondition(state.count == stateDimension && nextState.count == stateDimension && action.count == actionDimension,
                     "ReplayBuffer.append: transition sizes do not match the buffer")
        let i = nextIndex
        states.replaceSubrange((i * stateDimension)..<((i + 1) * stateDimension), with: state)
        nextStates.replaceSubrange((i * stateDimension)..<((i + 1) * stateDimension), with: nextState)
        actions.replaceSubrange((i * actionDimension)..<((i + 1) * actionDimension), with: action)
        rewards[i] = reward
        nextIndex = (i + 1) % capacity
        count = min(count + 1, capacity)
    }

    /// B transitions drawn uniformly with replacement from those stored (count must be > 0).
    public func sample(_ size: Int, using rng: inout some RandomNumberGenerator) -> Batch {
        precondition(count > 0, "ReplayBuffer.sample on an empty buffer")
        let (s, a) = (stateDimension, actionDimension)
        var batch = Batch(states: [Float](repeating: 0, count: size * s), actions: [Float](repeating: 0, count: size * a),
                          rewards: [Float](repeating: 0, count: size), nextStates: [Float](repeating: 0, count: size * s))
        let indices = (0..<size).map { _ in Int(rng.next() % UInt64(count)) }
        // Row copies through buffer pointers: indexing the four arrays element by element
        // (bounds checks, uniqueness checks of the batch's arrays) was 6% of a SAC update.
        func gather(_ source: [Float], width: Int, into target: inout [Float]) {
            source.withUnsafeBufferPointer { from in
                target.withUnsafeMutableBufferPointer { to in
                    for (b, i) in indices.enumerated() {
                        (to.baseAddress! + b * width).update(from: from.baseAddress! + i * width, count: width)
                    }
                }
            }
        }
        gather(states, width: s, into: &batch.states)
        gather(nextStates, width: s, into: &batch.nextStates)
        gather(actions, width: a, into: &batch.actions)
        gather(rewards, width: 1, into: &batch.rewards)
        return batch
    }
}
