// Drawing objects: camera-space transform, back-face culling, near-plane clipping and the
// span walker that every pass (opaque, translucent, shadow) shares.

/// Sub-sample precision of vertex positions: 4 bits, so coordinates snap to 1/16 sample and
/// the edge functions below are exact integers (no cracks or double hits between triangles).
private let subsampleBits: Int64 = 4
private let subsamples: Int64 = 1 << subsampleBits

extension Rasterizer {
    /// Draws one object's triangles: opaque (depth write, object index) or blended over.
    func drawObject(_ object: SceneObject, index: UInt16, view: ViewTransform, lighting: Lighting,
                    blend: Bool) {
        let mesh = object.mesh
        let origin = view.toCamera(object.pose.position)
        if view.isOutside(center: origin, radius: mesh.boundingRadius) { return }

        // Local → camera: p_cam = (R_cameraᵀ R_object) p + origin.
        let toCamera = Rotation(columns: view.rotation.applyInverse(object.pose.rotation.x),
                                view.rotation.applyInverse(object.pose.rotation.y),
                                view.rotation.applyInverse(object.pose.rotation.z))
        reserveCameraVertices(mesh.positions.count)
        let vertices = cameraVertices
        var nearestZ = -Float.infinity
        mesh.positions.withUnsafeBufferPointer { positions in
            for i in positions.indices {
                let p = toCamera.apply(positions[i]) + origin
                vertices[i] = p
                nearestZ = max(nearestZ, p.z)
            }
        }
        let needsClipping = nearestZ > -view.near
        let base = object.color.rgb
        let alpha = object.color.alpha
        let doubleSided = mesh.doubleSided

        mesh.triangles.withUnsafeBufferPointer { triangles in
            mesh.faceNormals.withUnsafeBufferPointer { faceNormals in
                for t in triangles.indices {
                    let corners = triangles[t]
                    let a = vertices[Int(corners.x)], b = vertices[Int(corners.y)]
                    let c = vertices[Int(corners.z)]
                    var normal = toCamera.apply(faceNormals[t])
                    // The eye is the camera-space origin: a face looks at it when n·a < 0.
                    if dot(normal, a) >= 0 {
                        guard doubleSided else { continue }
                        normal = -normal
                    }
                    let shaded = lighting.shade(base, normal: normal, point: (a + b + c) / 3)
                    if blend {
                        drawBlended(a, b, c, rgb: shaded, alpha: alpha, view: view,
                                    clip: needsClipping, twoSided: doubleSided)
                    } else {
                        drawOpaque(a, b, c, color: packColor(shaded), index: index, view: view,
                                   clip: needsClipping, twoSided: doubleSided)
                    }
                }
            }
        }
    }

    @inline(__always)
    private func drawOpaque(_ a: Vector3, _ b: Vector3, _ c: Vector3, color packed: UInt32,
                            index: UInt16, view: ViewTransform, clip: Bool, twoSided: Bool) {
        let (colors, depths, indices) = (color, inverseDepth, objectIndex)
        forEachClippedTriangle(a, b, c, view: view, clip: clip) { p0, p1, p2 in
            forEachCoveredSample(p0, p1, p2, view: view, twoSided: twoSided) { i, depth in
                if depth > depths[i] {
                    depths[i] = depth
                    colors[i] = packed
                    indices[i] = index
                }
            }
        }
    }

    private func drawBlended(_ a: Vector3, _ b: Vector3, _ c: Vector3, rgb: Vector3, alpha: Float,
                             view: ViewTransform, clip: Bool, twoSided: Bool) {
        let (colors, depths) = (color, inverseDepth)
        let source = rgb.clamped(lowerBound: .zero, upperBound: Vector3(repeating: 1)) * alpha
        forEachClippedTriangle(a, b, c, view: view, clip: clip) { p0, p1, p2 in
            forEachCoveredSample(p0, p1, p2, view: view, twoSided: twoSided) { i, depth in
                if depth > depths[i] {
                    colors[i] = packColor(source + unpackColor(colors[i]) * (1 - alpha))
                }
            }
        }
    }

