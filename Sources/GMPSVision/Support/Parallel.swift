import Dispatch
import Synchronization

/// Runs `body(worker, item)` for items 0..<count on `workers` threads; item i goes to worker
/// i % workers, so which worker (and which of its buffers) handles an item never depends on
/// timing. Results must be written to per-item slots.
func parallelForEach(_ count: Int, workers: Int, _ body: (_ worker: Int, _ item: Int) throws -> Void) throws {
    let workers = max(1, min(workers, count))
    try onWorkers(workers) { worker in
        for item in stride(from: worker, to: count, by: workers) { try body(worker, item) }
    }
}

/// Runs `body(worker, item)` for items 0..<count on `workers` threads, each worker taking the
/// next unclaimed item when it finishes one. For items of unequal length whose results do not
/// depend on the worker that runs them: per-task SAC experts stop early at different steps, and
/// with item i on worker i % workers the two workers' shares of the default runs' 60 experts
/// differed by 76-164 s (seeds 1-3, stages of 820-1030 s). Which worker runs an item depends on
/// timing; after an error no new item starts.
func parallelForEachOnDemand(_ count: Int, workers: Int, _ body: (_ worker: Int, _ item: Int) throws -> Void) throws {
    let workers = max(1, min(workers, count))
    let items = ItemCounter(count: count)
    try onWorkers(workers, onError: { items.stop() }) { worker in
        while let item = items.next() { try body(worker, item) }
    }
}

/// Runs `loop(worker)` for workers 0..<workers, on as many threads (inline for one); after all
/// return, rethrows the error of the lowest worker that threw. `onError` runs in a worker's
/// thread as it fails.
private func onWorkers(_ workers: Int, onError: @Sendable () -> Void = {},
                       _ loop: (_ worker: Int) throws -> Void) throws {
    if workers == 1 { return try loop(0) }
    let errors = ErrorSlots(count: workers)
    try withoutActuallyEscaping(loop) { loop in
        let box = UncheckedSendable(loop)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            do {
                try box.value(worker)
            } catch {
                errors.set(error, at: worker)
                onError()
            }
        }
        if let error = errors.first { throw error }
    }
}

/// Hands out 0, 1, …, count - 1 once each, to whichever thread asks first.
final class ItemCounter: Sendable {
    let count: Int
    private let claimed = Atomic<Int>(0)

    init(count: Int) { self.count = count }

    /// The next unclaimed item, or nil once all are claimed (or after `stop`).
    func next() -> Int? {
        let item = claimed.wrappingAdd(1, ordering: .relaxed).oldValue
        return item < count ? item : nil
    }

    /// No item is handed out after this.
    func stop() { claimed.store(count, ordering: .relaxed) }
}

/// Wraps a value that is shared across threads under a discipline the compiler cannot see
/// (here: each thread touches only its own slots).
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// One error slot per worker, written by that worker only.
typealias ErrorSlots = ResultSlots<Error>

/// Per-item results filled in parallel, each item by exactly one worker. The slots live in raw
/// memory: a Swift array property written from several threads trips the runtime's
/// exclusivity check even when the elements differ.
final class ResultSlots<Value>: @unchecked Sendable {
    private let slots: UnsafeMutablePointer<Value?>
    let count: Int

    init(count: Int) {
        self.count = count
        slots = .allocate(capacity: max(count, 1))
        slots.initialize(repeating: nil, count: max(count, 1))
    }

    deinit {
        slots.deinitialize(count: max(count, 1))
        slots.deallocate()
    }

    subscript(index: Int) -> Value? {
        get { slots[index] }
        set { slots[index] = newValue }
    }

    func set(_ value: Value, at index: Int) { slots[index] = value }

    /// The filled slots, in item order.
    var values: [Value?] { (0..<count).map { slots[$0] } }
    var first: Value? { values.compactMap { $0 }.first }
}
