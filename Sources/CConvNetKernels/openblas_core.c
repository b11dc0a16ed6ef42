// OpenBLAS kernel family by CPU features (see include/openblas_core.h).
#include "openblas_core.h"

#include <stddef.h>
#include <stdlib.h>

// OpenBLAS's kernel selection of a DYNAMIC_ARCH build (driver/others/dynamic.c; exported, not in
// its headers). Weak, so that a build without them links and the selection is skipped.
extern void gotoblas_dynamic_init(void) __attribute__((weak));
extern void gotoblas_dynamic_quit(void) __attribute__((weak));

const char *gmps_openblas_core_for_cpu(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    // __builtin_cpu_supports also checks that the OS saves the wider registers (XGETBV).
    int avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd")
        && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq")
        && __builtin_cpu_supports("avx512vl");
    if (avx512 && __builtin_cpu_supports("avx512bf16")) return "Cooperlake";
    if (avx512) return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
    return NULL;
}

int gmps_openblas_select_core(const char *name) {
    if (!gotoblas_dynamic_init || !gotoblas_dynamic_quit || !name) return 0;
    if (setenv("OPENBLAS_CORETYPE", name, 1) != 0) return 0;
    gotoblas_dynamic_quit();   // forget the kernel table chosen at load time
    gotoblas_dynamic_init();   // choose again, now by OPENBLAS_CORETYPE
    return 1;
}
