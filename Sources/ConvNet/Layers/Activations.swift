/// Elementwise nonlinearities of hidden layers.
public enum Activation: String, Codable, Sendable {
    case relu, tanh, identity
}

import CConvNetKernels

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Activation kernels. Forward runs in place on pre-activations; backward uses the stored
/// post-activation output y (enough for all three: relu' = [y > 0], tanh' = 1 - y²).
enum Activations {
    /// y = act(y) in place. y is (count).
    static func forward(_ act: Activation, _ y: UnsafeMutablePointer<Float>, count: Int) {
        switch act {
        case .relu:
            // The AVX-512 loop where it runs (the scalar one was 3% of an expert's SAC update).
            if BLAS.wideVectorKernels { return gmps_relu_forward(y, count) }
            for i in 0..<count { y[i] = max(y[i], 0) }
        case .tanh:
            for i in 0..<count { y[i] = tanhf(y[i]) }
        case .identity:
            break
        }
    }

    /// Backward of `y = act(z)`: dz = dy ⊙ act'(z), written in place over dy.
    /// relu: `y = max(z, 0)` → dz = dy · [y > 0];  tanh: `y = tanh(z)` → dz = dy · (1 - y²).
    /// y and dy are (count).
    ///
    /// Eight lanes at a time: the compiler leaves the scalar loops scalar (y and dy might alias),
    /// and the ReLU mask over every conv output of a batch was a fifth of a small MLP's update.
    /// Each lane computes the scalar expression, so the bits do not change.
    static func backward(_ act: Activation, y: UnsafePointer<Float>, dy: UnsafeMutablePointer<Float>, count: Int) {
        typealias V = SIMD8<Float>
        let ry = UnsafeRawPointer(y), rdy = UnsafeMutableRawPointer(dy)
        var i = 0
        switch act {
        case .relu:
            // The AVX-512 loop where it runs: this one's mask compiles lane by lane.
            if BLAS.wideVectorKernels { return gmps_relu_backward(y, dy, count) }
            while i + 8 <= count {
                let yv = ry.loadUnaligned(fromByteOffset: i * 4, as: V.self)
                let d = rdy.loadUnaligned(fromByteOffset: i * 4, as: V.self).replacing(with: 0, where: .!(yv .> 0))
                rdy.storeBytes(of: d, toByteOffset: i * 4, as: V.self)
                i += 8
            }
            while i < count { dy[i] = y[i] > 0 ? dy[i] : 0; i += 1 }
        case .tanh:
            while i + 8 <= count {
                let yv = ry.loadUnaligned(fromByteOffset: i * 4, as: V.self)
                let d = rdy.loadUnaligned(fromByteOffset: i * 4, as: V.self) * (1 - yv * yv)
                rdy.storeBytes(of: d, toByteOffset: i * 4, as: V.self)
                i += 8
            }
            while i < count { dy[i] *= 1 - y[i] * y[i]; i += 1 }
        case .identity:
            break
        }
    }
}
