// Portable kernels: 4-float vectors (SSE2 on any x86-64, NEON on arm64), a 4×8 GEMM tile that
// fits the 16 registers of SSE2. Built without ISA flags, so it runs on every CPU.
#define VW 4
#define MR 4
#define NR 8
#define KERNELS_NAME "generic"
#define KERNELS_FN fathom_kernels_generic
#include "kernels.h"
