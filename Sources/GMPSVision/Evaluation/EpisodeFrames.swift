import Renderer
import VisionEnvs

/// Pictures of one held-out episode in a run directory, for people: a contact sheet (every
/// `sheetStride`-th step) and an animation of every step.
public struct EpisodePictures: Equatable, Sendable {
    /// What the episode is, e.g. "push goal [0.1, 0.8], before adaptation".
    public var caption: String
    /// The contact sheet's file in the run directory (PNG).
    public var sheet: String
    /// The animation's file in the run directory (GIF).
    public var animation: String

    public init(caption: String, sheet: String, animation: String) {
        self.caption = caption
        self.sheet = sheet
        self.animation = animation
    }

    /// Steps between the frames of a contact sheet.
    public static let sheetStride = 5

    /// The frames of a sheet from an episode's frames, one per step and one after the last
    /// (`episodeFrames(every: 1)`): steps 0, stride, 2·stride, … and the final state, as
    /// `episodeFrames(every: stride)` renders them.
    public static func sheetFrames(of frames: [RGBImage], stride: Int = sheetStride) -> [RGBImage] {
        guard let last = frames.last else { return [] }
        let steps = frames.count - 1
        return Swift.stride(from: 0, to: steps, by: max(stride, 1)).map { frames[$0] } + [last]
    }
}

/// Frames for people: one mean-action episode of the meta-policy with parameters θ or φ on
/// `goal`, rendered at `frameHeight` x `frameWidth` with the goal marker drawn. The policy acts
/// on its own observation at the configured size; a second copy of the environment, stepped
/// with the same actions (MuJoCo is deterministic), draws the frames.
public func episodeFrames(policy: MetaPolicy, parameters: [Float], goal: Goal, frameHeight: Int,
                          frameWidth: Int, every stride: Int = 1) throws -> [RGBImage] {
    let image = policy.network.spec.image
    let acting = try VisionEnv(goal.environment, imageHeight: image?.height ?? VisionEnv.defaultImageHeight,
                               imageWidth: image?.width ?? VisionEnv.defaultImageWidth)
    let filming = try VisionEnv(goal.environment, imageHeight: frameHeight, imageWidth: frameWidth)
    try acting.reset(goal: goal)
    try filming.reset(goal: goal)
    let workspace = policy.network.makeWorkspace(maxBatch: 1)
    var frames: [RGBImage] = []
    for t in 0..<acting.horizon {
        if t % max(stride, 1) == 0 { frames.append(filming.renderImage(showGoal: true)) }
        let hand = acting.handPosition
        let mean = try policy.network.forward(parameters: parameters, images: acting.observationImage(),
                                              extras: [hand.x, hand.y, hand.z], batch: 1, workspace: workspace)
        try acting.step(mean)
        try filming.step(mean)
    }
    frames.append(filming.renderImage(showGoal: true))
    return frames
}
