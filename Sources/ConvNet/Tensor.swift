/// A Float32 tensor: a shape and its contiguous row-major storage (images are NCHW).
///
/// Tensors are the values that cross the public API (inputs, outputs, saved weights). The hot
/// loops do not use them: they run on preallocated workspaces through unsafe pointers.
public struct Tensor: Equatable, Sendable {
    public var shape: [Int]
    public var data: [Float]

    /// Number of elements a shape holds (1 for the empty shape, a scalar).
    public static func count(of shape: [Int]) -> Int { shape.reduce(1, *) }

    /// A tensor of zeros.
    public init(zeros shape: [Int]) {
        self.shape = shape
        self.data = [Float](repeating: 0, count: Tensor.count(of: shape))
    }

    /// A tensor from storage; throws when the storage does not match the shape.
    public init(shape: [Int], data: [Float]) throws {
        guard shape.allSatisfy({ $0 >= 0 }), Tensor.count(of: shape) == data.count else {
            throw ConvNetError.shapeMismatch(
                "tensor of shape \(shape) needs \(Tensor.count(of: shape)) values, got \(data.count)")
        }
        self.shape = shape
        self.data = data
    }

    public var count: Int { data.count }

    /// Element at a multi-index (row-major); for tests and small tools, not hot loops.
    public subscript(_ index: Int...) -> Float {
        get { data[flatIndex(index)] }
        set { data[flatIndex(index)] = newValue }
    }

    private func flatIndex(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "index \(index) for shape \(shape)")
        var flat = 0
        for (i, dim) in zip(index, shape) {
            precondition(i >= 0 && i < dim, "index \(index) out of shape \(shape)")
            flat = flat * dim + i
        }
        return flat
    }
}

/// Errors of the ConvNet target. Each message says what is wrong.
public enum ConvNetError: Error, Equatable, CustomStringConvertible {
    /// Sizes that do not fit together (a parameter vector, a batch, an input).
    case shapeMismatch(String)
    /// An architecture that cannot be built (a kernel larger than its input, zero sizes).
    case invalidArchitecture(String)
    /// An operation this network does not support (e.g. an exact Hessian through convolutions).
    case unsupported(String)

    public var description: String {
        switch self {
        case .shapeMismatch(let s): return "shape mismatch: \(s)"
        case .invalidArchitecture(let s): return "invalid architecture: \(s)"
        case .unsupported(let s): return "unsupported: \(s)"
        }
    }
}
