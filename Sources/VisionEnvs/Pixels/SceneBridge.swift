import CMuJoCo
import Renderer

/// Turns a MuJoCo model's geoms into a Renderer scene once, then copies their poses from the
/// simulation every frame. The camera is the model's named camera.
///
/// Geom types bridged: plane, box, sphere, capsule, cylinder (MuJoCo's half-size conventions
/// are the Renderer's). Ellipsoids, meshes and height fields are left out: our models have
/// none. Geoms with alpha 0 are invisible in MuJoCo and are not added.
///
/// The hidden goal is a MuJoCo site, not a geom, so it is never part of the scene unless
/// `showsGoal` is set; `VisionEnv` never sets it for the policy's pixels.
public struct SceneBridge {
    public private(set) var scene: Scene
    /// Whether the goal marker is drawn (frames for people only).
    public var showsGoal = false {
        didSet { scene.setVisible(showsGoal, of: goalObject) }
    }

    private let simulation: MuJoCoSimulation
    private let camera: Int
    /// (MuJoCo geom index, scene object) for every bridged geom.
    private let geoms: [(geom: Int, object: ObjectID)]
    private let goalSite: Int
    private let goalObject: ObjectID

    /// Builds the scene of `simulation`'s model seen by the camera `cameraName`, at
    /// `height` x `width` pixels.
    public init(simulation: MuJoCoSimulation, cameraName: String = "policy", height: Int, width: Int,
                options: RenderOptions = RenderOptions()) throws(VisionEnvError) {
        guard height > 0, width > 0 else { throw .invalidImageSize(height: height, width: width) }
        self.simulation = simulation
        camera = try simulation.id(of: mjOBJ_CAMERA, named: cameraName)
        goalSite = try simulation.id(of: mjOBJ_SITE, named: "goal")
        let model = simulation.model.pointee
        let fieldOfView = Float(model.cam_fovy[camera])
        var scene = Scene(camera: Camera(pose: Pose(), verticalFieldOfView: fieldOfView, width: width,
                                         height: height),
                          options: options)
        var geoms: [(geom: Int, object: ObjectID)] = []
        for geom in 0..<Int(model.ngeom) {
            guard let shape = Self.shape(of: geom, in: model) else { continue }
            let color = Self.color(of: geom, in: model)
            guard color.alpha > 0 else { continue }
            geoms.append((geom, scene.add(shape, color: color)))
        }
        let goalColor = Self.rgba(model.site_rgba + 4 * goalSite)
        goalObject = scene.add(.sphere(radius: Float(model.site_size[3 * goalSite])),
                               color: goalColor, castsShadow: false)
        scene.setVisible(false, of: goalObject)
        self.geoms = geoms
        self.scene = scene
        update()
    }

    /// Copies the camera's and every geom's pose (and the goal marker's position) from the
    /// simulation's current state.
    public mutating func update() {
        let data = simulation.data.pointee
        scene.camera.pose = Pose(position: Self.vector(data.cam_xpos + 3 * camera),
                                 rotation: Self.rotation(data.cam_xmat + 9 * camera))
        for (geom, object) in geoms {
            let pose = Pose(position: Self.vector(data.geom_xpos + 3 * geom),
                            rotation: Self.rotation(data.geom_xmat + 9 * geom))
            scene.setPose(pose, of: object)
        }
        scene.setPose(Pose(position: Self.vector(data.site_xpos + 3 * goalSite)), of: goalObject)
    }

    /// The camera's image size.
    public var height: Int { scene.camera.height }
    public var width: Int { scene.camera.width }

    // MARK: Model → scene

    /// The Renderer shape of a MuJoCo geom, or nil for types we do not draw.
    static func shape(of geom: Int, in model: mjModel) -> Shape? {
        let size = model.geom_size + 3 * geom
        let (a, b, c) = (Float(size[0]), Float(size[1]), Float(size[2]))
        switch mjtGeom(rawValue: UInt32(model.geom_type[geom])) {
        case mjGEOM_PLANE:
            // A size of 0 means infinite in MuJoCo; draw a large finite plane instead.
            return .plane(halfWidth: a > 0 ? a : 5, halfLength: b > 0 ? b : 5)
        case mjGEOM_BOX: return .box(halfExtents: Vector3(a, b, c))
        case mjGEOM_SPHERE: return .sphere(radius: a)
        case mjGEOM_CAPSULE: return .capsule(radius: a, halfLength: b)
        case mjGEOM_CYLINDER: return .cylinder(radius: a, halfLength: b)
        default: return nil
        }
    }

    /// The geom's colour: its material's when it has one, else its own rgba.
    static func color(of geom: Int, in model: mjModel) -> Color {
        let material = Int(model.geom_matid[geom])
        return material >= 0 ? rgba(model.mat_rgba + 4 * material) : rgba(model.geom_rgba + 4 * geom)
    }

    static func rgba(_ p: UnsafeMutablePointer<Float>) -> Color {
        Color(p[0], p[1], p[2], alpha: p[3])
    }

    /// A MuJoCo 3x3 row-major matrix (`xmat`) as a Renderer rotation: its columns are the
    /// local axes. (Same as `Rotation(rowMajor:)`, without that initialiser's array: this
    /// runs for every geom of every frame.)
    static func rotation(_ m: UnsafeMutablePointer<Double>) -> Rotation {
        Rotation(columns: Vector3(Float(m[0]), Float(m[3]), Float(m[6])),
                 Vector3(Float(m[1]), Float(m[4]), Float(m[7])),
                 Vector3(Float(m[2]), Float(m[5]), Float(m[8])))
    }

    static func vector(_ p: UnsafeMutablePointer<Double>) -> Vector3 {
        Vector3(Float(p[0]), Float(p[1]), Float(p[2]))
    }
}
