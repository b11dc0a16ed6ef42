// Projected planar shadows: every other object is flattened onto each plane along the light,
// and the plane's samples under it are darkened.

extension Rasterizer {
    func drawShadows(_ scene: Scene, view: ViewTransform) {
        let towardsLight = normalized(-scene.light.direction)
        let travel = -towardsLight
        let darkening = 1 - min(max(scene.options.shadowStrength, 0), 1)
        let (mask, indices) = (shadowMask, objectIndex)
        var anyShadow = false
        mask.update(repeating: 0)

        for (planeIndex, plane) in scene.objects.enumerated() {
            guard case .plane = plane.shape, plane.isVisible, plane.color.alpha >= 1 else { continue }
            let planeNormal = plane.pose.rotation.z
            let planePoint = plane.pose.position
            let incidence = dot(travel, planeNormal)
            guard incidence < 0 else { continue }  // lit from below: the plane is all shade
            let receiver = UInt16(truncatingIfNeeded: planeIndex)

            for (casterIndex, caster) in scene.objects.enumerated() where casterIndex != planeIndex {
                guard caster.isVisible, caster.castsShadow, caster.color.alpha >= 1 else { continue }
                if case .plane = caster.shape { continue }
                let mesh = caster.mesh
                reserveCameraVertices(mesh.positions.count)
                let vertices = cameraVertices
                var nearestZ = -Float.infinity
                // Each vertex slides along the light onto the plane: p' = p − (h / (d·n)) d,
                // h its height above the plane (points under the plane stay where they are).
                mesh.positions.withUnsafeBufferPointer { positions in
                    for i in positions.indices {
                        let p = caster.pose.apply(positions[i])
                        let height = max(0, dot(p - planePoint, planeNormal))
                        let onPlane = view.toCamera(p - travel * (height / incidence))
                        vertices[i] = onPlane
                        nearestZ = max(nearestZ, onPlane.z)
                    }
                }
                let clip = nearestZ > -view.near
                mesh.triangles.withUnsafeBufferPointer { triangles in
                    mesh.faceNormals.withUnsafeBufferPointer { faceNormals in
                        for t in triangles.indices {
                            // Faces turned to the light outline the whole shadow of a closed mesh.
                            let worldNormal = caster.pose.rotation.apply(faceNormals[t])
                            guard mesh.doubleSided || dot(worldNormal, towardsLight) > 0 else { continue }
                            let corners = triangles[t]
                            forEachClippedTriangle(vertices[Int(corners.x)], vertices[Int(corners.y)],
                                                   vertices[Int(corners.z)], view: view, clip: clip) {
                                p0, p1, p2 in
                                forEachCoveredSample(p0, p1, p2, view: view, twoSided: true) { i, _ in
                                    if indices[i] == receiver { mask[i] = 1 }
                                }
                            }
                            anyShadow = true
                        }
                    }
                }
            }
        }
        guard anyShadow else { return }
        let colors = color
        for i in colors.indices where mask[i] != 0 {
            colors[i] = packColor(unpackColor(colors[i]) * darkening)
        }
    }
}
