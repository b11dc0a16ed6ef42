import ConvNet

/// One iteration's meta-batch and who computes what. Slot s (task `tasks[s]`) belongs to rank
/// s mod size; within a rank, its slots spread over the worker threads. Everything a slot
/// computes comes from its own random stream, so the split changes no result.
struct MetaBatch {
    /// The task index of each slot.
    let tasks: [Int]
    /// This rank's slots.
    let mySlots: [Int]
    let group: any ProcessGroup
    let threads: Int

    /// The first `size` tasks of a seeded shuffle of `taskCount` tasks.
    init(taskCount: Int, size: Int, using generator: inout some RandomNumberGenerator,
         group: any ProcessGroup, threads: Int) {
        tasks = Array((0..<taskCount).shuffled(using: &generator).prefix(size))
        mySlots = group.share(of: tasks.count)
        self.group = group
        self.threads = threads
    }

    /// `body(worker, slot)` for each of this rank's slots, in parallel over the threads; the
    /// results by slot (nil for other ranks' slots).
    func map<Value>(_ body: (_ worker: Int, _ slot: Int) throws -> Value) throws -> ResultSlots<Value> {
        let results = ResultSlots<Value>(count: tasks.count)
        let slots = mySlots
        try parallelForEach(slots.count, workers: threads) { worker, item in
            results[slots[item]] = try body(worker, slots[item])
        }
        return results
    }

    /// The mean over the whole meta-batch (all ranks) of each slot's vectors: this rank's
    /// slots summed with weight 1/|tasks|, then summed over ranks in one allreduce.
    func mean(of results: ResultSlots<[[Float]]>, shapes: [Int]) -> [[Float]] {
        var sums = shapes.map { [Float](repeating: 0, count: $0) }
        let scale = 1 / Float(max(tasks.count, 1))
        for slot in mySlots {
            guard let parts = results[slot] else { continue }
            for (index, part) in parts.enumerated() { VectorOps.axpy(scale, part, &sums[index]) }
        }
        group.sum(&sums)
        return sums
    }
}
