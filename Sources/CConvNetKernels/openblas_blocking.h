// What the AVX-512 kernels share with OpenBLAS 0.3.21's blocked sgemm, so that their sums are
// its sums bit for bit (private to CConvNetKernels).
#ifndef GMPS_OPENBLAS_BLOCKING_H
#define GMPS_OPENBLAS_BLOCKING_H

// Compiled for AVX-512 by function attribute only: the rest of the binary runs on any x86-64.
#define GMPS_AVX512 __attribute__((target("avx512f")))

// The K blocking of OpenBLAS 0.3.21's AVX-512 sgemm kernels (GEMM_Q 320, GEMM_UNROLL_M 16):
// the length of the block that starts with `remaining` of K left. Each block's sum is one chain
// of FMAs from +0, added to C before the next block starts (measured on the Cooperlake kernels:
// single chains up to K = 320, two blocks split at ⌈K/2⌉ rounded up to 16 below 640).
static inline long gmps_k_block(long remaining) {
    if (remaining >= 2 * 320) return 320;
    if (remaining > 320) return ((remaining / 2 + 15) / 16) * 16;
    return remaining;
}

#endif
