import CMuJoCo
import Foundation

/// One MuJoCo model and its simulation state, owned together and freed together.
///
/// Not thread-safe: use one simulation per thread. Loading goes through a process-wide lock
/// because MuJoCo's XML loader keeps global state.
public final class MuJoCoSimulation {
    /// The MJCF file this model came from (named in errors).
    public let path: String
    let model: UnsafeMutablePointer<mjModel>
    let data: UnsafeMutablePointer<mjData>

    private static let loadLock = NSLock()

    /// Loads the MJCF file at `path`; MuJoCo's own error text comes back verbatim on failure.
    public init(contentsOf path: String) throws(VisionEnvError) {
        guard FileManager.default.fileExists(atPath: path) else {
            throw .modelLoadFailed(path: path, message: "no such file")
        }
        MuJoCoMessages.installed
        var message = [CChar](repeating: 0, count: 1000)
        let loaded: UnsafeMutablePointer<mjModel>? = Self.loadLock.withLock {
            mj_loadXML(path, nil, &message, Int32(message.count))
        }
        guard let model = loaded else {
            let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) },
                              as: UTF8.self)
            throw .modelLoadFailed(path: path, message: text.isEmpty ? "MuJoCo gave no reason" : text)
        }
        guard let data = mj_makeData(model) else {
            mj_deleteModel(model)
            throw .modelLoadFailed(path: path, message: "mj_makeData could not allocate the simulation state")
        }
        self.path = path
        self.model = model
        self.data = data
        mj_forward(model, data)
    }

    deinit {
        mj_deleteData(data)
        mj_deleteModel(model)
    }

    /// The index of the named element of `type`, or a typed error naming the file.
    func id(of type: mjtObj, named name: String) throws(VisionEnvError) -> Int {
        let index = mj_name2id(model, Int32(type.rawValue), name)
        guard index >= 0 else {
            throw .missingModelElement(path: path, kind: Self.kindName(type), name: name)
        }
        return Int(index)
    }

    /// Back to the model's initial state (`qpos0`, mocap bodies at their MJCF positions).
    func reset() {
        mj_resetData(model, data)
        mj_forward(model, data)
    }

    /// `count` physics steps of `timestep` seconds. MuJoCo resets a state whose position,
    /// velocity or acceleration turned NaN, infinite or huge (and warns); learning from that
    /// silently restarted physics is meaningless, so it is an error naming the model.
    func step(count: Int) throws(VisionEnvError) {
        for _ in 0..<count { mj_step(model, data) }
        let unstable: [(mjtWarning, String)] = [(mjWARN_BADQPOS, "positions (qpos)"), (mjWARN_BADQVEL, "velocities (qvel)"),
                                                (mjWARN_BADQACC, "accelerations (qacc)")]
        for (warning, quantity) in unstable where warningCount(warning) > 0 {
            throw .unstableSimulation(path: path, time: data.pointee.time, quantity: quantity)
        }
    }

    /// How often MuJoCo raised `warning` since the last reset.
    private func warningCount(_ warning: mjtWarning) -> Int32 {
        withUnsafeBytes(of: data.pointee.warning) { bytes in
            bytes.load(fromByteOffset: Int(warning.rawValue) * MemoryLayout<mjWarningStat>.stride, as: mjWarningStat.self).number
        }
    }

    /// Recomputes positions and contacts after qpos or mocap changed by hand.
    func forward() {
        mj_forward(model, data)
    }

    var timestep: Double { model.pointee.opt.timestep }

    // MARK: Positions (world frame)

    func sitePosition(_ site: Int) -> SIMD3<Double> {
        let p = data.pointee.site_xpos + 3 * site
        return SIMD3(p[0], p[1], p[2])
    }

    func bodyPosition(_ body: Int) -> SIMD3<Double> {
        let p = data.pointee.xpos + 3 * body
        return SIMD3(p[0], p[1], p[2])
    }

    func jointPosition(_ joint: Int) -> Double {
        data.pointee.qpos[Int(model.pointee.jnt_qposadr[joint])]
    }

    /// Sets a hinge or slide joint's position; call `forward()` before reading positions.
    func setJointPosition(_ value: Double, of joint: Int) {
        data.pointee.qpos[Int(model.pointee.jnt_qposadr[joint])] = value
    }

    func mocapPosition(_ mocap: Int) -> SIMD3<Double> {
        let p = data.pointee.mocap_pos + 3 * mocap
        return SIMD3(p[0], p[1], p[2])
    }

    func setMocapPosition(_ position: SIMD3<Double>, of mocap: Int) {
        let p = data.pointee.mocap_pos + 3 * mocap
        p[0] = position.x
        p[1] = position.y
        p[2] = position.z
    }

    /// Moves a site attached to the world body (its model position is its world position).
    func setStaticSitePosition(_ position: SIMD3<Double>, of site: Int) {
        let p = model.pointee.site_pos + 3 * site
        p[0] = position.x
        p[1] = position.y
        p[2] = position.z
    }

    private static func kindName(_ type: mjtObj) -> String {
        switch type {
        case mjOBJ_BODY: return "body"
        case mjOBJ_JOINT: return "joint"
        case mjOBJ_GEOM: return "geom"
        case mjOBJ_SITE: return "site"
        case mjOBJ_CAMERA: return "camera"
        default: return "element"
        }
    }
}