    // MARK: Near-plane clipping

    /// Calls `body` with the parts of triangle a-b-c (camera space) in front of the near plane:
    /// none, the triangle itself, or a fan of one or two triangles (Sutherland–Hodgman).
    @inline(__always)
    func forEachClippedTriangle(_ a: Vector3, _ b: Vector3, _ c: Vector3, view: ViewTransform,
                                clip: Bool, _ body: (Vector3, Vector3, Vector3) -> Void) {
        let limit = -view.near
        guard clip, a.z > limit || b.z > limit || c.z > limit else {
            body(a, b, c)
            return
        }
        var kept = (Vector3.zero, Vector3.zero, Vector3.zero, Vector3.zero)
        var count = 0
        func keep(_ p: Vector3) {
            switch count {
            case 0: kept.0 = p
            case 1: kept.1 = p
            case 2: kept.2 = p
            default: kept.3 = p
            }
            count += 1
        }
        func clipEdge(_ current: Vector3, _ next: Vector3) {
            let currentInside = current.z <= limit, nextInside = next.z <= limit
            if currentInside { keep(current) }
            if currentInside != nextInside {
                let t = (limit - current.z) / (next.z - current.z)
                var crossing = current + (next - current) * t
                crossing.z = limit
                keep(crossing)
            }
        }
        clipEdge(a, b)
        clipEdge(b, c)
        clipEdge(c, a)
        if count >= 3 { body(kept.0, kept.1, kept.2) }
        if count == 4 { body(kept.0, kept.2, kept.3) }
    }

    // MARK: The span walker

