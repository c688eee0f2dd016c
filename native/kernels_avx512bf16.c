// AVX-512 kernels whose GEMMs take bf16 operands (vdpbf16ps, fp32 accumulation; gemm_bf16.h):
// the same 8×32 tile and code shape as kernels_avx512.c, every other kernel the float32 one.
// Built with -mavx512f -mavx512bw -mavx512dq -mavx512vl -mavx512bf16 -mfma (binding.gyp); only
// called after dispatch.c has checked the CPU and the OS for AVX512_BF16.
#define VW 16
#define MR 8
#define NR 32
#define FATHOM_GEMM_BF16 1
#define KERNELS_NAME "avx512bf16"
#define KERNELS_FN fathom_kernels_avx512bf16
#include "kernels.h"
