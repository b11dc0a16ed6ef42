// Renderer: a software rasterizer for small scenes of primitives, and PNG/JPEG files.
//
// Contract: a `Scene` (primitives with poses and colours, a camera, one light) goes in;
// an `RGBImage` or a Float32 CHW tensor in [0,1] comes out, the same bytes on every run.
// No threads inside: one `Rasterizer` per thread; callers render many scenes in parallel.
//
// Coordinates and shapes used throughout this target:
//   world     right-handed, metres; z up (MuJoCo's convention)
//   camera    looks along its local -z, local +y is up, local +x is right (OpenGL, MuJoCo)
//   image     H x W pixels, row 0 at the top, column 0 at the left; pixel centres at +0.5
//   RGB8      H x W x 3 bytes, interleaved, row-major
//   CHW       3 x H x W Float32 planes (R, G, B), values in [0, 1]
