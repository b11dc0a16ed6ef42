/// Names one object of a scene, as returned by `Scene.add`.
public struct ObjectID: Hashable, Sendable {
    public let index: Int
}

/// One primitive placed in the world.
public struct SceneObject: Sendable {
    public let shape: Shape
    public var pose: Pose
    public var color: Color
    public var isVisible: Bool
    /// Whether it darkens planes under it when `RenderOptions.shadows` is on.
    public var castsShadow: Bool
    let mesh: TessellatedMesh
}

/// Everything a frame shows: objects, camera, light and options.
///
/// Adding an object tessellates its shape once (shared by equal shapes); after that a frame
/// only changes poses, colours and visibility.
public struct Scene: Sendable {
    public var camera: Camera
    public var light: Light
    public var options: RenderOptions
    public private(set) var objects: [SceneObject] = []
    /// Vertices around each circle of spheres, capsules and cylinders added from now on.
    public var segments: Int
    private var meshCache: [Shape: TessellatedMesh] = [:]

    public init(camera: Camera, light: Light = Light(), options: RenderOptions = RenderOptions(),
                segments: Int = 16) {
        self.camera = camera
        self.light = light
        self.options = options
        self.segments = segments
    }

    @discardableResult
    public mutating func add(_ shape: Shape, pose: Pose = Pose(), color: Color,
                             castsShadow: Bool = true) -> ObjectID {
        let mesh: TessellatedMesh
        if let cached = meshCache[shape] {
            mesh = cached
        } else {
            mesh = TessellatedMesh(shape, segments: segments)
            meshCache[shape] = mesh
        }
        objects.append(SceneObject(shape: shape, pose: pose, color: color, isVisible: true,
                                   castsShadow: castsShadow, mesh: mesh))
        return ObjectID(index: objects.count - 1)
    }

    public subscript(id: ObjectID) -> SceneObject {
        get { objects[id.index] }
    }

    public mutating func setPose(_ pose: Pose, of id: ObjectID) { objects[id.index].pose = pose }
    public mutating func setColor(_ color: Color, of id: ObjectID) { objects[id.index].color = color }
    public mutating func setVisible(_ visible: Bool, of id: ObjectID) {
        objects[id.index].isVisible = visible
    }
}
