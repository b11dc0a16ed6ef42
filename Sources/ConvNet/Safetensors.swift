import Foundation

/// What is wrong with a safetensors file, in words a user can act on.
public enum SafetensorsError: Error, Equatable, CustomStringConvertible {
    case cannotRead(path: String, reason: String)
    case cannotWrite(path: String, reason: String)
    /// The file ends before its header or data does.
    case truncated(path: String, detail: String)
    /// The header is not the JSON object safetensors prescribes.
    case malformedHeader(path: String, detail: String)
    /// A dtype this codec does not store (it stores F32 and U8).
    case unsupportedDType(path: String, tensor: String, dtype: String)
    /// A tensor read as another dtype than the file stores (e.g. image bytes as weights).
    case dtypeMismatch(path: String, tensor: String, found: String, expected: String)
    /// The file holds weights of a different architecture than the network loading them.
    case architectureMismatch(path: String, detail: String)

    public var description: String {
        switch self {
        case .cannotRead(let p, _), .cannotWrite(let p, _): return "cannot \(verb) \(p): \(problem)"
        case .truncated(let p, _): return "\(p) is truncated: \(problem)"
        case .malformedHeader(let p, _): return "\(p) is not a valid safetensors file: \(problem)"
        case .unsupportedDType(let p, _, _), .dtypeMismatch(let p, _, _, _): return "\(p): \(problem)"
        case .architectureMismatch(let p, _): return "\(p) does not match this network: \(problem)"
        }
    }

    /// What is wrong, without the path (for callers that name the file their own way).
    public var problem: String {
        switch self {
        case .cannotRead(_, let reason), .cannotWrite(_, let reason): return reason
        case .truncated(_, let detail), .malformedHeader(_, let detail), .architectureMismatch(_, let detail): return detail
        case .unsupportedDType(_, let t, let d): return "tensor \"\(t)\" has dtype \(d); only F32 and U8 are supported"
        case .dtypeMismatch(_, let t, let found, let expected):
            return "tensor \"\(t)\" holds \(found) values where \(expected) values were expected"
        }
    }

    private var verb: String {
        if case .cannotWrite = self { return "write" }
        return "read"
    }
}

/// safetensors (https://huggingface.co/docs/safetensors): 8 bytes little-endian header length
/// n, n bytes of JSON header {"__metadata__": {string: string}, name: {"dtype", "shape",
/// "data_offsets": [begin, end]}} padded with spaces to a multiple of 8, then the raw
/// little-endian data, tensor after tensor. PyTorch and numpy read it. This codec stores F32
/// (weights, states, actions) and U8 (images, flags) tensors.
public enum Safetensors {
    /// The element types stored.
    public enum DType: String, Sendable {
        case f32 = "F32", u8 = "U8"

        var byteCount: Int { self == .f32 ? 4 : 1 }
    }

    /// One tensor as the file holds it, row-major.
    public enum StoredTensor: Equatable, Sendable {
        case f32(shape: [Int], values: [Float])
        case u8(shape: [Int], bytes: [UInt8])

        public var shape: [Int] {
            switch self { case .f32(let shape, _), .u8(let shape, _): return shape }
        }

        public var dtype: DType {
            switch self { case .f32: return .f32; case .u8: return .u8 }
        }

        /// The values of an F32 tensor; nil for U8.
        public var floats: [Float]? {
            if case .f32(_, let values) = self { return values }
            return nil
        }

        /// The bytes of a U8 tensor; nil for F32.
        public var bytes: [UInt8]? {
            if case .u8(_, let bytes) = self { return bytes }
            return nil
        }

        var elementCount: Int {
            switch self { case .f32(_, let values): return values.count; case .u8(_, let bytes): return bytes.count }
        }
    }

    /// Named tensors and string metadata of one file.
    public struct Contents: Equatable, Sendable {
        public var tensors: [(name: String, tensor: StoredTensor)]
        public var metadata: [String: String]

        public init(tensors: [(name: String, tensor: StoredTensor)], metadata: [String: String]) {
            self.tensors = tensors; self.metadata = metadata
        }

        public func tensor(named name: String) -> StoredTensor? { tensors.first { $0.name == name }?.tensor }

        public static func == (a: Contents, b: Contents) -> Bool {
            a.metadata == b.metadata && a.tensors.count == b.tensors.count
                && zip(a.tensors, b.tensors).allSatisfy { $0.name == $1.name && $0.tensor == $1.tensor }
        }
    }

    /// How the JSON header is laid out. Readers do not care; two layouts exist so that each
    /// kind of file keeps the bytes it had before the project's two writers were merged.
    public enum HeaderLayout: Sendable {
        /// "__metadata__" first (left out when empty), then the tensors in the order given, each
        /// as {"dtype", "shape", "data_offsets"}, strings escaped minimally: network weights.
        case inOrder
        /// Foundation's JSONSerialization with `.sortedKeys` (its collation; "/" written "\/";
        /// "__metadata__" always present): demonstration and DAgger files.
        case sortedKeys
    }

    // MARK: Writing

