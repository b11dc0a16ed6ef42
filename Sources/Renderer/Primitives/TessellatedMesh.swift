import Foundation

/// A shape turned into triangles once, in its local frame; shared by every object of that
/// shape. Shading is flat (one colour per triangle, from `faceNormals`): at policy resolutions
/// facets are below a pixel or two, and a constant colour per triangle keeps the inner pixel
/// loop to a depth test and three stores.
public final class TessellatedMesh: Sendable {
    public let positions: [Vector3]
    /// Per-vertex normals of the smooth surface (kept for meshes that want them; unused by
    /// the flat-shaded rasterizer).
    public let normals: [Vector3]
    /// Counter-clockwise seen from outside.
    public let triangles: [SIMD3<Int32>]
    /// Outward unit normal of each triangle, local frame.
    public let faceNormals: [Vector3]
    public let doubleSided: Bool
    /// Radius of a sphere around the local origin holding every vertex (for culling).
    public let boundingRadius: Float

    init(positions: [Vector3], normals: [Vector3], triangles: [SIMD3<Int32>], doubleSided: Bool) {
        self.positions = positions
        self.normals = normals
        self.triangles = triangles
        self.doubleSided = doubleSided
        boundingRadius = positions.reduce(0) { max($0, length($1)) }
        faceNormals = triangles.map { t in
            let (a, b, c) = (positions[Int(t.x)], positions[Int(t.y)], positions[Int(t.z)])
            return normalized(cross(b - a, c - a))
        }
    }

    /// Tessellates `shape` with `segments` vertices around each circle of a curved shape.
    public convenience init(_ shape: Shape, segments: Int) {
        var builder = MeshBuilder()
        let segments = max(segments, 3)
        switch shape {
        case let .plane(halfWidth, halfLength):
            builder.addQuad([-halfWidth, -halfLength, 0], [halfWidth, -halfLength, 0],
                            [halfWidth, halfLength, 0], [-halfWidth, halfLength, 0])
        case let .box(h):
            builder.addBox(halfExtents: h)
        case let .sphere(radius):
            builder.addSphereCap(radius: radius, center: .zero, segments: segments, from: 0, to: .pi)
        case let .capsule(radius, halfLength):
            builder.addSphereCap(radius: radius, center: [0, 0, halfLength], segments: segments,
                                 from: 0, to: .pi / 2)
            builder.addTube(radius: radius, bottom: -halfLength, top: halfLength, segments: segments)
            builder.addSphereCap(radius: radius, center: [0, 0, -halfLength], segments: segments,
                                 from: .pi / 2, to: .pi)
        case let .cylinder(radius, halfLength):
            builder.addTube(radius: radius, bottom: -halfLength, top: halfLength, segments: segments)
            builder.addDisc(radius: radius, z: halfLength, facingUp: true, segments: segments)
            builder.addDisc(radius: radius, z: -halfLength, facingUp: false, segments: segments)
        case let .mesh(mesh):
            builder.addFlatMesh(mesh)
        }
        let doubleSided: Bool
        if case let .mesh(mesh) = shape { doubleSided = mesh.doubleSided } else { doubleSided = false }
        self.init(positions: builder.positions, normals: builder.normals,
                  triangles: builder.triangles, doubleSided: doubleSided)
    }
}

/// Accumulates vertices and triangles for `TessellatedMesh`.
struct MeshBuilder {
    var positions: [Vector3] = []
    var normals: [Vector3] = []
    var triangles: [SIMD3<Int32>] = []

    private mutating func vertex(_ p: Vector3, _ n: Vector3) -> Int32 {
        positions.append(p)
        normals.append(n)
        return Int32(positions.count - 1)
    }

    /// A flat quad a-b-c-d, counter-clockwise seen from the side its normal points to.
    mutating func addQuad(_ a: Vector3, _ b: Vector3, _ c: Vector3, _ d: Vector3) {
        let n = normalized(cross(b - a, c - a))
        let (ia, ib, ic, id) = (vertex(a, n), vertex(b, n), vertex(c, n), vertex(d, n))
        triangles.append([ia, ib, ic])
        triangles.append([ia, ic, id])
    }

