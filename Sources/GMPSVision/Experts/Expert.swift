import ConvNet
import Foundation
import VisionEnvs
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// An expert: privileged state (goal included) → the clean action in [-1, 1]^3.
///
/// Demonstrations are labelled with it, and GMPS's DAgger relabels the states its adapted
/// policies visit with it, so an expert must stay loadable (`ExpertSet.load(from:)`) and be
/// cheap and safe to call from several threads at once.
public protocol Expert: Sendable {
    var environment: EnvironmentName { get }
    /// The clean action for one state (`environment.privilegedStateDimension` numbers).
    func cleanAction(for state: [Float]) throws -> SIMD3<Float>
    /// Clean actions for N states given row after row (N × S numbers).
    func cleanActions(for states: [Float]) throws -> [SIMD3<Float>]
}

extension Expert {
    public func cleanActions(for states: [Float]) throws -> [SIMD3<Float>] {
        let s = environment.privilegedStateDimension
        guard states.count % s == 0 else { throw ExpertError.wrongStateSize(expected: s, got: states.count % s) }
        return try (0..<(states.count / s)).map { try cleanAction(for: Array(states[($0 * s)..<(($0 + 1) * s)])) }
    }
}

/// The hand-written demonstrator of VisionEnvs, checked for state size.
extension ScriptedExpert: Expert {
    public func cleanAction(for state: [Float]) throws -> SIMD3<Float> {
        guard state.count == environment.privilegedStateDimension else {
            throw ExpertError.wrongStateSize(expected: environment.privilegedStateDimension, got: state.count)
        }
        return action(for: state)
    }
}

/// A trained SAC actor used deterministically: a = tanh μ(features(state)).
public struct SACExpert: Expert {
    public let environment: EnvironmentName
    public let network: Network
    public let parameters: [Float]
    public let features: StateFeatures

    public init(environment: EnvironmentName, network: Network, parameters: [Float]) throws {
        let features = StateFeatures(environment)
        guard network.extraInputCount == features.count, network.outputCount == 6, parameters.count == network.parameterCount else {
            throw ExpertError.invalidConfiguration(
                "a \(environment) SAC expert maps \(features.count) features to 6 outputs; got a network with \(network.extraInputCount) inputs and \(network.outputCount) outputs")
        }
        self.environment = environment
        self.network = network
        self.parameters = parameters
        self.features = features
    }

    public func cleanAction(for state: [Float]) throws -> SIMD3<Float> {
        try cleanActions(for: state)[0]
    }

    /// One batched forward pass (a fresh workspace per call keeps the expert thread-safe).
    public func cleanActions(for states: [Float]) throws -> [SIMD3<Float>] {
        let s = environment.privilegedStateDimension
        guard states.count % s == 0, !states.isEmpty else {
            throw ExpertError.wrongStateSize(expected: s, got: states.isEmpty ? 0 : states.count % s)
        }
        let n = states.count / s
        var inputs: [Float] = []
        inputs.reserveCapacity(n * features.count)
        for i in 0..<n { inputs += features(Array(states[(i * s)..<((i + 1) * s)])) }
        let out = try network.forward(parameters: parameters, extras: inputs, batch: n, workspace: network.makeWorkspace(maxBatch: n))
        return (0..<n).map { i in SIMD3(tanhf(out[i * 6]), tanhf(out[i * 6 + 1]), tanhf(out[i * 6 + 2])) }
    }
}
