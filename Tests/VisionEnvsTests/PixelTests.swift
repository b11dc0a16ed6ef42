import Renderer
import Testing
@testable import VisionEnvs

/// Rolls out a uniform random policy from `seed` and returns every frame the policy sees
/// (3 x H x W floats each), starting with the frame after reset.
func randomPolicyFrames(_ env: VisionEnv, goal: Goal, seed: UInt64) throws -> [[Float]] {
    try env.reset(goal: goal)
    var generator = SplitMix64(seed: seed)
    var frames = [env.observationImage()]
    var result = StepResult(reward: 0, success: false, done: false)
    while !result.done {
        result = try env.step(SIMD3(Float.random(in: -1...1, using: &generator),
                                    Float.random(in: -1...1, using: &generator),
                                    Float.random(in: -1...1, using: &generator)))
        frames.append(env.observationImage())
    }
    return frames
}

@Suite struct PixelTests {
    /// The goal is hidden: with the same actions, two goals give the same pixels, bit for bit.
    @Test(arguments: EnvironmentName.allCases)
    func goalIsInvisibleInThePolicysPixels(_ name: EnvironmentName) throws {
        let env = try VisionEnv(name)
        var generator = SplitMix64(seed: 5)
        let distribution = TaskDistribution(name)
        let first = distribution.sample(using: &generator)
        let second = distribution.sample(using: &generator)
        #expect(first != second)
        let framesForFirst = try randomPolicyFrames(env, goal: first, seed: 99)
        let framesForSecond = try randomPolicyFrames(env, goal: second, seed: 99)
        #expect(framesForFirst.count == name.horizon + 1)
        let identical = framesForFirst == framesForSecond    // (not inside #expect: huge arrays)
        #expect(identical)
        // Not vacuous: the frames change over the episode, and the goal marker, when drawn,
        // shows up differently for the two goals.
        let moved = framesForFirst.first != framesForFirst.last
        #expect(moved)
        let firstMarked = try framesShowingGoal(env, goal: first)
        let secondMarked = try framesShowingGoal(env, goal: second)
        #expect(firstMarked != secondMarked)
    }

    /// The frame for people, with the goal drawn, after the scripted expert's episode (the
    /// door's goal marker hides behind the closed door until the door opens).
    private func framesShowingGoal(_ env: VisionEnv, goal: Goal) throws -> RGBImage {
        try runScriptedEpisode(env.base, goal: goal)
        return env.renderImage(showGoal: true)
    }

    @Test func showingTheGoalNeverLeaksIntoTheNextObservation() throws {
        let env = try VisionEnv(.push)
        let before = env.observationImage()
        _ = env.renderImage(showGoal: true)
        let unchanged = env.observationImage() == before
        #expect(unchanged)
    }

    @Test func observationIsCHWInTheUnitIntervalAndMatchesTheRGBFrame() throws {
        let env = try VisionEnv(.push, imageHeight: 12, imageWidth: 20)
        let chw = env.observationImage()
        #expect(chw.count == 3 * 12 * 20)
        #expect(chw.allSatisfy { (0...1).contains($0) })
        let rgb = env.renderImage()
        #expect((rgb.height, rgb.width) == (12, 20))
        // Pixel (x 7, y 5): channel c sits at c * H * W + y * W + x.
        let (red, green, blue) = rgb[7, 5]
        let plane = 12 * 20
        for (channel, byte) in [red, green, blue].enumerated() {
            #expect(abs(chw[channel * plane + 5 * 20 + 7] * 255 - Float(byte)) <= 0.51)
        }
    }

    @Test func sceneBridgeDrawsEveryVisibleGeomAndTheModelsCamera() throws {
        let env = try VisionEnv(.push)
        let simulation = env.base.physics.simulation
        let scene = env.scene
        // push.xml: table, slab, 2 fingers, palm, wrist, block = 7 geoms, plus the goal marker.
        #expect(Int(simulation.model.pointee.ngeom) == 7)
        #expect(scene.objects.count == 8)
        #expect(scene.objects.filter(\.isVisible).count == 7)
        // push.xml: <camera name="policy" pos="0 1.1 0.45" xyaxes="-1 0 0 0 -0.6823 0.7311"/>.
        #expect(scene.camera.pose.position == Vector3(0, 1.1, 0.45))
        #expect(scene.camera.pose.rotation.x == Vector3(-1, 0, 0))
        #expect(abs(scene.camera.pose.rotation.y.z - 0.7311) < 1e-3)
        #expect(scene.camera.verticalFieldOfView == 45)
        #expect(scene.objects.contains { $0.shape == .box(halfExtents: Vector3(0.02, 0.02, 0.02)) })
        #expect(scene.objects.contains { $0.shape == .cylinder(radius: 0.024, halfLength: 0.01) })
    }

    @Test func policyPixelsFollowTheGripper() throws {
        let env = try VisionEnv(.reach)
        let start = env.observationImage()
        for _ in 0..<10 { try env.step(SIMD3<Float>(1, 0, 0)) }
        let changed = env.observationImage() != start
        #expect(changed)
    }

    @Test func imageSizeIsConfigurableAndMustBePositive() throws {
        let env = try VisionEnv(.door, imageHeight: 30, imageWidth: 40)
        #expect(env.imageCount == 3 * 30 * 40)
        #expect(env.renderImage().width == 40)
        #expect(throws: VisionEnvError.invalidImageSize(height: 0, width: 64)) {
            try VisionEnv(.door, imageHeight: 0, imageWidth: 64)
        }
    }
}

@Suite struct SceneBridgeTests {
    @Test func mujocoMatricesBecomeTheSameRotationAsTheRendererReads() {
        var xmat: [Double] = [0, -1, 0, 1, 0, 0, 0, 0, 1]  // 90° about z, row-major
        let fast = xmat.withUnsafeMutableBufferPointer { SceneBridge.rotation($0.baseAddress!) }
        #expect(fast == Rotation(rowMajor: xmat))
        #expect(fast.apply(Vector3(1, 0, 0)) == Vector3(0, 1, 0))
    }
}
