/// The geometry of one object, in its local frame, sized as MuJoCo sizes geoms (half-sizes).
///
/// Capsules and cylinders run along the local z axis; the plane lies in the local xy plane
/// facing +z. Curved shapes are tessellated once, when the object is added to a scene.
public enum Shape: Hashable, Sendable {
    /// A flat rectangle of half-extents (x, y), facing +z: the ground or a table top.
    case plane(halfWidth: Float, halfLength: Float)
    /// A box of half-extents (x, y, z).
    case box(halfExtents: Vector3)
    case sphere(radius: Float)
    /// A cylinder of `halfLength` along z with hemispherical caps of `radius`.
    case capsule(radius: Float, halfLength: Float)
    /// A closed cylinder of `halfLength` along z.
    case cylinder(radius: Float, halfLength: Float)
    case mesh(TriangleMesh)
}

/// An arbitrary triangle mesh: vertices in the local frame and counter-clockwise triangles
/// (seen from outside, so that their right-hand normal points out).
public struct TriangleMesh: Hashable, Sendable {
    public var vertices: [Vector3]
    /// Each triangle is three indices into `vertices`.
    public var triangles: [SIMD3<Int32>]
    /// Draw both faces of every triangle (open surfaces); closed meshes leave this false so
    /// that back faces are culled.
    public var doubleSided: Bool

    public init(vertices: [Vector3], triangles: [SIMD3<Int32>], doubleSided: Bool = false) {
        self.vertices = vertices
        self.triangles = triangles
        self.doubleSided = doubleSided
    }
}
