import Dispatch

/// Scratch memory of one `Network` for batches of up to `maxBatch` samples: the activations
/// kept for backward, gradient buffers, and per-worker im2col matrices. Allocated once, so the
/// passes allocate nothing (but their returned arrays). One workspace per concurrent caller
/// (e.g. per rollout worker); a workspace itself is not thread-safe.
public final class Workspace: @unchecked Sendable {
    public let maxBatch: Int
    let network: Network
    let workers: [WorkerScratch]
    /// Batch size of the last forward (0 before any).
    var batch = 0

    // Activations, (maxBatch, per-sample size) each, rows split between workers by chunk.
    let input: UnsafeMutablePointer<Float>        // (N,C,H,W)
    let convOut: [UnsafeMutablePointer<Float>]    // (N,OC,OH,OW) per convolution, post-ReLU
    let softmaxP: UnsafeMutablePointer<Float>     // (N,C,H,W) of the last map
    let features: UnsafeMutablePointer<Float>     // (N,F) keypoints
    let extras: UnsafeMutablePointer<Float>       // (N,E)
    let h0: UnsafeMutablePointer<Float>           // (N,D0)
    let denseOut: [UnsafeMutablePointer<Float>]   // (N,O) per dense layer, post-activation
    // Gradients of the dense phase (N, ≤ max activation), ping and pong.
    let gradA: UnsafeMutablePointer<Float>
    let gradB: UnsafeMutablePointer<Float>
    // Gradients of the encoder phase: rows of max-activation stride so workers never overlap.
    let encoderGradA: UnsafeMutablePointer<Float>
    let encoderGradB: UnsafeMutablePointer<Float>
    /// Input gradients of the last backward with `inputGradients: true`.
    private(set) var imageGradient: UnsafeMutablePointer<Float>
    private(set) var extraGradient: UnsafeMutablePointer<Float>
    private var inputGradientsAllocated = false
    private var allocations: [UnsafeMutablePointer<Float>] = []

    init(network net: Network, maxBatch n: Int) {
        network = net
        maxBatch = n
        workers = (0..<net.threads).map { _ in WorkerScratch(network: net) }
        var allocs: [UnsafeMutablePointer<Float>] = []
        func make(_ count: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocateLineAligned(max(1, count))
            allocs.append(p)
            return p
        }
        let row = Row(net)
        input = make(n * row.input)
        convOut = row.convOut.map { make(n * $0) }
        softmaxP = make(n * row.softmax)
        features = make(n * row.features)
        extras = make(n * row.extras)
        h0 = make(n * row.h0)
        denseOut = row.denseOut.map { make(n * $0) }
        gradA = make(n * row.gradient)
        gradB = make(n * row.gradient)
        encoderGradA = make(n * row.gradient)
        encoderGradB = make(n * row.gradient)
        allocations = allocs
        imageGradient = .allocate(capacity: 1)
        extraGradient = .allocate(capacity: 1)
    }

    /// Floats per sample of each activation and gradient buffer.
    struct Row {
        var input, softmax, features, extras, h0, gradient: Int
        var convOut, denseOut: [Int]

        init(_ net: Network) {
            let map = net.mapShape
            let softmax = net.spec.image != nil && net.spec.imageFeatures == .spatialSoftmax
            input = net.imageInputCount
            convOut = net.convs.map(\.outputCount)
            self.softmax = softmax ? map.c * map.h * map.w : 0
            features = softmax ? net.featureCount : 0
            extras = net.extraCount
            h0 = net.concatIsFeatures ? 0 : net.concatCount
            denseOut = net.dense.map(\.o)
            gradient = net.maxActivation
        }

        /// All of them: the buffers' floats per sample (four gradient buffers).
        var total: Int { input + softmax + features + extras + h0 + 4 * gradient + convOut.reduce(0, +) + denseOut.reduce(0, +) }
    }

    deinit {
        for p in allocations { p.deallocate() }
        imageGradient.deallocate()
        extraGradient.deallocate()
    }

    func prepareBackward(inputGradients: Bool) {
        if inputGradients && !inputGradientsAllocated {
            imageGradient.deallocate()
            extraGradient.deallocate()
            imageGradient = .allocateLineAligned(max(1, maxBatch * network.imageInputCount))
            extraGradient = .allocateLineAligned(max(1, maxBatch * network.extraInputCount))
            inputGradientsAllocated = true
        }
    }

