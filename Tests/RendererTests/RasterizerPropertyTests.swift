import Foundation
import Testing
@testable import Renderer

/// Orientation, determinism, the fused CHW path, coverage rules, shading options.
struct RasterizerPropertyTests {
    /// A camera on −y looking along +y with z up: world +x is image right, +z is image up.
    func frontCamera(width: Int = 64, height: Int = 48) -> Camera {
        Camera.lookingAt([0, 0, 0], from: [0, -1, 0], width: width, height: height)
    }

    func centroid(of index: Int, in map: [Int?], width: Int) -> (x: Double, y: Double)? {
        var sx = 0.0, sy = 0.0, n = 0.0
        for (i, value) in map.enumerated() where value == index {
            sx += Double(i % width) + 0.5
            sy += Double(i / width) + 0.5
            n += 1
        }
        return n > 0 ? (sx / n, sy / n) : nil
    }

    @Test func objectToTheRightAppearsInTheRightHalfAndAboveInTheTopHalf() throws {
        var scene = Scene(camera: frontCamera())
        let right = scene.add(.sphere(radius: 0.05), pose: Pose(position: [0.2, 0, 0]), color: Color(1, 0, 0))
        let up = scene.add(.box(halfExtents: [0.04, 0.04, 0.04]), pose: Pose(position: [0, 0, 0.15]),
                           color: Color(0, 1, 0))
        let map = Rasterizer().objectMap(scene)
        let rightCentre = try #require(centroid(of: right.index, in: map, width: 64))
        let upCentre = try #require(centroid(of: up.index, in: map, width: 64))
        #expect(rightCentre.x > 32 && abs(rightCentre.y - 24) < 2, "+x lands right of centre, at mid height")
        #expect(upCentre.y < 24 && abs(upCentre.x - 32) < 2, "+z lands above centre, at mid width")
    }

    @Test func imageRowsRunTopToBottomInTheRGBImage() {
        // A red box above a blue one: red pixels in the top rows of the RGB8 image, blue below.
        var scene = Scene(camera: frontCamera(), light: Light(diffuse: 0, ambient: 1))
        scene.add(.box(halfExtents: [0.3, 0.01, 0.05]), pose: Pose(position: [0, 0, 0.1]), color: Color(1, 0, 0))
        scene.add(.box(halfExtents: [0.3, 0.01, 0.05]), pose: Pose(position: [0, 0, -0.1]), color: Color(0, 0, 1))
        let image = Rasterizer().render(scene)
        #expect(image[32, 18] == (255, 0, 0))
        #expect(image[32, 30] == (0, 0, 255))
    }

    @Test func sameSceneGivesSameBytesTwice() {
        let options = RenderOptions(shadows: true, supersampling: 2)
        let scene = PushLikeScene(width: 64, height: 48, options: options).scene
        let rasterizer = Rasterizer()
        let first = rasterizer.render(scene)
        let second = rasterizer.render(scene)
        let fresh = Rasterizer().render(scene)
        #expect(first == second)
        #expect(first == fresh)
        #expect(Set(first.pixels).count > 10, "the image is not blank")
    }

    @Test func chwPathEqualsRGB8DividedBy255() {
        for supersampling in [1, 3] {
            let scene = PushLikeScene(width: 40, height: 30, options: RenderOptions(shadows: true,
                                                                                     supersampling: supersampling)).scene
            let rasterizer = Rasterizer()
            let image = rasterizer.render(scene)
            var chw = [Float](repeating: -1, count: 3 * 30 * 40)
            chw.withUnsafeMutableBufferPointer { rasterizer.renderCHW(scene, into: $0) }
            var maxDifference: Float = 0
            for channel in 0..<3 {
                for pixel in 0..<(30 * 40) {
                    let expected = Float(image.pixels[3 * pixel + channel]) / 255
                    maxDifference = max(maxDifference, abs(chw[channel * 1200 + pixel] - expected))
                }
            }
            print("CHW vs RGB8/255, supersampling \(supersampling): maxdiff \(maxDifference) (tolerance 1/255)")
            // Supersampled RGB8 rounds the average to a byte; CHW keeps the exact average.
            #expect(maxDifference <= (supersampling == 1 ? 1e-7 : 0.5 / 255 + 1e-6))
        }
    }

