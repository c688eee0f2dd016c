// AVX2 + FMA kernels: 8 floats per vector, a 6×16 GEMM register tile (12 of the 16 ymm
// registers hold accumulators). Built with -mavx2 -mfma; only called after dispatch.c has
// checked the CPU.
#define VW 8
#define MR 6
#define NR 16
#define KERNELS_NAME "avx2"
#define KERNELS_FN fathom_kernels_avx2
#include "kernels.h"
