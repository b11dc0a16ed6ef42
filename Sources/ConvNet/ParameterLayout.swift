/// One named tensor inside the flat parameter vector.
public struct ParameterTensor: Codable, Equatable, Sendable {
    /// Name, as in safetensors files: "conv0.weight", "fc1.bias", "bias_vector", "log_std", …
    public let name: String
    /// The group it belongs to: "conv", "spatial_softmax", "bias_vector", "head", "log_std".
    public let group: String
    public let shape: [Int]
    /// Offset of its first value in the parameter vector.
    public let offset: Int

    public var count: Int { Tensor.count(of: shape) }
    public var range: Range<Int> { offset..<(offset + count) }
}

/// Where each tensor lives in the flat parameter vector θ, and the named groups a caller uses
/// to choose what adapts in an inner loop (`mask(groups:)` gives α's support).
public struct ParameterLayout: Equatable, Sendable {
    public let tensors: [ParameterTensor]
    /// P, the length of every parameter vector of this network.
    public let count: Int

    init(tensors: [ParameterTensor]) {
        self.tensors = tensors
        self.count = tensors.last.map { $0.offset + $0.count } ?? 0
    }

    /// Group names in parameter order, each once.
    public var groups: [String] {
        var seen: [String] = []
        for t in tensors where !seen.contains(t.group) { seen.append(t.group) }
        return seen
    }

    /// The tensor called `name`, or nil.
    public func tensor(named name: String) -> ParameterTensor? { tensors.first { $0.name == name } }

    /// The ranges of θ that group `group` covers (empty when the network has no such group).
    public func ranges(of group: String) -> [Range<Int>] {
        tensors.filter { $0.group == group }.map(\.range)
    }

    /// A 0/1 vector of length P: 1 on the parameters of the given groups. Throws on a group
    /// name this network does not have, so a typo in a configuration is caught.
    ///
    ///     let alpha = layout.mask(groups: ["head", "bias_vector"]).map { $0 * 0.05 }
    public func mask(groups selected: [String]) throws -> [Float] {
        for g in selected where !groups.contains(g) {
            throw ConvNetError.shapeMismatch(
                "no parameter group \"\(g)\" in this network (it has \(groups.joined(separator: ", ")))")
        }
        var m = [Float](repeating: 0, count: count)
        for t in tensors where selected.contains(t.group) {
            for i in t.range { m[i] = 1 }
        }
        return m
    }
}
