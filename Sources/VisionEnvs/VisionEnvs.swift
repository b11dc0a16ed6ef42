// VisionEnvs: MuJoCo manipulation tasks with hidden goals, seen through the Renderer.
// (Physics, tasks and the scene bridge arrive with issue 4.)
