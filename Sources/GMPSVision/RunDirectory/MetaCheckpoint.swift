import ConvNet
import Foundation

/// A meta-training checkpoint in a run directory, one atomic unit:
///   `policy-NNNN.safetensors`  θ after iteration NNNN, with the architecture in the metadata
///                              (for PyTorch / numpy), written first under a name of its own
///   `checkpoint.json`          MetaTrainerState (iteration, θ, α, log α per group when α is
///                              learned so, both Adam states, counters)
///                              plus "format": 2, "policyFile" and "checksums" (file → FNV-1a of
///                              the policy and of every file the state relies on: DAgger data,
///                              pretrained_theta.json), renamed into place last
/// A crash or a failed write before the rename leaves the previous checkpoint whole (its policy
/// file is deleted only after the rename); what it leaves besides is removed at the next
/// writer's start (`RunDirectory.removeLeftovers`).
///
/// A checkpoint written before format 2 (no "checksums", the policy as `policy.safetensors`)
/// still loads: nothing is recorded to verify, the other checks apply, and its policy file must
/// hold the checkpoint's θ.
public enum MetaCheckpoint {
    public static let stateFile = "checkpoint.json"
    /// The policy file of a checkpoint written before format 2.
    public static let legacyPolicyFile = "policy.safetensors"
    static let format = 2

    /// A checkpoint as loaded: the state and what it records (nil before format 2).
    public struct Loaded {
        public var state: MetaTrainerState
        /// File → checksum of the files the checkpoint relies on, its policy file included.
        public var checksums: [String: String]?
        /// The checkpoint's policy file.
        public var policyFile: String
    }

    /// `checkpoint.json`: the state's fields and, from format 2, the record.
    struct Stored: Codable {
        var state: MetaTrainerState
        var format: Int?
        var policyFile: String?
        var checksums: [String: String]?

        private enum CodingKeys: String, CodingKey { case format, policyFile, checksums }

        init(state: MetaTrainerState, policyFile: String, checksums: [String: String]) {
            (self.state, format, self.policyFile, self.checksums) = (state, MetaCheckpoint.format, policyFile, checksums)
        }

        init(from decoder: any Decoder) throws {
            state = try MetaTrainerState(from: decoder)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            format = try container.decodeIfPresent(Int.self, forKey: .format)
            policyFile = try container.decodeIfPresent(String.self, forKey: .policyFile)
            checksums = try container.decodeIfPresent([String: String].self, forKey: .checksums)
        }

        func encode(to encoder: any Encoder) throws {
            try state.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encodeIfPresent(format, forKey: .format)
            try container.encodeIfPresent(policyFile, forKey: .policyFile)
            try container.encodeIfPresent(checksums, forKey: .checksums)
        }
    }

    /// Whether `name` (relative to a run) is a policy file of some checkpoint.
    static func isPolicyFile(_ name: String) -> Bool {
        !name.contains("/") && name.hasPrefix("policy") && name.hasSuffix(".safetensors")
    }

    /// Writes the checkpoint of `state`; `recorded` holds the checksums of the files it relies
    /// on besides its policy (e.g. DAgger data), already written.
    public static func save(_ state: MetaTrainerState, policy: MetaPolicy, in run: RunDirectory,
                            recorded: [String: String] = [:]) throws {
        // A name no file has: the current checkpoint's policy file is never overwritten.
        let base = String(format: "policy-%04d", state.iteration)
        let name = (1...).lazy.map { $0 == 1 ? base + ".safetensors" : base + "-\($0).safetensors" }
            .first { !run.exists($0) } ?? base + ".safetensors"
        let bytes = try Safetensors.encode(parameters: state.theta, of: policy.network, path: run.file(name).path)
        var checksums = recorded
        checksums[name] = try run.write(bytes, to: name)
        try run.writeJSON(Stored(state: state, policyFile: name, checksums: checksums), to: stateFile)
        for old in run.topLevelFiles() where isPolicyFile(old) && old != name { run.remove(old) }
    }

    /// The saved state, checked against the run's configuration (`policy`; at most
    /// `iterations` done), with its policy file verified.
    public static func load(from run: RunDirectory, policy: MetaPolicy, iterations: Int) throws -> MetaTrainerState {
        try loadRecorded(from: run, policy: policy, iterations: iterations).state
    }

    /// The saved state and what it records. A reader that finds the policy file gone while a
    /// writer moves on to the next checkpoint reads the new one.
    public static func loadRecorded(from run: RunDirectory, policy: MetaPolicy, iterations: Int) throws -> Loaded {
        guard run.exists(stateFile) else {
            throw RunDirectory.Failure.cannotRead(
                path: run.file(stateFile).path,
                reason: "no checkpoint here; run `gmps-vision meta-train --out \(run.url.path)` first")
        }
        for attempt in 1...3 {
            let data = try run.read(stateFile)
            let stored = try decode(data, path: run.file(stateFile).path)
            try check(stored, policy: policy, iterations: iterations, path: run.file(stateFile).path)
            let policyFile = stored.policyFile ?? legacyPolicyFile
            if attempt < 3, stored.policyFile != nil, !run.exists(policyFile), (try? run.read(stateFile)) != data { continue }
            try verifyPolicy(stored, file: policyFile, policy: policy, in: run)
            return Loaded(state: stored.state, checksums: stored.checksums, policyFile: policyFile)
        }
        throw RunDirectory.Failure.cannotRead(path: run.file(stateFile).path,
                                              reason: "another process kept replacing the checkpoint while it was read; try again")
    }

