import Foundation
import Testing
@testable import VisionEnvs

/// A fresh temporary folder for one test.
func temporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("visionenvs-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The error `body` throws, or nil.
func thrownError(_ body: () throws(VisionEnvError) -> Void) -> VisionEnvError? {
    do {
        try body()
        return nil
    } catch {
        return error
    }
}

@Suite struct BadInputTests {
    @Test func malformedMJCFGivesMuJoCosMessageAndTheFileName() throws {
        let path = try temporaryFolder().appendingPathComponent("broken.xml").path
        try #"<mujoco><worldbody><geom type="box" sise="1 1 1"/></worldbody></mujoco>"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        let error = thrownError { () throws(VisionEnvError) in _ = try ManipulationEnv(.push, modelPath: path) }
        guard case let .modelLoadFailed(failedPath, message)? = error else {
            Issue.record("expected modelLoadFailed, got \(String(describing: error))")
            return
        }
        #expect(failedPath == path)
        #expect(message.contains("sise"), "MuJoCo's own message names the bad attribute: \(message)")
        #expect(error?.description.contains(path) == true)
    }

    @Test func missingMJCFFileIsNamed() {
        #expect(throws: VisionEnvError.modelLoadFailed(path: "/nonexistent/push.xml", message: "no such file")) {
            try ManipulationEnv(.push, modelPath: "/nonexistent/push.xml")
        }
    }

    @Test func modelWithoutTheGoalSiteIsRejectedByName() throws {
        let source = try String(contentsOfFile: AssetLocator().path(of: "reach.xml"), encoding: .utf8)
        let path = try temporaryFolder().appendingPathComponent("reach.xml").path
        try source.replacingOccurrences(of: #"<site name="goal""#, with: #"<site name="target""#)
            .write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: VisionEnvError.missingModelElement(path: path, kind: "site", name: "goal")) {
            try ManipulationEnv(.reach, modelPath: path)
        }
    }

    @Test func assetLocatorUsesTheExplicitFolderAndNamesWhereItLooked() throws {
        let folder = try temporaryFolder()
        let copy = folder.appendingPathComponent("push.xml").path
        try FileManager.default.copyItem(atPath: AssetLocator().path(of: "push.xml"), toPath: copy)
        #expect(try AssetLocator(folder: folder.path).path(of: "push.xml") == copy)
        #expect(try AssetLocator().path(of: "push.xml").hasSuffix("/assets/push.xml"))
        let error = thrownError { () throws(VisionEnvError) in _ = try AssetLocator(folder: folder.path).path(of: "missing.xml") }
        #expect(error == .assetNotFound(file: "missing.xml", folder: folder.path))
        // A given folder without the model is an error, not a fallback to the repository's.
        let elsewhere = thrownError { () throws(VisionEnvError) in _ = try AssetLocator(folder: folder.path).path(of: "door.xml") }
        #expect(elsewhere == .assetNotFound(file: "door.xml", folder: folder.path))
        #expect(error?.description.contains(AssetLocator.environmentVariable) == true)
    }

    @Test func nanActionIsRejectedAndMovesNothing() throws {
        let env = try ManipulationEnv(.push)
        let before = env.privilegedState()
        #expect(throws: VisionEnvError.self) { try env.step(SIMD3<Float>(.nan, 0, 0)) }
        #expect(throws: VisionEnvError.self) { try env.step([0, 1, .infinity]) }
        #expect(env.privilegedState() == before)
        #expect(env.stepCount == 0)
        #expect(throws: VisionEnvError.wrongActionCount(expected: 3, got: 2)) { try env.step([0.1, 0.2]) }
    }

    @Test func actionsAreClippedToTheUnitBox() throws {
        let clipped = try ManipulationEnv(.reach)
        let unit = try ManipulationEnv(.reach)
        for _ in 0..<5 {
            try clipped.step(SIMD3<Float>(7, -3, 100))
            try unit.step(SIMD3<Float>(1, -1, 1))
        }
        #expect(clipped.privilegedState() == unit.privilegedState())
    }

    @Test func goalsAreCheckedForEnvironmentDimensionAndLimits() throws {
        #expect(throws: VisionEnvError.self) { try Goal(.push, [0.1]) }
        #expect(throws: VisionEnvError.self) { try Goal(.door, [2.5]) }
        #expect(throws: VisionEnvError.self) { try Goal(.reach, [0, .nan, 0.1]) }
        let env = try ManipulationEnv(.push)
        #expect(throws: VisionEnvError.self) { try env.reset(goal: Goal(.door, [0.5])) }
        #expect(throws: VisionEnvError.unknownEnvironment("pick")) { try EnvironmentName(parsing: "pick") }
        #expect(try EnvironmentName(parsing: "Door") == .door)
    }
}
