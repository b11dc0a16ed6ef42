/// The task half of an environment (dm_control's split): it knows the goal and scores what
/// the physics did; it never moves anything except the hidden goal marker.
public protocol ManipulationTask {
    var environment: EnvironmentName { get }
    var goal: Goal { get }

    /// Starts an episode with `goal` on freshly reset physics: places the goal marker and
    /// records whatever the reward needs from the initial state.
    mutating func begin(goal: Goal, physics: GripperPhysics) throws(VisionEnvError)

    /// The dense shaped reward of the current state.
    func reward(_ physics: GripperPhysics) -> Double

    /// Whether the current state solves the task (DESIGN.md counts the last step).
    func isSuccess(_ physics: GripperPhysics) -> Bool

    /// The expert's view: low-dimensional state including the goal
    /// (`environment.privilegedStateDimension` numbers).
    func privilegedState(_ physics: GripperPhysics) -> [Float]
}

extension ManipulationTask {
    func checkEnvironment(of goal: Goal) throws(VisionEnvError) {
        guard goal.environment == environment else {
            throw .invalidGoal("a \(goal.environment) goal was given to the \(environment) environment.")
        }
    }
}

@inline(__always)
func distance(_ a: SIMD3<Double>, _ b: SIMD3<Double>) -> Double {
    let d = a - b
    return (d * d).sum().squareRoot()
}

@inline(__always)
func distance(_ a: SIMD2<Double>, _ b: SIMD2<Double>) -> Double {
    let d = a - b
    return (d * d).sum().squareRoot()
}

extension SIMD3 where Scalar == Double {
    var xy: SIMD2<Double> { SIMD2(x, y) }
}

extension SIMD3 where Scalar == Float {
    var values: [Float] { [x, y, z] }
}

extension Array where Element == Float {
    /// Elements `i`, `i + 1`, `i + 2` as a vector: one position of a privileged state.
    func vector3(at i: Int) -> SIMD3<Float> { SIMD3(self[i], self[i + 1], self[i + 2]) }
}
