import Foundation
import Renderer
import Testing
import VisionEnvs
@testable import GMPSVision

/// Held-out episodes for people: contact sheets as before, and beside them animations.
struct EpisodePicturesTests {
    static func policyAndGoal() throws -> (GMPSConfig, MetaPolicy, [Float], Goal) {
        let config = PipelineTests.config(iterations: 1)
        let policy = try MetaPolicy(config: config)
        let theta = try MetaTrainerState(policy: policy, config: config).theta
        let goal = try TaskDistribution(.reach).metaSplit(seed: 1, trainCount: 0, testCount: 1).test[0]
        return (config, policy, theta, goal)
    }

    @Test func aSheetFromEveryStepsFramesIsTheSheetOfEveryFifthStep() throws {
        let (_, policy, theta, goal) = try Self.policyAndGoal()
        let everyStep = try episodeFrames(policy: policy, parameters: theta, goal: goal, frameHeight: 24, frameWidth: 32)
        let everyFifth = try episodeFrames(policy: policy, parameters: theta, goal: goal, frameHeight: 24, frameWidth: 32, every: 5)
        #expect(everyStep.count == goal.environment.horizon + 1)
        #expect(EpisodePictures.sheetFrames(of: everyStep) == everyFifth, "the report's sheets are as they were")
        #expect(EpisodePictures.sheetFrames(of: []) == [])
    }

    @Test func eachEpisodeIsWrittenAsASheetAndAnAnimationAndTheReportShowsThemSideBySide() throws {
        let run = try PipelineTests.temporaryRun()
        defer { try? FileManager.default.removeItem(at: run.url) }
        let (config, policy, theta, goal) = try Self.policyAndGoal()
        let alpha = try MetaTrainerState(policy: policy, config: config).alpha
        let pictures = try GMPSPipeline(config: config, run: run).writeEpisodePictures(theta: theta, alpha: alpha, latentScales: [],
                                                                                         goals: [goal], seed: 3)
        #expect(pictures.map(\.sheet) == ["frames/goal-1-before.png", "frames/goal-1-after.png"])
        #expect(pictures.map(\.animation) == ["frames/goal-1-before.gif", "frames/goal-1-after.gif"])
        for picture in pictures {
            let sheet = try PNGFile.read(run.file(picture.sheet).path)
            #expect(sheet.width == 6 * 128 + 7 * 2, "six 128-pixel frames a row")
            let animation = try run.read(picture.animation)
            #expect(animation.starts(with: Array("GIF89a".utf8)), "\(picture.animation) is a GIF")
            // The logical screen is the frames' size: 128 x 96, little-endian after the header.
            #expect(Array(animation[6..<10]) == [128, 0, 96, 0])
        }
        let report = RunReport(title: "t", config: config, progress: [], results: [], evaluationDraws: 1, evaluationGoals: 1,
                               sheets: pictures, stageSeconds: [])
        let line = "![\(goal), after adaptation, contact sheet](frames/goal-1-after.png) "
            + "![\(goal), after adaptation, animation](frames/goal-1-after.gif)"
        #expect(report.markdown.contains(line), "\(report.markdown)")
    }
}
