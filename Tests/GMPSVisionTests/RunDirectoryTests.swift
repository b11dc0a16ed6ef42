import ConvNet
import Foundation
import Testing
@testable import GMPSVision

/// What a run directory guarantees: one writer, settings as identity, checked state files,
/// checkpoints written as one unit, nothing left behind by an interrupted write.
struct RunDirectoryTests {
    /// A run meta-trained for `iterations` on the tiny pipeline configuration.
    static func trainedRun(iterations: Int, dagger: Bool = false) throws -> (RunDirectory, GMPSConfig) {
        let run = try PipelineTests.temporaryRun()
        var config = PipelineTests.config(iterations: iterations)
        if dagger { config.daggerStartIteration = 0 }
        try run.writeJSON(config, to: RunDirectory.configFile)
        let pipeline = GMPSPipeline(config: config, run: run)
        try pipeline.metaTrain(try pipeline.trainer(demos: pipeline.demonstrations(), resume: false))
        return (run, config)
    }

    /// checkpoint.json as a JSON object, changed by `change`.
    static func editCheckpoint(_ run: RunDirectory, _ change: (inout [String: Any]) -> Void) throws {
        let data = try run.read(MetaCheckpoint.stateFile)
        var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        change(&object)
        try run.write(try JSONSerialization.data(withJSONObject: object), to: MetaCheckpoint.stateFile)
    }

    static func failure(_ body: () throws -> Void) -> String {
        do { try body() } catch { return "\(error)" }
        return "no error"
    }

    // MARK: One writer

    @Test func aSecondWriterIsRefusedNamingTheHolderUntilTheHolderEnds() throws {
        let run = try PipelineTests.temporaryRun()
        defer { try? FileManager.default.removeItem(at: run.url) }
        var holder: RunLock? = try RunLock(run, command: "gmps-vision meta-train --out first")
        let refusal = Self.failure { _ = try RunDirectory.openForWriting(run.url.path) }
        #expect(refusal.contains("in use by another gmps-vision process"), "\(refusal)")
        #expect(refusal.contains("pid \(getpid()): gmps-vision meta-train --out first"), "\(refusal)")
        withExtendedLifetime(holder) {}
        holder = nil   // the process ends: the kernel releases the lock
        #expect(throws: Never.self) { _ = try RunDirectory.openForWriting(run.url.path) }
    }

    // MARK: Settings are the run's identity

