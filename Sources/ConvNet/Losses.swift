/// Mean squared error over all N·O entries, as PyTorch's `nn.MSELoss()`:
///   L = 1/(N·O) Σ (y - t)²        dL/dy = 2 (y - t) / (N·O)
public enum MSELoss {
    /// output and target are (N,O); returns L and dL/doutput (N,O).
    public static func valueAndGradient(output: [Float], target: [Float]) throws -> (loss: Float, gradient: [Float]) {
        guard output.count == target.count, !output.isEmpty else {
            throw ConvNetError.shapeMismatch("MSE of \(output.count) outputs against \(target.count) targets")
        }
        let scale = 1 / Float(output.count)
        var loss: Double = 0
        var grad = [Float](repeating: 0, count: output.count)
        for i in 0..<output.count {
            let d = output[i] - target[i]
            loss += Double(d * d)
            grad[i] = 2 * d * scale
        }
        return (Float(loss) * scale, grad)
    }
}