    /// The iteration the checkpoint of `run` reached; nil when there is none.
    public static func storedIteration(in run: RunDirectory) throws -> Int? {
        guard run.exists(stateFile) else { return nil }
        return try decode(try run.read(stateFile), path: run.file(stateFile).path).state.iteration
    }

    /// The policy files and recorded files no checkpoint relies on: what a checkpoint that was
    /// being written when the process ended left behind.
    static func unreferencedFiles(in run: RunDirectory) -> [String] {
        guard let data = try? run.read(stateFile), let stored = try? decode(data, path: stateFile) else { return [] }
        var leftovers = run.topLevelFiles().filter { isPolicyFile($0) && $0 != (stored.policyFile ?? legacyPolicyFile) }
        if let checksums = stored.checksums {
            leftovers += run.allFiles().filter { $0.hasPrefix("dagger/") && $0.hasSuffix(".safetensors") && checksums[$0] == nil }
        }
        return leftovers
    }

    private static func decode(_ data: Data, path: String) throws -> Stored {
        do {
            return try JSONDecoder().decode(Stored.self, from: data)
        } catch {
            throw RunDirectory.Failure.damaged(path: path, problem: "it is not a checkpoint (\(error))")
        }
    }

    /// Every number in the state fits this run: sizes, ranges, finiteness.
    private static func check(_ stored: Stored, policy: MetaPolicy, iterations: Int, path: String) throws {
        let state = stored.state
        func damaged(_ problem: String) -> RunDirectory.Failure { .damaged(path: path, problem: problem) }
        guard (0...max(iterations, 0)).contains(state.iteration) else {
            throw damaged("it records iteration \(state.iteration), but the run's configuration has \(iterations) iterations")
        }
        guard state.theta.count == policy.parameterCount, state.alpha.count == policy.tailCount else {
            throw damaged("it holds \(state.theta.count) parameters and \(state.alpha.count) step sizes, but this run's configuration builds a policy of \(policy.parameterCount) and \(policy.tailCount); the files are mismatched")
        }
        if let logAlpha = state.logAlpha {
            guard logAlpha.count == policy.alphaGroups.count, logAlpha.allSatisfy(\.isFinite) else {
                throw damaged("it holds \(logAlpha.count) log step sizes, or one not finite; this policy has \(policy.alphaGroups.count) groups")
            }
        }
        // α's optimiser moves α (tail) or, per group, log α.
        let alphaCount = state.logAlpha?.count ?? policy.tailCount
        for (name, adam, count) in [("thetaOptimizer", state.thetaOptimizer, policy.parameterCount),
                                    ("alphaOptimizer", state.alphaOptimizer, alphaCount)] {
            guard adam.m.count == count, adam.v.count == count, adam.step >= 0 else {
                throw damaged("its Adam state \"\(name)\" holds moments of \(adam.m.count) and \(adam.v.count) values (step \(adam.step)); the policy needs \(count)")
            }
        }
        guard state.theta.allSatisfy(\.isFinite), state.alpha.allSatisfy(\.isFinite) else {
            throw damaged("it holds NaN or infinite parameters")
        }
        guard state.onPolicySamples >= 0, state.evaluationSamples >= 0 else {
            throw damaged("it counts \(state.onPolicySamples) on-policy and \(state.evaluationSamples) evaluation samples")
        }
        if stored.policyFile != nil, stored.checksums?[stored.policyFile ?? ""] == nil {
            throw damaged("it names the policy file \(stored.policyFile ?? "") but records no checksum of it")
        }
    }

    /// The policy file holds the checkpoint's θ: its recorded checksum, or (before format 2)
    /// its parameters, when the file is there.
    private static func verifyPolicy(_ stored: Stored, file: String, policy: MetaPolicy, in run: RunDirectory) throws {
        if let checksum = stored.checksums?[file] {
            _ = try run.read(file, checksum: checksum)
            return
        }
        guard run.exists(file) else { return }
        let theta: [Float]
        do {
            theta = try Safetensors.load(for: policy.network, from: run.file(file))
        } catch let error as SafetensorsError {
            throw RunDirectory.Failure.damaged(path: run.file(file).path, problem: error.problem)
        }
        guard theta == stored.state.theta else {
            throw RunDirectory.Failure.damaged(path: run.file(file).path,
                                               problem: "it does not hold the parameters of \(stateFile)")
        }
    }
}
