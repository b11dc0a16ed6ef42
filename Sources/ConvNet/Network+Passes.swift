import CConvNetKernels
import Dispatch
import Glibc
import Synchronization

/// Forward and backward passes. A pass runs in two phases with different parallelism:
/// - the encoder (convolutions, keypoints, concat) is batch-parallel: workers take images (and
///   in the backward, chunks' weight gradients) from a shared counter, each with its own
///   im2col scratch;
/// - the dense layers run on the whole batch, each GEMM split over workers into pieces of the
///   outputs (forward; small weight gradients) or the inputs (input gradients, large weight
///   gradients). This reads each weight matrix once per pass whatever the batch, writes weight
///   gradients without a reduction, and at batch 1 still uses every worker for the large first
///   dense layer, which is bound by memory bandwidth (the reference CNN's 21632x256 weights
///   are 22 MB).
extension Network {
    /// The network's outputs for a batch: images (N,C,H,W), extras (N,E) → (N,O).
    /// Keeps the activations in `workspace` for a following `backward`.
    @discardableResult
    public func forward(parameters: [Float], images: [Float]? = nil, extras: [Float]? = nil,
                        batch: Int, workspace ws: Workspace) throws -> [Float] {
        try encode(parameters: parameters, images: images, extras: extras, batch: batch, workspace: ws)
        parameters.withUnsafeBufferPointer { theta in
            let clock = ws.profiling ? now() : 0
            var x = UnsafePointer(h0Pointer(ws))
            for (l, (d, o)) in dense.enumerated() {
                let y = ws.denseOut[l]
                let act = l == dense.count - 1 ? Activation.identity : spec.activation
                let wgt = theta.baseAddress! + denseWeight[l], bias = theta.baseAddress! + denseBias[l]
                let input = UncheckedBox(x)
                let workers = slices(d: d, o: o, n: batch)
                if DirectDense.computesForward(n: batch, d: d, o: o, workers: workers) {
                    denseForwardTransposed(ws, layer: l, x: x, weight: wgt, bias: bias, workers: workers)
                    if act != .identity { Activations.forward(act, y, count: batch * o) }
                    x = UnsafePointer(y)
                    continue
                }
                let finer = Self.piecesPerWorker * workers
                let pieces = workers > 1 && batch > 1 && BLAS.usesBlockedKernel(m: batch, n: o / finer, k: d) ? finer : workers
                runPieces(pieces, workers: workers) { s, count in
                    let outputs = (s * o / count)..<((s + 1) * o / count)
                    Dense.forward(n: batch, d: d, o: o, x: input.value, weight: wgt, bias: bias, y: y, outputs: outputs)
                    if act != .identity {
                        for i in 0..<batch { Activations.forward(act, y + i * o + outputs.lowerBound, count: outputs.count) }
                    }
                }
                x = UnsafePointer(y)
            }
            if ws.profiling { ws.workers[0].add(.denseForward, since: clock) }
        }
        return Array(UnsafeBufferPointer(start: ws.denseOut[dense.count - 1], count: batch * spec.outputs))
    }

    /// y = x · Wᵀ + b of dense layer `l` over the batch by the AVX-512 kernel on transposes:
    /// the workers transpose x (N,D) into xT (D,N) by column ranges, then take items from a
    /// shared counter, and yT (O,N) is transposed into the layer's output. An item is one piece
    /// of the outputs over one group of inputs (`DirectDense.inputGroupLength`), handed out
    /// group by group, so that a group of xT's rows is read from memory once while every piece
    /// uses it; a piece's groups are added to its outputs in order (an item waits for the
    /// piece's previous group, already handed out), which keeps the bits of one product over
    /// all inputs. xT and yT use the backward's gradient buffers, free during a forward pass.
    func denseForwardTransposed(_ ws: Workspace, layer l: Int, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                bias: UnsafePointer<Float>, workers: Int) {
        let (d, o) = dense[l]
        let n = ws.batch
        let xT = ws.gradA, yT = ws.gradB, y = ws.denseOut[l]
        let input = UncheckedBox(x)
        runSlices(workers) { w, count in
            gmps_transpose_columns(input.value, n, d, w * d / count, (w + 1) * d / count, xT)
        }
        // Pieces of whole six-row tiles (the kernel's register block; its one-row tail is slower).
        let tiles = (o + 5) / 6
        let pieces = min(tiles, Self.piecesPerWorker * workers)
        let groupLength = DirectDense.inputGroupLength(n: n)
        let groups = (d + groupLength - 1) / groupLength
        let progress = (0..<pieces).map { _ in PieceProgress() }
        runShared(groups * pieces, workers: workers) { _, item in
            let (group, s) = item.quotientAndRemainder(dividingBy: pieces)
            progress[s].wait(forGroup: group)
            DirectDense.forwardTransposed(n: n, d: d, xT: xT, weight: weight, bias: bias, yT: yT,
                                          outputs: (6 * (s * tiles / pieces))..<min(o, 6 * ((s + 1) * tiles / pieces)),
                                          inputs: (group * groupLength)..<min(d, (group + 1) * groupLength))
            progress[s].finished(group: group)
        }
        gmps_transpose_columns(yT, o, n, 0, n, y)
    }

