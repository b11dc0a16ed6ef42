import Dispatch

/// Scratch memory of one `Network` for batches of up to `maxBatch` samples: activations kept
/// for backward, im2col matrices, gradient buffers. Allocated once, so the passes allocate
/// nothing. One workspace per concurrent caller (e.g. per rollout worker); not thread-safe.
public final class Workspace: @unchecked Sendable {
    public let maxBatch: Int
    let network: Network
    let workers: [WorkerBuffers]
    /// Batch size of the last forward (0 before any).
    var batch = 0
    /// Input gradients of the last backward with `inputGradients: true`.
    private(set) var imageGradient: UnsafeMutablePointer<Float>
    private(set) var extraGradient: UnsafeMutablePointer<Float>
    private var inputGradientsAllocated = false

    init(network: Network, maxBatch: Int) {
        self.network = network
        self.maxBatch = maxBatch
        let perWorker = (maxBatch + network.threads - 1) / network.threads
        let count = min(network.threads, maxBatch)
        workers = (0..<count).map { _ in WorkerBuffers(network: network, capacity: perWorker) }
        imageGradient = .allocate(capacity: 1)
        extraGradient = .allocate(capacity: 1)
    }

    deinit {
        imageGradient.deallocate()
        extraGradient.deallocate()
    }

    func prepareBackward(inputGradients: Bool) {
        for w in workers { w.allocateGradient() }
        if inputGradients && !inputGradientsAllocated {
            imageGradient.deallocate()
            extraGradient.deallocate()
            imageGradient = .allocate(capacity: max(1, maxBatch * network.imageInputCount))
            extraGradient = .allocate(capacity: max(1, maxBatch * network.extraInputCount))
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

    /// Records per-stage times of worker 0 while true.
    public var profiling: Bool {
        get { workers[0].profile }
        set { workers[0].profile = newValue; workers[0].resetProfile() }
    }

    /// Seconds worker 0 spent per stage since profiling was switched on, by stage name.
    public var profile: [(stage: String, seconds: Double)] {
        workers[0].stageNames.enumerated().map { ($1, workers[0].stageSeconds[$0]) }
    }
}

/// One worker's buffers, sized for `capacity` samples.
final class WorkerBuffers {
    let capacity: Int
    let input: UnsafeMutablePointer<Float>        // (n,C,H,W)
    let convOut: [UnsafeMutablePointer<Float>]    // (n,OC,OH,OW) per convolution, post-ReLU
    let softmaxP: UnsafeMutablePointer<Float>     // (n,C,H,W) of the last map
    let features: UnsafeMutablePointer<Float>     // (n,F) keypoints
    let extras: UnsafeMutablePointer<Float>       // (n,E)
    let h0: UnsafeMutablePointer<Float>           // (n,D0)
    let denseOut: [UnsafeMutablePointer<Float>]   // (n,O) per dense layer, post-activation
    let gradA: UnsafeMutablePointer<Float>        // (n, max activation) ping
    let gradB: UnsafeMutablePointer<Float>        // (n, max activation) pong
    let col: UnsafeMutablePointer<Float>          // (CKK,OHW) largest
    let dcol: UnsafeMutablePointer<Float>         // (CKK,OHW) largest
    private(set) var gradient: UnsafeMutablePointer<Float>  // (P), allocated at the first backward
    private var gradientAllocated = false
    private let parameterCount: Int
    private var allocations: [UnsafeMutablePointer<Float>] = []

    var profile = false
    let stageNames: [String]
    var stageSeconds: [Double]

    init(network: Network, capacity n: Int) {
        capacity = n
        parameterCount = network.parameterCount
        var allocs: [UnsafeMutablePointer<Float>] = []
        func make(_ count: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(1, count))
            p.initialize(repeating: 0, count: max(1, count))
            allocs.append(p)
            return p
        }
        input = make(n * network.imageInputCount)
        convOut = network.convs.map { make(n * $0.outputCount) }
        let map = network.mapShape
        softmaxP = make(network.spec.imageFeatures == .spatialSoftmax ? n * map.c * map.h * map.w : 0)
        features = make(network.spec.imageFeatures == .spatialSoftmax ? n * network.featureCount : 0)
        extras = make(n * network.extraCount)
        h0 = make(network.concatIsFeatures ? 0 : n * network.concatCount)
        denseOut = network.dense.map { make(n * $0.o) }
        gradA = make(n * network.maxActivation)
        gradB = make(n * network.maxActivation)
        col = make(network.maxCol)
        dcol = make(network.maxCol)
        gradient = make(0)
        allocations = allocs
        var names = network.convs.indices.map { "conv\($0) forward" }
        names += ["features+concat forward", "dense forward", "dense backward", "features backward"]
        names += network.convs.indices.reversed().map { "conv\($0) backward" }
        names += ["gradient reduce"]
        stageNames = names
        stageSeconds = [Double](repeating: 0, count: names.count)
    }

    deinit {
        for p in allocations { p.deallocate() }
        if gradientAllocated { gradient.deallocate() }
    }

    func allocateGradient() {
        guard !gradientAllocated else { return }
        gradient = .allocate(capacity: max(1, parameterCount))
        gradient.initialize(repeating: 0, count: max(1, parameterCount))
        gradientAllocated = true
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

    @inline(__always) func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// Adds the time since `since` to `stage`; returns the current time.
    func lap(_ stage: Stage, since: UInt64) -> UInt64 {
        let t = now()
        stageSeconds[index(stage)] += Double(t - since) * 1e-9
        return t
    }
}
