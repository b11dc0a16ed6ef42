// A direct convolution kernel for CPUs with AVX-512, which Swift cannot target per function.
//
// Each output is one chain of fused multiply-adds over r = 0..<ckk in order, starting from +0,
// then the bias is added and, with relu, values <= 0 become +0: exactly what OpenBLAS's blocked
// sgemm kernel computes for weight (OC,CKK) x im2col (CKK,N) on the CPUs that have AVX-512
// (measured bit for bit; ConvNet checks it once per process before using this kernel).
#ifndef GMPS_CONV_DIRECT_H
#define GMPS_CONV_DIRECT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// 1 when this CPU can run `gmps_conv_direct` (AVX-512F), else 0.
int gmps_conv_direct_available(void);

/// out[o*out_channel_stride + oy*ow + ox] =
///     act(bias[o] + sum over r of weight[o*ckk + r] * src[offset[r] + oy*row_stride + ox])
/// for o < oc, oy in [row_begin, row_end), ox < ow, the sum a chain of FMAs in r order from +0
/// and act(v) = (v <= 0 ? +0 : v) with relu, v otherwise. src holds the input (or its phase
/// planes); offset[r] is where tap r = (c, kh, kw) starts reading for output (0, 0).
/// Only call when `gmps_conv_direct_available()` returns 1.
void gmps_conv_direct(const float *src, const int32_t *offset, int ckk, int row_stride,
                      const float *weight, const float *bias, int oc,
                      float *out, int out_channel_stride, int ow, int row_begin, int row_end, int relu);

/// The weight gradient of that convolution over one image, without im2col:
///     dweight[o*ckk + r] (+)= sum over p < ohw of dout_t[p*oc + o] * src[offset[r] + (p / ow)*row_stride + p % ow]
/// (overwriting when `accumulate` is 0), as OpenBLAS's blocked sgemm computes dout · colᵀ on the
/// CPUs that have AVX-512: the columns p split into its K blocks (320 columns, the last two
/// split evenly in multiples of 16), each block's sum one chain of FMAs in p order from +0,
/// added to dweight block by block. dout_t is dout transposed, (OHW, OC).
/// Only call when `gmps_conv_direct_available()` returns 1.
void gmps_conv_weight_gradient(const float *src, const int32_t *offset, int ckk, int row_stride,
                               int ow, int ohw, const float *dout_t, int oc,
                               float *dweight, int accumulate);

/// The input gradient of a stride-1 unpadded convolution over one image, without dcol:
///     dx[ch, q] = sum over taps (kh, kw) in order of
///                 (sum over o < oc of weight[o*ckk + ch*k*k + kh*k + kw] * padded[o*padded_stride + q - kh*w - kw])
/// for ch < c, q < h*w, each inner sum one chain of FMAs in o order from +0, the outer sum from +0
/// in tap order: the GEMM path's dcol = Wᵀ · dout (OpenBLAS's small-matrix kernel) and col2im.
/// `padded` points at output column 0 of dout spread over whole input rows (dout[o, oy, ox] at
/// padded[o*padded_stride + oy*w + ox], zeros at ox >= ow), with zeros from (k-1)*(w+1) floats
/// before it to 48 floats past h*w.
/// Only call when `gmps_conv_direct_available()` returns 1.
void gmps_conv_input_gradient(const float *padded, long padded_stride, const float *weight, int oc,
                              int c, int k, int h, int w, float *dx);

#ifdef __cplusplus
}
#endif

#endif
