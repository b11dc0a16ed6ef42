import Foundation

/// A list of goals for one environment, as a JSON file a person can write by hand:
///
///     {"env": "push", "goals": [[0.1, 0.8], [-0.05, 0.77]]}
///
/// (reach: `[x, y, z]` per goal; door: `[angle]`.) Reading checks everything and names the
/// first problem found.
public enum GoalsFile {
    /// The goals in the file at `path`. When `environment` is given, the file must be for it.
    public static func read(_ path: String,
                            expecting environment: EnvironmentName? = nil) throws(GoalsFileError) -> [Goal] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "it is not readable" : "no such file"
            throw GoalsFileError(path: path, problem: reason)
        }
        return try decode(data, path: path, expecting: environment)
    }

    /// Parses a goals file's bytes (`path` only names it in errors).
    public static func decode(_ data: Data, path: String = "<goals>",
                              expecting expected: EnvironmentName? = nil) throws(GoalsFileError) -> [Goal] {
        let raw: Raw
        do {
            raw = try JSONDecoder().decode(Raw.self, from: data)
        } catch let error as DecodingError {
            throw GoalsFileError(path: path, problem: sentence(for: error))
        } catch {
            throw GoalsFileError(path: path, problem: "it is not valid JSON (\(error.localizedDescription))")
        }
        guard let environment = EnvironmentName(rawValue: raw.env) else {
            throw GoalsFileError(path: path, problem: VisionEnvError.unknownEnvironment(raw.env).description)
        }
        if let expected, expected != environment {
            throw GoalsFileError(path: path,
                                 problem: "its goals are for '\(environment)' but the environment is '\(expected)'")
        }
        guard !raw.goals.isEmpty else {
            throw GoalsFileError(path: path, problem: "\"goals\" is an empty list; give at least one goal")
        }
        var goals: [Goal] = []
        for (index, coordinates) in raw.goals.enumerated() {
            if let problem = Goal.problem(with: coordinates, for: environment) {
                throw GoalsFileError(path: path, problem: "goals[\(index)]: \(problem)")
            }
            goals.append(Goal(unchecked: environment, coordinates))
        }
        return goals
    }

    /// The JSON text of a goals file (one goal per line).
    public static func encode(_ goals: [Goal], environment: EnvironmentName) -> String {
        let lines = goals.map { goal in
            "    [" + goal.coordinates.map { "\($0)" }.joined(separator: ", ") + "]"
        }
        return "{\n  \"env\": \"\(environment)\",\n  \"goals\": [\n"
            + lines.joined(separator: ",\n") + "\n  ]\n}\n"
    }

    /// Writes a goals file atomically.
    public static func write(_ goals: [Goal], environment: EnvironmentName,
                             to path: String) throws(GoalsFileError) {
        do {
            try Data(encode(goals, environment: environment).utf8)
                .write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw GoalsFileError(path: path, problem: "cannot write it (\(error.localizedDescription))")
        }
    }

    private struct Raw: Decodable {
        let env: String
        let goals: [[Double]]
    }

    private static func sentence(for error: DecodingError) -> String {
        func where_(_ path: [any CodingKey]) -> String {
            path.isEmpty ? "the top level" : path.map { key in
                key.intValue.map { "[\($0)]" } ?? ".\(key.stringValue)"
            }.joined().trimmingCharacters(in: CharacterSet(charactersIn: "."))
        }
        switch error {
        case let .keyNotFound(key, _):
            return "it has no \"\(key.stringValue)\" key; expected {\"env\": \"push\", \"goals\": [[x, y], ...]}"
        case let .typeMismatch(type, context), let .valueNotFound(type, context):
            let expected = type == String.self ? "a string" : type == Double.self ? "a number" : "a list"
            return "\(where_(context.codingPath)) should be \(expected)"
        case let .dataCorrupted(context):
            if context.codingPath.isEmpty { return "it is not valid JSON" }
            return "\(where_(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "it does not have the form {\"env\": \"push\", \"goals\": [[x, y], ...]}"
        }
    }
}

/// A goals file that cannot be used, with the file's path and the problem in words.
public struct GoalsFileError: Error, Equatable, CustomStringConvertible {
    public let path: String
    public let problem: String

    public var description: String {
        "bad goals file \(path): \(problem.hasSuffix(".") ? String(problem.dropLast()) : problem)."
    }
}
