/// Elementwise nonlinearities of hidden layers.
public enum Activation: String, Codable, Sendable {
    case relu, tanh, identity
}

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
    static func backward(_ act: Activation, y: UnsafePointer<Float>, dy: UnsafeMutablePointer<Float>, count: Int) {
        switch act {
        case .relu:
            for i in 0..<count { dy[i] = y[i] > 0 ? dy[i] : 0 }
        case .tanh:
            for i in 0..<count { dy[i] *= 1 - y[i] * y[i] }
        case .identity:
            break
        }
    }
}
