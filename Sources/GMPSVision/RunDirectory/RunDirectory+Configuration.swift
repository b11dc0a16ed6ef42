import ConvNet
import Foundation

/// A configuration a run directory stores as `config.json` (GMPS's, a baseline's). Its
/// settings are the run's identity: a run continues only under the settings it was started with.
public protocol RunConfiguration: Codable, Equatable, Sendable {
    /// The first setting out of range, or nil (the command line's checks).
    func invalidSetting() -> InvalidSetting?
    /// Meta-iterations: a checkpoint of the run is at most this far.
    var iterationCount: Int { get }
    /// Settings added after run directories existed whose absence has one meaning: what every
    /// run did before them (`reward`: dense; α per parameter at θ's learning rate). A config.json may lack these and still load.
    static var settingsOlderRunsLack: Set<String> { get }
}

extension GMPSConfig: RunConfiguration {
    public var iterationCount: Int { iterations }
    public static let settingsOlderRunsLack: Set<String> = ["reward", "alphaParameterisation", "alphaLearningRate",
                                                                   "metaTrainedSteps", "latentScaleLearningRate",
                                                                   "taskCodeWhitening", "biasVectorLength", "demoEpisodes", "codeAnchorWeight"]
}

extension BaselineConfig: RunConfiguration {
    public var iterationCount: Int { gmps.iterations }
    public static var settingsOlderRunsLack: Set<String> { GMPSConfig.settingsOlderRunsLack }
}

/// A setting that differs between a run's `config.json` and the settings now given.
public struct SettingChange: Equatable, Sendable, CustomStringConvertible {
    /// The key in `config.json`, e.g. `seed`.
    public var key: String
    /// The values as JSON text, e.g. `5` and `6`.
    public var old: String
    public var new: String

    public var description: String { "\(key) \(old) → \(new)" }

    /// The change with the setting named `name` (e.g. the option that sets it) beside its key.
    public func sentence(naming name: String?) -> String {
        guard let name, name != key else { return description }
        return "\(name) (\(key)) \(old) → \(new)"
    }

    /// The settings that differ from `old` to `new`, by key.
    public static func between<C: Encodable>(_ old: C, _ new: C) throws -> [SettingChange] {
        let encoder = JSONEncoder()
        let differences = JSONFields.differences(try encoder.encode(old), try encoder.encode(new)) ?? []
        return differences.map { SettingChange(key: $0.key, old: $0.first, new: $0.second) }
    }
}

extension RunDirectory {
    /// A GMPS run to read (evaluate, render) or resume: its folder and checked configuration.
    /// Creates nothing; `hint` says how to make one.
    public static func existingRun(_ path: String, hint: String) throws -> (run: RunDirectory, config: GMPSConfig) {
        let run = try RunDirectory(existing: path, hint: hint)
        guard let config = try run.storedConfiguration(GMPSConfig.self) else { throw Failure.missing(path: path, hint: hint) }
        return (run, config)
    }

    /// The run's configuration, checked as command-line input is: nil when there is no
    /// `config.json`; damaged when it lacks a setting (a run does not go on with guessed
    /// values) or holds one out of range.
    public func storedConfiguration<C: RunConfiguration>(_ type: C.Type) throws -> C? {
        guard exists(Self.configFile) else { return nil }
        let path = file(Self.configFile).path
        let data = try read(Self.configFile)
        let config: C
        do { config = try JSONDecoder().decode(C.self, from: data) } catch {
            throw Failure.damaged(path: path, problem: ErrorSentence.reason(error) ?? "it is not a run configuration (\(error))")
        }
        // Every key the configuration writes (an optional left unset writes none).
        let missing = (JSONFields.keys(try JSONEncoder().encode(config)) ?? [])
            .subtracting(JSONFields.keys(data) ?? []).subtracting(C.settingsOlderRunsLack).sorted()
        if !missing.isEmpty {
            throw Failure.damaged(path: path, problem: "it lacks the setting\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", ")), so the run's settings are unknown (if the run used the defaults, add them)")
        }
        if let invalid = config.invalidSetting() { throw Failure.damaged(path: path, problem: invalid.description) }
        return config
    }

    /// The configuration a writer goes on with: `requested` for a new run (written to
    /// `config.json`), else the run's own, which `requested` may change only in the settings
    /// `mayChange` (e.g. iterations, threads), and never below the iterations its checkpoint
    /// has done. `otherChanges`: settings kept outside config.json that differ too, refused
    /// with the rest. `hint` ends the refusal, saying what to do. Returns whether the run continues.
    public func settle<C: RunConfiguration>(_ requested: C, mayChange: Set<String>, otherChanges: [SettingChange] = [],
                                            hint: String) throws -> (config: C, continuing: Bool) {
        guard let stored = try storedConfiguration(C.self) else {
            if exists(MetaCheckpoint.stateFile) {
                throw Failure.damaged(path: file(Self.configFile).path,
                                      problem: "it is missing, though the run has a checkpoint")
            }
            try writeJSON(requested, to: Self.configFile)
            return (requested, false)
        }
        let changes = try SettingChange.between(stored, requested).filter { !mayChange.contains($0.key) } + otherChanges
        if !changes.isEmpty { throw Failure.settingsDiffer(path: url.path, changes: changes, hint: hint) }
        if let done = try MetaCheckpoint.storedIteration(in: self), requested.iterationCount < done {
            throw Failure.settingsDiffer(
                path: url.path,
                changes: [SettingChange(key: "iterations", old: "\(stored.iterationCount)", new: "\(requested.iterationCount)")],
                hint: "its checkpoint has done \(done) iterations already; give at least \(done).")
        }
        if requested != stored { try writeJSON(requested, to: Self.configFile) }
        return (requested, true)
    }
}
