import ConvNet
import Foundation

/// A meta-training checkpoint in a run directory:
///   `checkpoint.json`      MetaTrainerState: iteration, θ, α, both Adam states, counters
///   `policy.safetensors`   θ with the architecture in the metadata (for PyTorch / numpy)
/// Both are written atomically, the JSON last, so a crash between them leaves the previous
/// consistent checkpoint readable.
public enum MetaCheckpoint {
    public static let stateFile = "checkpoint.json"
    public static let policyFile = "policy.safetensors"

    public static func save(_ state: MetaTrainerState, policy: MetaPolicy, in run: RunDirectory) throws {
        try Safetensors.save(parameters: state.theta, of: policy.network, to: run.file(policyFile))
        try run.writeJSON(state, to: stateFile)
    }

    /// The saved state, checked against the run's configuration.
    public static func load(from run: RunDirectory, policy: MetaPolicy) throws -> MetaTrainerState {
        guard run.exists(stateFile) else {
            throw RunDirectory.Failure.cannotRead(
                path: run.file(stateFile).path,
                reason: "no checkpoint here; run `gmps-vision meta-train --out \(run.url.path)` first")
        }
        let state = try run.readJSON(MetaTrainerState.self, from: stateFile)
        guard state.theta.count == policy.parameterCount, state.alpha.count == policy.tailCount else {
            throw RunDirectory.Failure.cannotRead(
                path: run.file(stateFile).path,
                reason: "the checkpoint holds \(state.theta.count) parameters but this run's configuration builds a policy of \(policy.parameterCount); the files are mismatched")
        }
        guard state.theta.allSatisfy(\.isFinite), state.alpha.allSatisfy(\.isFinite) else {
            throw RunDirectory.Failure.cannotRead(path: run.file(stateFile).path,
                                                  reason: "the checkpoint holds NaN or infinite parameters")
        }
        return state
    }
}
