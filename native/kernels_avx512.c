// AVX-512 kernels: 16 floats per vector, an 8×32 GEMM register tile (16 of the 32 zmm registers
// hold accumulators). Built with -mavx512f -mavx512dq -mavx512vl -mavx2 -mfma (binding.gyp);
// only called after dispatch.c has checked the CPU.
#define VW 16
#define MR 8
#define NR 32
#define KERNELS_NAME "avx512"
#define KERNELS_FN fathom_kernels_avx512
#include "kernels.h"
