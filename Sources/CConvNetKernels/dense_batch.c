// Matrix products of dense layers at batch > 1 with AVX-512 (see include/dense_batch.h).
//
// C (M, N) = A · B where B's rows are contiguous (a weight row, an input row) and A's entries
// are broadcast: lanes run over C's columns, so each entry is one chain of FMAs over k in order
// from +0, restarted at OpenBLAS's K blocks and added to C block by block, as its blocked sgemm
// computes it (the kernel's rule; checked bit for bit in ConvNet before use). Register block:
// 6 rows x 64 columns, 24 accumulators; per k four B loads, six broadcasts, twenty-four FMAs.
#include "dense_batch.h"

#include <immintrin.h>
#include <stdlib.h>

#include "openblas_blocking.h"

#pragma clang fp contract(off)

static __mmask16 lanes(long first, long end) {
    const long count = end - first;
    if (count <= 0) return 0;
    return count >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << count) - 1u);
}

// row[0..<64] (the lanes of the masks) = x, or row += x.
GMPS_AVX512 static inline void store_row(float *row, int first, __m512 x0, __m512 x1, __m512 x2, __m512 x3,
                                         __mmask16 m0, __mmask16 m1, __mmask16 m2, __mmask16 m3) {
    if (!first) {
        x0 = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, row), x0);
        x1 = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, row + 16), x1);
        x2 = _mm512_add_ps(_mm512_maskz_loadu_ps(m2, row + 32), x2);
        x3 = _mm512_add_ps(_mm512_maskz_loadu_ps(m3, row + 48), x3);
    }
    _mm512_mask_storeu_ps(row, m0, x0);
    _mm512_mask_storeu_ps(row + 16, m1, x1);
    _mm512_mask_storeu_ps(row + 32, m2, x2);
    _mm512_mask_storeu_ps(row + 48, m3, x3);
}

typedef struct {
    const float *a;
    long a_row, a_k;
    const float *b;
    long ldb;
    float *c;
    long ldc;
} Operands;

// Rows [i0, i0 + 6) at columns [j0, j0 + 64) over k in [k0, k1): written to C for the first K
// block (0 + s is s: a chain from +0 never ends at -0), added to it after. `panel` holds B's
// rows k0..<k1 at these columns, `stride` floats apart. `next` (or NULL): six rows of A, a_row
// apart, that the following tile reads over k1 - k0 entries, fetched into cache one line per k
// meanwhile: a weight matrix streams from memory (the reference CNN's 22 MB do not stay in
// cache between passes), and each tile starting six cold rows stalled the whole-layer product
// by 10-17%. A prefetch changes no value.
GMPS_AVX512 static void tile6(Operands o, const float *panel, long stride, long i0, long j0, long k0, long k1, int first,
                              __mmask16 m0, __mmask16 m1, __mmask16 m2, __mmask16 m3, const float *next) {
    __m512 c00 = _mm512_setzero_ps(), c01 = _mm512_setzero_ps(), c02 = _mm512_setzero_ps(), c03 = _mm512_setzero_ps();
    __m512 c10 = _mm512_setzero_ps(), c11 = _mm512_setzero_ps(), c12 = _mm512_setzero_ps(), c13 = _mm512_setzero_ps();
    __m512 c20 = _mm512_setzero_ps(), c21 = _mm512_setzero_ps(), c22 = _mm512_setzero_ps(), c23 = _mm512_setzero_ps();
    __m512 c30 = _mm512_setzero_ps(), c31 = _mm512_setzero_ps(), c32 = _mm512_setzero_ps(), c33 = _mm512_setzero_ps();
    __m512 c40 = _mm512_setzero_ps(), c41 = _mm512_setzero_ps(), c42 = _mm512_setzero_ps(), c43 = _mm512_setzero_ps();
    __m512 c50 = _mm512_setzero_ps(), c51 = _mm512_setzero_ps(), c52 = _mm512_setzero_ps(), c53 = _mm512_setzero_ps();
    const float *a = o.a + i0 * o.a_row + k0 * o.a_k;
    const float *b = panel;
    const long lines = (k1 - k0 + 15) / 16;
    for (long k = k0; k < k1; k++, a += o.a_k, b += stride) {
        const long p = k - k0;
        if (next && p < 6 * lines) _mm_prefetch((const char *)(next + (p / lines) * o.a_row + (p % lines) * 16), _MM_HINT_T0);
        const __m512 b0 = _mm512_maskz_loadu_ps(m0, b), b1 = _mm512_maskz_loadu_ps(m1, b + 16);
        const __m512 b2 = _mm512_maskz_loadu_ps(m2, b + 32), b3 = _mm512_maskz_loadu_ps(m3, b + 48);
        __m512 s;
#define ROW(r, x0, x1, x2, x3) \
        s = _mm512_set1_ps(a[r * o.a_row]); \
        x0 = _mm512_fmadd_ps(s, b0, x0); x1 = _mm512_fmadd_ps(s, b1, x1); \
        x2 = _mm512_fmadd_ps(s, b2, x2); x3 = _mm512_fmadd_ps(s, b3, x3);
        ROW(0, c00, c01, c02, c03) ROW(1, c10, c11, c12, c13) ROW(2, c20, c21, c22, c23)
        ROW(3, c30, c31, c32, c33) ROW(4, c40, c41, c42, c43) ROW(5, c50, c51, c52, c53)
#undef ROW
    }
    float *c = o.c + i0 * o.ldc + j0;
    store_row(c + 0 * o.ldc, first, c00, c01, c02, c03, m0, m1, m2, m3);
    store_row(c + 1 * o.ldc, first, c10, c11, c12, c13, m0, m1, m2, m3);
    store_row(c + 2 * o.ldc, first, c20, c21, c22, c23, m0, m1, m2, m3);
    store_row(c + 3 * o.ldc, first, c30, c31, c32, c33, m0, m1, m2, m3);
    store_row(c + 4 * o.ldc, first, c40, c41, c42, c43, m0, m1, m2, m3);
    store_row(c + 5 * o.ldc, first, c50, c51, c52, c53, m0, m1, m2, m3);
}