    @Test func sharedEdgesCoverEverySampleExactlyOnce() {
        // A fan of triangles around an off-grid centre, tiling a convex polygon: the top-left
        // rule must give each covered sample centre to exactly one triangle.
        let rasterizer = Rasterizer()
        var scene = Scene(camera: Camera.lookingAt([0, 0, 0], from: [0, 0, 1], up: [0, 1, 0],
                                                   width: 33, height: 29))
        scene.options.supersampling = 1
        _ = rasterizer.objectMap(scene)  // sizes the framebuffer
        let view = ViewTransform(camera: scene.camera, sampleWidth: 33, sampleHeight: 29)
        var hits = [Int](repeating: 0, count: 33 * 29)
        let centre = Vector3(0.0123, -0.0071, -1)
        let rim = (0..<7).map { k -> Vector3 in
            let angle = Float(k) * 2 * .pi / 7 + 0.3
            return Vector3(0.3 * cos(angle), 0.3 * sin(angle), -1)
        }
        // Axis-aligned edges through sample centres too: a square split along its diagonal.
        let square: [Vector3] = [[-0.25, -0.25, -1], [0.25, -0.25, -1], [0.25, 0.25, -1], [-0.25, 0.25, -1]]
        for k in 0..<7 {
            rasterizer.forEachCoveredSample(centre, rim[k], rim[(k + 1) % 7], view: view, twoSided: false) { i, _ in
                hits[i] += 1
            }
        }
        #expect(hits.allSatisfy { $0 <= 1 }, "no sample is drawn twice by the fan")
        #expect(hits.filter { $0 == 1 }.count > 200)
        var squareHits = [Int](repeating: 0, count: 33 * 29)
        for triangle in [(square[0], square[1], square[2]), (square[0], square[2], square[3])] {
            rasterizer.forEachCoveredSample(triangle.0, triangle.1, triangle.2, view: view, twoSided: false) { i, _ in
                squareHits[i] += 1
            }
        }
        #expect(squareHits.allSatisfy { $0 <= 1 }, "the diagonal is not drawn twice")
        #expect(squareHits.filter { $0 == 1 }.count > 100)
    }

    @Test func backFacesAreCulledAndFrontFacesDrawn() {
        let camera = frontCamera()
        var scene = Scene(camera: camera)
        // Counter-clockwise seen from the camera (at −y): a front face.
        let front = TriangleMesh(vertices: [[-0.1, 0, -0.1], [0.1, 0, -0.1], [0, 0, 0.1]], triangles: [[0, 1, 2]])
        var back = front
        back.triangles = [[0, 2, 1]]
        let frontID = scene.add(.mesh(front), color: Color(1, 0, 0))
        #expect(Rasterizer().objectMap(scene).contains(frontID.index))
        var backScene = Scene(camera: camera)
        backScene.add(.mesh(back), color: Color(1, 0, 0))
        #expect(Rasterizer().objectMap(backScene).allSatisfy { $0 == nil })
        back.doubleSided = true
        var twoSidedScene = Scene(camera: camera)
        twoSidedScene.add(.mesh(back), color: Color(1, 0, 0))
        #expect(Rasterizer().objectMap(twoSidedScene).contains(0))
    }

    @Test func tessellatedNormalsPointOutward() {
        let shapes: [Shape] = [.box(halfExtents: [0.1, 0.2, 0.3]), .sphere(radius: 0.2),
                               .capsule(radius: 0.1, halfLength: 0.2), .cylinder(radius: 0.1, halfLength: 0.2)]
        for shape in shapes {
            let mesh = TessellatedMesh(shape, segments: 12)
            for (t, triangle) in mesh.triangles.enumerated() {
                let centroid = (mesh.positions[Int(triangle.x)] + mesh.positions[Int(triangle.y)]
                                + mesh.positions[Int(triangle.z)]) / 3
                #expect(dot(mesh.faceNormals[t], centroid) > 0, "\(shape): face \(t) points inward")
            }
        }
    }

    @Test func shadowsDarkenTheTableUnderTheBlockOnly() {
        // Light straight down: the block's shadow falls right around it on the table.
        var lit = PushLikeScene(width: 64, height: 64, options: RenderOptions(shadows: false))
        lit.scene.light = Light(direction: [0, 0, -1])
        var shaded = lit
        shaded.scene.options.shadows = true
        let rasterizer = Rasterizer()
        let map = rasterizer.objectMap(lit.scene)
        let without = rasterizer.render(lit.scene)
        let with = rasterizer.render(shaded.scene)
        var darkenedTable = 0
        for i in 0..<(64 * 64) {
            let (before, after) = (without.pixels[3 * i], with.pixels[3 * i])
            if map[i] == lit.table.index {
                #expect(after <= before)
                if after < before { darkenedTable += 1 }
            } else {
                #expect(after == before, "only table pixels change")
            }
        }
        #expect(darkenedTable > 5, "the gripper and block cast a shadow on the table")
    }

    @Test func supersamplingBlendsEdgesButKeepsFlatRegions() {
        var scene = Scene(camera: frontCamera(), light: Light(diffuse: 0, ambient: 1),
                          options: RenderOptions(background: .black))
        scene.add(.sphere(radius: 0.2), color: .white)
        let hard = Rasterizer().render(scene)
        scene.options.supersampling = 4
        let smooth = Rasterizer().render(scene)
        #expect(Set(hard.pixels).isSubset(of: [0, 255]), "without anti-aliasing only two values")
        #expect(Set(smooth.pixels).count > 5, "anti-aliased edges take in-between values")
        #expect(smooth[32, 24] == (255, 255, 255) && smooth[1, 1] == (0, 0, 0))
    }

    @Test func translucentObjectsBlendOverWhatIsBehind() {
        var scene = Scene(camera: frontCamera(), light: Light(diffuse: 0, ambient: 1),
                          options: RenderOptions(background: .white))
        scene.add(.box(halfExtents: [0.2, 0.01, 0.2]), color: Color(1, 0, 0, alpha: 0.5))
        let image = Rasterizer().render(scene)
        #expect(image[32, 24] == (255, 128, 128))
        #expect(Rasterizer().objectMap(scene).allSatisfy { $0 == nil }, "translucent objects are not in the map")
    }
}
