import ConvNet

/// What SAC trains in: an episodic environment of fixed horizon, seen through a
/// low-dimensional state. The manipulation environments conform through
/// `ManipulationTrainingEnvironment`; tests use small problems of their own.
///
/// States are already what the networks read (see `StateFeatures` for the manipulation tasks).
public protocol TrainingEnvironment: AnyObject {
    /// S.
    var stateDimension: Int { get }
    /// A.
    var actionDimension: Int { get }
    /// Steps per episode; the episode ends after the last.
    var horizon: Int { get }
    /// Starts an episode (a task of the set this environment trains on, drawn with `rng`
    /// when there are several) and returns its first state (S).
    func reset(using rng: inout SeededGenerator) throws -> [Float]
    /// Starts an episode on evaluation task `task` (0..<evaluationTasks) and returns its state.
    func reset(evaluationTask task: Int) throws -> [Float]
    /// Number of tasks an evaluation covers (1 for a single task).
    var evaluationTasks: Int { get }
    /// Applies an action (A, in [-1, 1]) and returns the next state, the reward and whether
    /// the state after the step counts as a success.
    func step(_ action: [Float]) throws -> (state: [Float], reward: Float, success: Bool)
}
