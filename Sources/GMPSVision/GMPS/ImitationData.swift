import ConvNet

/// Expert-labelled observations of one task: demonstrations, or states the adapted policy
/// visited and the expert relabelled (DAgger). Images stay uint8 until a minibatch is drawn.
public struct ImitationData: Sendable {
    /// (N, 3, H, W) uint8.
    public private(set) var images: [UInt8]
    /// (N, 3).
    public private(set) var hands: [Float]
    /// (N, A): the expert's clean actions.
    public private(set) var actions: [Float]
    public let imageCount: Int
    public let actionCount: Int

    public init(imageCount: Int, actionCount: Int = 3) {
        images = []
        hands = []
        actions = []
        self.imageCount = imageCount
        self.actionCount = actionCount
    }

    public init(images: [UInt8], hands: [Float], actions: [Float], imageCount: Int, actionCount: Int = 3) {
        self.images = images
        self.hands = hands
        self.actions = actions
        self.imageCount = imageCount
        self.actionCount = actionCount
    }

    public var count: Int { actions.count / max(actionCount, 1) }
    public var isEmpty: Bool { count == 0 }

    public mutating func append(image: ArraySlice<UInt8>, hand: ArraySlice<Float>, action: [Float]) {
        images += image
        hands += hand
        actions += action
    }

    public mutating func append(contentsOf other: ImitationData) {
        images += other.images
        hands += other.hands
        actions += other.actions
    }

    /// `count` samples drawn uniformly with replacement, images scaled to [0, 1].
    public func sample(_ count: Int, using generator: inout some RandomNumberGenerator) -> ImitationBatch {
        let indices = (0..<count).map { _ in Int.random(in: 0..<self.count, using: &generator) }
        return batch(indices)
    }

    /// The samples at `indices`.
    public func batch(_ indices: [Int]) -> ImitationBatch {
        var imageBatch = [Float](repeating: 0, count: indices.count * imageCount)
        var handBatch: [Float] = [], actionBatch: [Float] = []
        handBatch.reserveCapacity(indices.count * 3)
        actionBatch.reserveCapacity(indices.count * actionCount)
        for (row, index) in indices.enumerated() {
            images.withUnsafeBufferPointer { bytes in
                imageBatch.withUnsafeMutableBufferPointer { pixels in
                    FrameBytes.dequantize(UnsafeBufferPointer(rebasing: bytes[(index * imageCount)..<((index + 1) * imageCount)]),
                                          into: UnsafeMutableBufferPointer(rebasing: pixels[(row * imageCount)..<((row + 1) * imageCount)]))
                }
            }
            handBatch += hands[(index * 3)..<((index + 1) * 3)]
            actionBatch += actions[(index * actionCount)..<((index + 1) * actionCount)]
        }
        return ImitationBatch(images: imageBatch, hands: handBatch, actions: actionBatch, count: indices.count)
    }
}

extension TaskRollouts {
    /// These rollouts' recorded frames labelled with an expert's actions for their states
    /// (DAgger). Requires rollouts collected with `recordImages`.
    public func relabelled(imageCount: Int, stateCount: Int,
                           expert: (_ state: [Float]) throws -> [Float]) rethrows -> ImitationData {
        var data = ImitationData(imageCount: imageCount)
        guard images.count == sampleCount * imageCount else { return data }
        for row in 0..<sampleCount {
            let state = Array(states[(row * stateCount)..<((row + 1) * stateCount)])
            data.append(image: images[(row * imageCount)..<((row + 1) * imageCount)],
                        hand: hands[(row * 3)..<((row + 1) * 3)], action: try expert(state))
        }
        return data
    }
}
