import Foundation

/// Turns a `Scene` into pixels: transform, clip, cull, rasterize with a z-buffer, shade flat.
///
/// One `Rasterizer` owns its framebuffers and reuses them frame after frame: rendering the
/// same-sized scene again allocates nothing. It is not thread-safe; use one per thread.
///
/// Pipeline per frame:
///   1. clear colour, depth (1/z, 0 = infinitely far) and object index
///   2. opaque objects: cull by bounding sphere, transform to camera space, cull back faces,
///      clip at the near plane, project, rasterize (top-left rule, 1/z depth test)
///   3. shadows: other objects projected onto each plane along the light, marking plane pixels
///   4. translucent objects, far to near, blended over what is there
///   5. resolve: average supersamples into RGB8 or CHW Float32
public final class Rasterizer {
    /// Framebuffer size in samples (pixels × supersampling).
    private(set) var sampleWidth = 0
    private(set) var sampleHeight = 0
    private(set) var supersampling = 1

    /// Packed 0xAABBGGRR colour per sample.
    var color = UnsafeMutableBufferPointer<UInt32>(start: nil, count: 0)
    /// 1 / depth along the view axis per sample; larger is closer; 0 means nothing drawn.
    var inverseDepth = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)
    /// Index of the opaque object seen at each sample; `Rasterizer.background` where none.
    var objectIndex = UnsafeMutableBufferPointer<UInt16>(start: nil, count: 0)
    /// 1 where a plane sample is in shadow.
    var shadowMask = UnsafeMutableBufferPointer<UInt8>(start: nil, count: 0)
    /// Camera-space vertices of the object being drawn.
    var cameraVertices = UnsafeMutableBufferPointer<Vector3>(start: nil, count: 0)

    static let background = UInt16.max

    public init() {}

    deinit {
        color.deallocate()
        inverseDepth.deallocate()
        objectIndex.deallocate()
        shadowMask.deallocate()
        cameraVertices.deallocate()
    }

    // MARK: Entry points

    /// Renders `scene` into a new image of the camera's size.
    public func render(_ scene: Scene) -> RGBImage {
        var image = RGBImage(width: scene.camera.width, height: scene.camera.height)
        render(scene, into: &image)
        return image
    }

    /// Renders `scene` into `image`, reallocating it only if its size differs from the camera's.
    public func render(_ scene: Scene, into image: inout RGBImage) {
        let (width, height) = (max(scene.camera.width, 0), max(scene.camera.height, 0))
        if image.width != width || image.height != height {
            image = RGBImage(width: width, height: height)
        }
        draw(scene)
        image.pixels.withUnsafeMutableBufferPointer { resolveRGB8(into: $0) }
    }

    /// Renders `scene` straight into `buffer` as 3 x H x W Float32 planes in [0, 1] (the
    /// training loop's path: no image in between, no allocation once the framebuffer exists).
    ///
    /// - Precondition: `buffer.count >= 3 * height * width` of the scene's camera.
    public func renderCHW(_ scene: Scene, into buffer: UnsafeMutableBufferPointer<Float>) {
        precondition(buffer.count >= 3 * scene.camera.width * scene.camera.height,
                     "CHW buffer holds \(buffer.count) floats; 3 x \(scene.camera.height) x \(scene.camera.width) needed")
        draw(scene)
        resolveCHW(into: buffer)
    }

    /// Renders `scene` and returns, per pixel (row-major, H x W), the index in `scene.objects`
    /// of the opaque object whose surface covers the pixel centre, or nil for background.
    /// This is what the reference ray caster is compared against.
    public func objectMap(_ scene: Scene) -> [Int?] {
        var flat = scene
        flat.options.supersampling = 1
        draw(flat)
        return objectIndex.map { $0 == Rasterizer.background ? nil : Int($0) }
    }

    // MARK: The frame

    private func draw(_ scene: Scene) {
        let camera = scene.camera
        let factor = max(1, scene.options.supersampling)
        prepareFramebuffer(width: camera.width * factor, height: camera.height * factor,
                           supersampling: factor)
        clear(to: scene.options.background)
        guard sampleWidth > 0, sampleHeight > 0 else { return }

        let view = ViewTransform(camera: camera, sampleWidth: sampleWidth, sampleHeight: sampleHeight)
        let lighting = Lighting(light: scene.light, view: view)

        for (index, object) in scene.objects.enumerated()
        where object.isVisible && object.color.alpha >= 1 {
            drawObject(object, index: UInt16(truncatingIfNeeded: index), view: view,
                       lighting: lighting, blend: false)
        }
        if scene.options.shadows {
            drawShadows(scene, view: view)
        }
        drawTranslucent(scene, view: view, lighting: lighting)
    }

    /// Translucent objects last, far to near, so each blends over everything behind it.
    private func drawTranslucent(_ scene: Scene, view: ViewTransform, lighting: Lighting) {
        let translucent = scene.objects.indices.filter {
            scene.objects[$0].isVisible && scene.objects[$0].color.alpha > 0
                && scene.objects[$0].color.alpha < 1
        }
        guard !translucent.isEmpty else { return }
        let farToNear = translucent.sorted {
            view.depth(of: scene.objects[$0].pose.position) > view.depth(of: scene.objects[$1].pose.position)
        }
        for index in farToNear {
            drawObject(scene.objects[index], index: UInt16(truncatingIfNeeded: index), view: view,
                       lighting: lighting, blend: true)
        }
    }

    private func prepareFramebuffer(width: Int, height: Int, supersampling: Int) {
        self.supersampling = supersampling
        let count = max(width, 0) * max(height, 0)
        if count != color.count {
            color.deallocate()
            inverseDepth.deallocate()
            objectIndex.deallocate()
            shadowMask.deallocate()
            color = .allocate(capacity: count)
            inverseDepth = .allocate(capacity: count)
            objectIndex = .allocate(capacity: count)
            shadowMask = .allocate(capacity: count)
        }
        sampleWidth = max(width, 0)
        sampleHeight = max(height, 0)
    }

    private func clear(to background: Color) {
        color.update(repeating: packColor(background.rgb))
        inverseDepth.update(repeating: 0)
        objectIndex.update(repeating: Rasterizer.background)
    }

    /// Grows the camera-space vertex scratch to hold `count` vertices.
    func reserveCameraVertices(_ count: Int) {
        guard count > cameraVertices.count else { return }
        cameraVertices.deallocate()
        cameraVertices = .allocate(capacity: max(count, 2 * cameraVertices.count))
    }
}

