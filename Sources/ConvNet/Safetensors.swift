import Foundation

/// What is wrong with a safetensors file, in words a user can act on.
public enum SafetensorsError: Error, Equatable, CustomStringConvertible {
    case cannotRead(path: String, reason: String)
    case cannotWrite(path: String, reason: String)
    /// The file ends before its header or data does.
    case truncated(path: String, detail: String)
    /// The header is not the JSON object safetensors prescribes.
    case malformedHeader(path: String, detail: String)
    case unsupportedDType(path: String, tensor: String, dtype: String)
    /// The file holds weights of a different architecture than the network loading them.
    case architectureMismatch(path: String, detail: String)

    public var description: String {
        switch self {
        case .cannotRead(let p, let r): return "cannot read \(p): \(r)"
        case .cannotWrite(let p, let r): return "cannot write \(p): \(r)"
        case .truncated(let p, let d): return "\(p) is truncated: \(d)"
        case .malformedHeader(let p, let d): return "\(p) is not a valid safetensors file: \(d)"
        case .unsupportedDType(let p, let t, let d): return "\(p): tensor \"\(t)\" has dtype \(d); only F32 is supported"
        case .architectureMismatch(let p, let d): return "\(p) does not match this network: \(d)"
        }
    }
}

/// safetensors (https://huggingface.co/docs/safetensors): 8 bytes little-endian header length
/// n, n bytes of JSON header {"__metadata__": {string: string}, name: {"dtype", "shape",
/// "data_offsets": [begin, end]}}, then the raw little-endian data. PyTorch and numpy read it.
/// Network weights are written with the `NetworkSpec` as JSON under metadata key "architecture".
public enum Safetensors {
    /// Named tensors and string metadata of one file.
    public struct Contents: Equatable, Sendable {
        public var tensors: [(name: String, tensor: Tensor)]
        public var metadata: [String: String]

        public init(tensors: [(name: String, tensor: Tensor)], metadata: [String: String]) {
            self.tensors = tensors; self.metadata = metadata
        }

        public func tensor(named name: String) -> Tensor? { tensors.first { $0.name == name }?.tensor }

        public static func == (a: Contents, b: Contents) -> Bool {
            a.metadata == b.metadata && a.tensors.count == b.tensors.count
                && zip(a.tensors, b.tensors).allSatisfy { $0.name == $1.name && $0.tensor == $1.tensor }
        }
    }

    public static let architectureKey = "architecture"

    // MARK: Network weights

    /// Writes θ of `network` as one tensor per layout entry (PyTorch shapes, e.g. conv weights
    /// (OC,C,K,K)), with the architecture and `metadata` in the header. Atomic.
    public static func save(parameters: [Float], of network: Network, to url: URL,
                            metadata: [String: String] = [:]) throws {
        guard parameters.count == network.parameterCount else {
            throw ConvNetError.shapeMismatch("saving \(parameters.count) parameters for a network of \(network.parameterCount)")
        }
        var meta = metadata
        meta[architectureKey] = try architectureJSON(network.spec)
        let tensors = network.layout.tensors.map { t in
            (name: t.name, tensor: Tensor(unchecked: t.shape, Array(parameters[t.range])))
        }
        try write(Contents(tensors: tensors, metadata: meta), to: url)
    }