    /// The encoder alone (convolutions, keypoints, concat with extras and the bias vector) for a
    /// batch: images (N,C,H,W), extras (N,E). Leaves the dense stack's input in `workspace`
    /// (read it with `copyHeadInputs`); `forward` is this followed by the dense layers.
    public func encode(parameters: [Float], images: [Float]? = nil, extras: [Float]? = nil,
                       batch: Int, workspace ws: Workspace) throws {
        try checkInputs(parameters: parameters, images: images, extras: extras, batch: batch, workspace: ws)
        let chunks = chunking(batch: batch).chunks
        ws.batch = batch
        parameters.withUnsafeBufferPointer { theta in
            let images = images ?? [], extras = extras ?? []
            images.withUnsafeBufferPointer { img in
                extras.withUnsafeBufferPointer { ext in
                    let ptrs = SendablePointers(theta: theta.baseAddress!, images: img.baseAddress, extras: ext.baseAddress)
                    if chunks == 1 {
                        encodeRows(ws, worker: 0, rows: 0..<batch, ptrs: ptrs)
                    } else {
                        // Workers take images one at a time rather than a fixed half each: each
                        // image's outputs are the same bits whoever computes them.
                        runShared(batch, workers: chunks) { w, i in
                            self.encodeRows(ws, worker: w, rows: i..<(i + 1), ptrs: ptrs)
                        }
                    }
                }
            }
        }
    }

    /// How many output slices a dense GEMM of (n x d) · (d x o) splits into: one per worker when
    /// the layer is large enough to repay a dispatch, else 1.
    func slices(d: Int, o: Int, n: Int) -> Int {
        threads > 1 && 2 * d * o * max(n, 1) >= splitFlops ? min(threads, o) : 1
    }

    /// Runs `body(index, count)` for index 0..<count, in parallel when count > 1.
    func runSlices(_ count: Int, _ body: (Int, Int) -> Void) {
        run(count) { body($0, count) }
    }

    /// Pieces per worker of a large dense layer's outputs (or inputs) taken from a shared
    /// counter, where the slicing cannot change the bits.
    static let piecesPerWorker = 4

    /// Runs `body(piece, pieces)` for piece 0..<pieces on `workers` workers (`runShared`).
    /// Callers make more pieces than workers only where a piece's outputs are the same bits
    /// whatever the slicing (OpenBLAS's blocked kernel computes each entry alike whatever the
    /// product's width).
    func runPieces(_ pieces: Int, workers: Int, _ body: (Int, Int) -> Void) {
        guard pieces > workers else { return runSlices(pieces, body) }
        runShared(pieces, workers: workers) { _, piece in body(piece, pieces) }
    }

    /// Runs `body(worker, item)` for items 0..<count on `workers` workers, each taking the next
    /// item from a shared counter rather than a fixed share: a worker on a core slowed by other
    /// load takes fewer (the cores of a shared machine ran up to 40% apart in speed within a
    /// minute). Which worker runs an item depends on timing, so results must not.
    func runShared(_ count: Int, workers: Int, _ body: (_ worker: Int, _ item: Int) -> Void) {
        let next = Atomic<Int>(0)
        run(workers) { w in
            while true {
                let item = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard item < count else { break }
                body(w, item)
            }
        }
    }

