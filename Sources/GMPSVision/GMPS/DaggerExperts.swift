import VisionEnvs

/// DAgger's labellers, one per meta-training task: the expert whose clean action labels the
/// states that task's adapted policy visits; nil for a task with demonstrations only (the
/// hybrid setting), whose visited states are not relabelled.
public struct DaggerExperts: Sendable {
    public var byTask: [(any Expert)?]

    public init(byTask: [(any Expert)?]) { self.byTask = byTask }

    /// `experts`' expert for each of `goals`, none for the tasks in `demoOnly`.
    public init(_ experts: ExpertSet, goals: [Goal], demoOnly: Set<Int> = []) throws {
        byTask = try goals.enumerated().map { t, goal in demoOnly.contains(t) ? nil : try experts.expert(for: goal) }
    }

    /// The expert's clean action for one state of `task` as [x, y, z].
    static func label(_ expert: any Expert, _ state: [Float]) throws -> [Float] {
        let a = try expert.cleanAction(for: state)
        return [a.x, a.y, a.z]
    }
}
