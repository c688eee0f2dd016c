#ifndef FATHOM_DISPATCH_H
#define FATHOM_DISPATCH_H
#include "common.h"
// want: "auto" (or NULL/"") or a level name; on failure returns NULL and sets *err.
const fathom_kernels* fathom_select_kernels(const char* want, const char** err);
#endif
