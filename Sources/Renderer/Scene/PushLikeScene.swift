/// The push environment's look without its physics: the fixed scene the renderer benchmark,
/// the `scene` command and the tests draw. Sizes and places mirror DESIGN.md section 3
/// (table top at z = 0, a 4 cm block at (0, 0.60), a gripper of a few primitives above it).
public struct PushLikeScene: Sendable {
    public var scene: Scene
    /// The gripper's parts, moved together by `moveGripper(to:)`.
    public let gripperParts: [(id: ObjectID, offset: Vector3)]
    public let block: ObjectID
    public let table: ObjectID

    public init(width: Int = 64, height: Int = 64, options: RenderOptions = RenderOptions()) {
        let camera = Camera.lookingAt([0, 0.66, 0], from: [0, 1.12, 0.42], verticalFieldOfView: 45,
                                      width: width, height: height)
        var scene = Scene(camera: camera, light: Light(direction: [0.25, -0.3, -1]), options: options)
        table = scene.add(.plane(halfWidth: 0.45, halfLength: 0.35), pose: Pose(position: [0, 0.62, 0]),
                          color: Color(0.62, 0.48, 0.33))
        block = scene.add(.box(halfExtents: [0.02, 0.02, 0.02]), pose: Pose(position: [0, 0.60, 0.02]),
                          color: Color(0.85, 0.18, 0.15))
        let parts: [(Shape, Vector3, Color)] = [
            (.cylinder(radius: 0.012, halfLength: 0.05), [0, 0, 0.085], Color(0.55, 0.57, 0.6)),
            (.box(halfExtents: [0.045, 0.012, 0.01]), [0, 0, 0.03], Color(0.25, 0.27, 0.3)),
            (.box(halfExtents: [0.006, 0.01, 0.025]), [-0.035, 0, 0], Color(0.3, 0.32, 0.36)),
            (.box(halfExtents: [0.006, 0.01, 0.025]), [0.035, 0, 0], Color(0.3, 0.32, 0.36)),
            (.sphere(radius: 0.014), [0, 0, 0.045], Color(0.2, 0.45, 0.8)),
        ]
        var gripperParts: [(id: ObjectID, offset: Vector3)] = []
        for (shape, offset, color) in parts {
            gripperParts.append((scene.add(shape, color: color), offset))
        }
        self.gripperParts = gripperParts
        self.scene = scene
        moveGripper(to: [0, 0.52, 0.06])
    }

    /// Places the gripper's fingertips' midpoint at `position`.
    public mutating func moveGripper(to position: Vector3) {
        for part in gripperParts {
            scene.setPose(Pose(position: position + part.offset), of: part.id)
        }
    }
}