/// Packs a colour in [0, 1] into 0xAABBGGRR with alpha 255, rounding to nearest.
@inline(__always)
func packColor(_ rgb: Vector3) -> UInt32 {
    // Scalar clamps: the generic SIMD `clamped` is not inlined and costs a call per face.
    @inline(__always) func byte(_ v: Float) -> UInt32 { UInt32(min(max(v, 0), 1) * 255 + 0.5) }
    return byte(rgb.x) | byte(rgb.y) << 8 | byte(rgb.z) << 16 | 0xFF00_0000
}

/// World to camera space and camera space to sample coordinates.
struct ViewTransform {
    let rotation: Rotation   // camera axes in the world
    let eye: Vector3
    /// Samples per unit of x/(-z) (and y/(-z)): focal × half the image height.
    let scale: Float
    let centerX: Float
    let centerY: Float
    let near: Float
    let sampleWidth: Int
    let sampleHeight: Int

    init(camera: Camera, sampleWidth: Int, sampleHeight: Int) {
        rotation = camera.pose.rotation
        eye = camera.pose.position
        scale = camera.focal * Float(sampleHeight) / 2
        centerX = Float(sampleWidth) / 2
        centerY = Float(sampleHeight) / 2
        near = max(camera.near, 1e-6)
        self.sampleWidth = sampleWidth
        self.sampleHeight = sampleHeight
    }

    /// World point to camera space (x right, y up, looking down -z).
    @inline(__always)
    func toCamera(_ p: Vector3) -> Vector3 { rotation.applyInverse(p - eye) }

    /// Distance in front of the camera of a world point.
    func depth(of p: Vector3) -> Float { -toCamera(p).z }

    /// Camera-space point (z < 0) to sample coordinates (x right, y down).
    @inline(__always)
    func project(_ p: Vector3) -> SIMD2<Float> {
        let inverseZ = 1 / -p.z
        return SIMD2(centerX + p.x * inverseZ * scale, centerY - p.y * inverseZ * scale)
    }

    /// Whether a sphere (camera space) lies entirely outside the view frustum.
    func isOutside(center c: Vector3, radius r: Float) -> Bool {
        if c.z - r > -near { return true }  // behind the near plane
        // Side planes through the eye: a point is inside while |x| * scale <= halfWidth * (-z).
        let halfWidth = centerX, halfHeight = centerY
        let horizontal = (scale * scale + halfWidth * halfWidth).squareRoot()
        let vertical = (scale * scale + halfHeight * halfHeight).squareRoot()
        if (scale * c.x + halfWidth * c.z) / horizontal > r { return true }
        if (-scale * c.x + halfWidth * c.z) / horizontal > r { return true }
        if (scale * c.y + halfHeight * c.z) / vertical > r { return true }
        if (-scale * c.y + halfHeight * c.z) / vertical > r { return true }
        return false
    }
}

/// The light in camera space (the eye at the origin), ready for per-face shading.
struct Lighting {
    let towardsLight: Vector3   // unit, camera space: −light.direction
    let diffuse: Float
    let ambient: Float
    let specular: Float
    let shininess: Float

    init(light: Light, view: ViewTransform) {
        towardsLight = normalized(view.rotation.applyInverse(-light.direction))
        diffuse = light.diffuse
        ambient = light.ambient
        specular = light.specular
        shininess = light.shininess
    }

    /// Lambert + ambient, plus Blinn-Phong specular when enabled, for one face.
    /// `normal`: camera-space unit normal facing the viewer; `point`: camera-space point on it.
    @inline(__always)
    func shade(_ base: Vector3, normal: Vector3, point: Vector3) -> Vector3 {
        let lambert = max(0, dot(normal, towardsLight))
        var rgb = base * (ambient + diffuse * lambert)
        if specular > 0 && lambert > 0 {
            let halfway = normalized(towardsLight - normalized(point))
            rgb += Vector3(repeating: specular * powf(max(0, dot(normal, halfway)), shininess))
        }
        return rgb
    }
}
