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
    /// Largest im2col matrix over the convolutions (CKK*OHW).
    let maxCol: Int

    /// P.
    public var parameterCount: Int { layout.count }
    /// C*H*W per image (0 without an image input).
    public var imageInputCount: Int { spec.image.map { $0.channels * $0.height * $0.width } ?? 0 }
    /// E.
    public var extraInputCount: Int { extraCount }
    /// O of the output layer (A for a policy).
    public var outputCount: Int { spec.outputs }

    public init(spec: NetworkSpec, threads: Int = 2) throws {
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
        self.maxCol = convs.map { $0.ckk * $0.ohw }.max() ?? 0
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

    // MARK: Forward

    /// The network's outputs for a batch: images (N,C,H,W), extras (N,E) → (N,O).
    /// Keeps the activations in `workspace` for a following `backward`.
    @discardableResult
    public func forward(parameters: [Float], images: [Float]? = nil, extras: [Float]? = nil,
                        batch: Int, workspace: Workspace) throws -> [Float] {
        try checkInputs(parameters: parameters, images: images, extras: extras, batch: batch, workspace: workspace)
        let (chunks, size) = chunking(batch: batch)
        workspace.batch = batch
        parameters.withUnsafeBufferPointer { theta in
            let images = images ?? [], extras = extras ?? []
            images.withUnsafeBufferPointer { img in
                extras.withUnsafeBufferPointer { ext in
                    let ptrs = SendablePointers(theta: theta.baseAddress!, images: img.baseAddress, extras: ext.baseAddress)
                    run(chunks) { w in
                        let start = w * size, n = min(size, batch - start)
                        self.forwardChunk(workspace.workers[w], n: n, ptrs: ptrs, start: start)
                    }
                }
            }
        }
        var out = [Float](repeating: 0, count: batch * spec.outputs)
        let a = spec.outputs
        out.withUnsafeMutableBufferPointer { o in
            for w in 0..<chunks {
                let start = w * size, n = min(size, batch - start)
                (o.baseAddress! + start * a).update(from: workspace.workers[w].denseOut[dense.count - 1], count: n * a)
            }
        }
        return out
    }

    /// Runs `body` for chunk indices 0..<chunks, in parallel when there is more than one.
    func run(_ chunks: Int, _ body: (Int) -> Void) {
        if chunks == 1 { body(0); return }
        withoutActuallyEscaping(body) { body in
            let box = UncheckedBox(body)
            DispatchQueue.concurrentPerform(iterations: chunks) { box.value($0) }
        }
    }

    /// Forward of one chunk of n samples starting at sample `start`.
    func forwardChunk(_ ws: WorkerBuffers, n: Int, ptrs: SendablePointers, start: Int) {
        let theta = ptrs.theta
        var clock = ws.profile ? ws.now() : 0
        if let image = spec.image {
            let chw = image.channels * image.height * image.width
            ws.input.update(from: ptrs.images! + start * chw, count: n * chw)
            var x = UnsafePointer(ws.input), xCount = chw
            for (l, g) in convs.enumerated() {
                let out = ws.convOut[l]
                for i in 0..<n {
                    Conv2D.forward(g, x: x + i * xCount, weight: theta + convWeight[l], bias: theta + convBias[l],
                                   col: ws.col, out: out + i * g.outputCount)
                }
                Activations.forward(.relu, out, count: n * g.outputCount)
                x = UnsafePointer(out); xCount = g.outputCount
                if ws.profile { clock = ws.lap(.convForward(l), since: clock) }
            }
            if spec.imageFeatures == .spatialSoftmax {
                let logT = logTemperatureOffset.map { theta[$0] } ?? 0
                for i in 0..<n {
                    SpatialSoftmax.forward(c: mapShape.c, h: mapShape.h, w: mapShape.w, logTemperature: logT,
                                           x: x + i * xCount, p: ws.softmaxP + i * xCount,
                                           out: ws.features + i * featureCount)
                }
            }
        }
        if extraCount > 0 {
            ws.extras.update(from: ptrs.extras! + start * extraCount, count: n * extraCount)
        }
        if !concatIsFeatures {
            Concat.forward(n: n, f: featureCount, e: extraCount, b: biasCount,
                           features: spec.image == nil ? nil : UnsafePointer(featuresPointer(ws)),
                           extras: UnsafePointer(ws.extras), biasVector: theta + biasVectorOffset, h0: ws.h0)
        }
        if ws.profile { clock = ws.lap(.featuresForward, since: clock) }
        var x = UnsafePointer(h0Pointer(ws))
        for (l, (d, o)) in dense.enumerated() {
            let y = ws.denseOut[l]
            Dense.forward(n: n, d: d, o: o, x: x, weight: theta + denseWeight[l], bias: theta + denseBias[l], y: y)
            Activations.forward(l == dense.count - 1 ? .identity : spec.activation, y, count: n * o)
            x = UnsafePointer(y)
        }
        if ws.profile { _ = ws.lap(.denseForward, since: clock) }
    }

    /// The image features (N,F): spatial-softmax keypoints, or the last feature map itself.
    func featuresPointer(_ ws: WorkerBuffers) -> UnsafeMutablePointer<Float> {
        if spec.imageFeatures == .flatten { return convs.isEmpty ? ws.input : ws.convOut[convs.count - 1] }
        return ws.features
    }

    /// The dense stack's input (N,D0).
    func h0Pointer(_ ws: WorkerBuffers) -> UnsafeMutablePointer<Float> {
        concatIsFeatures ? featuresPointer(ws) : ws.h0
    }

    // MARK: Backward

    /// Gradient of Σ_{i,j} outputGradient[i,j] · output[i,j] with respect to the parameters,
    /// written over `gradient` (length P), for the batch of the last `forward` on `workspace`
    /// (which must have run on the same `parameters`). The log-std entries, which the network
    /// does not use, get 0. With `inputGradients`, also fills `workspace.imageGradient` (N,C,H,W)
    /// and `workspace.extraGradient` (N,E).
    /// outputGradient is (N,O).
    public func backward(parameters: [Float], outputGradient: [Float], workspace: Workspace,
                         into gradient: inout [Float], inputGradients: Bool = false) throws {
        let batch = workspace.batch
        guard batch > 0 else { throw ConvNetError.shapeMismatch("backward before any forward on this workspace") }
        guard parameters.count == parameterCount, gradient.count == parameterCount else {
            throw ConvNetError.shapeMismatch("parameters (\(parameters.count)) and gradient (\(gradient.count)) need \(parameterCount) values")
        }
        guard outputGradient.count == batch * spec.outputs else {
            throw ConvNetError.shapeMismatch("output gradient must hold \(batch) x \(spec.outputs) values, got \(outputGradient.count)")
        }
        let (chunks, size) = chunking(batch: batch)
        workspace.prepareBackward(inputGradients: inputGradients)
        parameters.withUnsafeBufferPointer { theta in
            outputGradient.withUnsafeBufferPointer { dout in
                let ptrs = SendablePointers(theta: theta.baseAddress!, images: dout.baseAddress, extras: nil)
                run(chunks) { w in
                    let start = w * size, n = min(size, batch - start)
                    self.backwardChunk(workspace.workers[w], n: n, theta: ptrs.theta, dout: ptrs.images! + start * self.spec.outputs,
                                       inputGradients: inputGradients, workspace: workspace, start: start)
                }
            }
        }
        // Sum the workers' gradients, each worker summing one slice of θ.
        let p = parameterCount
        gradient.withUnsafeMutableBufferPointer { gbuf in
            let out = UncheckedBox(gbuf.baseAddress!)
            let slices = chunks
            let sliceSize = (p + slices - 1) / slices
            let clock = workspace.workers[0].profile ? workspace.workers[0].now() : 0
            run(slices) { s in
                let lo = s * sliceSize, hi = min(p, lo + sliceSize)
                guard lo < hi else { return }
                let dst = out.value + lo
                dst.update(from: workspace.workers[0].gradient + lo, count: hi - lo)
                for w in 1..<max(chunks, 1) {
                    let src = workspace.workers[w].gradient + lo
                    for i in 0..<(hi - lo) { dst[i] += src[i] }
                }
            }
            if workspace.workers[0].profile { _ = workspace.workers[0].lap(.reduce, since: clock) }
        }
    }

    /// Backward of one chunk; writes every entry of this worker's gradient buffer.
    /// dout is (n,O) for samples start..<start+n.
    func backwardChunk(_ ws: WorkerBuffers, n: Int, theta: UnsafePointer<Float>, dout: UnsafePointer<Float>,
                       inputGradients: Bool, workspace: Workspace, start: Int) {
        let grad = ws.gradient
        var clock = ws.profile ? ws.now() : 0
        if let off = logStdOffset { (grad + off).update(repeating: 0, count: spec.outputs) }
        var g = ws.gradA, other = ws.gradB
        g.update(from: dout, count: n * spec.outputs)
        let needH0Gradient = spec.image != nil || biasCount > 0 || (inputGradients && extraCount > 0)
        for l in stride(from: dense.count - 1, through: 0, by: -1) {
            let (d, o) = dense[l]
            // y = act(x · Wᵀ + b): first through the activation, then the affine map.
            Activations.backward(l == dense.count - 1 ? .identity : spec.activation,
                                 y: ws.denseOut[l], dy: g, count: n * o)
            let x = l == 0 ? UnsafePointer(h0Pointer(ws)) : UnsafePointer(ws.denseOut[l - 1])
            Dense.backward(n: n, d: d, o: o, x: x, weight: theta + denseWeight[l], dy: g,
                           dweight: grad + denseWeight[l], dbias: grad + denseBias[l],
                           dx: (l > 0 || needH0Gradient) ? other : nil)
            swap(&g, &other)
        }
        if ws.profile { clock = ws.lap(.denseBackward, since: clock) }
        // g is now dh0 (n,D0) when needed.
        var dfeatures = g
        if !concatIsFeatures {
            let extraGrad = inputGradients && extraCount > 0 ? workspace.extraGradient + start * extraCount : nil
            Concat.backward(n: n, f: featureCount, e: extraCount, b: biasCount, dh0: g,
                            dfeatures: spec.image == nil ? nil : other, dextras: extraGrad,
                            dbiasVector: grad + biasVectorOffset)
            dfeatures = other
            other = g
        }
        guard let image = spec.image else { return }
        let chw = image.channels * image.height * image.width
        // dmap: gradient with respect to the last feature map (post-ReLU).
        var dmap = dfeatures
        let (lastC, lastH, lastW) = (mapShape.c, mapShape.h, mapShape.w)
        let lastCount = lastC * lastH * lastW
        let lastMap = UnsafePointer(convs.isEmpty ? ws.input : ws.convOut[convs.count - 1])
        if spec.imageFeatures == .spatialSoftmax {
            let logT = logTemperatureOffset.map { theta[$0] } ?? 0
            var dLogT: Float = 0
            for i in 0..<n {
                dLogT += SpatialSoftmax.backward(c: lastC, h: lastH, w: lastW, logTemperature: logT,
                                                 x: lastMap + i * lastCount, p: ws.softmaxP + i * lastCount,
                                                 dout: dfeatures + i * featureCount, dx: other + i * lastCount)
            }
            if let off = logTemperatureOffset { grad[off] = dLogT }
            dmap = other
            other = dfeatures
        }
        if ws.profile { clock = ws.lap(.featuresBackward, since: clock) }
        for l in stride(from: convs.count - 1, through: 0, by: -1) {
            let g = convs[l]
            // out = relu(conv(x)): mask by the stored output, then the convolution.
            Activations.backward(.relu, y: ws.convOut[l], dy: dmap, count: n * g.outputCount)
            let x = l == 0 ? UnsafePointer(ws.input) : UnsafePointer(ws.convOut[l - 1])
            let wantDx = l > 0 || inputGradients
            let dxBase = l == 0 ? workspace.imageGradient + start * chw : other
            for i in 0..<n {
                Conv2D.backward(g, x: x + i * g.inputCount, weight: theta + convWeight[l],
                                dout: dmap + i * g.outputCount, dweight: grad + convWeight[l],
                                dbias: grad + convBias[l], accumulate: i > 0,
                                col: ws.col, dcol: ws.dcol, dx: wantDx ? dxBase + i * g.inputCount : nil)
            }
            swap(&dmap, &other)
            if ws.profile { clock = ws.lap(.convBackward(l), since: clock) }
        }
        if convs.isEmpty && inputGradients {
            (workspace.imageGradient + start * chw).update(from: dmap, count: n * chw)
        }
    }
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