// One row i at columns [j0, j0 + 64), for the rows past the last multiple of six.
GMPS_AVX512 static void tile1(Operands o, const float *panel, long stride, long i, long j0, long k0, long k1, int first,
                              __mmask16 m0, __mmask16 m1, __mmask16 m2, __mmask16 m3) {
    __m512 x0 = _mm512_setzero_ps(), x1 = _mm512_setzero_ps(), x2 = _mm512_setzero_ps(), x3 = _mm512_setzero_ps();
    const float *a = o.a + i * o.a_row + k0 * o.a_k;
    const float *b = panel;
    for (long k = k0; k < k1; k++, a += o.a_k, b += stride) {
        const __m512 s = _mm512_set1_ps(*a);
        x0 = _mm512_fmadd_ps(s, _mm512_maskz_loadu_ps(m0, b), x0);
        x1 = _mm512_fmadd_ps(s, _mm512_maskz_loadu_ps(m1, b + 16), x1);
        x2 = _mm512_fmadd_ps(s, _mm512_maskz_loadu_ps(m2, b + 32), x2);
        x3 = _mm512_fmadd_ps(s, _mm512_maskz_loadu_ps(m3, b + 48), x3);
    }
    store_row(o.c + i * o.ldc + j0, first, x0, x1, x2, x3, m0, m1, m2, m3);
}

// What the tile after rows [i, i + 6) at the K block ending at k1 reads of A, where A's rows
// run along k (a weight matrix): the next six rows over this block, else, after the last full
// tile, the first six over the next block this call computes. NULL otherwise.
static const float *next_rows(Operands o, long m, long i, long k0, long k1, long kdim, long kto) {
    if (o.a_k != 1) return NULL;
    if (i + 12 <= m) return o.a + (i + 6) * o.a_row + k0;
    return k1 < kdim && k1 < kto ? o.a + k1 : NULL;
}

GMPS_AVX512 void gmps_dense_product(long m, long n, long kdim, const float *a, long a_row, long a_k,
                                    const float *b, long ldb, float *c, long ldc, int accumulate) {
    gmps_dense_product_blocks(m, n, kdim, 0, kdim, a, a_row, a_k, b, ldb, c, ldc, accumulate);
}

