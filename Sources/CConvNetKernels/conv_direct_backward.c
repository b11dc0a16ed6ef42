// The convolution's weight gradient with AVX-512 (see include/conv_direct.h for the contract).
//
// dweight (OC,CKK) = dout (OC,OHW) · colᵀ without building col: tap r of output column p reads
// src[offset[r] + (p / ow)·row_stride + p % ow] in place, as the direct forward does. Lanes run
// over output channels (dout transposed, (OHW,OC)), so each entry's sum over p stays one chain
// of FMAs in p order, the order OpenBLAS's blocked kernel uses; the chain restarts at its K
// blocks, whose sums are added to dweight one by one (`gmps_k_block`). Register block: 32 output
// channels x 8 taps, 16 accumulators; per column two dout loads, eight broadcasts, sixteen FMAs.
#include "conv_direct.h"

#include <immintrin.h>

#include "openblas_blocking.h"

#pragma clang fp contract(off)

// dweight[o, r] = (start) + acc for the 16 channels of `mask` from o0, at stride ckk: a gather,
// one rounded add per lane, a scatter (lanes are channels, dweight rows are channels).
GMPS_AVX512 static inline void add_column(float *dweight, long ckk, __mmask16 mask, __m512i rows, __m512 acc) {
    const __m512 old = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mask, rows, dweight, 4);
    _mm512_mask_i32scatter_ps(dweight, mask, rows, _mm512_add_ps(old, acc), 4);
}

// Taps [r0, r0 + 8) for channels [o0, o0 + 32) (masks m0, m1) over columns [k0, k1).
GMPS_AVX512 static void block8(const float *src, const int32_t *offset, int r0, long k0, long k1,
                               int row_stride, int ow, const float *dout_t, int oc, int o0,
                               __mmask16 m0, __mmask16 m1, float *dweight, long ckk, __m512i rows) {
    const float *t0 = src + offset[r0 + 0], *t1 = src + offset[r0 + 1], *t2 = src + offset[r0 + 2];
    const float *t3 = src + offset[r0 + 3], *t4 = src + offset[r0 + 4], *t5 = src + offset[r0 + 5];
    const float *t6 = src + offset[r0 + 6], *t7 = src + offset[r0 + 7];
    __m512 a0 = _mm512_setzero_ps(), b0 = _mm512_setzero_ps();
    __m512 a1 = _mm512_setzero_ps(), b1 = _mm512_setzero_ps();
    __m512 a2 = _mm512_setzero_ps(), b2 = _mm512_setzero_ps();
    __m512 a3 = _mm512_setzero_ps(), b3 = _mm512_setzero_ps();
    __m512 a4 = _mm512_setzero_ps(), b4 = _mm512_setzero_ps();
    __m512 a5 = _mm512_setzero_ps(), b5 = _mm512_setzero_ps();
    __m512 a6 = _mm512_setzero_ps(), b6 = _mm512_setzero_ps();
    __m512 a7 = _mm512_setzero_ps(), b7 = _mm512_setzero_ps();
    long ox = k0 % ow, column = (k0 / ow) * row_stride + ox;
    const float *d = dout_t + k0 * oc + o0;
    for (long p = k0; p < k1; p++, d += oc) {
        const __m512 d0 = _mm512_maskz_loadu_ps(m0, d), d1 = _mm512_maskz_loadu_ps(m1, d + 16);
        __m512 s;
        s = _mm512_set1_ps(t0[column]); a0 = _mm512_fmadd_ps(s, d0, a0); b0 = _mm512_fmadd_ps(s, d1, b0);
        s = _mm512_set1_ps(t1[column]); a1 = _mm512_fmadd_ps(s, d0, a1); b1 = _mm512_fmadd_ps(s, d1, b1);
        s = _mm512_set1_ps(t2[column]); a2 = _mm512_fmadd_ps(s, d0, a2); b2 = _mm512_fmadd_ps(s, d1, b2);
        s = _mm512_set1_ps(t3[column]); a3 = _mm512_fmadd_ps(s, d0, a3); b3 = _mm512_fmadd_ps(s, d1, b3);
        s = _mm512_set1_ps(t4[column]); a4 = _mm512_fmadd_ps(s, d0, a4); b4 = _mm512_fmadd_ps(s, d1, b4);
        s = _mm512_set1_ps(t5[column]); a5 = _mm512_fmadd_ps(s, d0, a5); b5 = _mm512_fmadd_ps(s, d1, b5);
        s = _mm512_set1_ps(t6[column]); a6 = _mm512_fmadd_ps(s, d0, a6); b6 = _mm512_fmadd_ps(s, d1, b6);
        s = _mm512_set1_ps(t7[column]); a7 = _mm512_fmadd_ps(s, d0, a7); b7 = _mm512_fmadd_ps(s, d1, b7);
        // Next column: along the output row, or to the start of the next row.
        if (++ox == ow) { ox = 0; column += row_stride - ow + 1; } else { column++; }
    }
    const __m512i rows16 = _mm512_add_epi32(rows, _mm512_set1_epi32(16 * (int)ckk));
    float *w = dweight + (long)o0 * ckk + r0;
    add_column(w + 0, ckk, m0, rows, a0); add_column(w + 0, ckk, m1, rows16, b0);
    add_column(w + 1, ckk, m0, rows, a1); add_column(w + 1, ckk, m1, rows16, b1);
    add_column(w + 2, ckk, m0, rows, a2); add_column(w + 2, ckk, m1, rows16, b2);
    add_column(w + 3, ckk, m0, rows, a3); add_column(w + 3, ckk, m1, rows16, b3);
    add_column(w + 4, ckk, m0, rows, a4); add_column(w + 4, ckk, m1, rows16, b4);
    add_column(w + 5, ckk, m0, rows, a5); add_column(w + 5, ckk, m1, rows16, b5);
    add_column(w + 6, ckk, m0, rows, a6); add_column(w + 6, ckk, m1, rows16, b6);
    add_column(w + 7, ckk, m0, rows, a7); add_column(w + 7, ckk, m1, rows16, b7);
}

