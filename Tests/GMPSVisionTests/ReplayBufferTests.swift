import ConvNet
import Testing
@testable import GMPSVision

struct ReplayBufferTests {
    @Test func oldestTransitionsAreOverwrittenOnceFull() {
        var buffer = ReplayBuffer(capacity: 3, stateDimension: 2, actionDimension: 1)
        for t in 0..<5 {
            let x = Float(t)
            buffer.append(state: [x, x], action: [x], reward: x, nextState: [x + 1, x + 1])
        }
        #expect(buffer.count == 3)
        // Slots 0, 1 held transitions 0, 1 and now hold 3, 4; slot 2 still holds 2.
        #expect(buffer.rewards == [3, 4, 2])
        #expect(buffer.states == [3, 3, 4, 4, 2, 2])
        #expect(buffer.nextStates == [4, 4, 5, 5, 3, 3])
        #expect(buffer.actions == [3, 4, 2])
    }

    @Test func samplesComeOnlyFromStoredTransitionsAndKeepThemWhole() {
        var buffer = ReplayBuffer(capacity: 100, stateDimension: 2, actionDimension: 1)
        for t in 0..<4 {
            let x = Float(t)
            buffer.append(state: [x, -x], action: [10 * x], reward: 100 * x, nextState: [x + 0.5, 0])
        }
        var rng = SeededGenerator(seed: 1)
        let batch = buffer.sample(400, using: &rng)
        #expect(batch.size == 400)
        var seen = Set<Float>()
        for i in 0..<batch.size {
            let x = batch.states[2 * i]
            seen.insert(x)
            #expect(batch.states[2 * i + 1] == -x)
            #expect(batch.actions[i] == 10 * x)
            #expect(batch.rewards[i] == 100 * x)
            #expect(batch.nextStates[2 * i] == x + 0.5)
        }
        #expect(seen == [0, 1, 2, 3])
        var again = SeededGenerator(seed: 1)
        #expect(buffer.sample(400, using: &again).rewards == batch.rewards)
    }
}