    /// Runs `body` for indices 0..<count, in parallel when count > 1.
    func run(_ count: Int, _ body: (Int) -> Void) {
        if count == 1 { body(0); return }
        withoutActuallyEscaping(body) { body in
            let box = UncheckedBox(body)
            DispatchQueue.concurrentPerform(iterations: count) { box.value($0) }
        }
    }

    /// Forward of the encoder for samples `rows`: images → convolutions → keypoints/flatten →
    /// concat with extras and the bias vector, into the shared activations at those rows.
    func encodeRows(_ ws: Workspace, worker w: Int, rows: Range<Int>, ptrs: SendablePointers) {
        let theta = ptrs.theta, n = rows.count, start = rows.lowerBound
        let scratch = ws.workers[w]
        let profile = w == 0 && ws.profiling
        var clock = profile ? now() : 0
        if let image = spec.image {
            let chw = image.channels * image.height * image.width
            let input = ws.input + start * chw
            input.update(from: ptrs.images! + start * chw, count: n * chw)
            if n == 1 && ws.batch == 1 && threads > 1 {
                var x = UnsafePointer(input)
                for (l, g) in convs.enumerated() {
                    let out = ws.convOut[l]
                    if g.oh >= threads && g.forwardFlops >= splitFlops {
                        // A lone image: workers split its output rows (each with its own im2col scratch).
                        let input = UncheckedBox(x)
                        runSlices(min(threads, ws.workers.count)) { s, count in
                            Conv2D.forward(g, x: input.value, weight: theta + self.convWeight[l], bias: theta + self.convBias[l],
                                           scratch: ws.workers[s].conv, out: out, relu: true,
                                           outputRows: (s * g.oh / count)..<((s + 1) * g.oh / count))
                        }
                    } else {
                        Conv2D.forward(g, x: x, weight: theta + convWeight[l], bias: theta + convBias[l],
                                       scratch: scratch.conv, out: out, relu: true)
                    }
                    x = UnsafePointer(out)
                    if profile { clock = scratch.add(.convForward(l), since: clock) }
                }
            } else {
                // Image by image through all the convolutions: a layer reads its input while the
                // previous layer's output is still in L2 (layer by layer over the chunk, each
                // map went out to memory and came back). The same operations, so the same bits.
                for i in 0..<n {
                    var x = UnsafePointer(input + i * chw)
                    for (l, g) in convs.enumerated() {
                        let out = ws.convOut[l] + (start + i) * g.outputCount
                        Conv2D.forward(g, x: x, weight: theta + convWeight[l], bias: theta + convBias[l],
                                       scratch: scratch.conv, out: out, relu: true)
                        x = UnsafePointer(out)
                        if profile { clock = scratch.add(.convForward(l), since: clock) }
                    }
                }
            }
            let x = UnsafePointer(convs.isEmpty ? input : ws.convOut[convs.count - 1] + start * convs[convs.count - 1].outputCount)
            let xCount = convs.last?.outputCount ?? chw
            if spec.imageFeatures == .spatialSoftmax {
                let logT = logTemperatureOffset.map { theta[$0] } ?? 0
                for i in 0..<n {
                    SpatialSoftmax.forward(c: mapShape.c, h: mapShape.h, w: mapShape.w, logTemperature: logT,
                                           x: x + i * xCount, p: ws.softmaxP + (start + i) * xCount,
                                           out: ws.features + (start + i) * featureCount)
                }
            }
        }
        if extraCount > 0 {
            (ws.extras + start * extraCount).update(from: ptrs.extras! + start * extraCount, count: n * extraCount)
        }
        if !concatIsFeatures {
            Concat.forward(n: n, f: featureCount, e: extraCount, b: biasCount,
                           features: spec.image == nil ? nil : UnsafePointer(featuresPointer(ws) + start * featureCount),
                           extras: UnsafePointer(ws.extras + start * extraCount), biasVector: theta + biasVectorOffset,
                           h0: ws.h0 + start * concatCount)
        }
        if profile { _ = scratch.add(.featuresForward, since: clock) }
    }

