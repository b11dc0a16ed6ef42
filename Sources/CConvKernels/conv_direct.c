// Direct convolution with AVX-512 (see include/conv_direct.h for the contract).
//
// Register block: 8 output channels x 32 output columns of one output row (two 16-lane
// vectors, the second masked to the row's end): 16 accumulators. Per tap r: two input loads,
// eight weight broadcasts, sixteen FMAs. Compiled for AVX-512 by function attribute only, so
// the rest of the binary still runs on any x86-64; callers check gmps_conv_direct_available().
#include "conv_direct.h"

#include <immintrin.h>

int gmps_conv_direct_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") ? 1 : 0;
}

#define GMPS_AVX512 __attribute__((target("avx512f")))

// act(acc + bias) stored under mask: bias added once after the chain, as the GEMM path's epilogue.
GMPS_AVX512 static inline void store_row(float *dst, __m512 acc, float bias, int relu, __mmask16 mask) {
    __m512 v = _mm512_add_ps(acc, _mm512_set1_ps(bias));
    if (relu) {
        // (v <= 0 ? +0 : v): ordered compare, so NaN stays NaN as Swift's max(v, 0) leaves it.
        __mmask16 nonpositive = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LE_OQ);
        v = _mm512_mask_mov_ps(v, nonpositive, _mm512_setzero_ps());
    }
    _mm512_mask_storeu_ps(dst, mask, v);
}

// Eight channels [o0, o0+8) at columns [ox0, ox0+32) of row oy.
GMPS_AVX512 static void block8(const float *base, const int32_t *offset, int ckk, const float *w,
                               const float *bias, float *out, int stride, int relu,
                               __mmask16 m0, __mmask16 m1) {
    __m512 a0 = _mm512_setzero_ps(), b0 = _mm512_setzero_ps();
    __m512 a1 = _mm512_setzero_ps(), b1 = _mm512_setzero_ps();
    __m512 a2 = _mm512_setzero_ps(), b2 = _mm512_setzero_ps();
    __m512 a3 = _mm512_setzero_ps(), b3 = _mm512_setzero_ps();
    __m512 a4 = _mm512_setzero_ps(), b4 = _mm512_setzero_ps();
    __m512 a5 = _mm512_setzero_ps(), b5 = _mm512_setzero_ps();
    __m512 a6 = _mm512_setzero_ps(), b6 = _mm512_setzero_ps();
    __m512 a7 = _mm512_setzero_ps(), b7 = _mm512_setzero_ps();
    for (int r = 0; r < ckk; r++) {
        const float *p = base + offset[r];
        const __m512 x0 = _mm512_maskz_loadu_ps(m0, p);
        const __m512 x1 = _mm512_maskz_loadu_ps(m1, p + 16);
        const float *wr = w + r;
        __m512 s;
        s = _mm512_set1_ps(wr[0 * ckk]); a0 = _mm512_fmadd_ps(s, x0, a0); b0 = _mm512_fmadd_ps(s, x1, b0);
        s = _mm512_set1_ps(wr[1 * ckk]); a1 = _mm512_fmadd_ps(s, x0, a1); b1 = _mm512_fmadd_ps(s, x1, b1);
        s = _mm512_set1_ps(wr[2 * ckk]); a2 = _mm512_fmadd_ps(s, x0, a2); b2 = _mm512_fmadd_ps(s, x1, b2);
        s = _mm512_set1_ps(wr[3 * ckk]); a3 = _mm512_fmadd_ps(s, x0, a3); b3 = _mm512_fmadd_ps(s, x1, b3);
        s = _mm512_set1_ps(wr[4 * ckk]); a4 = _mm512_fmadd_ps(s, x0, a4); b4 = _mm512_fmadd_ps(s, x1, b4);
        s = _mm512_set1_ps(wr[5 * ckk]); a5 = _mm512_fmadd_ps(s, x0, a5); b5 = _mm512_fmadd_ps(s, x1, b5);
        s = _mm512_set1_ps(wr[6 * ckk]); a6 = _mm512_fmadd_ps(s, x0, a6); b6 = _mm512_fmadd_ps(s, x1, b6);
        s = _mm512_set1_ps(wr[7 * ckk]); a7 = _mm512_fmadd_ps(s, x0, a7); b7 = _mm512_fmadd_ps(s, x1, b7);
    }
    store_row(out + 0 * stride, a0, bias[0], relu, m0); store_row(out + 0 * stride + 16, b0, bias[0], relu, m1);
    store_row(out + 1 * stride, a1, bias[1], relu, m0); store_row(out + 1 * stride + 16, b1, bias[1], relu, m1);
    store_row(out + 2 * stride, a2, bias[2], relu, m0); store_row(out + 2 * stride + 16, b2, bias[2], relu, m1);
    store_row(out + 3 * stride, a3, bias[3], relu, m0); store_row(out + 3 * stride + 16, b3, bias[3], relu, m1);
    store_row(out + 4 * stride, a4, bias[4], relu, m0); store_row(out + 4 * stride + 16, b4, bias[4], relu, m1);
    store_row(out + 5 * stride, a5, bias[5], relu, m0); store_row(out + 5 * stride + 16, b5, bias[5], relu, m1);
    store_row(out + 6 * stride, a6, bias[6], relu, m0); store_row(out + 6 * stride + 16, b6, bias[6], relu, m1);
    store_row(out + 7 * stride, a7, bias[7], relu, m0); store_row(out + 7 * stride + 16, b7, bias[7], relu, m1);
}

// One channel at a time, for the channels past the last multiple of eight.
GMPS_AVX512 static void block1(const float *base, const int32_t *offset, int ckk, const float *w,
                               float bias, float *out, int relu, __mmask16 m0, __mmask16 m1) {
    __m512 a = _mm512_setzero_ps(), b = _mm512_setzero_ps();
    for (int r = 0; r < ckk; r++) {
        const float *p = base + offset[r];
        const __m512 s = _mm512_set1_ps(w[r]);
        a = _mm512_fmadd_ps(s, _mm512_maskz_loadu_ps(m0, p), a);
        b = _mm512_fmadd_ps(s, _mm512_maskz_loadu_ps(m1, p + 16), b);
    }
    store_row(out, a, bias, relu, m0);
    store_row(out + 16, b, bias, relu, m1);
}

static __mmask16 lanes(int count) {
    if (count <= 0) return 0;
    if (count >= 16) return (__mmask16)0xFFFF;
    return (__mmask16)((1u << count) - 1u);
}

GMPS_AVX512 void gmps_conv_direct(const float *src, const int32_t *offset, int ckk, int row_stride,
                                  const float *weight, const float *bias, int oc,
                                  float *out, int out_channel_stride, int ow, int row_begin, int row_end, int relu) {
    for (int oy = row_begin; oy < row_end; oy++) {
        for (int ox0 = 0; ox0 < ow; ox0 += 32) {
            const __mmask16 m0 = lanes(ow - ox0), m1 = lanes(ow - ox0 - 16);
            const float *base = src + (long)oy * row_stride + ox0;
            float *dst = out + (long)oy * ow + ox0;
            int o = 0;
            for (; o + 8 <= oc; o += 8) {
                block8(base, offset, ckk, weight + (long)o * ckk, bias + o, dst + (long)o * out_channel_stride,
                       out_channel_stride, relu, m0, m1);
            }
            for (; o < oc; o++) {
                block1(base, offset, ckk, weight + (long)o * ckk, bias[o], dst + (long)o * out_channel_stride, relu, m0, m1);
            }
        }
    }
}
