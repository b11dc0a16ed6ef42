#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Hessian-vector products H v of a scalar objective with respect to the parameters, for the
/// second-order GMPS meta-gradient ∇_θ L = g + H (α ⊙ g).
public enum HessianVector {
    /// H v ≈ (∇f(θ + h u) - ∇f(θ - h u)) / (2h) · ‖v‖ with u = v / ‖v‖: works for any network
    /// whose gradient `gradient` computes. Error O(h²) plus Float32 rounding of order
    /// ε_float·‖∇f‖/h; h = 1e-2 balances the two for the networks here (see the tests).
    /// theta, direction and the result are (P).
    public static func centralDifference(at theta: [Float], direction: [Float], step h: Float = 1e-2,
                                         gradient: ([Float]) throws -> [Float]) rethrows -> [Float] {
        precondition(theta.count == direction.count, "centralDifference: θ and v differ in length")
        let norm = Float(VectorOps.norm(direction))
        guard norm > 0 else { return [Float](repeating: 0, count: theta.count) }
        var plus = theta, minus = theta
        for i in 0..<theta.count {
            let u = direction[i] / norm
            plus[i] += h * u
            minus[i] -= h * u
        }
        let gp = try gradient(plus), gm = try gradient(minus)
        let scale = norm / (2 * h)
        return (0..<theta.count).map { (gp[$0] - gm[$0]) * scale }
    }
}

extension GaussianPolicy {
    /// Exact H v of J(θ) = Σ_i w_i log π_θ(a_i|x_i) by Pearlmutter's R-operator (one forward
    /// and one backward pass along v), for policies on vectors: a network without image input
    /// (dense + tanh/relu layers, bias vector, log-std). For image networks use
    /// `HessianVector.centralDifference`. extras are (N,E), actions (N,A), weights (N), v (P).
    ///
    /// With R{·} the directional derivative along v, per dense layer z = h Wᵀ + c, h' = act(z):
    ///   forward:  R z = R h · Wᵀ + h · R Wᵀ + R c        R h' = act'(z) ⊙ R z
    ///   backward: R dW = R δᵀ h + δᵀ R h,  R dc = colsum R δ,  R δ_h = R δ · W + δ · R W,
    ///             R δ_z = act'(z) ⊙ R δ_h + act''(z) ⊙ R z ⊙ δ_h
    /// and at the Gaussian, with δμ = w (a - μ) e^{-2s}:
    ///   R δμ = w e^{-2s} (-R μ - 2 R s (a - μ))      R ds = Σ_i w e^{-2s} (-2 (a - μ) R μ - 2 R s (a - μ)²)
    public func logProbabilityHessianVector(parameters theta: [Float], extras: [Float], actions: [Float],
                                            weights: [Float], direction v: [Float]) throws -> [Float] {
        let net = network
        guard net.spec.image == nil else {
            throw ConvNetError.unsupported("exact Hessian-vector products need a network without image input; use HessianVector.centralDifference")
        }
        let n = weights.count, e = net.extraCount, b = net.biasCount, a = actionCount
        guard n > 0, extras.count == n * e, actions.count == n * a,
              theta.count == net.parameterCount, v.count == net.parameterCount else {
            throw ConvNetError.shapeMismatch("Hessian-vector product: need extras (N,\(e)), actions (N,\(a)), weights (N) and θ, v of \(net.parameterCount) values")
        }
        let act = net.spec.activation
        let L = net.dense.count, d0 = net.concatCount
        let (hin, rhin, out, rz) = rForward(parameters: theta, extras: extras, direction: v, batch: n)
        // The Gaussian log-likelihood and its R-derivative.
        let mu = out[L - 1], rmu = rz[L - 1]
        let s = logStd(theta)
        let vs = Array(v[logStdOffset..<(logStdOffset + a)])
        var delta = [Float](repeating: 0, count: n * a), rdelta = [Float](repeating: 0, count: n * a)
        var hv = [Float](repeating: 0, count: net.parameterCount)
        for i in 0..<n {
            for j in 0..<a {
                let iv = expf(-2 * s[j]), diff = actions[i * a + j] - mu[i * a + j], w = weights[i]
                delta[i * a + j] = w * diff * iv
                rdelta[i * a + j] = w * iv * (-rmu[i * a + j] - 2 * vs[j] * diff)
                hv[logStdOffset + j] += w * iv * (-2 * diff * rmu[i * a + j] - 2 * vs[j] * diff * diff)
            }
        }
        // Backward and R-backward.
        for l in stride(from: L - 1, through: 0, by: -1) {
            let (d, o) = net.dense[l]
            hv.withUnsafeMutableBufferPointer { HV in
                // R dW = R δᵀ h + δᵀ R h
                BLAS.sgemm(transA: true, transB: false, m: o, n: d, k: n, a: rdelta, lda: o, b: hin[l], ldb: d,
                           beta: 0, c: HV.baseAddress! + net.denseWeight[l], ldc: d)
                BLAS.sgemm(transA: true, transB: false, m: o, n: d, k: n, a: delta, lda: o, b: rhin[l], ldb: d,
                           beta: 1, c: HV.baseAddress! + net.denseWeight[l], ldc: d)
                for i in 0..<n { for k in 0..<o { HV[net.denseBias[l] + k] += rdelta[i * o + k] } }
            }
            // δ_h = δ W;  R δ_h = R δ W + δ R W   (both (N,d))
            var dh = [Float](repeating: 0, count: n * d), rdh = [Float](repeating: 0, count: n * d)
            HessianVector.productAndR(x: delta, rx: rdelta, theta: theta, v: v, weight: net.denseWeight[l],
                                      transposed: false, rows: n, columns: d, inner: o, beta: 0, y: &dh, ry: &rdh)
            if l == 0 {
                for i in 0..<n { for j in 0..<b { hv[net.biasVectorOffset + j] += rdh[i * d0 + e + j] } }
                break
            }
            // Through h = act(z) of layer l-1: y = hin[l], R z of layer l-1 = rz[l-1] / act' (stored
            // as R h), so use act'' / act' · R h.
            let y = hin[l], rhl = rhin[l]
            var nd = [Float](repeating: 0, count: n * d), nrd = [Float](repeating: 0, count: n * d)
            for i in 0..<(n * d) {
                let (d1, d2OverD1) = HessianVector.derivatives(act, y: y[i])
                nd[i] = d1 * dh[i]
                // act''(z) · R z = (act''/act') · R h  (R h = act' · R z)
                nrd[i] = d1 * rdh[i] + d2OverD1 * rhl[i] * dh[i]
            }
            delta = nd; rdelta = nrd
        }
        return hv
    }