    /// The image features (N,F): spatial-softmax keypoints, or the last feature map itself.
    func featuresPointer(_ ws: Workspace) -> UnsafeMutablePointer<Float> {
        if spec.imageFeatures == .flatten { return convs.isEmpty ? ws.input : ws.convOut[convs.count - 1] }
        return ws.features
    }

    /// The dense stack's input (N,D0).
    func h0Pointer(_ ws: Workspace) -> UnsafeMutablePointer<Float> {
        concatIsFeatures ? featuresPointer(ws) : ws.h0
    }

    // MARK: Backward

    /// Gradient of Σ_{i,j} outputGradient[i,j] · output[i,j] with respect to the parameters,
    /// written over `gradient` (length P), for the batch of the last `forward` on `workspace`
    /// (which must have run on the same `parameters`). The log-std entries, which the network
    /// does not use, get 0. With `inputGradients`, also fills `workspace.imageInputGradient`
    /// (N,C,H,W) and `workspace.extraInputGradient` (N,E).
    /// outputGradient is (N,O).
    public func backward(parameters: [Float], outputGradient: [Float], workspace ws: Workspace,
                         into gradient: inout [Float], inputGradients: Bool = false) throws {
        let batch = ws.batch
        guard batch > 0 else { throw ConvNetError.shapeMismatch("backward before any forward on this workspace") }
        guard ws.network === self else { throw ConvNetError.shapeMismatch("workspace was made by another network") }
        guard parameters.count == parameterCount, gradient.count == parameterCount else {
            throw ConvNetError.shapeMismatch("parameters (\(parameters.count)) and gradient (\(gradient.count)) need \(parameterCount) values")
        }
        guard outputGradient.count == batch * spec.outputs else {
            throw ConvNetError.shapeMismatch("output gradient must hold \(batch) x \(spec.outputs) values, got \(outputGradient.count)")
        }
        let (chunks, size) = chunking(batch: batch)
        ws.prepareBackward(inputGradients: inputGradients)
        parameters.withUnsafeBufferPointer { thetaBuffer in
            gradient.withUnsafeMutableBufferPointer { gradBuffer in
                let theta = UncheckedBox(thetaBuffer.baseAddress!), grad = UncheckedBox(gradBuffer.baseAddress!)
                if let off = logStdOffset { (grad.value + off).update(repeating: 0, count: spec.outputs) }
                // Dense layers, whole batch. g holds dL/d(output of layer l), (N,O).
                var clock = ws.profiling ? now() : 0
                var g = ws.gradA, other = ws.gradB
                outputGradient.withUnsafeBufferPointer { g.update(from: $0.baseAddress!, count: batch * spec.outputs) }
                let needH0Gradient = spec.image != nil || biasCount > 0 || (inputGradients && extraCount > 0)
                for l in stride(from: dense.count - 1, through: 0, by: -1) {
                    let (d, o) = dense[l]
                    // y = act(x · Wᵀ + b): first through the activation, then the affine map.
                    Activations.backward(l == dense.count - 1 ? .identity : spec.activation,
                                         y: ws.denseOut[l], dy: g, count: batch * o)
                    let x = UncheckedBox(l == 0 ? UnsafePointer(h0Pointer(ws)) : UnsafePointer(ws.denseOut[l - 1]))
                    let dy = UncheckedBox(UnsafePointer(g)), dx = UncheckedBox(other)
                    let wantDx = l > 0 || needH0Gradient
                    let wgt = theta.value + denseWeight[l]
                    let dW = grad.value + denseWeight[l], dB = grad.value + denseBias[l]
                    let workers = slices(d: d, o: o, n: batch)
                    let finer = Self.piecesPerWorker * workers
                    let sameBits = workers > 1 && batch > 1 && BLAS.usesBlockedKernel(m: o / finer, n: d, k: batch)
                        && (!wantDx || BLAS.usesBlockedKernel(m: batch, n: d / finer, k: o))
                    // Pieces of the weight gradient by inputs where the bits allow (each reads
                    // its own columns of x), else by outputs.
                    let byInputs = sameBits && BLAS.usesBlockedKernel(m: o, n: d / finer, k: batch)
                    if byInputs { Dense.columnSums(n: batch, o: o, dy: dy.value, into: dB, columns: 0..<o) }
                    runPieces(sameBits ? finer : workers, workers: workers) { s, count in
                        if byInputs {
                            Dense.weightGradient(n: batch, d: d, o: o, x: x.value, dy: dy.value, dweight: dW,
                                                 inputs: (s * d / count)..<((s + 1) * d / count))
                        } else {
                            Dense.weightBackward(n: batch, d: d, o: o, x: x.value, dy: dy.value, dweight: dW, dbias: dB,
                                                 outputs: (s * o / count)..<((s + 1) * o / count))
                        }
                        if wantDx {
                            Dense.inputBackward(n: batch, d: d, o: o, dy: dy.value, weight: wgt, dx: dx.value,
                                                inputs: (s * d / count)..<((s + 1) * d / count))
                        }
                    }
                    swap(&g, &other)
                }
                if ws.profiling { clock = ws.workers[0].add(.denseBackward, since: clock) }
                // Encoder, batch-parallel; each chunk's parameter gradient goes to its own buffer.
                encoderBackward(ws, chunks: chunks, size: size, theta: theta.value, dh0: UnsafePointer(g),
                                inputGradients: inputGradients)
                clock = ws.profiling ? now() : 0
                let prefix = encoderParameterCount
                let out = grad.value
                out.update(from: ws.workers[0].gradient, count: prefix)
                for w in 1..<chunks {
                    let src = ws.workers[w].gradient
                    for i in 0..<prefix { out[i] += src[i] }
                }
                if ws.profiling { _ = ws.workers[0].add(.reduce, since: clock) }
            }
        }
    }

