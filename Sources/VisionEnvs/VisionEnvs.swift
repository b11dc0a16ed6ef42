// VisionEnvs: MuJoCo manipulation tasks with hidden goals, seen through the Renderer.
//
// Contract: `ManipulationEnv(.push)` simulates and scores one task (state only); `VisionEnv`
// wraps it with a camera and renders what the meta-policy sees. The goal is hidden: it is in
// the privileged state (for experts) but never in the observation nor in the pixels.
//
// Layers, as dm_control separates them:
//   Physics/   what MuJoCo knows: the model, the simulation, the mocap-driven gripper
//   Tasks/     goals, goal sampling, reward, success, privileged state (PushTask, DoorTask, …)
//   Scripted/  demonstrators that act from the privileged state
//   Pixels/    the bridge from MuJoCo geoms to a Renderer scene, and the rendering wrapper
//
// Units and frames: metres and radians, MuJoCo's world frame (z up, table top at z = 0,
// y pointing away from the robot). Actions are in [-1, 1]^3; one unit moves the gripper's
// mocap target 0.01 m per control step (5 physics steps of 2.5 ms).