    /// Reads θ for `network`; throws `architectureMismatch` when the file's architecture, tensor
    /// names or shapes differ from the network's, naming the first difference.
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
            guard found.shape == t.shape else {
                throw SafetensorsError.architectureMismatch(
                    path: path, detail: "tensor \"\(t.name)\" has shape \(found.shape), expected \(t.shape)")
            }
            theta.replaceSubrange(t.range, with: found.data)
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
              let a = try? JSONSerialization.jsonObject(with: Data(file.utf8)) as? [String: Any],
              let b = try? JSONSerialization.jsonObject(with: Data(mine.utf8)) as? [String: Any] else {
            return "architectures differ"
        }
        func text(_ v: Any?) -> String {
            guard let v else { return "absent" }
            if let d = try? JSONSerialization.data(withJSONObject: v, options: [.sortedKeys, .fragmentsAllowed]) {
                return String(decoding: d, as: UTF8.self)
            }
            return "\(v)"
        }
        let keys = Set(a.keys).union(b.keys).sorted()
        let diffs = keys.filter { text(a[$0]) != text(b[$0]) }.map { "\($0): file \(text(a[$0])), network \(text(b[$0]))" }
        return diffs.isEmpty ? "architectures differ" : diffs.joined(separator: "; ")
    }

    static func architectureJSON(_ spec: NetworkSpec) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(spec), as: UTF8.self)
    }

    // MARK: Any tensors

    /// Writes named F32 tensors (in the given order) and string metadata; atomic (a temporary
    /// file in the same folder, then rename).
    public static func write(_ contents: Contents, to url: URL) throws {
        var header = "{"
        var parts: [String] = []
        if !contents.metadata.isEmpty {
            let meta = contents.metadata.sorted { $0.key < $1.key }.map { "\(jsonString($0.key)):\(jsonString($0.value))" }
            parts.append("\"__metadata__\":{\(meta.joined(separator: ","))}")
        }
        var offset = 0
        for (name, tensor) in contents.tensors {
            let bytes = tensor.count * 4
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            parts.append("\(jsonString(name)):{\"dtype\":\"F32\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + bytes)]}")
            offset += bytes
        }
        header += parts.joined(separator: ",") + "}"
        // Pad with spaces so the data starts 8-byte aligned (as the reference writer does).
        while (header.utf8.count % 8) != 0 { header += " " }
        var data = Data(capacity: 8 + header.utf8.count + offset)
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: Array(header.utf8))
        for (_, tensor) in contents.tensors {
            tensor.data.withUnsafeBufferPointer { buf in
                #if _endian(little)
                data.append(UnsafeBufferPointer(start: UnsafeRawPointer(buf.baseAddress!).assumingMemoryBound(to: UInt8.self),
                                                count: buf.count * 4))
                #else
                for x in buf { withUnsafeBytes(of: x.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
                #endif
            }
        }
        try AtomicWrite.write(data, to: url)
    }

    /// Reads and validates a safetensors file holding F32 tensors.
    public static func read(from url: URL) throws -> Contents {
        let path = url.path
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw SafetensorsError.cannotRead(path: path, reason: (error as NSError).localizedDescription)
        }
        return try parse(data, path: path)
    }

    /// Parses the bytes of a safetensors file; `path` names it in errors.
    public static func parse(_ data: Data, path: String) throws -> Contents {
        let bytes = [UInt8](data)
        guard bytes.count >= 8 else {
            throw SafetensorsError.truncated(path: path, detail: "\(bytes.count) bytes, shorter than the 8-byte header length")
        }
        var n: UInt64 = 0
        for i in (0..<8).reversed() { n = n << 8 | UInt64(bytes[i]) }
        guard n <= UInt64(bytes.count - 8) else {
            throw SafetensorsError.truncated(path: path, detail: "header of \(n) bytes announced, \(bytes.count - 8) bytes follow")
        }
        let headerEnd = 8 + Int(n)
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(bytes[8..<headerEnd]))
        } catch {
            throw SafetensorsError.malformedHeader(path: path, detail: "header is not JSON")
        }
        guard let header = json as? [String: Any] else {
            throw SafetensorsError.malformedHeader(path: path, detail: "header is not a JSON object")
        }
        var metadata: [String: String] = [:]
        if let meta = header["__metadata__"] {
            guard let m = meta as? [String: Any] else {
                throw SafetensorsError.malformedHeader(path: path, detail: "__metadata__ is not an object")
            }
            for (k, v) in m {
                guard let s = v as? String else {
                    throw SafetensorsError.malformedHeader(path: path, detail: "metadata value of \"\(k)\" is not a string")
                }
                metadata[k] = s
            }
        }
        let dataSize = bytes.count - headerEnd
        var entries: [(name: String, shape: [Int], begin: Int, end: Int)] = []
        for (name, value) in header where name != "__metadata__" {
            guard let entry = value as? [String: Any],
                  let dtype = entry["dtype"] as? String,
                  let shapeAny = entry["shape"] as? [Any],
                  let offsetsAny = entry["data_offsets"] as? [Any] else {
                throw SafetensorsError.malformedHeader(path: path, detail: "tensor \"\(name)\" lacks dtype, shape or data_offsets")
            }
            let shape = shapeAny.compactMap { ($0 as? NSNumber)?.intValue }
            let offsets = offsetsAny.compactMap { ($0 as? NSNumber)?.intValue }
            guard shape.count == shapeAny.count, shape.allSatisfy({ $0 >= 0 }),
                  offsets.count == 2, offsets.count == offsetsAny.count else {
                throw SafetensorsError.malformedHeader(path: path, detail: "tensor \"\(name)\" has a bad shape or data_offsets")
            }
            guard dtype == "F32" else {
                throw SafetensorsError.unsupportedDType(path: path, tensor: name, dtype: dtype)
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, begin <= end else {
                throw SafetensorsError.malformedHeader(path: path, detail: "tensor \"\(name)\" has data_offsets [\(begin), \(end)]")
            }
            guard end <= dataSize else {
                throw SafetensorsError.truncated(path: path, detail: "tensor \"\(name)\" ends at byte \(end) of data, only \(dataSize) present")
            }
            let (count, overflow) = shape.reduce((1, false)) { acc, d in
                let (p, o) = acc.0.multipliedReportingOverflow(by: d); return (p, acc.1 || o)
            }
            guard !overflow, count * 4 == end - begin else {
                throw SafetensorsError.malformedHeader(path: path, detail: "tensor \"\(name)\" of shape \(shape) needs \(count * 4) bytes, data_offsets give \(end - begin)")
            }
            entries.append((name, shape, begin, end))
        }
        entries.sort { ($0.begin, $0.name) < ($1.begin, $1.name) }
        let tensors = entries.map { e -> (name: String, tensor: Tensor) in
            var values = [Float](repeating: 0, count: (e.end - e.begin) / 4)
            let base = headerEnd + e.begin
            values.withUnsafeMutableBytes { dst in
                bytes.withUnsafeBytes { src in
                    dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[base..<(base + e.end - e.begin)]))
                }
            }
            #if _endian(big)
            values = values.map { Float(bitPattern: UInt32(littleEndian: $0.bitPattern)) }
            #endif
            return (e.name, Tensor(unchecked: e.shape, values))
        }
        return Contents(tensors: tensors, metadata: metadata)
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}

extension Tensor {
    /// For callers that have already checked count(shape) == data.count.
    init(unchecked shape: [Int], _ data: [Float]) {
        self.shape = shape
        self.data = data
    }
}

/// Atomic file writes: a temporary file in the destination's folder, then rename(2), so a
/// reader never sees a half-written file and a crash leaves the old file intact.
public enum AtomicWrite {
    public static func write(_ data: Data, to url: URL) throws {
        let dir = url.deletingLastPathComponent()
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)-\(UInt64.random(in: 0...UInt64.max))")
        do {
            try data.write(to: tmp)
        } catch {
            throw SafetensorsError.cannotWrite(path: url.path, reason: (error as NSError).localizedDescription)
        }
        if rename(tmp.path, url.path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: tmp)
            throw SafetensorsError.cannotWrite(path: url.path, reason: reason)
        }
    }
}
