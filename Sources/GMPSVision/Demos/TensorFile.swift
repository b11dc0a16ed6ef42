import Foundation

/// A safetensors file with F32 and U8 tensors, for demonstration datasets (ConvNet's
/// `Safetensors` reads F32 only; images are stored as bytes, a quarter of the size).
///
/// Layout (https://huggingface.co/docs/safetensors): 8 bytes little-endian header length n,
/// n bytes of JSON {"__metadata__": {string: string}, name: {"dtype", "shape",
/// "data_offsets": [begin, end]}}, then the data. numpy and PyTorch read it.
struct TensorFile {
    enum DType: String { case f32 = "F32", u8 = "U8" }

    struct Entry {
        var name: String, dtype: DType, shape: [Int], bytes: Data
    }

    var entries: [Entry]
    var metadata: [String: String]

    init(entries: [Entry], metadata: [String: String]) {
        self.entries = entries; self.metadata = metadata
    }

    static func f32(_ name: String, _ shape: [Int], _ values: [Float]) -> Entry {
        let data = values.withUnsafeBufferPointer { Data(buffer: $0) }   // little-endian hosts only (x86-64, arm64)
        return Entry(name: name, dtype: .f32, shape: shape, bytes: data)
    }

    static func u8(_ name: String, _ shape: [Int], _ values: [UInt8]) -> Entry {
        Entry(name: name, dtype: .u8, shape: shape, bytes: Data(values))
    }

    /// The file's bytes.
    func encoded() throws -> Data {
        var header: [String: Any] = ["__metadata__": metadata]
        var offset = 0
        for e in entries {
            header[e.name] = ["dtype": e.dtype.rawValue, "shape": e.shape, "data_offsets": [offset, offset + e.bytes.count]]
            offset += e.bytes.count
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var data = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for e in entries { data.append(e.bytes) }
        return data
    }

    /// Parses a file's bytes; the problem, in words, when it is not a valid tensor file.
    static func decode(_ data: Data) -> Result<TensorFile, TensorFileProblem> {
        guard data.count >= 8 else { return .failure(.truncated("the file has \(data.count) bytes, fewer than the 8-byte header length")) }
        var n: UInt64 = 0
        for i in (0..<8).reversed() { n = n << 8 | UInt64(data[data.startIndex + i]) }
        guard n <= UInt64(data.count - 8) else { return .failure(.truncated("the header announces \(n) bytes, only \(data.count - 8) follow")) }
        let headerEnd = 8 + Int(n)
        guard let header = (try? JSONSerialization.jsonObject(with: data.subdata(in: (data.startIndex + 8)..<(data.startIndex + headerEnd)))) as? [String: Any] else {
            return .failure(.malformed("the header is not a JSON object"))
        }
        var metadata: [String: String] = [:]
        if let meta = header["__metadata__"] {
            guard let m = meta as? [String: String] else { return .failure(.malformed("__metadata__ is not an object of strings")) }
            metadata = m
        }
        let dataSize = data.count - headerEnd
        var entries: [Entry] = []
        for (name, value) in header.sorted(by: { $0.key < $1.key }) where name != "__metadata__" {
            guard let e = value as? [String: Any], let dtypeName = e["dtype"] as? String,
                  let shape = e["shape"] as? [Int], let offsets = e["data_offsets"] as? [Int], offsets.count == 2 else {
                return .failure(.malformed("tensor \"\(name)\" lacks dtype, shape or data_offsets"))
            }
            guard let dtype = DType(rawValue: dtypeName) else { return .failure(.malformed("tensor \"\(name)\" has dtype \(dtypeName); expected F32 or U8")) }
            let (begin, end) = (offsets[0], offsets[1])
            guard shape.allSatisfy({ $0 >= 0 }), begin >= 0, begin <= end else { return .failure(.malformed("tensor \"\(name)\" has a bad shape or data_offsets")) }
            guard end <= dataSize else { return .failure(.truncated("tensor \"\(name)\" ends at byte \(end) of the data, only \(dataSize) are present")) }
            let (count, overflow) = shape.reduce((1, false)) { acc, d in
                let (p, o) = acc.0.multipliedReportingOverflow(by: d); return (p, acc.1 || o)
            }
            let width = dtype == .f32 ? 4 : 1
            guard !overflow, count * width == end - begin else {
                return .failure(.malformed("tensor \"\(name)\" of shape \(shape) needs \(count * width) bytes, its data_offsets give \(end - begin)"))
            }
            let start = data.startIndex + headerEnd
            entries.append(Entry(name: name, dtype: dtype, shape: shape, bytes: data.subdata(in: (start + begin)..<(start + end))))
        }
        return .success(TensorFile(entries: entries, metadata: metadata))
    }

    func entry(_ name: String) -> Entry? { entries.first { $0.name == name } }
}

/// Why bytes are not a valid tensor file.
enum TensorFileProblem: Error {
    case truncated(String), malformed(String)
}

extension TensorFile.Entry {
    var floats: [Float] {
        [Float](unsafeUninitializedCapacity: bytes.count / 4) { buffer, count in
            _ = bytes.copyBytes(to: buffer)
            count = bytes.count / 4
        }
    }
    var uint8s: [UInt8] { [UInt8](bytes) }
}
