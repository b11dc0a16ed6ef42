import ConvNet
import Foundation
import Testing
import VisionEnvs
@testable import GMPSVision

/// Hindsight relabelling: each relabelled transition carries a goal achieved later in its own
/// episode and the task's reward for that goal; SAC hands each finished episode's actions over.
struct HindsightTests {
    /// A push episode of three steps: the block slides along x while the hand follows.
    static let pushStates: [[Float]] = (0...3).map { t in
        PushState(hand: SIMD3(Float(t) * 0.02 - 0.05, 0.6, 0.05), block: SIMD3(Float(t) * 0.02, 0.6, 0.02),
                  goal: SIMD3(0.1, 0.75, 0.02)).values
    }
    static let actions: [[Float]] = [[0.5, 0, 0], [0.4, 0.1, 0], [0.3, 0, -0.1]]

    @Test func pushTransitionsTakeALaterBlockPositionAsTheGoalAndItsReward() throws {
        let features = StateFeatures(.push)
        var rng = SeededGenerator(seed: 4)
        let relabelled = ManipulationHindsight(.push).transitions(states: Self.pushStates, actions: Self.actions, relabels: 3,
                                                                  features: features, using: &rng)
        #expect(relabelled.count == 9)
        var later = Set<Int>()
        for (i, transition) in relabelled.enumerated() {
            let t = i / 3
            #expect(transition.action == Self.actions[t])
            // Which step's block became the goal: exactly one later step matches.
            let matches = (0...3).filter { f in
                var goal = PushState(Self.pushStates[t])
                goal.goal = SIMD3(PushState(Self.pushStates[f]).block.x, PushState(Self.pushStates[f]).block.y, 0.02)
                return features(goal.values) == transition.state
            }
            let f = try #require(matches.first)
            #expect(matches.count == 1 && f > t)
            later.insert(f)
            var next = PushState(Self.pushStates[t + 1])
            next.goal = SIMD3(PushState(Self.pushStates[f]).block.x, PushState(Self.pushStates[f]).block.y, 0.02)
            #expect(features(next.values) == transition.nextState)
            // The task's formula for that goal, progress measured from the episode's first block.
            let goal = SIMD2(Double(next.goal.x), Double(next.goal.y))
            let start = PushState(Self.pushStates[0]).block
            let expected = PushTask.reward(hand: SIMD3<Double>(next.hand), block: SIMD3<Double>(next.block), goal: goal,
                                           initialPlaceDistance: PushTask.distanceToGoal(block: SIMD3<Double>(start), goal: goal))
            #expect(transition.reward == Float(expected))
        }
        #expect(later.count > 1, "the future steps are drawn, not always the last")
    }

    /// Sparse: the last step relabelled with its own outcome is a success, paid 1; a step whose
    /// goal lies further on is paid 0.
    @Test func sparseRewardsPayTheAchievedGoal() {
        var rng = SeededGenerator(seed: 1)
        let hindsight = ManipulationHindsight(.push, reward: .sparse)
        let relabelled = hindsight.transitions(states: Self.pushStates, actions: Self.actions, relabels: 8,
                                               features: StateFeatures(.push), using: &rng)
        // Step 2 can only take step 3's block: success.
        #expect(relabelled[16..<24].allSatisfy { $0.reward == 1 })
        // The first state with step 3's block as the goal, 0.06 m away (radius 0.05): no success.
        let far = hindsight.relabelled(Self.pushStates[0], toGoalOf: Self.pushStates[3])
        #expect(hindsight.reward(of: far, episodeStart: Self.pushStates[0]) == 0)
    }

