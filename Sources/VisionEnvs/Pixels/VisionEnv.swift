import Renderer

/// An environment seen through a camera: `ManipulationEnv` plus the meta-policy's pixels.
///
/// Pixels are a wrapper, not a fork: physics, task, reward and success all live in `base`.
/// The policy's observation is an RGB image (3 x H x W Float32 in [0, 1]) and the hand's
/// xyz; the goal is in neither. Not thread-safe: one environment (and its rasterizer) per thread.
public final class VisionEnv {
    public let base: ManipulationEnv
    private var bridge: SceneBridge
    private let rasterizer = Rasterizer()

    /// The policy's image size (DESIGN.md: 48 x 64 by default).
    public static let defaultImageHeight = 48
    public static let defaultImageWidth = 64

    /// Loads `name` (see `ManipulationEnv.init`, which `reward` goes to) and bridges its model to a scene seen by the
    /// model's `policy` camera at `imageHeight` x `imageWidth`.
    public init(_ name: EnvironmentName, imageHeight: Int = VisionEnv.defaultImageHeight,
                imageWidth: Int = VisionEnv.defaultImageWidth, assets: AssetLocator = AssetLocator(),
                modelPath: String? = nil, renderOptions: RenderOptions = RenderOptions(),
                reward: RewardKind = .dense) throws(VisionEnvError) {
        base = try ManipulationEnv(name, assets: assets, modelPath: modelPath, reward: reward)
        bridge = try SceneBridge(simulation: base.physics.simulation, height: imageHeight,
                                 width: imageWidth, options: renderOptions)
    }

    public var name: EnvironmentName { base.name }
    public var horizon: Int { base.horizon }
    public var goal: Goal { base.goal }
    public var stepCount: Int { base.stepCount }
    public var rewardKind: RewardKind { base.rewardKind }
    public var imageHeight: Int { bridge.height }
    public var imageWidth: Int { bridge.width }
    /// Floats in one CHW observation image: 3 x H x W.
    public var imageCount: Int { 3 * imageHeight * imageWidth }

    public func reset(goal: Goal) throws(VisionEnvError) { try base.reset(goal: goal) }

    @discardableResult
    public func step(_ action: SIMD3<Float>) throws(VisionEnvError) -> StepResult { try base.step(action) }

    @discardableResult
    public func step(_ action: [Float]) throws(VisionEnvError) -> StepResult { try base.step(action) }

    /// Proprioception: the point between the gripper's fingers (metres, world frame).
    public var handPosition: SIMD3<Float> { base.handPosition }

    /// The expert's state, goal included (never give this to the meta-policy).
    public func privilegedState() -> [Float] { base.privilegedState() }

    /// Renders what the policy sees now into `buffer` as 3 x H x W Float32 in [0, 1].
    /// The goal marker is never drawn here. No allocation after the first frame.
    ///
    /// - Precondition: `buffer.count >= imageCount`.
    public func renderObservation(into buffer: UnsafeMutableBufferPointer<Float>) {
        bridge.showsGoal = false
        bridge.update()
        rasterizer.renderCHW(bridge.scene, into: buffer)
    }

    /// The observation image as a new array (3 x H x W); `renderObservation(into:)` avoids the
    /// allocation in a training loop.
    public func observationImage() -> [Float] {
        [Float](unsafeUninitializedCapacity: imageCount) { buffer, count in
            renderObservation(into: buffer)
            count = imageCount
        }
    }

    /// An RGB frame for people: the policy's view, with the goal marker when `showGoal`.
    public func renderImage(showGoal: Bool = false) -> RGBImage {
        bridge.showsGoal = showGoal
        bridge.update()
        let image = rasterizer.render(bridge.scene)
        bridge.showsGoal = false
        return image
    }

    /// The scene as it stands (for tools that render it differently, e.g. larger).
    public var scene: Scene {
        bridge.update()
        return bridge.scene
    }
}
