import Foundation

/// Network weights as safetensors: one F32 tensor per layout entry (PyTorch shapes, e.g. conv
/// weights (OC,C,K,K)) and the `NetworkSpec` as JSON under metadata key "architecture".
extension Safetensors {
    public static let architectureKey = "architecture"

    /// Writes θ of `network`, with the architecture and `metadata` in the header. Atomic.
    public static func save(parameters: [Float], of network: Network, to url: URL,
                            metadata: [String: String] = [:]) throws {
        try AtomicWrite.write(try encode(parameters: parameters, of: network, metadata: metadata, path: url.path), to: url)
    }

    /// The bytes `save` writes; `path` names the file in errors.
    public static func encode(parameters: [Float], of network: Network, metadata: [String: String] = [:],
                              path: String = "<safetensors>") throws -> Data {
        guard parameters.count == network.parameterCount else {
            throw ConvNetError.shapeMismatch("saving \(parameters.count) parameters for a network of \(network.parameterCount)")
        }
        var meta = metadata
        meta[architectureKey] = try architectureJSON(network.spec)
        let tensors = network.layout.tensors.map { t in
            (name: t.name, tensor: StoredTensor.f32(shape: t.shape, values: Array(parameters[t.range])))
        }
        return try encode(Contents(tensors: tensors, metadata: meta), layout: .inOrder, path: path)
    }

    /// Reads θ for `network`; throws `architectureMismatch` when the file's architecture, tensor
    /// names or shapes differ from the network's, naming the first difference, and
    /// `dtypeMismatch` for a tensor that is not F32.
    public static func load(for network: Network, from url: URL) throws -> [Float] {
        let contents = try read(from: url)
        let path = url.path
        guard let arch = contents.metadata[architectureKey] else {
            throw SafetensorsError.architectureMismatch(path: path, detail: "no \"\(architectureKey)\" in the metadata")
        }
        let spec: NetworkSpec
        do {
            spec = try JSONDecoder().decode(NetworkSpec.self, from: Data(arch.utf8))
        } catch {
            throw SafetensorsError.architectureMismatch(path: path, detail: "unreadable architecture: \(error)")
        }
        guard spec == network.spec else {
            throw SafetensorsError.architectureMismatch(path: path, detail: differences(file: arch, network: network.spec))
        }
        var theta = [Float](repeating: 0, count: network.parameterCount)
        for t in network.layout.tensors {
            guard let found = contents.tensor(named: t.name) else {
                throw SafetensorsError.architectureMismatch(path: path, detail: "tensor \"\(t.name)\" missing")
            }
            guard let values = found.floats else {
                throw SafetensorsError.dtypeMismatch(path: path, tensor: t.name, found: found.dtype.rawValue, expected: "F32")
            }
            guard found.shape == t.shape else {
                throw SafetensorsError.architectureMismatch(
                    path: path, detail: "tensor \"\(t.name)\" has shape \(found.shape), expected \(t.shape)")
            }
            theta.replaceSubrange(t.range, with: values)
        }
        let expected = Set(network.layout.tensors.map(\.name))
        if let extra = contents.tensors.first(where: { !expected.contains($0.name) }) {
            throw SafetensorsError.architectureMismatch(path: path, detail: "unexpected tensor \"\(extra.name)\"")
        }
        return theta
    }

    /// "hidden: file [3], network [4]; …", the top-level architecture fields that differ.
    static func differences(file: String, network spec: NetworkSpec) -> String {
        guard let mine = try? architectureJSON(spec),
              let diffs = JSONFields.differences(Data(file.utf8), Data(mine.utf8)), !diffs.isEmpty else {
            return "architectures differ"
        }
        return diffs.map { "\($0.key): file \($0.first), network \($0.second)" }.joined(separator: "; ")
    }

    static func architectureJSON(_ spec: NetworkSpec) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(spec), as: UTF8.self)
    }
}