    /// Backward of the encoder over the batch from dh0 (N,D0). The batch splits into `chunks`
    /// chunks of `size` rows; chunk c sums its images' parameter gradients, in image order, into
    /// `ws.workers[c].gradient` (every entry written), which `backward` then adds up in chunk
    /// order. Layer by layer, the workers take from a shared counter first the chunks' weight
    /// gradients, then the images' input gradients one at a time (each image's, followed by the
    /// ReLU mask of the layer below, is the same bits whoever computes it): a worker on a core
    /// slowed by other load takes fewer. With fixed halves, the faster worker waited for the other.
    func encoderBackward(_ ws: Workspace, chunks: Int, size: Int, theta: UnsafePointer<Float>, dh0: UnsafePointer<Float>,
                         inputGradients: Bool) {
        let batch = ws.batch
        var clock = ws.profiling ? now() : 0
        // Buffers of the gradient maps over the whole batch, rows packed at each map's size:
        // the features' (or the last feature map's) gradient, then each layer's input gradient,
        // alternating between the two encoder buffers.
        var inA = false
        let dfeatures: UnsafeMutablePointer<Float>
        if concatIsFeatures {
            dfeatures = UnsafeMutablePointer(mutating: dh0)
        } else {
            dfeatures = ws.encoderGradA
            inA = true
        }
        var dmap = dfeatures
        if spec.imageFeatures == .spatialSoftmax {
            dmap = inA ? ws.encoderGradB : ws.encoderGradA
            inA = !inA
        }
        let lastMap = UncheckedBox(dmap)
        run(chunks) { c in
            self.featuresBackward(ws, chunk: c, rows: (c * size)..<min(batch, (c + 1) * size), theta: theta, dh0: dh0,
                                  dfeatures: dfeatures, dmap: lastMap.value, inputGradients: inputGradients)
        }
        if ws.profiling { clock = ws.workers[0].add(.featuresBackward, since: clock) }
        guard let image = spec.image else { return }
        let chw = image.channels * image.height * image.width
        for l in stride(from: convs.count - 1, through: 0, by: -1) {
            let g = convs[l]
            let wantDx = l > 0 || inputGradients
            let target: UnsafeMutablePointer<Float> = l > 0 ? (inA ? ws.encoderGradB : ws.encoderGradA) : ws.imageGradient
            let dout = UncheckedBox(dmap), dx = UncheckedBox(target)
            let x = UncheckedBox(l == 0 ? UnsafePointer(ws.input) : UnsafePointer(ws.convOut[l - 1]))
            let inputCount = l == 0 ? chw : g.inputCount
            runShared(chunks + (wantDx ? batch : 0), workers: chunks) { w, item in
                let scratch = ws.workers[w]
                if item < chunks {
                    let grad = ws.workers[item].gradient
                    for (k, i) in ((item * size)..<min(batch, (item + 1) * size)).enumerated() {
                        Conv2D.weightBackward(g, x: x.value + i * inputCount, dout: dout.value + i * g.outputCount,
                                              dweight: grad + self.convWeight[l], dbias: grad + self.convBias[l],
                                              accumulate: k > 0, col: scratch.col, direct: scratch.conv)
                    }
                } else {
                    let i = item - chunks
                    let dxImage = dx.value + i * inputCount
                    Conv2D.inputBackward(g, weight: theta + self.convWeight[l], dout: dout.value + i * g.outputCount,
                                         dcol: scratch.dcol, dx: dxImage, wide: scratch.wide, direct: scratch.conv)
                    // The layer below's output was relu(conv(...)): its mask, for this image.
                    if l > 0 { Activations.backward(.relu, y: ws.convOut[l - 1] + i * inputCount, dy: dxImage, count: inputCount) }
                }
            }
            if l > 0 {
                dmap = target
                inA = !inA
            }
            if ws.profiling { clock = ws.workers[0].add(.convBackward(l), since: clock) }
        }
    }

