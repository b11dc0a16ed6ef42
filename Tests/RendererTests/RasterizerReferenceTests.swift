import Testing
@testable import Renderer

/// The rasterizer against per-pixel ray casting of the exact primitives: same coverage and
/// same nearest object on at least 99% of pixels (the rest are silhouette pixels where a
/// tessellated curve and the true curve fall on different sides of a pixel centre).
struct RasterizerReferenceTests {
    static let requiredAgreement = 0.99

    func agreement(_ scene: Scene) -> Double {
        let fast = Rasterizer().objectMap(scene)
        let slow = ReferenceRayCaster().objectMap(scene)
        let same = zip(fast, slow).filter { $0 == $1 }.count
        return Double(same) / Double(fast.count)
    }

    /// How many pixels show each object, so a test can insist the scene is not trivially empty.
    func coverage(_ scene: Scene) -> [Int: Int] {
        var counts: [Int: Int] = [:]
        for index in ReferenceRayCaster().objectMap(scene).compactMap({ $0 }) { counts[index, default: 0] += 1 }
        return counts
    }

    @Test func pushLikeSceneMatchesRayCasting() {
        for (width, height) in [(64, 64), (64, 48), (97, 61)] {
            let scene = PushLikeScene(width: width, height: height).scene
            let score = agreement(scene)
            print("push-like \(height)x\(width): agreement \(score) (required \(Self.requiredAgreement))")
            #expect(score >= Self.requiredAgreement)
            #expect(coverage(scene).count == scene.objects.count, "every object is in view")
        }
    }

    @Test func everyPrimitiveMatchesRayCasting() {
        let camera = Camera.lookingAt([0, 0, 0.1], from: [0.5, -0.7, 0.6], width: 96, height: 72)
        var scene = Scene(camera: camera, segments: 24)
        scene.add(.plane(halfWidth: 0.5, halfLength: 0.4), color: Color(0.5, 0.5, 0.5))
        scene.add(.box(halfExtents: [0.06, 0.04, 0.05]),
                  pose: Pose(position: [-0.2, 0, 0.05], rotation: Rotation(axis: [0, 0, 1], angle: 0.5)),
                  color: Color(1, 0, 0))
        scene.add(.sphere(radius: 0.07), pose: Pose(position: [0.15, 0.1, 0.12]), color: Color(0, 1, 0))
        scene.add(.capsule(radius: 0.03, halfLength: 0.08),
                  pose: Pose(position: [0, -0.15, 0.1], rotation: Rotation(axis: [1, 0, 0], angle: 1.2)),
                  color: Color(0, 0, 1))
        scene.add(.cylinder(radius: 0.04, halfLength: 0.06),
                  pose: Pose(position: [0.1, -0.2, 0.2], rotation: Rotation(axis: [0, 1, 1], angle: 0.9)),
                  color: Color(1, 1, 0))
        let tetrahedron = TriangleMesh(
            vertices: [[0, 0, 0], [0.1, 0, 0], [0, 0.1, 0], [0, 0, 0.1]],
            triangles: [[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]])
        scene.add(.mesh(tetrahedron), pose: Pose(position: [-0.1, 0.2, 0.05]), color: Color(1, 0, 1))
        let score = agreement(scene)
        print("all primitives: agreement \(score) (required \(Self.requiredAgreement))")
        #expect(score >= Self.requiredAgreement)
        #expect(coverage(scene).count == scene.objects.count, "every object is in view")
    }

    @Test func overlappingObjectsResolveByDepth() {
        // Interpenetrating shapes: which one is in front changes within the object.
        let camera = Camera.lookingAt([0, 0, 0], from: [0.3, -0.5, 0.25], width: 80, height: 80)
        var scene = Scene(camera: camera, segments: 32)
        scene.add(.box(halfExtents: [0.08, 0.08, 0.08]), color: Color(1, 0, 0))
        scene.add(.sphere(radius: 0.1), pose: Pose(position: [0.05, -0.05, 0.05]), color: Color(0, 1, 0))
        scene.add(.capsule(radius: 0.04, halfLength: 0.15),
                  pose: Pose(position: [0, -0.02, 0], rotation: Rotation(axis: [0, 1, 0], angle: 1.5707964)),
                  color: Color(0, 0, 1))
        let score = agreement(scene)
        print("overlapping: agreement \(score) (required \(Self.requiredAgreement))")
        #expect(score >= Self.requiredAgreement)
        #expect(coverage(scene).count == 3)
    }

    @Test func nearPlaneClippingCutsGeometryLikeRayCasting() {
        // A long box crossing the near plane, and a large ground plane running under the eye.
        var camera = Camera.lookingAt([0, 1, 0], from: [0, 0, 0.1], width: 64, height: 64)
        camera.near = 0.05
        var scene = Scene(camera: camera)
        scene.add(.plane(halfWidth: 5, halfLength: 5), color: Color(0.4, 0.4, 0.4))
        scene.add(.box(halfExtents: [0.02, 0.5, 0.02]), pose: Pose(position: [0.03, 0.3, 0.09]),
                  color: Color(1, 0, 0))
        let score = agreement(scene)
        print("near clipping: agreement \(score) (required \(Self.requiredAgreement))")
        #expect(score >= Self.requiredAgreement)
        #expect(coverage(scene).count == 2)
    }
}
