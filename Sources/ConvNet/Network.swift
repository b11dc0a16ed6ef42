import Dispatch

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// A network built from a `NetworkSpec`. It holds no parameters: every pass takes a parameter
/// vector θ of length `parameterCount` (laid out by `layout`), so the same network runs θ and
/// any adapted φ = θ + α ⊙ g. It is immutable and safe to share between threads; all scratch
/// memory lives in a `Workspace`, one per concurrent caller.
///
///     let net = try Network(spec: .visionPolicy())
///     var theta = net.initialParameters(seed: 1)
///     let ws = net.makeWorkspace(maxBatch: 64)
///     let mean = try net.forward(parameters: theta, images: pixels, extras: hands, batch: 64, workspace: ws)
///     var grad = [Float](repeating: 0, count: net.parameterCount)
///     try net.backward(parameters: theta, outputGradient: dMean, workspace: ws, into: &grad)
public final class Network: Sendable {
    public let spec: NetworkSpec
    public let layout: ParameterLayout
    /// Workers a batch is split over (one chunk of samples each; see `BLAS` for why).
    public let threads: Int

    let convs: [ConvGeometry]
    /// F, E, B and D0 = F + E + B.
    let featureCount: Int, extraCount: Int, biasCount: Int, concatCount: Int
    /// (D, O) of each dense layer, the last one being the output layer.
    let dense: [(d: Int, o: Int)]
    let convWeight: [Int], convBias: [Int], denseWeight: [Int], denseBias: [Int]
    let logTemperatureOffset: Int?, biasVectorOffset: Int, logStdOffset: Int?
    /// (C,H,W) of the last feature map (the image itself without convolutions).
    let mapShape: (c: Int, h: Int, w: Int)
    /// Largest per-sample activation (sizes the gradient ping-pong buffers).
    let maxActivation: Int
    /// Largest im2col matrix over the convolutions (CKK*OHW, or CKK*OH*Wp in the full-width layout).
    let maxCol: Int
    /// Work below which a layer stays on one thread: 2 MFLOP is ~20 µs of sgemm, against a few
    /// µs to wake a worker (the vision policy's small layers stay whole; the reference CNN's
    /// split). The tests lower it to exercise the split paths on small networks.
    let splitFlops: Int

    /// P.
    public var parameterCount: Int { layout.count }
    /// C*H*W per image (0 without an image input).
    public var imageInputCount: Int { spec.image.map { $0.channels * $0.height * $0.width } ?? 0 }
    /// E.
    public var extraInputCount: Int { extraCount }
    /// O of the output layer (A for a policy).
    public var outputCount: Int { spec.outputs }

    public convenience init(spec: NetworkSpec, threads: Int = BLAS.cores) throws {
        try self.init(spec: spec, threads: threads, splitFlops: 2_000_000)
    }

    init(spec: NetworkSpec, threads: Int, splitFlops: Int) throws {
        _ = BLAS.configured
        guard threads >= 1 else { throw ConvNetError.invalidArchitecture("threads must be at least 1, got \(threads)") }
        guard spec.outputs > 0, spec.hidden.allSatisfy({ $0 > 0 }), spec.extraInputs >= 0, spec.biasVector >= 0 else {
            throw ConvNetError.invalidArchitecture("outputs and hidden widths must be positive, extras and bias vector non-negative")
        }
        self.spec = spec
        self.threads = threads
        var tensors: [ParameterTensor] = []
        var offset = 0
        func add(_ name: String, _ group: String, _ shape: [Int]) -> Int {
            tensors.append(ParameterTensor(name: name, group: group, shape: shape, offset: offset))
            defer { offset += Tensor.count(of: shape) }
            return offset
        }

        var convs: [ConvGeometry] = []
        var cw: [Int] = [], cb: [Int] = []
        var features = 0
        var maxAct = 0
        var logT: Int? = nil
        var map = (c: 0, h: 0, w: 0)
        if let image = spec.image {
            var (c, h, w) = (image.channels, image.height, image.width)
            guard c > 0, h > 0, w > 0 else { throw ConvNetError.invalidArchitecture("image sizes must be positive") }
            maxAct = c * h * w
            for (i, conv) in spec.convolutions.enumerated() {
                let g = try ConvGeometry(channels: c, height: h, width: w, outChannels: conv.outChannels,
                                         kernel: conv.kernel, stride: conv.stride, padding: conv.padding)
                convs.append(g)
                cw.append(add("conv\(i).weight", "conv", [g.oc, g.c, g.k, g.k]))
                cb.append(add("conv\(i).bias", "conv", [g.oc]))
                (c, h, w) = (g.oc, g.oh, g.ow)
                maxAct = max(maxAct, g.outputCount)
            }
            map = (c, h, w)
            switch spec.imageFeatures {
            case .spatialSoftmax:
                features = 2 * c
                if spec.learnedTemperature { logT = add("spatial_softmax.log_temperature", "spatial_softmax", [1]) }
            case .flatten:
                features = c * h * w
            }
        } else if !spec.convolutions.isEmpty {
            throw ConvNetError.invalidArchitecture("convolutions need an image input")
        }
        let bv = add("bias_vector", "bias_vector", [spec.biasVector])
        let d0 = features + spec.extraInputs + spec.biasVector
        guard d0 > 0 else { throw ConvNetError.invalidArchitecture("the network has no inputs") }
        var dense: [(d: Int, o: Int)] = []
        var dw: [Int] = [], db: [Int] = []
        var d = d0
        maxAct = max(maxAct, d0)
        for (i, o) in (spec.hidden + [spec.outputs]).enumerated() {
            dense.append((d, o))
            dw.append(add("fc\(i).weight", "head", [o, d]))
            db.append(add("fc\(i).bias", "head", [o]))
            d = o
            maxAct = max(maxAct, o)
        }
        var logStd: Int? = nil
        if spec.logStd != nil { logStd = add("log_std", "log_std", [spec.outputs]) }
        if spec.biasVector == 0 { tensors.removeAll { $0.name == "bias_vector" } }

        self.layout = ParameterLayout(tensors: tensors)
        self.convs = convs
        self.featureCount = features
        self.extraCount = spec.extraInputs
        self.biasCount = spec.biasVector
        self.concatCount = d0
        self.dense = dense
        self.convWeight = cw; self.convBias = cb; self.denseWeight = dw; self.denseBias = db
        self.logTemperatureOffset = logT
        self.biasVectorOffset = bv
        self.logStdOffset = logStd
        self.mapShape = map
        self.maxActivation = maxAct
        self.maxCol = ConvScratch.counts(convs).col
        self.splitFlops = splitFlops
    }