GMPS_AVX512 void gmps_dense_product_blocks(long m, long n, long kdim, long kfrom, long kto, const float *a,
                                           long a_row, long a_k, const float *b, long ldb, float *c, long ldc,
                                           int accumulate) {
    if (m <= 0 || n <= 0) return;
    if (kdim <= 0) {
        if (!accumulate && kfrom <= 0) {
            for (long i = 0; i < m; i++) {
                for (long j = 0; j < n; j++) c[i * ldc + j] = 0;
            }
        }
        return;
    }
    const Operands o = {a, a_row, a_k, b, ldb, c, ldc};
    // B's rows in place when they lie within a page of each other (a transposed batch of
    // inputs); else its rows k0..<k1 over a chunk of columns are copied 64 columns at a time
    // into panels: read in place, every k was another page (rows of a weight matrix lie 86 KB
    // apart), and TLB misses halved the kernel's speed. A chunk's panels (at most 512 KB) stay
    // in L2 while every row tile of C sweeps them, so C is written in long runs of a row.
    const int in_place = ldb <= 1024;
    enum { panel_bytes = 512 * 1024 };
    float *panels = in_place ? NULL : aligned_alloc(64, panel_bytes);
    if (!in_place && !panels) return;
    for (long k0 = 0; k0 < kdim;) {
        const long k1 = k0 + gmps_k_block(kdim - k0);
        if (k0 < kfrom || k0 >= kto) { k0 = k1; continue; }
        const int first = k0 == 0 && !accumulate;
        const long chunk = in_place ? n : 64 * (long)(panel_bytes / (sizeof(float) * 64 * (k1 - k0)));
        for (long c0 = 0; c0 < n; c0 += chunk) {
            const long c1 = c0 + chunk < n ? c0 + chunk : n;
            if (!in_place) {
                for (long j0 = c0; j0 < c1; j0 += 64) {
                    const __mmask16 m0 = lanes(j0, n), m1 = lanes(j0 + 16, n), m2 = lanes(j0 + 32, n), m3 = lanes(j0 + 48, n);
                    float *panel = panels + (j0 - c0) * (k1 - k0);
                    for (long k = k0; k < k1; k++) {
                        const float *row = b + k * ldb + j0;
                        float *dst = panel + (k - k0) * 64;
                        _mm512_store_ps(dst, _mm512_maskz_loadu_ps(m0, row));
                        _mm512_store_ps(dst + 16, _mm512_maskz_loadu_ps(m1, row + 16));
                        _mm512_store_ps(dst + 32, _mm512_maskz_loadu_ps(m2, row + 32));
                        _mm512_store_ps(dst + 48, _mm512_maskz_loadu_ps(m3, row + 48));
                    }
                }
            }
            long i = 0;
            for (; i < m; i += (m - i >= 6 ? 6 : 1)) {
                for (long j0 = c0; j0 < c1; j0 += 64) {
                    const float *source = in_place ? b + k0 * ldb + j0 : panels + (j0 - c0) * (k1 - k0);
                    const long stride = in_place ? ldb : 64;
                    const __mmask16 m0 = lanes(j0, n), m1 = lanes(j0 + 16, n), m2 = lanes(j0 + 32, n), m3 = lanes(j0 + 48, n);
                    if (m - i >= 6) {
                        tile6(o, source, stride, i, j0, k0, k1, first, m0, m1, m2, m3,
                              j0 + 64 >= c1 ? next_rows(o, m, i, k0, k1, kdim, kto) : NULL);
                    } else {
                        tile1(o, source, stride, i, j0, k0, k1, first, m0, m1, m2, m3);
                    }
                }
            }
        }
        k0 = k1;
    }
    free(panels);
}

// Sixteen rows by sixteen columns at a time, transposed in registers (unpack, then shuffles of
// pairs and of 128-bit lanes), so that loads and stores are whole 64-byte rows. Scattering each
// row's 16 values down a column ran at 0.7 GB/s on the reference CNN's features.
GMPS_AVX512 static void transpose16(const float *src, long stride, long rows_left, float *dst, long dst_stride) {
    const __mmask16 valid = rows_left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << rows_left) - 1u);
    __m512 r[16], t[16], u[16];
    for (int i = 0; i < 16; i++) r[i] = i < rows_left ? _mm512_loadu_ps(src + i * stride) : _mm512_setzero_ps();
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    // u[4q + e] holds element e (+4, +8, +12 in lanes 1-3) of rows 4q..4q+3.
    for (int q = 0; q < 4; q++) {
        u[4 * q + 0] = _mm512_shuffle_ps(t[4 * q], t[4 * q + 2], 0x44);
        u[4 * q + 1] = _mm512_shuffle_ps(t[4 * q], t[4 * q + 2], 0xEE);
        u[4 * q + 2] = _mm512_shuffle_ps(t[4 * q + 1], t[4 * q + 3], 0x44);
        u[4 * q + 3] = _mm512_shuffle_ps(t[4 * q + 1], t[4 * q + 3], 0xEE);
    }
    for (int e = 0; e < 4; e++) {
        const __m512 v0 = _mm512_shuffle_f32x4(u[e], u[4 + e], 0x88), v1 = _mm512_shuffle_f32x4(u[e], u[4 + e], 0xDD);
        const __m512 w0 = _mm512_shuffle_f32x4(u[8 + e], u[12 + e], 0x88), w1 = _mm512_shuffle_f32x4(u[8 + e], u[12 + e], 0xDD);
        _mm512_mask_storeu_ps(dst + (e + 0) * dst_stride, valid, _mm512_shuffle_f32x4(v0, w0, 0x88));
        _mm512_mask_storeu_ps(dst + (e + 8) * dst_stride, valid, _mm512_shuffle_f32x4(v0, w0, 0xDD));
        _mm512_mask_storeu_ps(dst + (e + 4) * dst_stride, valid, _mm512_shuffle_f32x4(v1, w1, 0x88));
        _mm512_mask_storeu_ps(dst + (e + 12) * dst_stride, valid, _mm512_shuffle_f32x4(v1, w1, 0xDD));
    }
}

GMPS_AVX512 void gmps_transpose_columns(const float *src, long rows, long stride, long begin, long end, float *dst) {
    long j = begin;
    for (; j + 16 <= end; j += 16) {
        for (long i = 0; i < rows; i += 16) transpose16(src + i * stride + j, stride, rows - i, dst + j * rows + i, rows);
    }
    for (; j < end; j++) {
        for (long i = 0; i < rows; i++) dst[j * rows + i] = src[i * stride + j];
    }
}