// One tap r, for the taps past the last multiple of eight.
GMPS_AVX512 static void block1(const float *src, const int32_t *offset, int r, long k0, long k1,
                               int row_stride, int ow, const float *dout_t, int oc, int o0,
                               __mmask16 m0, __mmask16 m1, float *dweight, long ckk, __m512i rows) {
    const float *t = src + offset[r];
    __m512 a = _mm512_setzero_ps(), b = _mm512_setzero_ps();
    long ox = k0 % ow, column = (k0 / ow) * row_stride + ox;
    const float *d = dout_t + k0 * oc + o0;
    for (long p = k0; p < k1; p++, d += oc) {
        const __m512 s = _mm512_set1_ps(t[column]);
        a = _mm512_fmadd_ps(s, _mm512_maskz_loadu_ps(m0, d), a);
        b = _mm512_fmadd_ps(s, _mm512_maskz_loadu_ps(m1, d + 16), b);
        if (++ox == ow) { ox = 0; column += row_stride - ow + 1; } else { column++; }
    }
    float *w = dweight + (long)o0 * ckk + r;
    add_column(w, ckk, m0, rows, a);
    add_column(w, ckk, m1, _mm512_add_epi32(rows, _mm512_set1_epi32(16 * (int)ckk)), b);
}

static __mmask16 channel_mask(int first, int end) {
    const int count = end - first;
    if (count <= 0) return 0;
    return count >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << count) - 1u);
}

GMPS_AVX512 void gmps_conv_weight_gradient(const float *src, const int32_t *offset, int ckk, int row_stride,
                                           int ow, int ohw, const float *dout_t, int oc,
                                           float *dweight, int accumulate) {
    if (!accumulate) {
        for (long i = 0; i < (long)oc * ckk; i++) dweight[i] = 0;
    }
    // Lane l of a channel vector is row o0 + l of dweight.
    const __m512i rows = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                            _mm512_set1_epi32(ckk));
    for (long k0 = 0; k0 < ohw;) {
        const long k1 = k0 + gmps_k_block(ohw - k0);
        for (int o0 = 0; o0 < oc; o0 += 32) {
            const __mmask16 m0 = channel_mask(o0, oc < o0 + 16 ? oc : o0 + 16);
            const __mmask16 m1 = channel_mask(o0 + 16, oc < o0 + 32 ? oc : o0 + 32);
            int r = 0;
            for (; r + 8 <= ckk; r += 8) {
                block8(src, offset, r, k0, k1, row_stride, ow, dout_t, oc, o0, m0, m1, dweight, ckk, rows);
            }
            for (; r < ckk; r++) {
                block1(src, offset, r, k0, k1, row_stride, ow, dout_t, oc, o0, m0, m1, dweight, ckk, rows);
            }
        }
        k0 = k1;
    }
}

