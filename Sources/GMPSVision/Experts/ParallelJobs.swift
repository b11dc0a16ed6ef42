import Foundation

/// Hands out job indices 0..<count to parallel workers, each index once.
final class JobQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    let count: Int

    init(count: Int) { self.count = count }

    /// The next job, or nil when all have been handed out.
    func take() -> Int? {
        lock.withLock {
            guard next < count else { return nil }
            defer { next += 1 }
            return next
        }
    }
}

/// Per-slot results written by parallel workers.
final class ResultSlots<T>: @unchecked Sendable {
    private var slots: [Result<T, any Error>?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ i: Int, _ value: Result<T, any Error>) { lock.withLock { slots[i] = value } }

    /// All values in order; rethrows the first failure.
    func values() throws -> [T] {
        try lock.withLock { slots }.map { slot in
            guard let slot else { throw ExpertError.invalidConfiguration("a training job did not finish") }
            return try slot.get()
        }
    }
}

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
