extension Network {
    /// F: image features per sample (2·C keypoints after a spatial softmax; 0 without an image).
    public var imageFeatureCount: Int { featureCount }

    /// The image features (N,F) computed by the last `forward` on `workspace`: the spatial-softmax
    /// keypoints (or the flattened last feature map). Free to read: the forward kept them.
    /// GMPS's inner step runs on these, detached from the encoder.
    public func lastImageFeatures(workspace: Workspace) -> [Float] {
        let batch = workspace.batch
        guard batch > 0, featureCount > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: featuresPointer(workspace), count: batch * featureCount))
    }
}