    /// Whether the concatenated input is just the flattened feature map (no extras, no bias
    /// vector): then the dense stack reads the last convolution's output in place.
    var concatIsFeatures: Bool { spec.image != nil && extraCount == 0 && biasCount == 0 }

    // MARK: Initialisation

    /// Seeded initial parameters: He-uniform weights before ReLU, Xavier-uniform otherwise,
    /// zero biases, bias vector and log-temperature, `spec.logStd` for the log-std.
    /// The same seed gives the same bytes.
    public func initialParameters(seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        var theta = [Float](repeating: 0, count: parameterCount)
        func uniform(_ offset: Int, _ count: Int, bound: Float) {
            for i in 0..<count { theta[offset + i] = (2 * rng.nextUniformFloat() - 1) * bound }
        }
        for (i, g) in convs.enumerated() {
            uniform(convWeight[i], g.oc * g.ckk, bound: (6 / Float(g.ckk)).squareRoot())
        }
        for (i, (d, o)) in dense.enumerated() {
            let isOutput = i == dense.count - 1
            if isOutput || spec.activation != .relu {
                let bound = (6 / Float(d + o)).squareRoot() * (isOutput ? spec.outputInitScale : 1)
                uniform(denseWeight[i], o * d, bound: bound)
            } else {
                uniform(denseWeight[i], o * d, bound: (6 / Float(d)).squareRoot())
            }
        }
        if let off = logStdOffset, let s = spec.logStd {
            for j in 0..<spec.outputs { theta[off + j] = s }
        }
        return theta
    }

    // MARK: Workspaces

    /// Scratch memory for batches of up to `maxBatch` samples.
    public func makeWorkspace(maxBatch: Int) -> Workspace {
        Workspace(network: self, maxBatch: max(1, maxBatch))
    }

    /// The bytes `makeWorkspace(maxBatch:)` allocates, known before allocating them (a
    /// configuration's memory estimate): `workspaceBytesPerSample` per sample of the batch,
    /// plus `workspaceScratchBytes` for the workers' im2col matrices.
    public func workspaceBytes(maxBatch: Int) -> Double {
        Double(max(1, maxBatch)) * workspaceBytesPerSample + workspaceScratchBytes
    }

    /// Activations and gradients of one sample in a workspace.
    public var workspaceBytesPerSample: Double { Double(MemoryLayout<Float>.stride * Workspace.Row(self).total) }

    /// Every worker's im2col matrices and encoder gradient in a workspace, whatever its batch.
    public var workspaceScratchBytes: Double {
        Double(MemoryLayout<Float>.stride * threads * WorkerScratch.counts(self).reduce(0, +))
    }

    /// How a batch of `batch` samples splits over the workers: (chunks, samples per chunk).
    func chunking(batch: Int) -> (chunks: Int, size: Int) {
        let chunks = min(threads, batch)
        let size = (batch + chunks - 1) / chunks
        return ((batch + size - 1) / size, size)
    }

    func checkInputs(parameters: [Float], images: [Float]?, extras: [Float]?, batch: Int, workspace: Workspace) throws {
        guard parameters.count == parameterCount else {
            throw ConvNetError.shapeMismatch("parameter vector has \(parameters.count) values, the network needs \(parameterCount)")
        }
        guard batch >= 1, batch <= workspace.maxBatch else {
            throw ConvNetError.shapeMismatch("batch \(batch) outside 1...\(workspace.maxBatch) of the workspace")
        }
        guard workspace.network === self else {
            throw ConvNetError.shapeMismatch("workspace was made by another network")
        }
        if imageInputCount > 0 {
            guard let images, images.count == batch * imageInputCount else {
                throw ConvNetError.shapeMismatch("images must hold \(batch) x \(imageInputCount) values, got \(images?.count ?? 0)")
            }
        }
        if extraCount > 0 {
            guard let extras, extras.count == batch * extraCount else {
                throw ConvNetError.shapeMismatch("extras must hold \(batch) x \(extraCount) values, got \(extras?.count ?? 0)")
            }
        }
    }

    /// Parameters that the batch-parallel encoder phase differentiates (convolutions,
    /// temperature, bias vector): a prefix of θ, ending where the dense layers begin.
    var encoderParameterCount: Int { denseWeight.first ?? parameterCount }
}

/// Raw pointers handed to worker closures (valid for the duration of one pass).
struct SendablePointers: @unchecked Sendable {
    let theta: UnsafePointer<Float>
    let images: UnsafePointer<Float>?
    let extras: UnsafePointer<Float>?
}

/// Boxes a value that crosses into `concurrentPerform` under the caller's guarantee that the
/// workers touch disjoint memory.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