    mutating func addBox(halfExtents h: Vector3) {
        let (x, y, z) = (h.x, h.y, h.z)
        addQuad([x, -y, -z], [x, y, -z], [x, y, z], [x, -y, z])      // +x
        addQuad([-x, y, -z], [-x, -y, -z], [-x, -y, z], [-x, y, z])  // -x
        addQuad([x, y, -z], [-x, y, -z], [-x, y, z], [x, y, z])      // +y
        addQuad([-x, -y, -z], [x, -y, -z], [x, -y, z], [-x, -y, z])  // -y
        addQuad([-x, -y, z], [x, -y, z], [x, y, z], [-x, y, z])      // +z
        addQuad([-x, y, -z], [x, y, -z], [x, -y, -z], [-x, -y, -z])  // -z
    }

    /// The part of a sphere between polar angles `from` and `to` (0 = +z pole), smooth normals.
    mutating func addSphereCap(radius: Float, center: Vector3, segments: Int, from: Float, to: Float) {
        let rings = max(2, Int((Float(segments) * (to - from) / (2 * .pi)).rounded(.up)))
        var grid: [[Int32]] = []
        for ring in 0...rings {
            let polar = from + (to - from) * Float(ring) / Float(rings)
            var row: [Int32] = []
            for s in 0..<segments {
                let azimuth = 2 * Float.pi * Float(s) / Float(segments)
                let n = Vector3(sin(polar) * cos(azimuth), sin(polar) * sin(azimuth), cos(polar))
                row.append(vertex(center + radius * n, n))
            }
            grid.append(row)
        }
        addBand(grid)
    }

    /// The open side of a cylinder along z, smooth normals.
    mutating func addTube(radius: Float, bottom: Float, top: Float, segments: Int) {
        var grid: [[Int32]] = [[], []]
        for s in 0..<segments {
            let azimuth = 2 * Float.pi * Float(s) / Float(segments)
            let n = Vector3(cos(azimuth), sin(azimuth), 0)
            grid[0].append(vertex(Vector3(radius * n.x, radius * n.y, top), n))
        }
        for s in 0..<segments {
            let azimuth = 2 * Float.pi * Float(s) / Float(segments)
            let n = Vector3(cos(azimuth), sin(azimuth), 0)
            grid[1].append(vertex(Vector3(radius * n.x, radius * n.y, bottom), n))
        }
        addBand(grid)
    }

    /// Joins consecutive rows of a closed grid (rows run from +z down, columns counter-clockwise
    /// seen from +z) into outward-facing triangles, skipping the degenerate ones at the poles.
    private mutating func addBand(_ grid: [[Int32]]) {
        for r in 0..<(grid.count - 1) {
            let (upper, lower) = (grid[r], grid[r + 1])
            let count = upper.count
            for s in 0..<count {
                let next = (s + 1) % count
                let a = upper[s], b = lower[s], c = lower[next], d = upper[next]
                if !isDegenerate(a, b, c) { triangles.append([a, b, c]) }
                if !isDegenerate(a, c, d) { triangles.append([a, c, d]) }
            }
        }
    }

    private func isDegenerate(_ a: Int32, _ b: Int32, _ c: Int32) -> Bool {
        let (pa, pb, pc) = (positions[Int(a)], positions[Int(b)], positions[Int(c)])
        return length(cross(pb - pa, pc - pa)) < 1e-12
    }

    /// A flat disc at height z facing +z or -z.
    mutating func addDisc(radius: Float, z: Float, facingUp: Bool, segments: Int) {
        let n: Vector3 = facingUp ? [0, 0, 1] : [0, 0, -1]
        let center = vertex([0, 0, z], n)
        var rim: [Int32] = []
        for s in 0..<segments {
            let azimuth = 2 * Float.pi * Float(s) / Float(segments)
            rim.append(vertex([radius * cos(azimuth), radius * sin(azimuth), z], n))
        }
        for s in 0..<segments {
            let (a, b) = (rim[s], rim[(s + 1) % segments])
            triangles.append(facingUp ? [center, a, b] : [center, b, a])
        }
    }

    /// A user mesh with one normal per face (its corners repeated per triangle).
    mutating func addFlatMesh(_ mesh: TriangleMesh) {
        for t in mesh.triangles {
            let (a, b, c) = (mesh.vertices[Int(t.x)], mesh.vertices[Int(t.y)], mesh.vertices[Int(t.z)])
            let n = normalized(cross(b - a, c - a))
            triangles.append([vertex(a, n), vertex(b, n), vertex(c, n)])
        }
    }
}
