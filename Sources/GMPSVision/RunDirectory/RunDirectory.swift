import ConvNet
import Foundation

/// A run's folder: `config.json`, `progress.csv`, checkpoints, frames, plots, `report.md`.
/// Every file is written whole or not at all, and flushed to disk (`AtomicWrite`). A process
/// that writes a run holds its lock (`RunLock`) for as long as it lives.
public struct RunDirectory: Sendable {
    public let url: URL

    public static let configFile = "config.json"

    public enum Failure: Error, CustomStringConvertible {
        case cannotCreate(path: String, reason: String)
        case cannotWrite(path: String, reason: String)
        case cannotRead(path: String, reason: String)
        /// No run directory where one was to be read or continued.
        case missing(path: String, hint: String)
        /// A file of the run is not what the run wrote: what is wrong with it.
        case damaged(path: String, problem: String)
        /// Another process writes this run (`holder`: its PID and command, from the lock file).
        case busy(path: String, holder: String)
        /// The settings now given differ from the run's own.
        case settingsDiffer(path: String, changes: [SettingChange], hint: String)

        public var description: String { sentence(naming: [:]) }

        /// The sentence, with each differing setting named as `names` says (config.json key →
        /// e.g. the option that sets it).
        public func sentence(naming names: [String: String]) -> String {
            switch self {
            case let .cannotCreate(path, reason):
                return "cannot create the run directory \(path): \(reason). Choose another --out folder."
            case let .cannotWrite(path, reason):
                return "cannot write \(path): \(reason). Check the disk has space and the folder is writable; the previous version of the file is kept."
            case let .cannotRead(path, reason):
                return "cannot read \(path): \(reason)."
            case let .missing(path, hint):
                return "there is no run at \(path) (no such folder, or no config.json in it); \(hint)."
            case let .damaged(path, problem):
                return "\(path) is damaged: \(problem). The run cannot go on from it; restore the file, or start a new run with another --out."
            case let .busy(path, holder):
                return "\(path) is in use by another gmps-vision process (\(holder)). One process writes a run at a time: wait for it to end, or choose another --out."
            case let .settingsDiffer(path, changes, hint):
                return "\(path) was started with other settings: \(changes.map { $0.sentence(naming: names[$0.key]) }.joined(separator: ", ")). A run's settings are its identity; \(hint)"
            }
        }
    }

    /// Opens `path` for writing, creating it (and its parents) if needed.
    public init(path: String) throws {
        guard !path.isEmpty else {
            throw Failure.cannotCreate(path: "\"\"", reason: "the path is empty")
        }
        url = URL(fileURLWithPath: path, isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw Failure.cannotCreate(path: path, reason: ErrorSentence.reason(error) ?? "\(error)")
        }
    }

    /// Opens an existing run directory to read it (or continue it); creates nothing. `hint`
    /// ends the sentence when there is none, e.g. "train one with `gmps-vision run --out DIR`".
    public init(existing path: String, hint: String) throws {
        var isFolder: ObjCBool = false
        guard !path.isEmpty, FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else {
            throw Failure.missing(path: path.isEmpty ? "\"\"" : path, hint: hint)
        }
        url = URL(fileURLWithPath: path, isDirectory: true)
    }

    /// The run directory at `path` as a name only, touching no disk: what the ranks other
    /// than 0 of an MPI job hold (rank 0 alone reads and writes it).
    public init(unopened path: String) {
        url = URL(fileURLWithPath: path, isDirectory: true)
    }

    public func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    public func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: file(name).path) }

    /// Writes `data` to `name` atomically and durably; returns its checksum.
    @discardableResult
    public func write(_ data: Data, to name: String) throws -> String {
        let target = file(name)
        do {
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(),
                                                    withIntermediateDirectories: true)
            try AtomicWrite.write(data, to: target)
        } catch let error as SafetensorsError {
            throw Failure.cannotWrite(path: target.path, reason: error.problem)
        } catch {
            throw Failure.cannotWrite(path: target.path, reason: ErrorSentence.reason(error) ?? "\(error)")
        }
        return Checksum.of(data)
    }

    /// The bytes of `name`; with `checksum`, checked against it (a damaged file is named).
    public func read(_ name: String, checksum: String? = nil) throws -> Data {
        let source = file(name)
        guard exists(name) else {
            throw checksum == nil ? Failure.cannotRead(path: source.path, reason: "the file does not exist")
                : Failure.damaged(path: source.path, problem: "the checkpoint records it, but the file is missing")
        }
        let data: Data
        do { data = try Data(contentsOf: source) } catch {
            throw Failure.cannotRead(path: source.path, reason: (error as NSError).localizedDescription)
        }
        if let checksum, Checksum.of(data) != checksum {
            throw Failure.damaged(path: source.path,
                                  problem: "its bytes are not the ones the checkpoint recorded (checksum \(Checksum.of(data)), recorded \(checksum))")
        }
        return data
    }

    /// Writes `value` as pretty, key-sorted JSON to `name` atomically; returns its checksum.
    @discardableResult
    public func writeJSON<Value: Encodable>(_ value: Value, to name: String) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try write(try encoder.encode(value), to: name)
    }

    public func readJSON<Value: Decodable>(_ type: Value.Type, from name: String, checksum: String? = nil) throws -> Value {
        let data = try read(name, checksum: checksum)
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw Failure.cannotRead(path: file(name).path, reason: ErrorSentence.reason(error) ?? "\(error)")
        }
    }

    /// Writes a CSV file (header, then rows) atomically.
    public func writeCSV(header: String, rows: [String], to name: String) throws {
        try write(Data(([header] + rows).joined(separator: "\n").appending("\n").utf8), to: name)
    }

    /// Deletes `name` if it is there, and flushes the folder (a writer removing what it no
    /// longer needs; a failure leaves a file that the next start removes).
    public func remove(_ name: String) {
        guard (try? FileManager.default.removeItem(at: file(name))) != nil else { return }
        AtomicWrite.syncFolder(of: file(name))
    }

    /// The names in the run's own folder.
    func topLevelFiles() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
    }

    /// Every file in the run (relative paths, sub-folders included).
    func allFiles() -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: url.path) else { return [] }
        return walker.compactMap { $0 as? String }
    }
}
