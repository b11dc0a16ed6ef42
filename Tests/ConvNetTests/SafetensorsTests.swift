import Foundation
import Testing
@testable import ConvNet

struct SafetensorsTests {
    func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("convnet-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func weightsRoundTripBitForBit() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let net = try Network(spec: .visionPolicy(imageHeight: 24, imageWidth: 32))
        let theta = net.initialParameters(seed: 12)
        let url = dir.appendingPathComponent("policy.safetensors")
        try Safetensors.save(parameters: theta, of: net, to: url, metadata: ["iteration": "3"])
        let loaded = try Safetensors.load(for: net, from: url)
        #expect(loaded.map(\.bitPattern) == theta.map(\.bitPattern))
        let contents = try Safetensors.read(from: url)
        #expect(contents.metadata["iteration"] == "3")
        #expect(contents.tensor(named: "conv0.weight")?.shape == [16, 3, 5, 5])
        // Overwriting is atomic and leaves no temporary files behind.
        try Safetensors.save(parameters: theta, of: net, to: url)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["policy.safetensors"])
    }

    @Test func numpyReadsTheSameValues() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let net = try Network(spec: NetworkGradientTests.smallVision)
        let theta = net.initialParameters(seed: 4)
        let url = dir.appendingPathComponent("w.safetensors")
        try Safetensors.save(parameters: theta, of: net, to: url)
        // An independent reader: the safetensors layout parsed by hand with numpy.
        let script = """
        import json, struct, sys
        import numpy as np
        b = open(sys.argv[1], 'rb').read()
        n = struct.unpack('<Q', b[:8])[0]
        header = json.loads(b[8:8 + n])
        meta = header.pop('__metadata__', {})
        out = {}
        for name, t in header.items():
            s, e = t['data_offsets']
            a = np.frombuffer(b[8 + n + s:8 + n + e], dtype='<f4').reshape(t['shape'])
            out[name] = {'shape': list(a.shape), 'values': [float(x) for x in a.ravel()]}
        print(json.dumps({'meta': meta, 'tensors': out}))
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, url.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: output) as? [String: Any])
        let tensors = try #require(json["tensors"] as? [String: [String: Any]])
        let meta = try #require(json["meta"] as? [String: String])
        #expect(meta["architecture"] == (try Safetensors.architectureJSON(net.spec)))
        #expect(tensors.count == net.layout.tensors.count)
        var worst: Double = 0
        for t in net.layout.tensors {
            let entry = try #require(tensors[t.name])
            #expect((entry["shape"] as? [Int]) == t.shape)
            let values = try #require(entry["values"] as? [Double])
            #expect(values.count == t.count)
            // Compared as Float32: the JSON detour may move a Double by an ulp, never a Float.
            for (a, b) in zip(values, theta[t.range]) { worst = max(worst, Double(abs(Float(a) - b))) }
        }
        report("numpy reader vs written parameters", worst, tolerance: 0)
        #expect(worst == 0)
    }

    /// Two tensors of each dtype, data order not name order.
    static let mixed = Safetensors.Contents(
        tensors: [("1.images", .u8(shape: [1, 2], bytes: [0, 255])), ("0.hands", .f32(shape: [1], values: [-1.5]))],
        metadata: ["tasks": "1,0"])

    @Test func u8AndF32TensorsRoundTripInBothHeaderLayouts() throws {
        for layout in [Safetensors.HeaderLayout.inOrder, .sortedKeys] {
            let data = try Safetensors.encode(Self.mixed, layout: layout)
            let back = try Safetensors.parse(data, path: "mixed.safetensors")
            #expect(back == Self.mixed, "\(layout)")
            #expect(back.tensor(named: "1.images")?.bytes == [0, 255] && back.tensor(named: "1.images")?.floats == nil)
            // The data follows the header in the order given: the two bytes, then -1.5 little-endian.
            #expect(Array(data.suffix(6)) == [0, 255, 0x00, 0x00, 0xC0, 0xBF])
        }
        // A U8 tensor whose byte count does not fit its shape is refused, not written.
        let bad = Safetensors.Contents(tensors: [("x", .u8(shape: [3], bytes: [1, 2]))], metadata: [:])
        #expect(throws: SafetensorsError.self) { _ = try Safetensors.encode(bad, layout: .inOrder) }
    }

    @Test func eachHeaderLayoutKeepsTheBytesItsFilesHadBeforeTheWritersMerged() throws {
        func header(_ layout: Safetensors.HeaderLayout) throws -> String {
            let data = try Safetensors.encode(Self.mixed, layout: layout)
            let n = Int(data.prefix(8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
            #expect(n % 8 == 0)
            return String(decoding: data[8..<(8 + n)], as: UTF8.self).trimmingCharacters(in: .whitespaces)
        }
        // Weights: metadata first, tensors in data order, fields dtype, shape, data_offsets.
        #expect(try header(.inOrder) == #"{"__metadata__":{"tasks":"1,0"},"1.images":{"dtype":"U8","shape":[1,2],"data_offsets":[0,2]},"0.hands":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}"#)
        // Demos and DAgger: every key sorted, as JSONSerialization wrote them.
        #expect(try header(.sortedKeys) == #"{"__metadata__":{"tasks":"1,0"},"0.hands":{"data_offsets":[2,6],"dtype":"F32","shape":[1]},"1.images":{"data_offsets":[0,2],"dtype":"U8","shape":[1,2]}}"#)
    }

    @Test func aU8TensorReadAsWeightsIsRejectedNamingBothDTypes() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let net = try Network(spec: .mlp(inputs: 2, hidden: [3], outputs: 1, initialStd: 0.5))
        let url = dir.appendingPathComponent("m.safetensors")
        try Safetensors.save(parameters: net.initialParameters(seed: 1), of: net, to: url)
        var contents = try Safetensors.read(from: url)
        let weight = try #require(contents.tensors.firstIndex { $0.name == "fc0.weight" })
        contents.tensors[weight].tensor = .u8(shape: [3, 2], bytes: [1, 2, 3, 4, 5, 6])
        try Safetensors.write(contents, to: url)
        #expect(throws: SafetensorsError.dtypeMismatch(path: url.path, tensor: "fc0.weight", found: "U8", expected: "F32")) {
            _ = try Safetensors.load(for: net, from: url)
        }
        let message = "\(SafetensorsError.dtypeMismatch(path: "m.safetensors", tensor: "fc0.weight", found: "U8", expected: "F32"))"
        #expect(message == #"m.safetensors: tensor "fc0.weight" holds U8 values where F32 values were expected"#)
    }

    /// A valid file's bytes, to corrupt.
    func validFile() throws -> (Network, Data) {
        let net = try Network(spec: .mlp(inputs: 2, hidden: [3], outputs: 1, initialStd: 0.5))
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("m.safetensors")
        try Safetensors.save(parameters: net.initialParameters(seed: 1), of: net, to: url)
        return (net, try Data(contentsOf: url))
    }

    func header(_ json: String, data: Int = 0) -> Data {
        var d = Data()
        withUnsafeBytes(of: UInt64(json.utf8.count).littleEndian) { d.append(contentsOf: $0) }
        d.append(contentsOf: Array(json.utf8))
        d.append(Data(count: data))
        return d
    }

    @Test func corruptFilesGiveTypedErrorsThatSayWhatIsWrong() throws {
        let (_, good) = try validFile()
        func error(_ data: Data) -> SafetensorsError? {
            do { _ = try Safetensors.parse(data, path: "f.safetensors"); return nil } catch { return error as? SafetensorsError }
        }
        // Shorter than the length prefix.
        guard case .truncated(_, let d1)? = error(good.prefix(5)) else { Issue.record("5 bytes not truncated"); return }
        #expect(d1.contains("8-byte"))
        // Cut inside the header.
        guard case .truncated? = error(good.prefix(20)) else { Issue.record("cut header not truncated"); return }
        // Cut inside the data.
        guard case .truncated(_, let d3)? = error(good.prefix(good.count - 4)) else { Issue.record("cut data not truncated"); return }
        #expect(d3.contains("tensor"))
        // Not JSON; JSON but not an object; an entry without offsets; a bad dtype; wrong byte count.
        guard case .malformedHeader? = error(header("{not json")) else { Issue.record("non-JSON accepted"); return }
        guard case .malformedHeader? = error(header("[1, 2]")) else { Issue.record("array header accepted"); return }
        guard case .malformedHeader? = error(header(#"{"a": {"dtype": "F32", "shape": [2]}}"#)) else { Issue.record("missing offsets accepted"); return }
        guard case .unsupportedDType(_, "a", "F16")? = error(header(#"{"a": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}}"#, data: 4)) else {
            Issue.record("F16 accepted"); return
        }
        guard case .malformedHeader(_, let d4)? = error(header(#"{"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}"#, data: 8)) else {
            Issue.record("wrong byte count accepted"); return
        }
        #expect(d4.contains("needs 12 bytes"))
        #expect(error(good) == nil)
    }

    @Test func mismatchedArchitecturesAndMissingFilesAreRejected() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let small = try Network(spec: .mlp(inputs: 2, hidden: [3], outputs: 1, initialStd: 0.5))
        let other = try Network(spec: .mlp(inputs: 2, hidden: [4], outputs: 1, initialStd: 0.5))
        let url = dir.appendingPathComponent("m.safetensors")
        try Safetensors.save(parameters: small.initialParameters(seed: 1), of: small, to: url)
        #expect {
            _ = try Safetensors.load(for: other, from: url)
        } throws: { error in
            guard case SafetensorsError.architectureMismatch(_, let detail)? = error as? SafetensorsError else { return false }
            print("mismatch message: \(detail)")
            return detail == "hidden: file [3], network [4]"
        }
        // Same architecture in the metadata but a tensor of the wrong shape.
        var contents = try Safetensors.read(from: url)
        let weight = try #require(contents.tensors.firstIndex { $0.name == "fc0.weight" })
        contents.tensors[weight].tensor = .f32(shape: [2, 3], values: Array(repeating: 0, count: 6))
        try Safetensors.write(contents, to: url)
        #expect {
            _ = try Safetensors.load(for: small, from: url)
        } throws: { error in
            (error as? SafetensorsError).map { "\($0)" }?.contains("expected [3, 2]") ?? false
        }
        // No architecture at all.
        contents.metadata = [:]
        try Safetensors.write(contents, to: url)
        #expect(throws: SafetensorsError.self) { _ = try Safetensors.load(for: small, from: url) }
        // Missing file, unwritable folder.
        #expect(throws: SafetensorsError.self) { _ = try Safetensors.read(from: dir.appendingPathComponent("none.safetensors")) }
        #expect(throws: SafetensorsError.self) {
            try Safetensors.save(parameters: small.initialParameters(seed: 1), of: small,
                                 to: dir.appendingPathComponent("no/such/folder/m.safetensors"))
        }
    }
}
