// ConvNet: Float32 tensors and convolutional networks with hand-written backward passes.
// (Layers, the flat parameter vector, Adam and safetensors arrive with issue 3.)