    /// Writes `contents` (data in the order of `contents.tensors`); atomic: a temporary file in
    /// the same folder, then rename.
    public static func write(_ contents: Contents, to url: URL, layout: HeaderLayout = .inOrder) throws {
        try AtomicWrite.write(try encode(contents, layout: layout, path: url.path), to: url)
    }

    /// The bytes of a file holding `contents`; `path` names it in errors.
    public static func encode(_ contents: Contents, layout: HeaderLayout, path: String = "<safetensors>") throws -> Data {
        var offsets: [(begin: Int, end: Int)] = []
        var offset = 0
        for (name, tensor) in contents.tensors {
            guard tensor.shape.allSatisfy({ $0 >= 0 }), Tensor.count(of: tensor.shape) == tensor.elementCount else {
                throw SafetensorsError.cannotWrite(
                    path: path, reason: "tensor \"\(name)\" of shape \(tensor.shape) holds \(tensor.elementCount) values")
            }
            let bytes = tensor.elementCount * tensor.dtype.byteCount
            offsets.append((offset, offset + bytes))
            offset += bytes
        }
        var header = try headerJSON(contents, offsets: offsets, layout: layout)
        // Pad with spaces so the data starts 8-byte aligned (as the reference writer does).
        while header.count % 8 != 0 { header.append(0x20) }
        var data = Data(capacity: 8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(header)
        for (_, tensor) in contents.tensors {
            switch tensor {
            case .u8(_, let bytes):
                data.append(contentsOf: bytes)
            case .f32(_, let values):
                #if _endian(little)
                values.withUnsafeBytes { data.append(contentsOf: $0) }
                #else
                for x in values { withUnsafeBytes(of: x.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
                #endif
            }
        }
        return data
    }

    static func headerJSON(_ contents: Contents, offsets: [(begin: Int, end: Int)], layout: HeaderLayout) throws -> Data {
        switch layout {
        case .inOrder:
            var parts: [String] = []
            if !contents.metadata.isEmpty {
                let meta = contents.metadata.sorted { $0.key < $1.key }.map { "\(jsonString($0.key)):\(jsonString($0.value))" }
                parts.append("\"__metadata__\":{\(meta.joined(separator: ","))}")
            }
            for ((name, tensor), range) in zip(contents.tensors, offsets) {
                let shape = tensor.shape.map(String.init).joined(separator: ",")
                parts.append("\(jsonString(name)):{\"dtype\":\"\(tensor.dtype.rawValue)\",\"shape\":[\(shape)],"
                             + "\"data_offsets\":[\(range.begin),\(range.end)]}")
            }
            return Data(("{" + parts.joined(separator: ",") + "}").utf8)
        case .sortedKeys:
            var header: [String: Any] = ["__metadata__": contents.metadata]
            for ((name, tensor), range) in zip(contents.tensors, offsets) {
                header[name] = ["dtype": tensor.dtype.rawValue, "shape": tensor.shape, "data_offsets": [range.begin, range.end]]
            }
            return try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        }
    }

    // MARK: Reading

    /// Reads and validates a safetensors file.
    public static func read(from url: URL) throws -> Contents {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw SafetensorsError.cannotRead(path: url.path, reason: (error as NSError).localizedDescription)
        }
        return try parse(data, path: url.path)
    }

    /// Parses the bytes of a safetensors file; `path` names it in errors. Tensors come back in
    /// the order of their data.
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
        var entries: [(name: String, dtype: DType, shape: [Int], begin: Int, end: Int)] = []
        for (name, value) in header where name != "__metadata__" {
            guard let entry = value as? [String: Any],
                  let dtypeName = entry["dtype"] as? String,
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
            guard let dtype = DType(rawValue: dtypeName) else {
                throw SafetensorsError.unsupportedDType(path: path, tensor: name, dtype: dtypeName)
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
            let (size, sizeOverflow) = count.multipliedReportingOverflow(by: dtype.byteCount)
            guard !overflow, !sizeOverflow, size == end - begin else {
                throw SafetensorsError.malformedHeader(path: path, detail: "tensor \"\(name)\" of shape \(shape) needs \(size) bytes, data_offsets give \(end - begin)")
            }
            entries.append((name, dtype, shape, begin, end))
        }
        entries.sort { ($0.begin, $0.name) < ($1.begin, $1.name) }
        let tensors = entries.map { e -> (name: String, tensor: StoredTensor) in
            let stored = bytes[(headerEnd + e.begin)..<(headerEnd + e.end)]
            switch e.dtype {
            case .u8:
                return (e.name, .u8(shape: e.shape, bytes: Array(stored)))
            case .f32:
                var values = [Float](repeating: 0, count: stored.count / 4)
                values.withUnsafeMutableBytes { dst in stored.withUnsafeBytes { dst.copyMemory(from: $0) } }
                #if _endian(big)
                values = values.map { Float(bitPattern: UInt32(littleEndian: $0.bitPattern)) }
                #endif
                return (e.name, .f32(shape: e.shape, values: values))
            }
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