// The input gradient of a stride-1 unpadded convolution (see include/conv_direct.h).
//
// dx[c, q] = sum over taps (kh, kw) in order of t[c, kh, kw][q - kh·w - kw], each t one chain of
// FMAs over the output channels from +0 (dcol = Wᵀ · dout of the GEMM path, whose col2im adds
// the rows in this order). dout comes spread over whole input rows with zeros around it
// (`padded`), so a tap whose shifted position falls outside the outputs reads zeros, whose
// chain is +0 and leaves the sum unchanged (dx starts at +0 and is never -0). Register block:
// 4 input channels x 48 positions, 12 chain and 12 dx accumulators; per output channel three
// dout loads, four weight broadcasts, twelve FMAs.
GMPS_AVX512 static void data_block4(const float *padded, long padded_stride, const float *weight, int oc, int ckk,
                                    int kk, int k, int w, long q0, float *dx, long plane, __mmask16 s0, __mmask16 s1,
                                    __mmask16 s2) {
    __m512 x00 = _mm512_setzero_ps(), x01 = _mm512_setzero_ps(), x02 = _mm512_setzero_ps();
    __m512 x10 = _mm512_setzero_ps(), x11 = _mm512_setzero_ps(), x12 = _mm512_setzero_ps();
    __m512 x20 = _mm512_setzero_ps(), x21 = _mm512_setzero_ps(), x22 = _mm512_setzero_ps();
    __m512 x30 = _mm512_setzero_ps(), x31 = _mm512_setzero_ps(), x32 = _mm512_setzero_ps();
    for (int kh = 0; kh < k; kh++) {
        for (int kw = 0; kw < k; kw++) {
            const int tap = kh * k + kw;
            const float *d = padded + q0 - (long)kh * w - kw;
            const float *wt = weight + tap;
            __m512 t00 = _mm512_setzero_ps(), t01 = _mm512_setzero_ps(), t02 = _mm512_setzero_ps();
            __m512 t10 = _mm512_setzero_ps(), t11 = _mm512_setzero_ps(), t12 = _mm512_setzero_ps();
            __m512 t20 = _mm512_setzero_ps(), t21 = _mm512_setzero_ps(), t22 = _mm512_setzero_ps();
            __m512 t30 = _mm512_setzero_ps(), t31 = _mm512_setzero_ps(), t32 = _mm512_setzero_ps();
            for (int o = 0; o < oc; o++, d += padded_stride, wt += ckk) {
                const __m512 d0 = _mm512_loadu_ps(d), d1 = _mm512_loadu_ps(d + 16), d2 = _mm512_loadu_ps(d + 32);
                __m512 s;
                s = _mm512_set1_ps(wt[0 * kk]);
                t00 = _mm512_fmadd_ps(s, d0, t00); t01 = _mm512_fmadd_ps(s, d1, t01); t02 = _mm512_fmadd_ps(s, d2, t02);
                s = _mm512_set1_ps(wt[1 * kk]);
                t10 = _mm512_fmadd_ps(s, d0, t10); t11 = _mm512_fmadd_ps(s, d1, t11); t12 = _mm512_fmadd_ps(s, d2, t12);
                s = _mm512_set1_ps(wt[2 * kk]);
                t20 = _mm512_fmadd_ps(s, d0, t20); t21 = _mm512_fmadd_ps(s, d1, t21); t22 = _mm512_fmadd_ps(s, d2, t22);
                s = _mm512_set1_ps(wt[3 * kk]);
                t30 = _mm512_fmadd_ps(s, d0, t30); t31 = _mm512_fmadd_ps(s, d1, t31); t32 = _mm512_fmadd_ps(s, d2, t32);
            }
            x00 = _mm512_add_ps(x00, t00); x01 = _mm512_add_ps(x01, t01); x02 = _mm512_add_ps(x02, t02);
            x10 = _mm512_add_ps(x10, t10); x11 = _mm512_add_ps(x11, t11); x12 = _mm512_add_ps(x12, t12);
            x20 = _mm512_add_ps(x20, t20); x21 = _mm512_add_ps(x21, t21); x22 = _mm512_add_ps(x22, t22);
            x30 = _mm512_add_ps(x30, t30); x31 = _mm512_add_ps(x31, t31); x32 = _mm512_add_ps(x32, t32);
        }
    }
    float *out = dx + q0;
    _mm512_mask_storeu_ps(out, s0, x00); _mm512_mask_storeu_ps(out + 16, s1, x01); _mm512_mask_storeu_ps(out + 32, s2, x02);
    out += plane;
    _mm512_mask_storeu_ps(out, s0, x10); _mm512_mask_storeu_ps(out + 16, s1, x11); _mm512_mask_storeu_ps(out + 32, s2, x12);
    out += plane;
    _mm512_mask_storeu_ps(out, s0, x20); _mm512_mask_storeu_ps(out + 16, s1, x21); _mm512_mask_storeu_ps(out + 32, s2, x22);
    out += plane;
    _mm512_mask_storeu_ps(out, s0, x30); _mm512_mask_storeu_ps(out + 16, s1, x31); _mm512_mask_storeu_ps(out + 32, s2, x32);
}

