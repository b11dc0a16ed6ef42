import Foundation
import Testing
@testable import VisionEnvs

@Suite struct GoalsTests {
    @Test func metaTrainAndMetaTestGoalsAreDisjointDeterministicAndInRange() throws {
        for name in EnvironmentName.allCases {
            let distribution = TaskDistribution(name)
            let split = try distribution.metaSplit(seed: 1, trainCount: 40, testCount: 20)
            #expect(split.train.count == 40 && split.test.count == 20)
            #expect(Set(split.train).isDisjoint(with: Set(split.test)))
            #expect(Set(split.train).count == 40)
            #expect(try split == distribution.metaSplit(seed: 1, trainCount: 40, testCount: 20))
            #expect(try split != distribution.metaSplit(seed: 2, trainCount: 40, testCount: 20))
            for goal in split.train + split.test {
                #expect(goal.environment == name)
                for (value, range) in zip(goal.coordinates, name.goalSamplingRanges) {
                    #expect(range.contains(value))
                }
            }
        }
    }

    /// Validation goals come after the training and test goals in the same stream: asking for
    /// them changes neither list, and they are distinct from both.
    @Test func validationGoalsLeaveTrainingAndTestGoalsUnchanged() throws {
        for name in EnvironmentName.allCases {
            let distribution = TaskDistribution(name)
            let without = try distribution.metaSplit(seed: 5, trainCount: 30, testCount: 20)
            let with = try distribution.metaSplit(seed: 5, trainCount: 30, testCount: 20, validationCount: 10)
            #expect(with.train == without.train && with.test == without.test)
            #expect(without.validation.isEmpty && with.validation.count == 10 && Set(with.validation).count == 10)
            #expect(Set(with.validation).isDisjoint(with: Set(with.train + with.test)))
        }
        let door = TaskDistribution(.door)
        #expect(throws: VisionEnvError.tooManyGoals(.door, requested: 8_002, capacity: 8_001)) {
            try door.metaSplit(seed: 1, trainCount: 7_990, testCount: 10, validationCount: 2)
        }
    }

    /// The door's 0.2…1.0 rad on a 0.1 mrad grid: 8,001 goals, all of which the split reaches;
    /// one more is refused with the capacity instead of searching forever.
    @Test func goalCountsBeyondTheDistributionsCapacityAreRefused() throws {
        let door = TaskDistribution(.door)
        #expect(door.capacity == 8_001)
        #expect(TaskDistribution(.push).capacity == 3_001 * 1_001)
        let all = try door.metaSplit(seed: 1, trainCount: 8_000, testCount: 1)
        #expect(Set(all.train + all.test).count == 8_001)
        #expect(throws: VisionEnvError.tooManyGoals(.door, requested: 8_002, capacity: 8_001)) {
            try door.metaSplit(seed: 1, trainCount: 8_002, testCount: 0)
        }
        #expect(throws: VisionEnvError.tooManyGoals(.door, requested: 8_021, capacity: 8_001)) {
            try door.metaSplit(seed: 1, trainCount: 8_001, testCount: 20)
        }
    }

    @Test func goalsRoundTripThroughJSON() throws {
        let goals = [try Goal(.push, [0.1, 0.8]), try Goal(.door, [0.35]), try Goal(.reach, [-0.1, 0.75, 0.2])]
        let data = try JSONEncoder().encode(goals)
        #expect(try JSONDecoder().decode([Goal].self, from: data) == goals)
        let text = String(decoding: try JSONEncoder().encode(goals[0]), as: UTF8.self)
        #expect(text.contains(#""env":"push""#) && text.contains(#""goal":[0.1,0.8]"#))
        // Decoding validates like the initialiser does.
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(Goal.self, from: Data(#"{"env": "door", "goal": [0.1, 0.2]}"#.utf8))
        }
    }

    @Test func goalsFileRoundTrips() throws {
        let path = try temporaryFolder().appendingPathComponent("goals.json").path
        let goals = try TaskDistribution(.reach).metaSplit(seed: 3, trainCount: 5, testCount: 0).train
        try GoalsFile.write(goals, environment: .reach, to: path)
        #expect(try GoalsFile.read(path) == goals)
        #expect(try GoalsFile.read(path, expecting: .reach) == goals)
    }

    /// Each malformed file is rejected with a message that names the problem.
    @Test(arguments: [
        (#"{"env": "push", "goals": [[0.1, 0.8], [0.2]]}"#, "goals[1]"),
        (#"{"env": "push", "goals": [[0.1, 7.0]]}"#, "outside"),
        (#"{"env": "pick", "goals": [[0.1, 0.8]]}"#, "unknown environment 'pick'"),
        (#"{"env": "push"}"#, #"no "goals" key"#),
        (#"{"env": "push", "goals": []}"#, "empty"),
        (#"{"env": "push", "goals": [["a", 0.8]]}"#, "should be a number"),
        (#"{"env": "push", "goals": [[0.1, 0.8]"#, "not valid JSON"),
        (#"{"env": "door", "goals": [[0.5]]}"#, "for 'door' but the environment is 'push'"),
    ])
    func malformedGoalsFileIsRejectedWithTheProblemNamed(_ json: String, _ expected: String) {
        do {
            _ = try GoalsFile.decode(Data(json.utf8), path: "bad.json", expecting: .push)
            Issue.record("accepted \(json)")
        } catch {
            #expect(error.description.contains(expected), "\(error.description)")
            #expect(error.description.contains("bad.json"))
        }
    }

    @Test func missingGoalsFileIsNamed() {
        #expect(throws: GoalsFileError(path: "/nonexistent/goals.json", problem: "no such file")) {
            try GoalsFile.read("/nonexistent/goals.json")
        }
    }
}
