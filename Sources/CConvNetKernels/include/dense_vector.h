// Matrix-vector kernels of dense layers at batch 1 for CPUs with AVX-512, bit for bit the
// eight-lane Swift loops they replace (BLAS.dot, BLAS.axpy): 16 lanes hold those loops' two
// SIMD8 partial sums, multiplies and adds stay separate (no FMA) and the reduction order is
// theirs. At batch 1 a dense layer reads its whole weight matrix once; wider loads read the
// reference CNN's 22 MB first layer about twice as fast.
#ifndef GMPS_DENSE_VECTOR_H
#define GMPS_DENSE_VECTOR_H

#ifdef __cplusplus
extern "C" {
#endif

/// 1 when this CPU can run the kernels below (AVX-512F), else 0.
int gmps_dense_vector_available(void);

/// Σ a[k] b[k] for k < count, as BLAS.dot sums it: lane i of 16 accumulates products k ≡ i
/// (mod 16) over the leading multiple of 16; then lanes i and i + 8 are added, the eight sums
/// are added in order starting from -0, and the remaining products are added one by one.
float gmps_dot(const float *a, const float *b, long count);

/// y[k] += alpha * x[k] for k < count (the product rounded, then the sum).
void gmps_axpy(float alpha, const float *x, float *y, long count);

/// y[i] = (y[i] <= 0 ? +0 : y[i]) for i < count: Swift's `max(y[i], 0)` (NaN stays NaN).
void gmps_relu_forward(float *y, long count);

/// dy[i] = (y[i] > 0 ? dy[i] : +0) for i < count.
void gmps_relu_backward(const float *y, float *dy, long count);

/// y[r*ld + i] = values[i] for r < rows, i < count.
void gmps_fill_rows(float *y, long ld, long rows, const float *values, long count);

#ifdef __cplusplus
}
#endif

#endif