    /// Calls `body(sampleIndex, inverseDepth)` for every sample whose centre the projected
    /// triangle covers, by the top-left rule. Vertices are camera space, in front of the near
    /// plane. Front faces (counter-clockwise seen from the camera) only, unless `twoSided`.
    ///
    /// Edge function of edge i→j at point P (fixed point, y down):
    ///   E_ij(P) = (P.x − X_i)(Y_j − Y_i) − (P.y − Y_i)(X_j − X_i)
    /// Front faces have E ≥ 0 inside on all three edges. 1/z is affine in screen space, so it
    /// is interpolated with the barycentric weights E_12, E_20, E_01 over the area: the depth
    /// test is perspective-correct without a division per sample.
    @inline(__always)
    func forEachCoveredSample(_ v0: Vector3, _ v1: Vector3, _ v2: Vector3, view: ViewTransform,
                              twoSided: Bool, _ body: (Int, Float) -> Void) {
        let s0 = view.project(v0), s1 = view.project(v1), s2 = view.project(v2)
        let x0 = fixedPoint(s0.x), y0 = fixedPoint(s0.y)
        var x1 = fixedPoint(s1.x), y1 = fixedPoint(s1.y)
        var x2 = fixedPoint(s2.x), y2 = fixedPoint(s2.y)
        var w0 = 1 / -v0.z, w1 = 1 / -v1.z, w2 = 1 / -v2.z

        var area = (x2 - x0) * (y1 - y0) - (y2 - y0) * (x1 - x0)  // E_01(v2)
        if area < 0 {
            guard twoSided else { return }
            swap(&x1, &x2)
            swap(&y1, &y2)
            swap(&w1, &w2)
            area = -area
        }
        guard area > 0 else { return }

        // Bounding box of sample centres (16·x + 8), clamped to the framebuffer.
        let width = sampleWidth, height = sampleHeight
        let half = subsamples / 2
        let minX = max(0, Int(ceilDivide(min(x0, x1, x2) - half, subsamples)))
        let maxX = min(width - 1, Int(floorDivide(max(x0, x1, x2) - half, subsamples)))
        let minY = max(0, Int(ceilDivide(min(y0, y1, y2) - half, subsamples)))
        let maxY = min(height - 1, Int(floorDivide(max(y0, y1, y2) - half, subsamples)))
        guard minX <= maxX, minY <= maxY else { return }

        // Per edge: step per sample in x (a) and y (b); value at the first sample centre (e).
        let px = Int64(minX) * subsamples + half, py = Int64(minY) * subsamples + half
        let a12 = (y2 - y1) * subsamples, b12 = -(x2 - x1) * subsamples
        let a20 = (y0 - y2) * subsamples, b20 = -(x0 - x2) * subsamples
        let a01 = (y1 - y0) * subsamples, b01 = -(x1 - x0) * subsamples
        var e12 = (px - x1) * (y2 - y1) - (py - y1) * (x2 - x1)
        var e20 = (px - x2) * (y0 - y2) - (py - y2) * (x0 - x2)
        var e01 = (px - x0) * (y1 - y0) - (py - y0) * (x1 - x0)
        // Top-left rule: a sample exactly on an edge belongs to the triangle only if the edge
        // is a left edge (going down, y grows) or a top edge (horizontal, going left).
        let bias12: Int64 = isTopLeft(dx: x2 - x1, dy: y2 - y1) ? 0 : -1
        let bias20: Int64 = isTopLeft(dx: x0 - x2, dy: y0 - y2) ? 0 : -1
        let bias01: Int64 = isTopLeft(dx: x1 - x0, dy: y1 - y0) ? 0 : -1

        let inverseArea = 1 / Float(area)
        let depthStep = (Float(a12) * w0 + Float(a20) * w1 + Float(a01) * w2) * inverseArea
        let columns = maxX - minX

        var rowStart = minY * width + minX
        for _ in minY...maxY {
            // The run of columns [first, last] where all three biased edge values are ≥ 0.
            var first = 0, last = columns
            clampSpan(e12 + bias12, step: a12, first: &first, last: &last)
            clampSpan(e20 + bias20, step: a20, first: &first, last: &last)
            clampSpan(e01 + bias01, step: a01, first: &first, last: &last)
            if first <= last {
                var depth = (Float(e12) * w0 + Float(e20) * w1 + Float(e01) * w2) * inverseArea
                    + Float(first) * depthStep
                for i in (rowStart + first)...(rowStart + last) {
                    body(i, depth)
                    depth += depthStep
                }
            }
            e12 += b12
            e20 += b20
            e01 += b01
            rowStart += width
        }
    }
}

/// Sample coordinate to fixed point, clamped far outside any framebuffer so that the 64-bit
/// edge products cannot overflow (near-plane clipping keeps real coordinates bounded anyway).
@inline(__always)
private func fixedPoint(_ v: Float) -> Int64 {
    // Round half away from zero by truncation (one instruction; `rounded()` calls libm).
    let scaled = min(max(v, -1e7), 1e7) * Float(subsamples)
    return Int64(scaled + (scaled >= 0 ? 0.5 : -0.5))
}

@inline(__always)
private func isTopLeft(dx: Int64, dy: Int64) -> Bool { dy > 0 || (dy == 0 && dx < 0) }

@inline(__always)
private func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}

@inline(__always)
private func ceilDivide(_ a: Int64, _ b: Int64) -> Int64 { -floorDivide(-a, b) }

/// Narrows [first, last] to the columns k where value + k·step ≥ 0.
@inline(__always)
private func clampSpan(_ value: Int64, step: Int64, first: inout Int, last: inout Int) {
    if step > 0 {
        if value < 0 { first = max(first, Int(ceilDivide(-value, step))) }
    } else if step < 0 {
        if value < 0 { last = -1 } else { last = min(last, Int(value / -step)) }
    } else if value < 0 {
        last = -1
    }
}

/// Unpacks 0xAABBGGRR into a colour in [0, 1].
@inline(__always)
func unpackColor(_ packed: UInt32) -> Vector3 {
    Vector3(Float(packed & 0xFF), Float((packed >> 8) & 0xFF), Float((packed >> 16) & 0xFF)) / 255
}
