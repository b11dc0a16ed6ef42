import ConvNet

extension MetaPolicy {
    /// The head inputs [keypoints, hand] (N, F+E) that θ's encoder gives recorded rollout frames:
    /// what `RolloutWorker` copied into `TaskRollouts.headInputs` at collection, computed again
    /// by another θ. frames (N, 3, H, W) uint8 as recorded, hands (N, 3); `workspace` is the
    /// vision network's, and the frames go through it `maxBatch` at a time. The frames were
    /// quantised when recorded, so at the collecting θ the keypoints agree with the recorded
    /// ones to that rounding, not bit for bit.
    public func headInputs(parameters theta: [Float], frames: [UInt8], hands: [Float],
                           workspace: Workspace) throws -> [Float] {
        let imageCount = network.imageInputCount, width = network.headInputCount
        let n = hands.count / 3
        guard frames.count == n * imageCount else {
            throw MetaTrainingError.mismatch("the rollouts hold \(frames.count / max(imageCount, 1)) frames for \(n) steps; collect them with recordImages: true.")
        }
        var inputs = [Float](repeating: 0, count: n * width)
        var images = [Float](repeating: 0, count: workspace.maxBatch * imageCount)
        var start = 0
        while start < n {
            let rows = min(workspace.maxBatch, n - start)
            frames.withUnsafeBufferPointer { bytes in
                images.withUnsafeMutableBufferPointer { floats in
                    FrameBytes.dequantize(UnsafeBufferPointer(rebasing: bytes[(start * imageCount)..<((start + rows) * imageCount)]),
                                          into: UnsafeMutableBufferPointer(rebasing: floats[0..<(rows * imageCount)]))
                }
            }
            try network.encode(parameters: theta, images: rows == workspace.maxBatch ? images : Array(images[0..<(rows * imageCount)]),
                               extras: Array(hands[(start * 3)..<((start + rows) * 3)]), batch: rows, workspace: workspace)
            inputs.withUnsafeMutableBufferPointer { network.copyHeadInputs(workspace: workspace, into: $0.baseAddress! + start * width) }
            start += rows
        }
        return inputs
    }
}