    /// R{log π_θ(a_i|x_i)} along v for each sample (N): the directional derivative of every
    /// log-probability, exact, from one forward and one R-forward pass (same networks as
    /// `logProbabilityHessianVector`). With Rμ and Rs from the R-forward:
    ///   R log π_i = Σ_j (a_ij − μ_ij) e^{−2s_j} Rμ_ij + ((a_ij − μ_ij)² e^{−2s_j} − 1) Rs_j
    /// extras (N,E), actions (N,A), v (P).
    public func logProbabilityDirectionalDerivatives(parameters theta: [Float], extras: [Float], actions: [Float],
                                                     direction v: [Float]) throws -> [Float] {
        let net = network
        guard net.spec.image == nil else {
            throw ConvNetError.unsupported("exact directional derivatives need a network without image input")
        }
        let e = net.extraCount, a = actionCount
        let n = e > 0 ? extras.count / e : actions.count / max(a, 1)
        guard n > 0, extras.count == n * e, actions.count == n * a,
              theta.count == net.parameterCount, v.count == net.parameterCount else {
            throw ConvNetError.shapeMismatch("directional derivatives: need extras (N,\(e)), actions (N,\(a)) and θ, v of \(net.parameterCount) values")
        }
        let (_, _, out, rz) = rForward(parameters: theta, extras: extras, direction: v, batch: n)
        let mu = out[net.dense.count - 1], rmu = rz[net.dense.count - 1]
        let s = logStd(theta)
        let vs = Array(v[logStdOffset..<(logStdOffset + a)])
        return (0..<n).map { i in
            var total: Float = 0
            for j in 0..<a {
                let iv = expf(-2 * s[j]), diff = actions[i * a + j] - mu[i * a + j]
                total += diff * iv * rmu[i * a + j] + (diff * diff * iv - 1) * vs[j]
            }
            return total
        }
    }

