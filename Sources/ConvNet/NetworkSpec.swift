/// An architecture: an optional image encoder (convolutions with ReLU, then spatial-softmax
/// keypoints or a flatten), concatenated with extra vector inputs and a learned bias vector,
/// then a fully connected stack to `outputs` values (linear output: a policy's action mean).
/// With `logStd` set, the parameter vector also holds a state-independent log standard
/// deviation per output for `GaussianPolicy`.
///
/// `Codable`: safetensors files carry it in their metadata, and loading checks it.
public struct NetworkSpec: Codable, Equatable, Sendable {
    /// An image input, NCHW.
    public struct ImageInput: Codable, Equatable, Sendable {
        public var channels: Int, height: Int, width: Int
        public init(channels: Int, height: Int, width: Int) {
            self.channels = channels; self.height = height; self.width = width
        }
    }

    /// One convolution layer (always followed by ReLU).
    public struct Convolution: Codable, Equatable, Sendable {
        public var outChannels: Int, kernel: Int, stride: Int, padding: Padding
        public init(outChannels: Int, kernel: Int, stride: Int, padding: Padding) {
            self.outChannels = outChannels; self.kernel = kernel; self.stride = stride; self.padding = padding
        }
    }

    /// How the last feature map becomes a vector.
    public enum ImageFeatures: String, Codable, Sendable {
        /// Two expected coordinates per channel (F = 2·C).
        case spatialSoftmax = "spatial_softmax"
        /// The feature map as is (F = C·H·W; NCHW storage is already flat).
        case flatten
    }

    /// The image input, or nil for a network on vectors only (e.g. a state expert).
    public var image: ImageInput?
    /// The convolution stack (empty without an image).
    public var convolutions: [Convolution]
    /// How the last feature map becomes a vector.
    public var imageFeatures: ImageFeatures
    /// Whether the spatial softmax learns its temperature (a parameter `log_temperature`).
    public var learnedTemperature: Bool
    /// Extra vector inputs per sample, concatenated after the image features (E).
    public var extraInputs: Int
    /// Size of the learned bias-transformation vector concatenated after the extras (B).
    public var biasVector: Int
    /// Hidden fully connected layer widths.
    public var hidden: [Int]
    /// Nonlinearity after each hidden layer.
    public var activation: Activation
    /// Output width (A); the output layer is linear.
    public var outputs: Int
    /// Initial log standard deviation of a Gaussian policy head; nil: no log-std parameters.
    public var logStd: Float?
    /// Scale of the output layer's initial weights (small values start a policy near zero mean).
    public var outputInitScale: Float

    public init(image: ImageInput?, convolutions: [Convolution] = [],
                imageFeatures: ImageFeatures = .spatialSoftmax, learnedTemperature: Bool = false,
                extraInputs: Int = 0, biasVector: Int = 0, hidden: [Int], activation: Activation = .relu,
                outputs: Int, logStd: Float? = nil, outputInitScale: Float = 1) {
        self.image = image; self.convolutions = convolutions; self.imageFeatures = imageFeatures
        self.learnedTemperature = learnedTemperature; self.extraInputs = extraInputs
        self.biasVector = biasVector; self.hidden = hidden; self.activation = activation
        self.outputs = outputs; self.logStd = logStd; self.outputInitScale = outputInitScale
    }

    /// The paper-like vision policy of DESIGN.md section 4: conv 16 k5 s3, 16 k3 s3, 16 k3 s1
    /// (SAME, ReLU) → spatial softmax → [keypoints, proprioception (hand xyz), bias vector (4)]
    /// → FC 100 → FC 100 → actions (mean), with a state-independent log-std.
    public static func visionPolicy(imageHeight: Int = 48, imageWidth: Int = 64, channels: Int = 3,
                                    proprioception: Int = 3, biasVector: Int = 4, actions: Int = 3,
                                    initialStd: Float = 0.7, learnedTemperature: Bool = true) -> NetworkSpec {
        NetworkSpec(
            image: ImageInput(channels: channels, height: imageHeight, width: imageWidth),
            convolutions: [
                Convolution(outChannels: 16, kernel: 5, stride: 3, padding: .same),
                Convolution(outChannels: 16, kernel: 3, stride: 3, padding: .same),
                Convolution(outChannels: 16, kernel: 3, stride: 1, padding: .same),
            ],
            imageFeatures: .spatialSoftmax, learnedTemperature: learnedTemperature,
            extraInputs: proprioception, biasVector: biasVector, hidden: [100, 100], activation: .relu,
            outputs: actions, logStd: Float(log(Double(initialStd))), outputInitScale: 0.1)
    }

    /// The benchmark's reference CNN (DESIGN.md section 5): 3x64x64 → conv 32 k5 s2 → conv 32 k3
    /// → conv 32 k3 (ReLU, VALID) → flatten → FC 256 → FC 256 → 4.
    public static func referenceCNN() -> NetworkSpec {
        NetworkSpec(
            image: ImageInput(channels: 3, height: 64, width: 64),
            convolutions: [
                Convolution(outChannels: 32, kernel: 5, stride: 2, padding: .valid),
                Convolution(outChannels: 32, kernel: 3, stride: 1, padding: .valid),
                Convolution(outChannels: 32, kernel: 3, stride: 1, padding: .valid),
            ],
            imageFeatures: .flatten, hidden: [256, 256], activation: .relu, outputs: 4)
    }

    /// A multilayer perceptron on `inputs` features (e.g. a state expert, or a policy head on
    /// detached image features).
    public static func mlp(inputs: Int, hidden: [Int], outputs: Int, activation: Activation = .tanh,
                           biasVector: Int = 0, initialStd: Float? = nil) -> NetworkSpec {
        NetworkSpec(image: nil, extraInputs: inputs, biasVector: biasVector, hidden: hidden,
                    activation: activation, outputs: outputs,
                    logStd: initialStd.map { Float(log(Double($0))) })
    }
}

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
