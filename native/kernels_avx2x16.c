// The AVX-512 kernels' exact code shape (16-float vectors, 8×32 tile), compiled for AVX2 so
// that machines without AVX-512 still test the packing, tiling and edge logic the AVX-512 build
// runs (the compiler splits each 16-float vector into two ymm halves). Tests select it with
// FATHOM_SIMD=avx2x16; it is never chosen automatically.
#define VW 16
#define MR 8
#define NR 32
#define KERNELS_NAME "avx2x16"
#define KERNELS_FN fathom_kernels_avx2x16
#include "kernels.h"