    @Test func continuingOnOtherSettingsIsRefusedNamingEachChange() throws {
        let run = try PipelineTests.temporaryRun()
        defer { try? FileManager.default.removeItem(at: run.url) }
        let config = PipelineTests.config(iterations: 2)
        let allowed: Set<String> = ["iterations", "threads"]
        #expect(try run.settle(config, mayChange: allowed, hint: "").continuing == false)
        #expect(try run.settle(config, mayChange: allowed, hint: "").continuing == true)
        let written = try run.read(RunDirectory.configFile)

        var other = config
        other.seed = 6
        other.imageHeight = 32
        do {
            _ = try run.settle(other, mayChange: allowed, hint: "choose another --out.")
            Issue.record("other settings were accepted")
        } catch let RunDirectory.Failure.settingsDiffer(_, changes, _) {
            #expect(changes == [SettingChange(key: "imageHeight", old: "24", new: "32"),
                                SettingChange(key: "seed", old: "1", new: "6")])
        }
        #expect(try run.read(RunDirectory.configFile) == written, "config.json is left as it was")

        var more = config
        more.iterations = 5
        more.threads = 1
        #expect(try run.settle(more, mayChange: allowed, hint: "").config == more)
        #expect(try run.storedConfiguration(GMPSConfig.self)?.iterations == 5)
    }

    @Test func iterationsMayNotGoBelowWhatTheCheckpointHasDone() throws {
        let (run, config) = try Self.trainedRun(iterations: 2)
        defer { try? FileManager.default.removeItem(at: run.url) }
        var fewer = config
        fewer.iterations = 1
        let refusal = Self.failure { _ = try run.settle(fewer, mayChange: ["iterations"], hint: "") }
        #expect(refusal.contains("iterations 2 → 1") && refusal.contains("has done 2 iterations"), "\(refusal)")
    }

    @Test func aConfigurationMustHoldEverySettingInRange() throws {
        let run = try PipelineTests.temporaryRun()
        defer { try? FileManager.default.removeItem(at: run.url) }
        try run.write(Data("{}".utf8), to: RunDirectory.configFile)
        let empty = Self.failure { _ = try run.storedConfiguration(GMPSConfig.self) }
        #expect(empty.contains("config.json is damaged") && empty.contains("lacks the settings"), "\(empty)")
        #expect(empty.contains("seed") && empty.contains("imageHeight"))

        var config = PipelineTests.config(iterations: 1)
        try run.writeJSON(config, to: RunDirectory.configFile)
        #expect(try run.storedConfiguration(GMPSConfig.self) == config, "a complete file loads")
        config.threads = 0
        try run.writeJSON(config, to: RunDirectory.configFile)
        let outOfRange = Self.failure { _ = try run.storedConfiguration(GMPSConfig.self) }
        #expect(outOfRange.contains("threads: must be between 1 and 256"), "\(outOfRange)")
    }

    // MARK: Checked state files

    @Test func damagedCheckpointsAreNamedWithWhatIsWrong() throws {
        let (run, config) = try Self.trainedRun(iterations: 1)
        defer { try? FileManager.default.removeItem(at: run.url) }
        let policy = try MetaPolicy(config: config)
        func loadFailure() -> String { Self.failure { _ = try MetaCheckpoint.load(from: run, policy: policy, iterations: 1) } }
        let good = try run.read(MetaCheckpoint.stateFile)
        #expect(loadFailure() == "no error")

        for (iteration, expected) in [(999, "records iteration 999"), (-3, "records iteration -3")] {
            try Self.editCheckpoint(run) { $0["iteration"] = iteration }
            #expect(loadFailure().contains("checkpoint.json is damaged: it \(expected)"), "\(loadFailure())")
        }
        try Self.editCheckpoint(run) {
            $0["iteration"] = 1
            var adam = $0["thetaOptimizer"] as? [String: Any] ?? [:]
            adam["m"] = [Float](repeating: 0, count: 5)
            $0["thetaOptimizer"] = adam
        }
        let adam = loadFailure()
        #expect(adam.contains("checkpoint.json is damaged") && adam.contains("thetaOptimizer"), "\(adam)")

        try run.write(good, to: MetaCheckpoint.stateFile)
        let policyFile = try MetaCheckpoint.loadRecorded(from: run, policy: policy, iterations: 1).policyFile
        var generator = SeededGenerator(seed: 9)
        let noise = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try run.write(Data(noise), to: policyFile)
        let random = loadFailure()
        #expect(random.contains("\(policyFile) is damaged") && random.contains("not the ones the checkpoint recorded"), "\(random)")
    }

    @Test func aCheckpointWrittenBeforeChecksumsStillLoadsAndItsPolicyIsChecked() throws {
        let (run, config) = try Self.trainedRun(iterations: 1)
        defer { try? FileManager.default.removeItem(at: run.url) }
        let policy = try MetaPolicy(config: config)
        // The old layout: the bare state, θ in policy.safetensors.
        let state = try MetaCheckpoint.load(from: run, policy: policy, iterations: 1)
        try run.writeJSON(state, to: MetaCheckpoint.stateFile)
        try Safetensors.save(parameters: state.theta, of: policy.network, to: run.file(MetaCheckpoint.legacyPolicyFile))
        let old = try MetaCheckpoint.loadRecorded(from: run, policy: policy, iterations: 1)
        #expect(old.checksums == nil && old.state.theta == state.theta)

        var other = state.theta
        other[0] += 1
        try Safetensors.save(parameters: other, of: policy.network, to: run.file(MetaCheckpoint.legacyPolicyFile))
        let mismatch = Self.failure { _ = try MetaCheckpoint.load(from: run, policy: policy, iterations: 1) }
        #expect(mismatch.contains("policy.safetensors is damaged: it does not hold the parameters"), "\(mismatch)")

        // Continued, the run writes the new layout and drops the old file.
        try Safetensors.save(parameters: state.theta, of: policy.network, to: run.file(MetaCheckpoint.legacyPolicyFile))
        var more = config
        more.iterations = 2
        let pipeline = GMPSPipeline(config: more, run: run)
        try pipeline.metaTrain(try pipeline.trainer(demos: pipeline.demonstrations(), resume: true))
        let continued = try MetaCheckpoint.loadRecorded(from: run, policy: policy, iterations: 2)
        #expect(continued.state.iteration == 2 && continued.checksums?[GMPSPipeline.pretrainedFile] != nil)
        #expect(!run.exists(MetaCheckpoint.legacyPolicyFile))
    }

    @Test func thePretrainedThetaIsRecordedAndChecked() throws {
        let (run, config) = try Self.trainedRun(iterations: 0)
        defer { try? FileManager.default.removeItem(at: run.url) }
        let pipeline = GMPSPipeline(config: config, run: run)
        _ = try pipeline.trainer(demos: pipeline.demonstrations(), resume: true)
        #expect(try pipeline.pretrainedTheta()?.count == (try MetaPolicy(config: config)).parameterCount)
        try run.writeJSON([Float](repeating: 0, count: 3), to: GMPSPipeline.pretrainedFile)
        let damaged = Self.failure { _ = try pipeline.pretrainedTheta() }
        #expect(damaged.contains("pretrained_theta.json is damaged"), "\(damaged)")
    }

    // MARK: Interrupted and failed writes

    @Test func leftoversOfInterruptedWritesAreRemovedAtTheNextStart() throws {
        let (run, config) = try Self.trainedRun(iterations: 1, dagger: true)
        defer { try? FileManager.default.removeItem(at: run.url) }
        let policy = try MetaPolicy(config: config)
        let current = try MetaCheckpoint.loadRecorded(from: run, policy: policy, iterations: 1).policyFile
        let leftovers = [".policy-0002.safetensors.tmp-12-34", ".checkpoint.json.tmp-12-56", "frames/.goal-1-after.png.tmp-7-8",
                         "dagger/.dat.nosyncA1b2", "policy-0002.safetensors", "dagger/iteration-0001.safetensors"]
        for name in leftovers { try run.write(Data("partial".utf8), to: name) }
        _ = try RunDirectory.openForWriting(run.url.path)
        for name in leftovers { #expect(!run.exists(name), "\(name) is left") }
        #expect(run.exists(current) && run.exists(DaggerCheckpoint.fileName(iteration: 0)), "the checkpoint's own files stay")
        #expect(throws: Never.self) { _ = try MetaCheckpoint.load(from: run, policy: policy, iterations: 1) }
    }

    @Test func aFailedWriteKeepsTheLastGoodCheckpointAndLeavesNothingBehind() throws {
        let (run, config) = try Self.trainedRun(iterations: 1, dagger: true)
        defer { try? FileManager.default.removeItem(at: run.url) }
        let policy = try MetaPolicy(config: config)
        let before = try run.read(MetaCheckpoint.stateFile)
        // The next iteration's DAgger file cannot be written: a folder holds its name.
        try FileManager.default.createDirectory(at: run.file(DaggerCheckpoint.fileName(iteration: 1)),
                                                withIntermediateDirectories: true)
        var more = config
        more.iterations = 2
        let pipeline = GMPSPipeline(config: more, run: run)
        let failure = Self.failure { try pipeline.metaTrain(try pipeline.trainer(demos: pipeline.demonstrations(), resume: true)) }
        #expect(failure.contains("cannot write") && failure.contains("iteration-0001"), "\(failure)")
        #expect(try run.read(MetaCheckpoint.stateFile) == before, "the checkpoint is the last good one")
        #expect(try MetaCheckpoint.load(from: run, policy: policy, iterations: 2).iteration == 1)
        let temporary = run.allFiles().filter { AtomicWrite.isTemporaryName(URL(fileURLWithPath: $0).lastPathComponent) }
        #expect(temporary.isEmpty, "\(temporary)")
    }
}
