// A matrix product for dense layers at batch > 1 on CPUs with AVX-512, bit for bit what
// OpenBLAS's blocked sgemm computes for the same product (ConvNet checks it once per process
// before using it): the backward passes' dW = dyᵀ · x and dx = dy · W read B's rows in place
// and need no packing.
#ifndef GMPS_DENSE_BATCH_H
#define GMPS_DENSE_BATCH_H

#ifdef __cplusplus
extern "C" {
#endif

/// c[i*ldc + j] (+)= sum over k < kdim of a[i*a_row + k*a_k] * b[k*ldb + j], for i < m, j < n:
/// k split into OpenBLAS's K blocks (320, the last two split evenly in multiples of 16), each
/// block's sum one chain of FMAs in k order from +0, the block sums added in order to c, which
/// starts from 0 (sgemm's beta 0) or, with `accumulate`, from its values (beta 1).
/// Only call when `gmps_conv_direct_available()` returns 1 (AVX-512F).
void gmps_dense_product(long m, long n, long kdim, const float *a, long a_row, long a_k,
                        const float *b, long ldb, float *c, long ldc, int accumulate);

/// The same for the K blocks of that product (the blocking of the whole kdim) that start in
/// [kfrom, kto): calls over consecutive ranges, in order, add the same block sums to c in the
/// same order as one call over all of k (the first block writes c only where kfrom is 0 and
/// `accumulate` is 0). A dense layer's forward sweeps its huge K in groups this way, so that
/// each group of B's rows is read from memory once for all of C's rows.
void gmps_dense_product_blocks(long m, long n, long kdim, long kfrom, long kto, const float *a, long a_row,
                               long a_k, const float *b, long ldb, float *c, long ldc, int accumulate);

/// dst[j*rows + i] = src[i*stride + j] for i < rows, begin <= j < end: columns [begin, end) of
/// src (rows, ≥ end) transposed into rows of dst (columns, rows).
void gmps_transpose_columns(const float *src, long rows, long stride, long begin, long end, float *dst);

#ifdef __cplusplus
}
#endif

#endif