// One input channel, for the channels past the last multiple of four.
GMPS_AVX512 static void data_block1(const float *padded, long padded_stride, const float *weight, int oc, int ckk,
                                    int k, int w, long q0, float *dx, __mmask16 s0, __mmask16 s1, __mmask16 s2) {
    __m512 x0 = _mm512_setzero_ps(), x1 = _mm512_setzero_ps(), x2 = _mm512_setzero_ps();
    for (int kh = 0; kh < k; kh++) {
        for (int kw = 0; kw < k; kw++) {
            const float *d = padded + q0 - (long)kh * w - kw;
            const float *wt = weight + kh * k + kw;
            __m512 t0 = _mm512_setzero_ps(), t1 = _mm512_setzero_ps(), t2 = _mm512_setzero_ps();
            for (int o = 0; o < oc; o++, d += padded_stride, wt += ckk) {
                const __m512 s = _mm512_set1_ps(*wt);
                t0 = _mm512_fmadd_ps(s, _mm512_loadu_ps(d), t0);
                t1 = _mm512_fmadd_ps(s, _mm512_loadu_ps(d + 16), t1);
                t2 = _mm512_fmadd_ps(s, _mm512_loadu_ps(d + 32), t2);
            }
            x0 = _mm512_add_ps(x0, t0); x1 = _mm512_add_ps(x1, t1); x2 = _mm512_add_ps(x2, t2);
        }
    }
    _mm512_mask_storeu_ps(dx + q0, s0, x0);
    _mm512_mask_storeu_ps(dx + q0 + 16, s1, x1);
    _mm512_mask_storeu_ps(dx + q0 + 32, s2, x2);
}

static __mmask16 lanes_below(long first, long end) {
    return channel_mask(0, (int)(end - first < 0 ? 0 : (end - first > 16 ? 16 : end - first)));
}

GMPS_AVX512 void gmps_conv_input_gradient(const float *padded, long padded_stride, const float *weight, int oc,
                                          int c, int k, int h, int w, float *dx) {
    const int kk = k * k, ckk = c * kk;
    const long plane = (long)h * w;
    for (long q0 = 0; q0 < plane; q0 += 48) {
        const __mmask16 s0 = lanes_below(q0, plane), s1 = lanes_below(q0 + 16, plane), s2 = lanes_below(q0 + 32, plane);
        int ch = 0;
        for (; ch + 4 <= c; ch += 4) {
            data_block4(padded, padded_stride, weight + ch * kk, oc, ckk, kk, k, w, q0, dx + ch * plane, plane, s0, s1, s2);
        }
        for (; ch < c; ch++) {
            data_block1(padded, padded_stride, weight + ch * kk, oc, ckk, k, w, q0, dx + ch * plane, s0, s1, s2);
        }
    }
}
