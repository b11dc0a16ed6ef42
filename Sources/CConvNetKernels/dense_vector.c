// Matrix-vector kernels with AVX-512 (see include/dense_vector.h for the contract).
#include "dense_vector.h"

#include <immintrin.h>

// Products and sums must round separately, as in the Swift loops (no contraction into FMA).
#pragma STDC FP_CONTRACT OFF
#pragma clang fp contract(off)

#define GMPS_AVX512 __attribute__((target("avx512f")))

int gmps_dense_vector_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") ? 1 : 0;
}

GMPS_AVX512 float gmps_dot(const float *a, const float *b, long count) {
    __m512 sum = _mm512_setzero_ps();
    long k = 0;
    for (; k + 16 <= count; k += 16) {
        sum = _mm512_add_ps(sum, _mm512_mul_ps(_mm512_loadu_ps(a + k), _mm512_loadu_ps(b + k)));
    }
    // sum0 + sum1 of the Swift loop: lanes 0-7 plus lanes 8-15.
    const __m256 halves = _mm256_add_ps(_mm512_castps512_ps256(sum),
                                        _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(sum), 1)));
    float lanes[8];
    _mm256_storeu_ps(lanes, halves);
    float total = -0.0f;
    for (int i = 0; i < 8; i++) total += lanes[i];
    for (; k < count; k++) total += a[k] * b[k];
    return total;
}

GMPS_AVX512 void gmps_axpy(float alpha, const float *x, float *y, long count) {
    const __m512 scale = _mm512_set1_ps(alpha);
    long k = 0;
    for (; k + 16 <= count; k += 16) {
        _mm512_storeu_ps(y + k, _mm512_add_ps(_mm512_loadu_ps(y + k), _mm512_mul_ps(scale, _mm512_loadu_ps(x + k))));
    }
    for (; k < count; k++) y[k] += alpha * x[k];
}

// y[i] = (y[i] <= 0 ? +0 : y[i]): Swift's max(y, 0), NaN kept (the ordered compare is false).
__attribute__((target("avx512f"))) void gmps_relu_forward(float *y, long count) {
    long i = 0;
    for (; i + 16 <= count; i += 16) {
        const __m512 v = _mm512_loadu_ps(y + i);
        const __mmask16 nonpositive = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LE_OQ);
        _mm512_storeu_ps(y + i, _mm512_mask_mov_ps(v, nonpositive, _mm512_setzero_ps()));
    }
    for (; i < count; i++) y[i] = y[i] <= 0 ? 0.0f : y[i];
}

// dy[i] = (y[i] > 0 ? dy[i] : +0).
__attribute__((target("avx512f"))) void gmps_relu_backward(const float *y, float *dy, long count) {
    long i = 0;
    for (; i + 16 <= count; i += 16) {
        const __mmask16 positive = _mm512_cmp_ps_mask(_mm512_loadu_ps(y + i), _mm512_setzero_ps(), _CMP_GT_OQ);
        _mm512_storeu_ps(dy + i, _mm512_maskz_mov_ps(positive, _mm512_loadu_ps(dy + i)));
    }
    for (; i < count; i++) dy[i] = y[i] > 0 ? dy[i] : 0.0f;
}

// Each of `rows` rows of y (stride ld) starts with a copy of values[0..<count].
__attribute__((target("avx512f"))) void gmps_fill_rows(float *y, long ld, long rows, const float *values, long count) {
    for (long r = 0; r < rows; r++) {
        float *row = y + r * ld;
        long i = 0;
        for (; i + 16 <= count; i += 16) _mm512_storeu_ps(row + i, _mm512_loadu_ps(values + i));
        if (i < count) {
            const __mmask16 tail = (__mmask16)((1u << (count - i)) - 1u);
            _mm512_mask_storeu_ps(row + i, tail, _mm512_maskz_loadu_ps(tail, values + i));
        }
    }
}