    /// The features' backward for chunk `chunk` (samples `rows`): concat (extras, bias vector),
    /// spatial softmax (its temperature), and the last feature map's ReLU mask, into the
    /// chunk's rows of `dfeatures` and `dmap` (whole-batch buffers, rows packed) and the chunk's
    /// gradient buffer.
    func featuresBackward(_ ws: Workspace, chunk: Int, rows: Range<Int>, theta: UnsafePointer<Float>, dh0: UnsafePointer<Float>,
                          dfeatures: UnsafeMutablePointer<Float>, dmap: UnsafeMutablePointer<Float>, inputGradients: Bool) {
        let grad = ws.workers[chunk].gradient
        let n = rows.count, start = rows.lowerBound
        if !concatIsFeatures {
            let dextras = inputGradients && extraCount > 0 ? ws.extraGradient + start * extraCount : nil
            Concat.backward(n: n, f: featureCount, e: extraCount, b: biasCount, dh0: dh0 + start * concatCount,
                            dfeatures: spec.image == nil ? nil : dfeatures + start * featureCount, dextras: dextras,
                            dbiasVector: grad + biasVectorOffset)
        }
        guard let image = spec.image else { return }
        let chw = image.channels * image.height * image.width
        let mapCount = mapShape.c * mapShape.h * mapShape.w
        if spec.imageFeatures == .spatialSoftmax {
            let logT = logTemperatureOffset.map { theta[$0] } ?? 0
            let lastMap = UnsafePointer(convs.isEmpty ? ws.input : ws.convOut[convs.count - 1])
            var dLogT: Float = 0
            for i in rows {
                dLogT += SpatialSoftmax.backward(c: mapShape.c, h: mapShape.h, w: mapShape.w, logTemperature: logT,
                                                 x: lastMap + i * mapCount, p: ws.softmaxP + i * mapCount,
                                                 dout: dfeatures + i * featureCount, dx: dmap + i * mapCount)
            }
            if let off = logTemperatureOffset { grad[off] = dLogT }
        }
        if let last = convs.last {
            // out = relu(conv(x)): the mask by the stored output.
            Activations.backward(.relu, y: ws.convOut[convs.count - 1] + start * last.outputCount,
                                 dy: dmap + start * last.outputCount, count: n * last.outputCount)
        } else if inputGradients {
            (ws.imageGradient + start * chw).update(from: dmap + start * chw, count: n * chw)
        }
    }
}

@inline(__always) func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

/// How many input groups of one output piece are done (`denseForwardTransposed`).
final class PieceProgress: Sendable {
    private let groupsDone = Atomic<Int>(0)

    /// Returns once groups 0..<group are done. Their items were handed out earlier to running
    /// workers, so this cannot wait forever; it yields the core meanwhile (another process may
    /// hold the one the other worker needs).
    func wait(forGroup group: Int) {
        while groupsDone.load(ordering: .acquiring) < group { sched_yield() }
    }

    func finished(group: Int) {
        groupsDone.store(group + 1, ordering: .releasing)
    }
}
