// ConvNet: Float32 convolutional networks with hand-written forward and backward passes,
// parameters in one flat vector, a Gaussian policy head, Hessian-vector products, Adam and
// safetensors. No autograd: every layer is a forward/backward pair checked against finite
// differences in ConvNetTests.
//
// Shape legend, used in a comment on every numerical function of this target:
//   N  = batch size (images or samples)
//   C  = input channels,  H, W   = input height and width   (images are NCHW, row-major)
//   OC = output channels, OH, OW = output height and width
//   K  = square kernel size, S = stride
//   CKK = C*K*K (rows of an im2col matrix), OHW = OH*OW (its columns)
//   D  = input features of a dense layer, O = its output features
//   F  = image features (2*C keypoints for spatial softmax, C*H*W when flattened)
//   E  = extra vector inputs per sample (proprioception), B = learned bias-vector size
//   A  = action dimensions (outputs of a policy), P = parameter count
//
// Layout of the code:
//   Tensor, SeededGenerator, VectorOps, BLAS       small building blocks
//   Layers/                                         forward/backward kernels on raw pointers,
//                                                   each beside its backward (Conv2D also beside
//                                                   its direct-convolution test oracle)
//   NetworkSpec, ParameterLayout                    an architecture and its flat parameter vector
//   Network, Network+Passes, Workspace              building a network; forward/backward on any θ
//   Network+Head                                    the head on detached encoder features
//   GaussianPolicy, Losses, HessianVector           objectives and their derivatives
//   Adam, Safetensors(+Network), AtomicWrite        optimisation and storage (F32 and U8 tensors)
//   FrameBytes                                      frames as bytes: the one Float <-> UInt8 conversion
