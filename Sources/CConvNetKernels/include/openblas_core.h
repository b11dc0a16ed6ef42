// Which of OpenBLAS's kernel families this CPU can run, for the case where OpenBLAS's own
// detection does not know the CPU model. OpenBLAS 0.3.21 (Debian 12) picks its kernels by
// CPU model; on a model newer than it (an Intel Xeon of family 6, model 207, seen here) it falls
// back to "Prescott", SSE3 kernels, and its sgemm runs at 15 GFLOP/s where the Cooperlake kernels
// of the same library reach 130 on the same core.
#ifndef GMPS_OPENBLAS_CORE_H
#define GMPS_OPENBLAS_CORE_H

#ifdef __cplusplus
extern "C" {
#endif

/// The OPENBLAS_CORETYPE name of the best kernel family this CPU supports, by its features
/// (not its model): "Cooperlake" (AVX-512 F, CD, BW, DQ, VL and BF16), "SkylakeX" (the same
/// without BF16), "Haswell" (AVX2 and FMA), or NULL for anything older.
const char *gmps_openblas_core_for_cpu(void);

/// Makes OpenBLAS run the kernel family `name` (an OPENBLAS_CORETYPE name) from now on: sets
/// OPENBLAS_CORETYPE and runs OpenBLAS's own selection again (gotoblas_dynamic_quit, then
/// gotoblas_dynamic_init, which reads the variable). Only while no OpenBLAS call is running.
/// Returns 1 when it ran, 0 where OpenBLAS has no run-time selection (not a DYNAMIC_ARCH build).
int gmps_openblas_select_core(const char *name);

#ifdef __cplusplus
}
#endif

#endif
