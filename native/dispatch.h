#ifndef FATHOM_DISPATCH_H
#define FATHOM_DISPATCH_H
#include "common.h"
// want: "auto" (or NULL/"") or a level name; on failure returns NULL and sets *err.
// Returns the float32 kernels of that level ("avx512bf16": the AVX-512 ones).
const fathom_kernels* fathom_select_kernels(const char* want, const char** err);
// The kernels with bf16 GEMMs for level `want` (auto or avx512bf16 on a CPU with AVX512_BF16),
// else NULL with *why saying why not (a static string, valid until the next call).
const fathom_kernels* fathom_select_bf16(const char* want, const char** why);
#endif
