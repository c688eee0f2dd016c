// Runtime CPU dispatch: picks the widest kernel build this CPU (and OS) supports, or the one
// named by the caller (tests, benchmarks); and, separately, whether the bf16 GEMMs can run.
#include "dispatch.h"

#include <stdio.h>
#include <string.h>

#if defined(__x86_64__) && defined(FATHOM_HAVE_X64_KERNELS)
#include <cpuid.h>
#endif

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

// NULL when the bf16 kernels (kernels_avx512bf16.c) can run here, else why not. Read from CPUID
// directly: AVX512_BF16 is leaf 7 subleaf 1, EAX bit 5 (older compilers' __builtin_cpu_supports
// does not know it), and the OS must save the opmask and zmm state (XCR0 bits 1, 2, 5, 6, 7)
// after enabling XSAVE (leaf 1, ECX bit 27), as for the AVX-512 build.
static const char* cpu_bf16_why(void) {
#if defined(__x86_64__) && defined(FATHOM_HAVE_X64_KERNELS)
  unsigned a, b, c, d;
  if (!cpu_has_avx512()) return "this CPU has no AVX-512 (avx512f+dq+vl), which AVX512_BF16 needs";
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return "the OS has not enabled XSAVE (CPUID.1:ECX.OSXSAVE = 0)";
  unsigned xlo, xhi;
  __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
  (void)xhi;
  if ((xlo & 0xE6) != 0xE6) return "the OS does not save the AVX-512 register state (XCR0 lacks opmask/zmm bits)";
  if (__get_cpuid_max(0, NULL) < 7) return "this CPU has no CPUID leaf 7 (no AVX-512 features)";
  __cpuid_count(7, 0, a, b, c, d);
  if (!(b & (1u << 30))) return "this CPU has no AVX512BW (CPUID.7.0:EBX bit 30)";
  __cpuid_count(7, 1, a, b, c, d);
  if (!(a & (1u << 5))) return "this CPU has no AVX512_BF16 (CPUID.7.1:EAX bit 5)";
  return NULL;
#else
  return "this build has no x86-64 kernels (AVX512_BF16 is an x86-64 extension)";
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
  if (!strcmp(want, "avx512bf16")) {
    // float32 kernels of the AVX-512 build; the bf16 GEMMs come from fathom_select_bf16
    const char* why = cpu_bf16_why();
    if (!why) return fathom_kernels_avx512();
    *err = why;
    return NULL;
  }
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
  *err = "unknown SIMD level; allowed: auto, avx512bf16, avx512, avx2, avx2x16 (tests only), generic";
#else
  *err = "this build has only the portable kernels; allowed: auto, generic";
#endif
  return NULL;
}

const fathom_kernels* fathom_select_bf16(const char* want, const char** why) {
  static char msg[256];
  *why = NULL;
  const int automatic = !want || !*want || !strcmp(want, "auto");
  const char* cpu = cpu_bf16_why();
  if (automatic || !strcmp(want, "avx512bf16")) {
#if defined(FATHOM_HAVE_X64_KERNELS)
    if (!cpu) return fathom_kernels_avx512bf16();
#endif
    *why = cpu;
    return NULL;
  }
  // A level was forced (FATHOM_SIMD, --simd): it has float32 GEMMs only.
  snprintf(msg, sizeof msg, "SIMD level \"%s\" was forced (FATHOM_SIMD or --simd), and it has float32 GEMMs only%s", want,
           cpu ? "" : "; auto or avx512bf16 has bf16 GEMMs on this CPU");
  *why = msg;
  return NULL;
}
