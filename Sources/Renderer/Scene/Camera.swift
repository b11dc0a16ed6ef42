import Foundation

/// A perspective camera: a pose whose local -z is the viewing direction and local +y is up
/// (MuJoCo's and OpenGL's convention), a vertical field of view and an image size.
public struct Camera: Hashable, Sendable {
    public var pose: Pose
    /// Vertical field of view in degrees (MuJoCo's `fovy`).
    public var verticalFieldOfView: Float
    public var width: Int
    public var height: Int
    /// Distance of the near clipping plane in metres; geometry closer than this is cut away.
    public var near: Float

    public init(pose: Pose, verticalFieldOfView: Float = 45, width: Int = 64, height: Int = 48,
                near: Float = 0.01) {
        self.pose = pose
        self.verticalFieldOfView = verticalFieldOfView
        self.width = width
        self.height = height
        self.near = near
    }

    /// A camera at `eye` looking at `target`, rolled so that `up` appears upwards.
    public static func lookingAt(_ target: Vector3, from eye: Vector3, up: Vector3 = [0, 0, 1],
                                 verticalFieldOfView: Float = 45, width: Int = 64,
                                 height: Int = 48, near: Float = 0.01) -> Camera {
        let back = normalized(eye - target)
        var right = cross(up, back)
        if length(right) < 1e-6 { right = cross([0, 1, 0], back) }  // looking straight along `up`
        right = normalized(right)
        let trueUp = cross(back, right)
        let pose = Pose(position: eye, rotation: Rotation(columns: right, trueUp, back))
        return Camera(pose: pose, verticalFieldOfView: verticalFieldOfView, width: width,
                      height: height, near: near)
    }

    /// 1 / tan(fovy / 2): how many half-image-heights one unit of y/(-z) spans.
    var focal: Float { 1 / Float(tan(Double(verticalFieldOfView) * .pi / 360)) }
}

/// One directional light plus an ambient term; Blinn-Phong specular when `specular` > 0.
public struct Light: Hashable, Sendable {
    /// The direction the light travels, world frame (e.g. straight down is (0, 0, -1)).
    public var direction: Vector3
    public var diffuse: Float
    public var ambient: Float
    public var specular: Float
    public var shininess: Float

    public init(direction: Vector3 = [0.3, 0.2, -1], diffuse: Float = 0.7, ambient: Float = 0.35,
                specular: Float = 0, shininess: Float = 32) {
        self.direction = direction
        self.diffuse = diffuse
        self.ambient = ambient
        self.specular = specular
        self.shininess = shininess
    }
}

/// Quality switches that cost time.
public struct RenderOptions: Hashable, Sendable {
    /// Darken planes where other objects block the light (projected planar shadows).
    public var shadows: Bool
    /// How much light a shadow removes, in [0, 1].
    public var shadowStrength: Float
    /// Samples per pixel along each axis (1 = off, 2 = 4 samples per pixel, …).
    public var supersampling: Int
    public var background: Color

    public init(shadows: Bool = false, shadowStrength: Float = 0.45, supersampling: Int = 1,
                background: Color = Color(0.12, 0.12, 0.14)) {
        self.shadows = shadows
        self.shadowStrength = shadowStrength
        self.supersampling = supersampling
        self.background = background
    }
}
