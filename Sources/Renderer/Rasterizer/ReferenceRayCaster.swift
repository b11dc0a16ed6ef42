/// The slow, obviously-correct oracle for the rasterizer: one ray per pixel centre, intersected
/// with the exact primitives (not their tessellations), nearest hit wins.
///
/// It follows the rasterizer's conventions so that the two can be compared pixel by pixel:
/// planes and single-sided meshes are seen from their front only, closed shapes show their
/// outside only, and hits nearer than the camera's near plane are cut away.
public struct ReferenceRayCaster {
    public init() {}

    /// Per pixel (row-major, H x W): the index in `scene.objects` of the nearest visible opaque
    /// object along the ray through the pixel centre, or nil.
    public func objectMap(_ scene: Scene) -> [Int?] {
        let camera = scene.camera
        let (width, height) = (camera.width, camera.height)
        let scale = camera.focal * Float(height) / 2
        var map = [Int?](repeating: nil, count: width * height)
        for row in 0..<height {
            for column in 0..<width {
                // Camera-space direction with z = −1, so the ray parameter is the view depth.
                let local = Vector3((Float(column) + 0.5 - Float(width) / 2) / scale,
                                    -(Float(row) + 0.5 - Float(height) / 2) / scale, -1)
                let direction = camera.pose.rotation.apply(local)
                var nearest = Float.infinity
                for (index, object) in scene.objects.enumerated()
                where object.isVisible && object.color.alpha >= 1 {
                    let origin = object.pose.applyInverse(camera.pose.position)
                    let localDirection = object.pose.rotation.applyInverse(direction)
                    if let t = Self.entry(object.shape, origin: origin, direction: localDirection),
                       t >= camera.near, t < nearest {
                        nearest = t
                        map[row * width + column] = index
                    }
                }
            }
        }
        return map
    }

    /// Ray parameter where the ray o + t·d (object frame) enters the shape's outside, if it does.
    static func entry(_ shape: Shape, origin o: Vector3, direction d: Vector3) -> Float? {
        switch shape {
        case let .plane(halfWidth, halfLength):
            guard d.z < 0, o.z > 0 else { return nil }  // front face only
            let t = -o.z / d.z
            let p = o + t * d
            return abs(p.x) <= halfWidth && abs(p.y) <= halfLength ? t : nil
        case let .box(h):
            return boxEntry(halfExtents: h, origin: o, direction: d)
        case let .sphere(radius):
            return sphereEntry(radius: radius, center: .zero, origin: o, direction: d)
        case let .capsule(radius, halfLength):
            // The union of a tube and two end spheres: the first surface entered.
            let candidates = [
                tubeEntry(radius: radius, halfLength: halfLength, origin: o, direction: d),
                sphereEntry(radius: radius, center: [0, 0, halfLength], origin: o, direction: d),
                sphereEntry(radius: radius, center: [0, 0, -halfLength], origin: o, direction: d),
            ].compactMap { $0 }
            guard let first = candidates.min() else { return nil }
            return isInsideCapsule(o, radius: radius, halfLength: halfLength) ? nil : first
        case let .cylinder(radius, halfLength):
            if o.x * o.x + o.y * o.y <= radius * radius && abs(o.z) <= halfLength { return nil }
            let side = tubeEntry(radius: radius, halfLength: halfLength, origin: o, direction: d)
            let caps = [halfLength, -halfLength].compactMap { z -> Float? in
                guard d.z != 0 else { return nil }
                let t = (z - o.z) / d.z
                let p = o + t * d
                let entering = z > 0 ? d.z < 0 : d.z > 0
                return entering && t > 0 && p.x * p.x + p.y * p.y <= radius * radius ? t : nil
            }
            return ([side].compactMap { $0 } + caps).min()
        case let .mesh(mesh):
            var nearest: Float?
            for triangle in mesh.triangles {
                let a = mesh.vertices[Int(triangle.x)], b = mesh.vertices[Int(triangle.y)]
                let c = mesh.vertices[Int(triangle.z)]
                if let t = triangleHit(a, b, c, origin: o, direction: d, doubleSided: mesh.doubleSided),
                   t < (nearest ?? .infinity) {
                    nearest = t
                }
            }
            return nearest
        }
    }

    /// Slab test; nil when the ray misses or starts inside.
    static func boxEntry(halfExtents h: Vector3, origin o: Vector3, direction d: Vector3) -> Float? {
        var near = -Float.infinity, far = Float.infinity
        for axis in 0..<3 {
            if d[axis] == 0 {
                if abs(o[axis]) > h[axis] { return nil }
                continue
            }
            let t1 = (-h[axis] - o[axis]) / d[axis], t2 = (h[axis] - o[axis]) / d[axis]
            near = max(near, min(t1, t2))
            far = min(far, max(t1, t2))
        }
        return near <= far && near > 0 ? near : nil
    }

    /// The smaller root of |o + t·d − c|² = r², if it lies ahead of the origin.
    static func sphereEntry(radius: Float, center: Vector3, origin: Vector3, direction d: Vector3) -> Float? {
        let o = origin - center
        let a = dot(d, d), b = dot(o, d), c = dot(o, o) - radius * radius
        let discriminant = b * b - a * c
        guard discriminant >= 0 else { return nil }
        let t = (-b - discriminant.squareRoot()) / a
        return t > 0 ? t : nil
    }

    /// Entry through the side of the tube x² + y² = r², |z| ≤ halfLength.
    static func tubeEntry(radius: Float, halfLength: Float, origin o: Vector3, direction d: Vector3) -> Float? {
        let a = d.x * d.x + d.y * d.y
        guard a > 0 else { return nil }
        let b = o.x * d.x + o.y * d.y, c = o.x * o.x + o.y * o.y - radius * radius
        let discriminant = b * b - a * c
        guard discriminant >= 0 else { return nil }
        let t = (-b - discriminant.squareRoot()) / a
        return t > 0 && abs(o.z + t * d.z) <= halfLength ? t : nil
    }

    static func isInsideCapsule(_ p: Vector3, radius: Float, halfLength: Float) -> Bool {
        let axisPoint = Vector3(0, 0, min(max(p.z, -halfLength), halfLength))
        return length(p - axisPoint) <= radius
    }

    /// Möller–Trumbore; front faces (counter-clockwise seen from the ray's origin) unless double-sided.
    static func triangleHit(_ a: Vector3, _ b: Vector3, _ c: Vector3, origin o: Vector3,
                            direction d: Vector3, doubleSided: Bool) -> Float? {
        let edge1 = b - a, edge2 = c - a
        let p = cross(d, edge2)
        let determinant = dot(edge1, p)
        // determinant > 0 exactly when the ray meets the counter-clockwise (front) side.
        guard doubleSided ? abs(determinant) > 1e-12 : determinant > 1e-12 else { return nil }
        let inverse = 1 / determinant
        let s = o - a
        let u = dot(s, p) * inverse
        guard u >= 0, u <= 1 else { return nil }
        let q = cross(s, edge1)
        let v = dot(d, q) * inverse
        guard v >= 0, u + v <= 1 else { return nil }
        let t = dot(edge2, q) * inverse
        return t > 0 ? t : nil
    }
}
