import Foundation

/// A 3-vector of Float: positions, directions, normals (metres, world or local frame).
public typealias Vector3 = SIMD3<Float>

/// A rotation as a 3x3 matrix stored by columns: the local x, y and z axes in the parent frame.
public struct Rotation: Hashable, Sendable {
    public var x: Vector3
    public var y: Vector3
    public var z: Vector3

    public init(columns x: Vector3, _ y: Vector3, _ z: Vector3) {
        self.x = x
        self.y = y
        self.z = z
    }

    public static let identity = Rotation(columns: [1, 0, 0], [0, 1, 0], [0, 0, 1])

    /// From a unit quaternion (w, x, y, z), MuJoCo's order. It is normalised first.
    public init(quaternion w: Float, _ qx: Float, _ qy: Float, _ qz: Float) {
        let norm = (w * w + qx * qx + qy * qy + qz * qz).squareRoot()
        let (w, qx, qy, qz) = norm > 0 ? (w / norm, qx / norm, qy / norm, qz / norm) : (1, 0, 0, 0)
        x = [1 - 2 * (qy * qy + qz * qz), 2 * (qx * qy + w * qz), 2 * (qx * qz - w * qy)]
        y = [2 * (qx * qy - w * qz), 1 - 2 * (qx * qx + qz * qz), 2 * (qy * qz + w * qx)]
        z = [2 * (qx * qz + w * qy), 2 * (qy * qz - w * qx), 1 - 2 * (qx * qx + qy * qy)]
    }

    /// From 9 numbers in row-major order (MuJoCo's `xmat`, `geom_xmat`, `cam_xmat`).
    public init<S: Sequence>(rowMajor values: S) where S.Element: BinaryFloatingPoint {
        var m = [Float](repeating: 0, count: 9)
        for (i, v) in values.prefix(9).enumerated() { m[i] = Float(v) }
        x = [m[0], m[3], m[6]]
        y = [m[1], m[4], m[7]]
        z = [m[2], m[5], m[8]]
    }

    /// A rotation by `angle` radians about a unit `axis`.
    public init(axis: Vector3, angle: Float) {
        let half = angle / 2
        let s = sin(half)
        let n = axis / max((axis * axis).sum().squareRoot(), 1e-12)
        self.init(quaternion: cos(half), n.x * s, n.y * s, n.z * s)
    }

    /// R v
    @inline(__always)
    public func apply(_ v: Vector3) -> Vector3 { x * v.x + y * v.y + z * v.z }

    /// Rᵀ v (the inverse rotation)
    @inline(__always)
    public func applyInverse(_ v: Vector3) -> Vector3 {
        Vector3((x * v).sum(), (y * v).sum(), (z * v).sum())
    }

    /// self · other
    public func composed(with other: Rotation) -> Rotation {
        Rotation(columns: apply(other.x), apply(other.y), apply(other.z))
    }
}

/// Where an object is: its local frame's origin and axes in the world.
public struct Pose: Hashable, Sendable {
    public var position: Vector3
    public var rotation: Rotation

    public init(position: Vector3 = .zero, rotation: Rotation = .identity) {
        self.position = position
        self.rotation = rotation
    }

    /// Local point to world point.
    @inline(__always)
    public func apply(_ p: Vector3) -> Vector3 { rotation.apply(p) + position }

    /// World point to local point.
    @inline(__always)
    public func applyInverse(_ p: Vector3) -> Vector3 { rotation.applyInverse(p - position) }
}

@inline(__always)
func dot(_ a: Vector3, _ b: Vector3) -> Float { (a * b).sum() }

@inline(__always)
func cross(_ a: Vector3, _ b: Vector3) -> Vector3 {
    Vector3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x)
}

@inline(__always)
func length(_ a: Vector3) -> Float { dot(a, a).squareRoot() }

@inline(__always)
func normalized(_ a: Vector3) -> Vector3 {
    let l = length(a)
    return l > 0 ? a / l : a
}
