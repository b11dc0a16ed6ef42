import Foundation
import Synchronization
import Testing
@testable import GMPSVision

struct ParallelTests {
    @Test func onDemandRunsEveryItemExactlyOnce() throws {
        let runs = ResultSlots<Int>(count: 100)
        try parallelForEachOnDemand(100, workers: 2) { _, item in runs.set((runs[item] ?? 0) + 1, at: item) }
        #expect(runs.values == [Int?](repeating: 1, count: 100))
    }

    @Test func itemsAreHandedOutInOrderOnceEachAndNoneAfterAStop() {
        let items = ItemCounter(count: 3)
        #expect([items.next(), items.next(), items.next(), items.next()] == [0, 1, 2, nil])
        let stopped = ItemCounter(count: 5)
        _ = stopped.next()
        stopped.stop()
        #expect(stopped.next() == nil)
    }

    @Test func onDemandStopsHandingOutItemsAfterAnError() {
        struct Failure: Error {}
        let started = Atomic<Int>(0)
        #expect(throws: Failure.self) {
            try parallelForEachOnDemand(1_000, workers: 2) { _, item in
                started.add(1, ordering: .relaxed)
                if item == 3 { throw Failure() }
                // Other items take a little time, so a busy machine that stalls the
                // failing worker cannot let the other one finish all 1,000 first.
                Thread.sleep(forTimeInterval: 0.002)
            }
        }
        #expect(started.load(ordering: .relaxed) < 1_000)
    }
}
