import Foundation

/// Sums progress over parallel training jobs.
final class ProgressTracker: @unchecked Sendable {
    private let lock = NSLock()
    private var steps: [Int], success: [Double?], done: [Bool]
    private let budget: Int
    private let report: (@Sendable (ExpertTraining.Progress) -> Void)?

    init(jobs: Int, budget: Int, report: (@Sendable (ExpertTraining.Progress) -> Void)?) {
        steps = Array(repeating: 0, count: jobs); success = Array(repeating: nil, count: jobs)
        done = Array(repeating: false, count: jobs)
        self.budget = budget; self.report = report
    }

    func update(job: Int, steps s: Int, success rate: Double) {
        let snapshot: ExpertTraining.Progress = lock.withLock {
            steps[job] = s; success[job] = rate
            return snapshotLocked()
        }
        report?(snapshot)
    }

    /// A job that stopped early counts its whole budget as done (the time-left estimate).
    func finish(job: Int, steps s: Int) {
        let snapshot: ExpertTraining.Progress = lock.withLock {
            steps[job] = s; done[job] = true
            return snapshotLocked()
        }
        report?(snapshot)
    }

    private func snapshotLocked() -> ExpertTraining.Progress {
        let known = success.compactMap { $0 }
        return .init(envSteps: steps.reduce(0, +), budget: budget, expertsDone: done.filter { $0 }.count, experts: done.count,
                     successSoFar: known.isEmpty ? 0 : known.reduce(0, +) / Double(known.count))
    }
}
