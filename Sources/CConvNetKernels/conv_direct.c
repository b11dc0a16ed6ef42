// Direct convolution with AVX-512 (see include/conv_direct.h for the contract).
//
// Columns run over whole input rows, as in ConvNet's full-width im2col: column n = oy*row_stride
// + ox reads src[offset[r] + n], so 16 consecutive columns are one load however they straddle
// output rows, and only the columns with ox >= ow (7% on the reference CNN) are computed in
// vain, where vectors per output row wasted 6-19% of their lanes. Each vector's valid lanes
// are compressed into consecutive outputs (their indices oy*ow + ox are consecutive).
// Register block: 8 output channels x 32 columns, 16 accumulators; per tap r two input loads,
// eight weight broadcasts, sixteen FMAs. Compiled for AVX-512 by function attribute only, so
// the rest of the binary still runs on any x86-64; callers check gmps_conv_direct_available().
#include "conv_direct.h"

#include <immintrin.h>

// The FMAs are written out; nothing else may be fused (the bias add must round on its own).
#pragma clang fp contract(off)

int gmps_conv_direct_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") ? 1 : 0;
}

#define GMPS_AVX512 __attribute__((target("avx512f")))

// One vector's lanes: `load` the columns below the end of the needed input, `keep` those
// with ox < ow, compressed into the low lanes `stored` and written from output index `first`
// (oy*ow + ox of the first kept lane).
typedef struct {
    __mmask16 load, keep, stored;
    long first;
} Lanes;

// act(acc + bias) for the kept lanes: bias added once after the chain, as the GEMM path's epilogue.
GMPS_AVX512 static inline void store_lanes(float *out, __m512 acc, float bias, int relu, Lanes lanes) {
    __m512 v = _mm512_add_ps(acc, _mm512_set1_ps(bias));
    if (relu) {
        // (v <= 0 ? +0 : v): ordered compare, so NaN stays NaN as Swift's max(v, 0) leaves it.
        __mmask16 nonpositive = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LE_OQ);
        v = _mm512_mask_mov_ps(v, nonpositive, _mm512_setzero_ps());
    }
    _mm512_mask_storeu_ps(out + lanes.first, lanes.stored, _mm512_maskz_compress_ps(lanes.keep, v));
}

// Eight channels [o0, o0+8) at columns [n0, n0+32).
GMPS_AVX512 static void block8(const float *base, const int32_t *offset, int ckk, const float *w,
                               const float *bias, float *out, int stride, int relu, Lanes l0, Lanes l1) {
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
        const __m512 x0 = _mm512_maskz_loadu_ps(l0.load, p);
        const __m512 x1 = _mm512_maskz_loadu_ps(l1.load, p + 16);
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
    store_lanes(out + 0 * stride, a0, bias[0], relu, l0); store_lanes(out + 0 * stride, b0, bias[0], relu, l1);
    store_lanes(out + 1 * stride, a1, bias[1], relu, l0); store_lanes(out + 1 * stride, b1, bias[1], relu, l1);
    store_lanes(out + 2 * stride, a2, bias[2], relu, l0); store_lanes(out + 2 * stride, b2, bias[2], relu, l1);
    store_lanes(out + 3 * stride, a3, bias[3], relu, l0); store_lanes(out + 3 * stride, b3, bias[3], relu, l1);
    store_lanes(out + 4 * stride, a4, bias[4], relu, l0); store_lanes(out + 4 * stride, b4, bias[4], relu, l1);
    store_lanes(out + 5 * stride, a5, bias[5], relu, l0); store_lanes(out + 5 * stride, b5, bias[5], relu, l1);
    store_lanes(out + 6 * stride, a6, bias[6], relu, l0); store_lanes(out + 6 * stride, b6, bias[6], relu, l1);
    store_lanes(out + 7 * stride, a7, bias[7], relu, l0); store_lanes(out + 7 * stride, b7, bias[7], relu, l1);
}

// One channel, for the channels past the last multiple of eight.
GMPS_AVX512 static void block1(const float *base, const int32_t *offset, int ckk, const float *w,
                               float bias, float *out, int relu, Lanes l0, Lanes l1) {
    __m512 a = _mm512_setzero_ps(), b = _mm512_setzero_ps();
    for (int r = 0; r < ckk; r++) {
        const float *p = base + offset[r];
        const __m512 s = _mm512_set1_ps(w[r]);
        a = _mm512_fmadd_ps(s, _mm512_maskz_loadu_ps(l0.load, p), a);
        b = _mm512_fmadd_ps(s, _mm512_maskz_loadu_ps(l1.load, p + 16), b);
    }
    store_lanes(out, a, bias, relu, l0);
    store_lanes(out, b, bias, relu, l1);
}

// The lanes of columns [n0, n0+16) below `end`: loaded if n < end, kept if also ox < ow.
static Lanes lanes_at(long n0, long end, int row_stride, int ow) {
    Lanes l = {0, 0, 0, 0};
    int kept = 0;
    for (int i = 0; i < 16 && n0 + i < end; i++) {
        const long n = n0 + i;
        const long ox = n % row_stride;
        l.load |= (__mmask16)(1u << i);
        if (ox < ow) {
            if (kept == 0) l.first = (n / row_stride) * ow + ox;
            l.keep |= (__mmask16)(1u << i);
            kept++;
        }
    }
    l.stored = (__mmask16)((1u << kept) - 1u);
    return l;
}

GMPS_AVX512 void gmps_conv_direct(const float *src, const int32_t *offset, int ckk, int row_stride,
                                  const float *weight, const float *bias, int oc,
                                  float *out, int out_channel_stride, int ow, int row_begin, int row_end, int relu) {
    if (row_end <= row_begin) return;
    // Columns up to the last output of the last row: reading further could pass the input's end.
    const long end = (long)(row_end - 1) * row_stride + ow;
    for (long n0 = (long)row_begin * row_stride; n0 < end; n0 += 32) {
        const Lanes l0 = lanes_at(n0, end, row_stride, ow), l1 = lanes_at(n0 + 16, end, row_stride, ow);
        const float *base = src + n0;
        int o = 0;
        for (; o + 8 <= oc; o += 8) {
            block8(base, offset, ckk, weight + (long)o * ckk, bias + o, out + (long)o * out_channel_stride,
                   out_channel_stride, relu, l0, l1);
        }
        for (; o < oc; o++) {
            block1(base, offset, ckk, weight + (long)o * ckk, bias[o], out + (long)o * out_channel_stride, relu, l0, l1);
        }
    }
}