    /// Forward and R-forward of the dense stack on [extras, bias vector] (N rows). hin[l] (N,d_l)
    /// is dense layer l's input and rhin[l] its R-derivative; out[l] (N,o_l) its output after
    /// the activation (the last is μ) and rz[l] that output's R-derivative.
    private func rForward(parameters theta: [Float], extras: [Float], direction v: [Float], batch n: Int)
        -> (hin: [[Float]], rhin: [[Float]], out: [[Float]], rz: [[Float]]) {
        let net = network
        let e = net.extraCount, b = net.biasCount
        let act = net.spec.activation
        let L = net.dense.count
        var hin: [[Float]] = [], rhin: [[Float]] = [], out: [[Float]] = [], rz: [[Float]] = []
        let d0 = net.concatCount
        var h = [Float](repeating: 0, count: n * d0), rh = [Float](repeating: 0, count: n * d0)
        for i in 0..<n {
            for j in 0..<e { h[i * d0 + j] = extras[i * e + j] }
            for j in 0..<b {
                h[i * d0 + e + j] = theta[net.biasVectorOffset + j]
                rh[i * d0 + e + j] = v[net.biasVectorOffset + j]
            }
        }
        for l in 0..<L {
            let (d, o) = net.dense[l]
            hin.append(h); rhin.append(rh)
            var z = [Float](repeating: 0, count: n * o), r = [Float](repeating: 0, count: n * o)
            for i in 0..<n {
                for k in 0..<o {
                    z[i * o + k] = theta[net.denseBias[l] + k]
                    r[i * o + k] = v[net.denseBias[l] + k]
                }
            }
            // z = h Wᵀ + c;  R z = R h Wᵀ + h (R W)ᵀ + R c
            HessianVector.productAndR(x: h, rx: rh, theta: theta, v: v, weight: net.denseWeight[l], transposed: true,
                                      rows: n, columns: o, inner: d, beta: 1, y: &z, ry: &r)
            if l < L - 1 {
                for i in 0..<(n * o) {
                    let (y, dy) = HessianVector.activation(act, z[i])
                    z[i] = y
                    r[i] *= dy
                }
            }
            out.append(z); rz.append(r)
            h = z; rh = r
        }
        return (hin, rhin, out, rz)
    }
}

extension HessianVector {
    /// A product with a dense layer's weight matrix W (in θ at `weight`) and its R-derivative
    /// along v (R W is v at the same offset), for x (rows, inner):
    ///   y  = β y  + x op(W)
    ///   Ry = β Ry + Rx op(W) + x op(R W)
    /// op(W) = Wᵀ with W (columns, inner) in the forward pass; W with W (inner, columns) in the
    /// backward pass. y and Ry are (rows, columns).
    static func productAndR(x: [Float], rx: [Float], theta: [Float], v: [Float], weight: Int, transposed: Bool,
                            rows: Int, columns: Int, inner: Int, beta: Float, y: inout [Float], ry: inout [Float]) {
        let ldb = transposed ? inner : columns
        theta.withUnsafeBufferPointer { T in v.withUnsafeBufferPointer { V in
            BLAS.sgemm(transA: false, transB: transposed, m: rows, n: columns, k: inner, a: x, lda: inner,
                       b: T.baseAddress! + weight, ldb: ldb, beta: beta, c: &y, ldc: columns)
            BLAS.sgemm(transA: false, transB: transposed, m: rows, n: columns, k: inner, a: rx, lda: inner,
                       b: T.baseAddress! + weight, ldb: ldb, beta: beta, c: &ry, ldc: columns)
            BLAS.sgemm(transA: false, transB: transposed, m: rows, n: columns, k: inner, a: x, lda: inner,
                       b: V.baseAddress! + weight, ldb: ldb, beta: 1, c: &ry, ldc: columns)
        } }
    }

    /// (act(z), act'(z)).
    static func activation(_ act: Activation, _ z: Float) -> (Float, Float) {
        switch act {
        case .relu: return z > 0 ? (z, 1) : (0, 0)
        case .tanh: let y = tanhf(z); return (y, 1 - y * y)
        case .identity: return (z, 1)
        }
    }

    /// (act'(z), act''(z) / act'(z)) from the output y = act(z).
    /// tanh: act' = 1 - y², act'' = -2y(1 - y²), so the ratio is -2y. relu, identity: act'' = 0.
    static func derivatives(_ act: Activation, y: Float) -> (Float, Float) {
        switch act {
        case .relu: return (y > 0 ? 1 : 0, 0)
        case .tanh: return (1 - y * y, -2 * y)
        case .identity: return (1, 0)
        }
    }
}
