import Foundation

/// A run's folder: `config.json`, `progress.csv`, checkpoints, frames, plots, `report.md`.
/// Every file is written whole or not at all (a temporary file, then a rename).
public struct RunDirectory: Sendable {
    public let url: URL

    public enum Failure: Error, CustomStringConvertible {
        case cannotCreate(path: String, reason: String)
        case cannotWrite(path: String, reason: String)
        case cannotRead(path: String, reason: String)

        public var description: String {
            switch self {
            case let .cannotCreate(path, reason):
                return "cannot create the run directory \(path): \(reason). Choose another --out folder."
            case let .cannotWrite(path, reason):
                return "cannot write \(path): \(reason). Check the disk has space and the folder is writable; the previous version of the file is kept."
            case let .cannotRead(path, reason):
                return "cannot read \(path): \(reason)."
            }
        }
    }

    /// Opens `path`, creating it (and its parents) if needed.
    public init(path: String) throws {
        url = URL(fileURLWithPath: path, isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw Failure.cannotCreate(path: path, reason: ErrorSentence.reason(error) ?? "\(error)")
        }
    }

    public func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    public func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: file(name).path) }

    /// Writes `data` to `name` atomically.
    public func write(_ data: Data, to name: String) throws {
        let target = file(name)
        do {
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(),
                                                    withIntermediateDirectories: true)
            try data.write(to: target, options: .atomic)
        } catch {
            throw Failure.cannotWrite(path: target.path, reason: ErrorSentence.reason(error) ?? "\(error)")
        }
    }

    /// Writes `value` as pretty, key-sorted JSON to `name` atomically.
    public func writeJSON<Value: Encodable>(_ value: Value, to name: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try write(try encoder.encode(value), to: name)
    }

    public func readJSON<Value: Decodable>(_ type: Value.Type, from name: String) throws -> Value {
        let source = file(name)
        do {
            return try JSONDecoder().decode(type, from: Data(contentsOf: source))
        } catch {
            throw Failure.cannotRead(path: source.path, reason: ErrorSentence.reason(error) ?? "\(error)")
        }
    }

    /// Writes a CSV file (header, then rows) atomically.
    public func writeCSV(header: String, rows: [String], to name: String) throws {
        try write(Data(([header] + rows).joined(separator: "\n").appending("\n").utf8), to: name)
    }
}
