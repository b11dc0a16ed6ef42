import Renderer
import VisionEnvs

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