    /// Gradient with respect to the images of the last backward with input gradients, (N,C,H,W).
    public var imageInputGradient: [Float] {
        guard inputGradientsAllocated else { return [] }
        return Array(UnsafeBufferPointer(start: imageGradient, count: batch * network.imageInputCount))
    }

    /// Gradient with respect to the extra inputs of the last backward with input gradients, (N,E).
    public var extraInputGradient: [Float] {
        guard inputGradientsAllocated else { return [] }
        return Array(UnsafeBufferPointer(start: extraGradient, count: batch * network.extraInputCount))
    }

    // MARK: Profiling (for the benchmark's "where time goes")

    /// Records per-stage times (worker 0's share of the batch-parallel stages, wall time of
    /// the dense stages) while true.
    public var profiling = false {
        didSet { workers[0].resetProfile() }
    }

    /// Seconds per stage since profiling was switched on, by stage name.
    public var profile: [(stage: String, seconds: Double)] {
        workers[0].stageNames.enumerated().map { ($1, workers[0].stageSeconds[$0]) }
    }
}

/// One worker's private scratch: im2col matrices and its share of the encoder's gradient.
final class WorkerScratch {
    /// im2col (CKK,OH*Wp), phase planes, full-width output (OC,OH*Wp), taps and padded dout, largest layer's.
    let conv: ConvScratch
    let dcol: UnsafeMutablePointer<Float>         // (CKK,OH*Wp) largest
    /// Gradient of the encoder parameters (a prefix of θ) over this worker's rows.
    let gradient: UnsafeMutablePointer<Float>
    private let counts: [Int]

    let stageNames: [String]
    var stageSeconds: [Double]

    /// 4-byte entries of col, planes, wide, taps, dcol, gradient and padded.
    static func counts(_ network: Network) -> [Int] {
        let conv = ConvScratch.counts(network.convs)
        return [conv.col, conv.planes, conv.wide, conv.taps, max(1, network.maxCol), max(1, network.encoderParameterCount),
                conv.padded]
    }

    var col: UnsafeMutablePointer<Float> { conv.col }
    var wide: UnsafeMutablePointer<Float> { conv.wide }

    init(network: Network) {
        counts = Self.counts(network)
        conv = ConvScratch.allocate(for: network.convs)
        dcol = .allocateLineAligned(counts[4])
        gradient = .allocateLineAligned(counts[5])
        var names = network.convs.indices.map { "conv\($0) forward" }
        names += ["features+concat forward", "dense forward", "dense backward", "features backward"]
        names += network.convs.indices.reversed().map { "conv\($0) backward" }
        names += ["gradient reduce"]
        stageNames = names
        stageSeconds = [Double](repeating: 0, count: names.count)
    }

    deinit {
        conv.deallocate()
        dcol.deallocate()
        gradient.deallocate()
    }

    enum Stage {
        case convForward(Int), featuresForward, denseForward, denseBackward, featuresBackward, convBackward(Int), reduce
    }

    func index(_ stage: Stage) -> Int {
        let c = (stageNames.count - 5) / 2
        switch stage {
        case .convForward(let l): return l
        case .featuresForward: return c
        case .denseForward: return c + 1
        case .denseBackward: return c + 2
        case .featuresBackward: return c + 3
        case .convBackward(let l): return c + 4 + (c - 1 - l)
        case .reduce: return stageNames.count - 1
        }
    }

    func resetProfile() { for i in stageSeconds.indices { stageSeconds[i] = 0 } }

    /// Adds the time since `since` to `stage`; returns the current time.
    @discardableResult
    func add(_ stage: Stage, since: UInt64) -> UInt64 {
        let t = now()
        stageSeconds[index(stage)] += Double(t - since) * 1e-9
        return t
    }
}

extension UnsafeMutablePointer where Pointee == Float {
    /// `count` zeroed floats starting on a 64-byte cache line (release with `deallocate()`).
    /// Rows of the batched kernels (64 floats of a transposed batch, 16-float vectors of a
    /// map) then start on a line; malloc's 16-byte alignment split every such vector load over
    /// two lines.
    static func allocateLineAligned(_ count: Int) -> UnsafeMutablePointer<Float> {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.stride, alignment: 64)
        let p = raw.bindMemory(to: Float.self, capacity: count)
        p.initialize(repeating: 0, count: count)
        return p
    }
}