    @Test func reachAndDoorGoalsAreTheHandAndTheAngle() {
        let reach = ManipulationHindsight(.reach)
        let state = ReachState(hand: SIMD3(0, 0.6, 0.1), goal: SIMD3(0.1, 0.7, 0.2)).values
        let achiever = ReachState(hand: SIMD3(0.05, 0.65, 0.15), goal: SIMD3(0.1, 0.7, 0.2)).values
        #expect(ReachState(reach.relabelled(state, toGoalOf: achiever)).goal == SIMD3(0.05, 0.65, 0.15))
        #expect(ManipulationHindsight(.reach, reward: .sparse).reward(of: reach.relabelled(achiever, toGoalOf: achiever),
                                                                       episodeStart: state) == 1)
        let door = ManipulationHindsight(.door)
        let opened = DoorState(hand: SIMD3(0, 0.6, 0.1), handle: SIMD3(0, 0.6, 0.1), angle: 0.4, targetAngle: 0.9).values
        let relabelled = DoorState(door.relabelled(opened, toGoalOf: opened))
        #expect(relabelled.targetAngle == 0.4 && relabelled.angle == 0.4)
        // Holding the handle at the target: the full progress term.
        #expect(abs(door.reward(of: relabelled.values, episodeStart: opened) - 40) < 1e-4)
    }

    /// SAC relabels each finished training episode once, with the actions it executed in order,
    /// and stores what comes back; without relabels it never asks.
    @Test func sacHandsEachEpisodesActionsToTheRelabelling() throws {
        var config = smallSACConfig()
        config.randomSteps = 50; config.updateAfter = 50; config.evaluateEvery = 100
        config.hindsightRelabels = 2
        let spy = RelabellingSpy()
        let relabelled = try SACTraining.train(environment: spy, config: config, rewardScale: 1, budget: 200, seed: 5)
        #expect(spy.calls.count == 10, "20-step episodes, 200 steps")
        #expect(spy.calls.allSatisfy { $0.relabels == 2 && $0.actions.count == 20 })
        #expect(spy.calls.map(\.actions) == spy.episodes.prefix(spy.calls.count).map { $0 })
        config.hindsightRelabels = 0
        let quiet = RelabellingSpy()
        let plain = try SACTraining.train(environment: quiet, config: config, rewardScale: 1, budget: 200, seed: 5)
        #expect(quiet.calls.isEmpty)
        // The stored relabels change what the critics learn from.
        #expect(relabelled.learner.actorParameters != plain.learner.actorParameters)
        #expect(config.problem == nil)
        config.hindsightRelabels = -1
        #expect(config.problem?.contains("hindsightRelabels") == true)
    }
}

/// The point mass recording the actions of each training episode and the relabelling calls;
/// it relabels by moving the goal onto the point's final position.
final class RelabellingSpy: HindsightRelabelling {
    let base = PointMass()
    var horizon: Int { base.horizon }
    var stateDimension: Int { base.stateDimension }
    var actionDimension: Int { base.actionDimension }
    var evaluationTasks: Int { base.evaluationTasks }
    private(set) var episodes: [[[Float]]] = []
    private(set) var calls: [(actions: [[Float]], relabels: Int)] = []
    private var states: [[Float]] = []
    private var training = false

    func reset(using rng: inout SeededGenerator) throws -> [Float] {
        episodes.append([])
        training = true
        let s = try base.reset(using: &rng)
        states = [s]
        return s
    }
    func reset(evaluationTask task: Int) throws -> [Float] {
        // Evaluation episodes are not training episodes (one starts between two of them).
        if training, episodes.last?.isEmpty == true { episodes.removeLast() }
        training = false
        let s = try base.reset(evaluationTask: task)
        states = [s]
        return s
    }
    func step(_ action: [Float]) throws -> (state: [Float], reward: Float, success: Bool) {
        if training { episodes[episodes.count - 1].append(action) }
        let result = try base.step(action)
        states.append(result.state)
        return result
    }
    func hindsightTransitions(actions: [[Float]], relabels: Int, using rng: inout SeededGenerator) -> [Transition] {
        calls.append((actions, relabels))
        let goal: [Float] = Array(states[states.count - 1][0..<2])
        var out: [Transition] = []
        for t in 0..<actions.count {
            let state: [Float] = Array(states[t][0..<2]) + goal, next: [Float] = Array(states[t + 1][0..<2]) + goal
            for _ in 0..<relabels { out.append(Transition(state: state, action: actions[t], reward: 0, nextState: next)) }
        }
        return out
    }
}
