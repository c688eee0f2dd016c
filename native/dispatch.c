// Runtime CPU dispatch: picks the widest kernel build this CPU (and OS) supports, or the one
// named by the caller (tests, benchmarks).
#include "dispatch.h"

#include <string.h>

static int cpu_has_avx512(void) {
#if defined(__x86_64__) && defined(FATHOM_HAVE_X64_KERNELS)
  __builtin_cpu_init();
  // libgcc/compiler-rt also check that the OS saves the zmm state (XCR0) before reporting these.
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return 0;
#endif
}

static int cpu_has_avx2(void) {
#if defined(__x86_64__) && defined(FATHOM_HAVE_X64_KERNELS)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return 0;
#endif
}

const fathom_kernels* fathom_select_kernels(const char* want, const char** err) {
  *err = NULL;
  if (!want || !*want || !strcmp(want, "auto")) {
#if defined(FATHOM_HAVE_X64_KERNELS)
    if (cpu_has_avx512()) return fathom_kernels_avx512();
    if (cpu_has_avx2()) return fathom_kernels_avx2();
#endif
    return fathom_kernels_generic();
  }
  if (!strcmp(want, "generic")) return fathom_kernels_generic();
#if defined(FATHOM_HAVE_X64_KERNELS)
  if (!strcmp(want, "avx512")) {
    if (cpu_has_avx512()) return fathom_kernels_avx512();
    *err = "this CPU has no AVX-512 (avx512f+dq+vl); allowed here: auto, avx2, avx2x16, generic";
    return NULL;
  }
  if (!strcmp(want, "avx2") || !strcmp(want, "avx2x16")) {
    if (cpu_has_avx2()) return !strcmp(want, "avx2") ? fathom_kernels_avx2() : fathom_kernels_avx2x16();
    *err = "this CPU has no AVX2+FMA; allowed here: auto, generic";
    return NULL;
  }
  *err = "unknown SIMD level; allowed: auto, avx512, avx2, avx2x16 (tests only), generic";
#else
  *err = "this build has only the portable kernels; allowed: auto, generic";
#endif
  return NULL;
}
