// VisionEnvs: MuJoCo manipulation tasks with hidden goals, seen through the Renderer.
//
// Contract: `ManipulationEnv(.push)` simulates and scores one task (state only); `VisionEnv`
// wraps it with the model's camera and renders what the meta-policy sees. The goal is hidden:
// it is in the privileged state (for experts) but never in the observation nor in the pixels.
//
//     let env = try VisionEnv(.push)                        // 48 x 64 frames by default
//     var rng = SplitMix64(seed: 0)
//     let goals = try TaskDistribution(.push).metaSplit(seed: 0, trainCount: 10, testCount: 10)
//     try env.reset(goal: goals.train[0])
//     let expert = ScriptedExpert(.push)
//     let result = try env.step(expert.action(for: env.privilegedState()))   // reward, success, done
//     env.renderObservation(into: chw)                     // 3 x 48 x 64 Float32 in [0, 1]
//     let proprioception = env.handPosition                 // hand xyz, metres
//
// Layers, as dm_control separates them:
//   Physics/   what MuJoCo knows: the model, the simulation, the mocap-driven gripper
//   Tasks/     goals, goal sampling, goal files, reward, success, privileged state
//   Scripted/  demonstrators that act from the privileged state (memoryless: they can relabel)
//   Pixels/    the bridge from MuJoCo geoms to a Renderer scene, and the rendering wrapper
//   Support/   asset locator, errors, the seedable generator
//
// Units and frames: metres and radians, MuJoCo's world frame (z up, table top at z = 0,
// y pointing away from the robot). Actions are in [-1, 1]^3; one unit moves the gripper's
// mocap target 0.01 m per control step (5 physics steps of 2.5 ms).
