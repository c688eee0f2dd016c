// N-API glue of the native backend: argument checks at the boundary (a too-short array throws,
// never reads out of bounds), scratch sizing, then one job on the thread pool per kernel call.
// The JS wrapper (src/engine/native/native.ts) passes arguments straight through.
#define NAPI_VERSION 8
#include <math.h>
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "dispatch.h"
#include "pool.h"

fathom_scratch fathom_scr;
static const fathom_kernels* K;  // float32 kernels of the chosen level
static const fathom_kernels* KB; // kernels with bf16 GEMMs, or NULL (then KB_why says why)
static char KB_why[256];
static char level[32]; // the level's name: K's, or "avx512bf16" when KB is set

// Below these sizes a job runs on the calling thread alone: waking the pool costs a few µs.
#define PAR_MIN_MACS 262144.0 // GEMM multiply-adds (64³)
#define PAR_MIN_ELEMS 16384   // row and element-wise kernels

// ---------------------------------------------------------------------------------------------
// Argument helpers. Each returns 0, or -1 after throwing a JS error that names the kernel, the
// argument, what it got and what is allowed.

static int throw_range(napi_env env, const char* msg) {
  napi_throw_range_error(env, NULL, msg);
  return -1;
}
static int throw_type(napi_env env, const char* msg) {
  napi_throw_type_error(env, NULL, msg);
  return -1;
}

// A non-negative integer dimension (< 2^31).
static int get_dim(napi_env env, napi_value v, const char* fn, const char* name, int* out) {
  double d;
  char msg[256];
  if (napi_get_value_double(env, v, &d) != napi_ok) {
    snprintf(msg, sizeof msg, "%s: %s must be a number", fn, name);
    return throw_type(env, msg);
  }
  if (!(d >= 0 && d <= 2147483647.0) || d != (double)(long long)d) {
    snprintf(msg, sizeof msg, "%s: %s = %g is not allowed: it must be an integer in [0, 2^31)", fn, name, d);
    return throw_range(env, msg);
  }
  *out = (int)d;
  return 0;
}

static int get_num(napi_env env, napi_value v, const char* fn, const char* name, double* out) {
  char msg[256];
  if (napi_get_value_double(env, v, out) != napi_ok) {
    snprintf(msg, sizeof msg, "%s: %s must be a number", fn, name);
    return throw_type(env, msg);
  }
  return 0;
}

static int get_bool(napi_env env, napi_value v, const char* fn, const char* name, int* out) {
  bool b;
  char msg[256];
  if (napi_get_value_bool(env, v, &b) != napi_ok) {
    snprintf(msg, sizeof msg, "%s: %s must be a boolean", fn, name);
    return throw_type(env, msg);
  }
  *out = b;
  return 0;
}

// A Float32Array (any view: byteOffset is honoured) holding at least `need` floats; `shape`
// says what it holds, for the message.
static int get_f32(napi_env env, napi_value v, const char* fn, const char* name, size_t need, const char* shape,
                   float** out) {
  napi_typedarray_type type;
  size_t len;
  void* data;
  char msg[320];
  // (napi_get_typedarray_info fails on anything that is not a typed array.)
  if (napi_get_typedarray_info(env, v, &type, &len, &data, NULL, NULL) != napi_ok || type != napi_float32_array) {
    snprintf(msg, sizeof msg, "%s: %s must be a Float32Array", fn, name);
    return throw_type(env, msg);
  }
  if (len < need) {
    snprintf(msg, sizeof msg, "%s: %s has %zu floats but needs %zu (%s); pass a larger array or smaller sizes", fn,
             name, len, need, shape);
    return throw_range(env, msg);
  }
  *out = (float*)data;
  return 0;
}

// A typed array of `type` (Float64Array, Uint8Array: what `tname` names) holding at least `need`
// elements.
static int get_typed(napi_env env, napi_value v, const char* fn, const char* name, napi_typedarray_type want,
                     const char* tname, size_t need, const char* shape, void** out) {
  napi_typedarray_type type;
  size_t len;
  void* data;
  char msg[320];
  if (napi_get_typedarray_info(env, v, &type, &len, &data, NULL, NULL) != napi_ok || type != want) {
    snprintf(msg, sizeof msg, "%s: %s must be a %s", fn, name, tname);
    return throw_type(env, msg);
  }
  if (len < need) {
    snprintf(msg, sizeof msg, "%s: %s has %zu elements but needs %zu (%s); pass a larger array or smaller sizes", fn,
             name, len, need, shape);
    return throw_range(env, msg);
  }
  *out = data;
  return 0;
}
// An activation [rows, cols]: a Float32Array (*f set, *h NULL), or, when `bf16` (the call's
// precision is bf16), also a Uint16Array of bf16 rows [rows, cols rounded up to even] (*h set,
// *f NULL; the backend's bf16Activations).
static int get_activation(napi_env env, napi_value v, const char* fn, const char* name, int rows, int cols, int bf16,
                          float** f, uint16_t** h) {
  napi_typedarray_type type;
  size_t len;
  void* data;
  char msg[400];
  *f = NULL;
  *h = NULL;
  if (napi_get_typedarray_info(env, v, &type, &len, &data, NULL, NULL) != napi_ok ||
      (type != napi_float32_array && type != napi_uint16_array)) {
    snprintf(msg, sizeof msg, "%s: %s must be a Float32Array (or, with precision bf16, a Uint16Array of bf16 rows)", fn, name);
    return throw_type(env, msg);
  }
  if (type == napi_float32_array) return get_f32(env, v, fn, name, (size_t)rows * cols, "[rows, cols]", f);
  if (!bf16) {
    snprintf(msg, sizeof msg, "%s: %s is a Uint16Array (bf16 rows), which needs precision bf16; use a Float32Array", fn, name);
    return throw_type(env, msg);
  }
  const size_t need = (size_t)rows * (size_t)FATHOM_BF16_ROW(cols);
  if (len < need) {
    snprintf(msg, sizeof msg, "%s: %s has %zu bf16 values but needs %zu ([rows, cols rounded up to even]); pass a larger array or smaller sizes",
             fn, name, len, need);
    return throw_range(env, msg);
  }
  *h = (uint16_t*)data;
  return 0;
}

static int get_f64(napi_env env, napi_value v, const char* fn, const char* name, size_t need, const char* shape,
                   double** out) {
  return get_typed(env, v, fn, name, napi_float64_array, "Float64Array", need, shape, (void**)out);
}
static int get_u8(napi_env env, napi_value v, const char* fn, const char* name, size_t need, const char* shape,
                  uint8_t** out) {
  return get_typed(env, v, fn, name, napi_uint8_array, "Uint8Array", need, shape, (void**)out);
}

// An integer code in [0, count) (an enum the JS wrapper maps from its names).
static int get_code(napi_env env, napi_value v, const char* fn, const char* name, int count, int* out) {
  char msg[256];
  if (get_dim(env, v, fn, name, out)) return -1;
  if (*out >= count) {
    snprintf(msg, sizeof msg, "%s: %s = %d is not allowed: it must be below %d", fn, name, *out, count);
    return throw_range(env, msg);
  }
  return 0;
}

// Like get_f32, but null is allowed (returns *out = NULL).
static int get_f32_or_null(napi_env env, napi_value v, const char* fn, const char* name, size_t need,
                           const char* shape, float** out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) == napi_ok && t == napi_null) {
    *out = NULL;
    return 0;
  }
  return get_f32(env, v, fn, name, need, shape, out);
}

// ARGS_OPT(n, req): up to n arguments, the first req required (argc says how many came).
#define ARGS_OPT(n, req)                                                         \
  napi_value argv[n];                                                            \
  size_t argc = n;                                                               \
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL; \
  if (argc < req) {                                                              \
    char amsg[128];                                                              \
    snprintf(amsg, sizeof amsg, "%s: expected %d arguments, got %zu", FN, req, argc); \
    throw_type(env, amsg);                                                       \
    return NULL;                                                                 \
  }
#define ARGS(n) ARGS_OPT(n, n)
#define CHECK(x) \
  if ((x) != 0) return NULL

// ---------------------------------------------------------------------------------------------
// Scratch: grown (never shrunk) on the calling thread, before a job starts.

static int grow(void** p, size_t* cap, size_t need, size_t elem) {
  if (need <= *cap) return 0;
  size_t bytes = (need * elem + 63) & ~(size_t)63;
  void* q = aligned_alloc(64, bytes);
  if (!q) return -1;
  free(*p);
  *p = q;
  *cap = need;
  return 0;
}

// op(B): [k, n] is packed one [KC, n] block at a time; A micro-panels in groups, per thread.
// The bf16 GEMMs pack KC pairs per block, one 32-bit word each: the same sizes (common.h).
static int ensure_gemm_scratch(napi_env env, const fathom_kernels* T, int n) {
  const size_t panels = ((size_t)n + T->nr - 1) / T->nr;
  if (grow((void**)&fathom_scr.packB, &fathom_scr.packBCap, (size_t)FATHOM_KC * panels * T->nr, sizeof(float)) ||
      grow((void**)&fathom_scr.packA, &fathom_scr.packACap,
           (size_t)pool_threads() * FATHOM_PACK_GROUP * FATHOM_KC * T->mr, sizeof(float)))
    return throw_range(env, "native backend: out of memory for GEMM scratch");
  return 0;
}

static int ensure_part_scratch(napi_env env, size_t doubles) {
  if (grow((void**)&fathom_scr.part, &fathom_scr.partCap, doubles ? doubles : 1, sizeof(double)))
    return throw_range(env, "native backend: out of memory for partial-sum scratch");
  return 0;
}

static int ensure_colsum_scratch(napi_env env, int rows, int cols) {
  const size_t chunks = ((size_t)rows + FATHOM_SUM_BLOCK - 1) / FATHOM_SUM_BLOCK;
  if (grow((void**)&fathom_scr.colsum, &fathom_scr.colsumCap, (size_t)pool_threads() * 3 * cols, sizeof(double)) ||
      grow((void**)&fathom_scr.colblk, &fathom_scr.colblkCap, chunks * 3 * cols, sizeof(float)))
    return throw_range(env, "native backend: out of memory for column-sum scratch");
  return 0;
}

// The kernels a GEMM-bearing call runs with: float32, or bf16 operands when `bf16` is set (the
// caller resolves the precision first: engine resolvePrecision falls back to fp32 with a note).
// The flag is the call's optional last argument (v = NULL when absent: float32), so a wrapper
// built before it existed still works with this addon.
static const fathom_kernels* gemm_kernels(napi_env env, napi_value v, const char* fn) {
  int bf16 = 0;
  char msg[400];
  if (v && get_bool(env, v, fn, "bf16", &bf16)) return NULL;
  if (!bf16) return K;
  if (KB) return KB;
  snprintf(msg, sizeof msg, "%s: bf16 operands are not available here: %s; use precision fp32", fn, KB_why);
  throw_range(env, msg);
  return NULL;
}

static int run(napi_env env, fathom_job fn, void* args, int slots, int parallel) {
  if (pool_reserve(slots)) return throw_range(env, "native backend: out of memory for claim counters");
  pool_run(fn, args, slots, parallel);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Kernels (argument order = the Backend interface, src/engine/backend.ts).

#undef FN
#define FN "gemm"
static napi_value Gemm(napi_env env, napi_callback_info info) {
  ARGS_OPT(11, 10);
  fathom_gemm_args g;
  memset(&g, 0, sizeof g);
  double alpha, beta;
  float *a, *b, *c;
  CHECK(get_bool(env, argv[0], FN, "transA", &g.transA));
  CHECK(get_bool(env, argv[1], FN, "transB", &g.transB));
  CHECK(get_dim(env, argv[2], FN, "m", &g.m));
  CHECK(get_dim(env, argv[3], FN, "n", &g.n));
  CHECK(get_dim(env, argv[4], FN, "k", &g.k));
  CHECK(get_num(env, argv[5], FN, "alpha", &alpha));
  const size_t m = g.m, n = g.n, k = g.k;
  CHECK(get_f32(env, argv[6], FN, "a", m * k, g.transA ? "A: [k, m]" : "A: [m, k]", &a));
  CHECK(get_f32(env, argv[7], FN, "b", k * n, g.transB ? "B: [n, k]" : "B: [k, n]", &b));
  CHECK(get_num(env, argv[8], FN, "beta", &beta));
  CHECK(get_f32(env, argv[9], FN, "c", m * n, "C: [m, n]", &c));
  const fathom_kernels* T = gemm_kernels(env, argc > 10 ? argv[10] : NULL, FN);
  if (!T) return NULL;
  g.alpha = (float)alpha;
  g.beta = (float)beta;
  g.a = a;
  g.b = b;
  g.c = c;
  CHECK(ensure_gemm_scratch(env, T, g.n));
  CHECK(run(env, T->gemm, &g, FATHOM_GEMM_SLOTS(g.k), (double)m * n * k >= PAR_MIN_MACS));
  return NULL;
}

#undef FN
#define FN "biasAdd"
static napi_value BiasAdd(napi_env env, napi_callback_info info) {
  ARGS(4);
  fathom_rows_args r;
  memset(&r, 0, sizeof r);
  float *x, *bias;
  CHECK(get_dim(env, argv[2], FN, "rows", &r.rows));
  CHECK(get_dim(env, argv[3], FN, "cols", &r.cols));
  CHECK(get_f32(env, argv[0], FN, "x", (size_t)r.rows * r.cols, "[rows, cols]", &x));
  CHECK(get_f32(env, argv[1], FN, "bias", (size_t)r.cols, "[cols]", &bias));
  r.xo = x;
  r.beta = bias;
  CHECK(run(env, K->bias_add, &r, 1, (size_t)r.rows * r.cols >= PAR_MIN_ELEMS));
  return NULL;
}

#undef FN
#define FN "biasBackward"
static napi_value BiasBackward(napi_env env, napi_callback_info info) {
  ARGS(4);
  fathom_rows_args r;
  memset(&r, 0, sizeof r);
  float *dy, *db;
  CHECK(get_dim(env, argv[2], FN, "rows", &r.rows));
  CHECK(get_dim(env, argv[3], FN, "cols", &r.cols));
  CHECK(get_f32(env, argv[0], FN, "dy", (size_t)r.rows * r.cols, "[rows, cols]", &dy));
  CHECK(get_f32(env, argv[1], FN, "db", (size_t)r.cols, "[cols]", &db));
  r.x = dy;
  r.dgamma = db;
  CHECK(ensure_colsum_scratch(env, r.rows, r.cols));
  CHECK(run(env, K->bias_bwd, &r, 1, (size_t)r.rows * r.cols >= PAR_MIN_ELEMS));
  return NULL;
}

#undef FN
#define FN "layerNormForward"
static napi_value LayerNormForward(napi_env env, napi_callback_info info) {
  ARGS(9);
  fathom_rows_args r;
  memset(&r, 0, sizeof r);
  float *x, *gamma, *beta, *y, *mean, *rstd;
  double eps;
  CHECK(get_dim(env, argv[6], FN, "rows", &r.rows));
  CHECK(get_dim(env, argv[7], FN, "cols", &r.cols));
  CHECK(get_num(env, argv[8], FN, "eps", &eps));
  const size_t rc = (size_t)r.rows * r.cols;
  if (r.cols == 0 && r.rows > 0) {
    throw_range(env, "layerNormForward: cols = 0 is not allowed (a row needs at least one value)");
    return NULL;
  }
  CHECK(get_f32(env, argv[0], FN, "x", rc, "[rows, cols]", &x));
  CHECK(get_f32(env, argv[1], FN, "gamma", (size_t)r.cols, "[cols]", &gamma));
  CHECK(get_f32(env, argv[2], FN, "beta", (size_t)r.cols, "[cols]", &beta));
  CHECK(get_f32(env, argv[3], FN, "y", rc, "[rows, cols]", &y));
  CHECK(get_f32(env, argv[4], FN, "mean", (size_t)r.rows, "[rows]", &mean));
  CHECK(get_f32(env, argv[5], FN, "rstd", (size_t)r.rows, "[rows]", &rstd));
  r.x = x;
  r.gamma = gamma;
  r.beta = beta;
  r.y = y;
  r.mean = mean;
  r.rstd = rstd;
  r.eps = (float)eps;
  CHECK(run(env, K->ln_fwd, &r, 1, rc >= PAR_MIN_ELEMS));
  return NULL;
}

#undef FN
#define FN "layerNormBackward"
static napi_value LayerNormBackward(napi_env env, napi_callback_info info) {
  ARGS(10);
  fathom_rows_args r;
  memset(&r, 0, sizeof r);
  float *dy, *x, *mean, *rstd, *gamma, *dx, *dgamma, *dbeta;
  CHECK(get_dim(env, argv[8], FN, "rows", &r.rows));
  CHECK(get_dim(env, argv[9], FN, "cols", &r.cols));
  const size_t rc = (size_t)r.rows * r.cols;
  CHECK(get_f32(env, argv[0], FN, "dy", rc, "[rows, cols]", &dy));
  CHECK(get_f32(env, argv[1], FN, "x", rc, "[rows, cols]", &x));
  CHECK(get_f32(env, argv[2], FN, "mean", (size_t)r.rows, "[rows]", &mean));
  CHECK(get_f32(env, argv[3], FN, "rstd", (size_t)r.rows, "[rows]", &rstd));
  CHECK(get_f32(env, argv[4], FN, "gamma", (size_t)r.cols, "[cols]", &gamma));
  CHECK(get_f32(env, argv[5], FN, "dx", rc, "[rows, cols]", &dx));
  CHECK(get_f32(env, argv[6], FN, "dgamma", (size_t)r.cols, "[cols]", &dgamma));
  CHECK(get_f32(env, argv[7], FN, "dbeta", (size_t)r.cols, "[cols]", &dbeta));
  r.dy = dy;
  r.x = x;
  r.mean = mean;
  r.rstd = rstd;
  r.gamma = gamma;
  r.y = dx;
  r.dgamma = dgamma;
  r.dbeta = dbeta;
  CHECK(ensure_colsum_scratch(env, r.rows, r.cols));
  CHECK(run(env, K->ln_bwd, &r, 1, rc >= PAR_MIN_ELEMS));
  return NULL;
}

#undef FN
#define FN "swishForward"
static napi_value SwishForward(napi_env env, napi_callback_info info) {
  ARGS(3);
  fathom_elem_args e;
  memset(&e, 0, sizeof e);
  int n;
  float *x, *y;
  CHECK(get_dim(env, argv[2], FN, "n", &n));
  CHECK(get_f32(env, argv[0], FN, "x", (size_t)n, "[n]", &x));
  CHECK(get_f32(env, argv[1], FN, "y", (size_t)n, "[n]", &y));
  e.a = x;
  e.out = y;
  e.n = (size_t)n;
  CHECK(run(env, K->swish_fwd, &e, 1, n >= PAR_MIN_ELEMS));
  return NULL;
}

#undef FN
#define FN "swishBackward"
static napi_value SwishBackward(napi_env env, napi_callback_info info) {
  ARGS(4);
  fathom_elem_args e;
  memset(&e, 0, sizeof e);
  int n;
  float *dy, *x, *dx;
  CHECK(get_dim(env, argv[3], FN, "n", &n));
  CHECK(get_f32(env, argv[0], FN, "dy", (size_t)n, "[n]", &dy));
  CHECK(get_f32(env, argv[1], FN, "x", (size_t)n, "[n]", &x));
  CHECK(get_f32(env, argv[2], FN, "dx", (size_t)n, "[n]", &dx));
  e.a = x;
  e.b = dy;
  e.out = dx;
  e.n = (size_t)n;
  CHECK(run(env, K->swish_bwd, &e, 1, n >= PAR_MIN_ELEMS));
  return NULL;
}

#undef FN
#define FN "denseLnSwishForward"
static napi_value DenseLnSwishForward(napi_env env, napi_callback_info info) {
  ARGS_OPT(14, 13);
  fathom_gemm_args g;
  memset(&g, 0, sizeof g);
  int rows, in, out;
  double eps;
  float *x, *w, *b, *gamma, *beta, *z, *mean, *rstd, *y;
  CHECK(get_dim(env, argv[9], FN, "rows", &rows));
  CHECK(get_dim(env, argv[10], FN, "inDim", &in));
  CHECK(get_dim(env, argv[11], FN, "outDim", &out));
  CHECK(get_num(env, argv[12], FN, "eps", &eps));
  if (out == 0 && rows > 0) {
    throw_range(env, "denseLnSwishForward: outDim = 0 is not allowed (LayerNorm needs at least one feature)");
    return NULL;
  }
  const size_t ro = (size_t)rows * out;
  const fathom_kernels* T = gemm_kernels(env, argc > 13 ? argv[13] : NULL, FN);
  if (!T) return NULL;
  uint16_t *x16, *y16;
  CHECK(get_activation(env, argv[0], FN, "x", rows, in, T == KB, &x, &x16));
  CHECK(get_f32(env, argv[1], FN, "w", (size_t)in * out, "[inDim, outDim]", &w));
  CHECK(get_f32(env, argv[2], FN, "b", (size_t)out, "[outDim]", &b));
  CHECK(get_f32(env, argv[3], FN, "gamma", (size_t)out, "[outDim]", &gamma));
  CHECK(get_f32(env, argv[4], FN, "beta", (size_t)out, "[outDim]", &beta));
  CHECK(get_f32(env, argv[5], FN, "z", ro, "[rows, outDim]", &z));
  CHECK(get_f32(env, argv[6], FN, "mean", (size_t)rows, "[rows]", &mean));
  CHECK(get_f32(env, argv[7], FN, "rstd", (size_t)rows, "[rows]", &rstd));
  CHECK(get_activation(env, argv[8], FN, "y", rows, out, T == KB, &y, &y16));
  g.m = rows;
  g.n = out;
  g.k = in;
  g.alpha = 1.f;
  g.beta = 0.f;
  g.a = x;
  g.a16 = x16;
  g.lda16 = FATHOM_BF16_ROW(in);
  g.b = w;
  g.c = z;
  g.bias = b;
  g.gamma = gamma;
  g.lnb = beta;
  g.mean = mean;
  g.rstd = rstd;
  g.y = y;
  g.y16 = y16;
  g.ldy16 = FATHOM_BF16_ROW(out);
  g.eps = (float)eps;
  CHECK(ensure_gemm_scratch(env, T, out));
  CHECK(run(env, T->gemm, &g, FATHOM_GEMM_SLOTS(in), (double)rows * in * out >= PAR_MIN_MACS || ro >= PAR_MIN_ELEMS));
  return NULL;
}

#undef FN
#define FN "denseLnSwishBackward"
static napi_value DenseLnSwishBackward(napi_env env, napi_callback_info info) {
  ARGS_OPT(18, 16);
  fathom_fused_bwd_args f;
  memset(&f, 0, sizeof f);
  float *dy, *x, *w, *gamma, *beta, *z, *mean, *rstd, *dx, *dw, *db, *dgamma, *dbeta;
  uint16_t* x16;
  CHECK(get_dim(env, argv[13], FN, "rows", &f.rows));
  CHECK(get_dim(env, argv[14], FN, "inDim", &f.in));
  CHECK(get_dim(env, argv[15], FN, "outDim", &f.out));
  const size_t ro = (size_t)f.rows * f.out, ri = (size_t)f.rows * f.in;
  const fathom_kernels* T = gemm_kernels(env, argc > 16 ? argv[16] : NULL, FN);
  if (!T) return NULL;
  CHECK(get_f32(env, argv[0], FN, "dy", ro, "[rows, outDim]", &dy));
  CHECK(get_activation(env, argv[1], FN, "x", f.rows, f.in, T == KB, &x, &x16));
  CHECK(get_f32(env, argv[2], FN, "w", (size_t)f.in * f.out, "[inDim, outDim]", &w));
  CHECK(get_f32(env, argv[3], FN, "gamma", (size_t)f.out, "[outDim]", &gamma));
  CHECK(get_f32(env, argv[4], FN, "beta", (size_t)f.out, "[outDim]", &beta));
  CHECK(get_f32(env, argv[5], FN, "z", ro, "[rows, outDim]", &z));
  CHECK(get_f32(env, argv[6], FN, "mean", (size_t)f.rows, "[rows]", &mean));
  CHECK(get_f32(env, argv[7], FN, "rstd", (size_t)f.rows, "[rows]", &rstd));
  CHECK(get_f32_or_null(env, argv[8], FN, "dx", ri, "[rows, inDim]", &dx));
  CHECK(get_f32_or_null(env, argv[9], FN, "dw", (size_t)f.in * f.out, "[inDim, outDim]", &dw));
  CHECK(get_f32(env, argv[10], FN, "db", (size_t)f.out, "[outDim]", &db));
  CHECK(get_f32(env, argv[11], FN, "dgamma", (size_t)f.out, "[outDim]", &dgamma));
  CHECK(get_f32(env, argv[12], FN, "dbeta", (size_t)f.out, "[outDim]", &dbeta));
  // overwrite (optional, default false): dw, db, dgamma, dbeta are written, not accumulated
  if (argc > 17) CHECK(get_bool(env, argv[17], FN, "overwrite", &f.overwrite));
  if (f.rows == 0) {
    // No rows: the gradients are sums over none, 0 (unchanged when accumulating).
    if (f.overwrite) {
      if (dw) memset(dw, 0, (size_t)f.in * f.out * sizeof(float));
      memset(db, 0, (size_t)f.out * sizeof(float));
      memset(dgamma, 0, (size_t)f.out * sizeof(float));
      memset(dbeta, 0, (size_t)f.out * sizeof(float));
    }
    return NULL;
  }
  if (f.out == 0) {
    // No features: nothing flows back, but dx must still be defined (zeros, as in the ref).
    if (dx) memset(dx, 0, ri * sizeof(float));
    return NULL;
  }
  f.dy = dy;
  f.x = x;
  f.x16 = x16;
  f.ldx16 = FATHOM_BF16_ROW(f.in);
  f.w = w;
  f.gamma = gamma;
  f.lnb = beta;
  f.z = z;
  f.mean = mean;
  f.rstd = rstd;
  f.dx = dx;
  f.dw = dw;
  f.db = db;
  f.dgamma = dgamma;
  f.dbeta = dbeta;
  if (x16) { // the bytes x occupies, as bf16 rows or float32
    const char *xb = (const char*)x16, *xe = xb + (size_t)f.rows * f.ldx16 * sizeof(uint16_t);
    f.dxAliasesX = dx && (const char*)dx < xe && xb < (const char*)(dx + ri);
  } else {
    f.dxAliasesX = dx && dx < x + ri && x < dx + ri;
  }
  // dW += xᵀ·dz: n = out; dx = dz·Wᵀ: n = in, its Wᵀ packed beside (packB2).
  CHECK(ensure_gemm_scratch(env, T, f.out > f.in ? f.out : f.in));
  if (grow((void**)&fathom_scr.packB2, &fathom_scr.packB2Cap, (size_t)FATHOM_KC * (((size_t)f.in + T->nr - 1) / T->nr) * T->nr,
           sizeof(float))) {
    throw_range(env, "native backend: out of memory for GEMM scratch");
    return NULL;
  }
  CHECK(ensure_colsum_scratch(env, f.rows, f.out));
  if (T == KB) { // bf16 operands: dz is rounded once, into its own rows, for both GEMMs (common.h)
    f.ldz16 = FATHOM_BF16_ROW(f.out);
    if (grow((void**)&fathom_scr.dz16, &fathom_scr.dz16Cap, (size_t)f.rows * f.ldz16, sizeof(uint16_t))) {
      throw_range(env, "native backend: out of memory for the bf16 gradient scratch");
      return NULL;
    }
    f.dz16 = fathom_scr.dz16;
  }
  // Slots: row chunks, then the dW GEMM (k = rows), then the dx GEMM (k = out).
  CHECK(run(env, T->fused_bwd, &f, 1 + FATHOM_GEMM_SLOTS(f.rows) + FATHOM_GEMM_SLOTS(f.out),
            (double)f.rows * f.in * f.out >= PAR_MIN_MACS || ro >= PAR_MIN_ELEMS));
  return NULL;
}

#undef FN
#define FN "adamStep"
static napi_value AdamStep(napi_env env, napi_callback_info info) {
  ARGS(10);
  fathom_elem_args e;
  memset(&e, 0, sizeof e);
  int n;
  double lr, b1, b2, eps, step;
  float *param, *grad, *m, *v;
  CHECK(get_dim(env, argv[4], FN, "n", &n));
  CHECK(get_f32(env, argv[0], FN, "param", (size_t)n, "[n]", &param));
  CHECK(get_f32(env, argv[1], FN, "grad", (size_t)n, "[n]", &grad));
  CHECK(get_f32(env, argv[2], FN, "m", (size_t)n, "[n]", &m));
  CHECK(get_f32(env, argv[3], FN, "v", (size_t)n, "[n]", &v));
  CHECK(get_num(env, argv[5], FN, "lr", &lr));
  CHECK(get_num(env, argv[6], FN, "beta1", &b1));
  CHECK(get_num(env, argv[7], FN, "beta2", &b2));
  CHECK(get_num(env, argv[8], FN, "eps", &eps));
  CHECK(get_num(env, argv[9], FN, "step", &step));
  if (!(step >= 1)) {
    char msg[160];
    snprintf(msg, sizeof msg, "adamStep: step = %g is not allowed: it is the update count t ≥ 1", step);
    throw_range(env, msg);
    return NULL;
  }
  e.out = param;
  e.a = grad;
  e.m = m;
  e.v = v;
  e.n = (size_t)n;
  e.beta1 = (float)b1;
  e.beta2 = (float)b2;
  e.eps = (float)eps;
  // Bias corrections in float64 (β2^t is close to 1 for small t).
  e.lr_c1 = (float)(lr / (1.0 - pow(b1, step)));
  e.rbc2 = (float)(1.0 / (1.0 - pow(b2, step)));
  CHECK(run(env, K->adam, &e, 1, n >= 2 * PAR_MIN_ELEMS));
  return NULL;
}

#undef FN
#define FN "add"
static napi_value Add(napi_env env, napi_callback_info info) {
  ARGS(4);
  fathom_elem_args e;
  memset(&e, 0, sizeof e);
  int n;
  float *a, *b, *out;
  CHECK(get_dim(env, argv[3], FN, "n", &n));
  CHECK(get_f32(env, argv[0], FN, "a", (size_t)n, "[n]", &a));
  CHECK(get_f32(env, argv[1], FN, "b", (size_t)n, "[n]", &b));
  CHECK(get_f32(env, argv[2], FN, "out", (size_t)n, "[n]", &out));
  e.a = a;
  e.b = b;
  e.out = out;
  e.n = (size_t)n;
  CHECK(run(env, K->add, &e, 1, n >= 2 * PAR_MIN_ELEMS));
  return NULL;
}

// ---------------------------------------------------------------------------------------------
// Composite kernels (native/composite.h; the twins and equations: src/engine/composite.ts). They
// run from the float32 table K whatever the GEMM precision.

// Elements of transcendental-heavy kernels (tanh-Gaussian) from which the pool is woken.
#define PAR_MIN_TRANSCENDENTAL 2048

#undef FN
#define FN "sumSquares"
static napi_value SumSquares(napi_env env, napi_callback_info info) {
  ARGS(2);
  int n;
  float* x;
  CHECK(get_dim(env, argv[1], FN, "n", &n));
  CHECK(get_f32(env, argv[0], FN, "x", (size_t)n, "[n]", &x));
  const size_t chunks = ((size_t)n + FATHOM_ELEM_CHUNK - 1) / FATHOM_ELEM_CHUNK;
  CHECK(ensure_part_scratch(env, chunks));
  fathom_sumsq_args a = {.x = x, .n = (size_t)n, .part = fathom_scr.part};
  CHECK(run(env, K->sumsq, &a, 1, n >= 2 * PAR_MIN_ELEMS));
  double s = 0.0;
  for (size_t c = 0; c < chunks; c++) s += fathom_scr.part[c];
  napi_value out;
  napi_create_double(env, s, &out);
  return out;
}

// Arguments shared by both pairwise calls: fn, phi, psi, B, d (argv[0..4]).
static int pair_common(napi_env env, napi_value* argv, const char* fn, fathom_pair_args* p) {
  float *phi, *psi;
  if (get_code(env, argv[0], fn, "fn", 4, &p->fn) || get_dim(env, argv[3], fn, "B", &p->B) ||
      get_dim(env, argv[4], fn, "d", &p->d))
    return -1;
  const size_t bd = (size_t)p->B * p->d;
  if (get_f32(env, argv[1], fn, "phi", bd, "Φ: [B, d]", &phi) || get_f32(env, argv[2], fn, "psi", bd, "Ψ: [B, d]", &psi))
    return -1;
  p->phi = phi;
  p->psi = psi;
  return 0;
}

// pairwiseEnergy(fn, phi, psi, B, d, logits, dot, aux, exact, phiNorm, psiNorm, phiHat, psiHat,
// minFraction) → the number of directly computed pairs.
#undef FN
#define FN "pairwiseEnergy"
static napi_value PairwiseEnergy(napi_env env, napi_callback_info info) {
  ARGS(14);
  fathom_pair_args p;
  memset(&p, 0, sizeof p);
  CHECK(pair_common(env, argv, FN, &p));
  const size_t bb = (size_t)p.B * p.B, bd = (size_t)p.B * p.d;
  CHECK(get_f32(env, argv[5], FN, "logits", bb, "[B, B]", &p.logits));
  CHECK(get_f32(env, argv[6], FN, "dot", bb, "[B, B]", &p.dot));
  CHECK(get_f32(env, argv[7], FN, "aux", bb, "[B, B]", &p.aux));
  CHECK(get_u8(env, argv[8], FN, "exact", bb, "[B, B]", &p.exact));
  CHECK(get_f64(env, argv[9], FN, "phiNorm", (size_t)p.B, "[B]", &p.phiNorm));
  CHECK(get_f64(env, argv[10], FN, "psiNorm", (size_t)p.B, "[B]", &p.psiNorm));
  CHECK(get_f32(env, argv[11], FN, "phiHat", bd, "[B, d]", &p.phiHat));
  CHECK(get_f32(env, argv[12], FN, "psiHat", bd, "[B, d]", &p.psiHat));
  CHECK(get_num(env, argv[13], FN, "minFraction", &p.minFraction));
  CHECK(ensure_gemm_scratch(env, K, p.B));
  CHECK(ensure_part_scratch(env, (size_t)p.B));
  p.rowExact = fathom_scr.part;
  double count = 0.0;
  if (p.B > 0) {
    CHECK(run(env, K->pair_fwd, &p, 2 + FATHOM_GEMM_SLOTS(p.d), (double)bb * (p.d + 1) >= PAR_MIN_MACS));
    if (p.fn == FATHOM_PAIR_NORM || p.fn == FATHOM_PAIR_L2)
      for (int i = 0; i < p.B; i++) count += p.rowExact[i];
  }
  napi_value out;
  napi_create_double(env, count, &out);
  return out;
}

// pairwiseEnergyBackward(fn, phi, psi, B, d, G, dPhi, dPsi, aux, h, exact, phiNorm, psiNorm,
// rowSum, colSum, phiHat, psiHat)
#undef FN
#define FN "pairwiseEnergyBackward"
static napi_value PairwiseEnergyBackward(napi_env env, napi_callback_info info) {
  ARGS(17);
  fathom_pair_args p;
  memset(&p, 0, sizeof p);
  float* G;
  CHECK(pair_common(env, argv, FN, &p));
  const size_t bb = (size_t)p.B * p.B, bd = (size_t)p.B * p.d;
  CHECK(get_f32(env, argv[5], FN, "G", bb, "∂loss/∂L: [B, B]", &G));
  CHECK(get_f32(env, argv[6], FN, "dPhi", bd, "[B, d]", &p.dPhi));
  CHECK(get_f32(env, argv[7], FN, "dPsi", bd, "[B, d]", &p.dPsi));
  CHECK(get_f32(env, argv[8], FN, "aux", bb, "[B, B]", &p.aux));
  CHECK(get_f32(env, argv[9], FN, "h", bb, "[B, B]", &p.h));
  CHECK(get_u8(env, argv[10], FN, "exact", bb, "[B, B]", &p.exact));
  CHECK(get_f64(env, argv[11], FN, "phiNorm", (size_t)p.B, "[B]", &p.phiNorm));
  CHECK(get_f64(env, argv[12], FN, "psiNorm", (size_t)p.B, "[B]", &p.psiNorm));
  CHECK(get_f64(env, argv[13], FN, "rowSum", (size_t)p.B, "[B]", &p.rowSum));
  CHECK(get_f64(env, argv[14], FN, "colSum", (size_t)p.B, "[B]", &p.colSum));
  CHECK(get_f32(env, argv[15], FN, "phiHat", bd, "[B, d]", &p.phiHat));
  CHECK(get_f32(env, argv[16], FN, "psiHat", bd, "[B, d]", &p.psiHat));
  p.G = G;
  if (p.B == 0) return NULL;
  CHECK(ensure_gemm_scratch(env, K, p.d));
  CHECK(run(env, K->pair_bwd, &p, 1 + 2 * FATHOM_GEMM_SLOTS(p.B), (double)bb * (p.d + 1) >= PAR_MIN_MACS));
  return NULL;
}

// contrastiveLoss(kind, logits, B, penalty, G, lseRow, lseCol, stats): stats [5] ← criticLoss,
// logsumexp, categoricalAccuracy, logitsPos, logitsNeg.
#undef FN
#define FN "contrastiveLoss"
static napi_value ContrastiveLoss(napi_env env, napi_callback_info info) {
  ARGS(8);
  fathom_closs_args c;
  memset(&c, 0, sizeof c);
  float *L, *G;
  double* stats;
  CHECK(get_code(env, argv[0], FN, "kind", 4, &c.kind));
  CHECK(get_dim(env, argv[2], FN, "B", &c.B));
  CHECK(get_num(env, argv[3], FN, "penalty", &c.penalty));
  const size_t bb = (size_t)c.B * c.B;
  CHECK(get_f32(env, argv[1], FN, "logits", bb, "[B, B]", &L));
  CHECK(get_f32(env, argv[4], FN, "G", bb, "[B, B]", &G));
  CHECK(get_f64(env, argv[5], FN, "lseRow", (size_t)c.B, "[B]", &c.lseRow));
  CHECK(get_f64(env, argv[6], FN, "lseCol", (size_t)c.B, "[B]", &c.lseCol));
  CHECK(get_f64(env, argv[7], FN, "stats", 5, "[5]", &stats));
  if (c.B == 0) {
    throw_range(env, "contrastiveLoss: B = 0 is not allowed (the loss is a mean over the batch)");
    return NULL;
  }
  CHECK(ensure_part_scratch(env, (size_t)c.B * FATHOM_CLOSS_PARTS));
  c.L = L;
  c.G = G;
  c.part = fathom_scr.part;
  CHECK(run(env, K->closs, &c, 1, bb >= PAR_MIN_ELEMS));
  double loss = 0.0, lse = 0.0, correct = 0.0, pos = 0.0, neg = 0.0;
  const double invB = 1.0 / c.B;
  for (int i = 0; i < c.B; i++) {
    const double* q = c.part + (long)i * FATHOM_CLOSS_PARTS;
    loss += q[0];
    lse += q[1] * invB;
    pos += q[2];
    neg += q[3];
    correct += q[4];
  }
  for (int i = 0; i < c.B; i++) loss += c.part[(long)i * FATHOM_CLOSS_PARTS + 5];
  stats[0] = loss;
  stats[1] = lse;
  stats[2] = correct / c.B;
  stats[3] = pos / c.B;
  stats[4] = c.B > 1 ? neg / ((double)c.B * (c.B - 1)) : 0.0;
  return NULL;
}

// tanhGaussianSample(mean, raw, eps, B, A, x, a, logp, exact)
#undef FN
#define FN "tanhGaussianSample"
static napi_value TanhGaussianSample(napi_env env, napi_callback_info info) {
  ARGS(9);
  fathom_tanh_args t;
  memset(&t, 0, sizeof t);
  float *mean, *raw, *eps;
  CHECK(get_dim(env, argv[3], FN, "B", &t.B));
  CHECK(get_dim(env, argv[4], FN, "A", &t.A));
  const size_t ba = (size_t)t.B * t.A;
  CHECK(get_f32(env, argv[0], FN, "mean", ba, "[B, A]", &mean));
  CHECK(get_f32(env, argv[1], FN, "raw", ba, "[B, A]", &raw));
  CHECK(get_f32(env, argv[2], FN, "eps", ba, "[B, A]", &eps));
  CHECK(get_f32(env, argv[5], FN, "x", ba, "[B, A]", &t.x));
  CHECK(get_f32(env, argv[6], FN, "a", ba, "[B, A]", &t.a));
  CHECK(get_f64(env, argv[7], FN, "logp", (size_t)t.B, "[B]", &t.logp));
  CHECK(get_bool(env, argv[8], FN, "exact", &t.exact));
  t.mean = mean;
  t.raw = raw;
  t.eps = eps;
  CHECK(run(env, K->tanh_fwd, &t, 1, ba >= PAR_MIN_TRANSCENDENTAL));
  return NULL;
}

// tanhGaussianBackward(raw, eps, a, dLogp, dA, B, A, dMean, dRaw, exact, x)
#undef FN
#define FN "tanhGaussianBackward"
static napi_value TanhGaussianBackward(napi_env env, napi_callback_info info) {
  ARGS(11);
  fathom_tanh_args t;
  memset(&t, 0, sizeof t);
  float *raw, *eps, *a, *dA, *x;
  double* dLogp;
  CHECK(get_dim(env, argv[5], FN, "B", &t.B));
  CHECK(get_dim(env, argv[6], FN, "A", &t.A));
  const size_t ba = (size_t)t.B * t.A;
  CHECK(get_f32(env, argv[0], FN, "raw", ba, "[B, A]", &raw));
  CHECK(get_f32(env, argv[1], FN, "eps", ba, "[B, A]", &eps));
  CHECK(get_f32(env, argv[2], FN, "a", ba, "[B, A]", &a));
  CHECK(get_f64(env, argv[3], FN, "dLogp", (size_t)t.B, "[B]", &dLogp));
  CHECK(get_f32(env, argv[4], FN, "dA", ba, "[B, A]", &dA));
  CHECK(get_f32(env, argv[7], FN, "dMean", ba, "[B, A]", &t.dMean));
  CHECK(get_f32(env, argv[8], FN, "dRaw", ba, "[B, A]", &t.dRaw));
  CHECK(get_bool(env, argv[9], FN, "exact", &t.exact));
  CHECK(get_f32(env, argv[10], FN, "x", ba, "[B, A]", &x));
  t.raw = raw;
  t.eps = eps;
  t.a = a;
  t.dLogp = dLogp;
  t.dA = dA;
  t.x = x;
  CHECK(run(env, K->tanh_bwd, &t, 1, ba >= PAR_MIN_TRANSCENDENTAL));
  return NULL;
}

// ---------------------------------------------------------------------------------------------
// Configuration.

// {simd, threads, bf16, gradOverwrite, bf16Activations}: bf16 is null when the bf16 GEMMs can run,
// else why not; bf16Activations: the fused layers take x and y as bf16 rows (Uint16Array) with bf16;
// gradOverwrite: denseLnSwishBackward takes `overwrite` (an addon built before it ignores the flag
// and accumulates, so the TypeScript side zeroes the buffers itself when this is missing).
static napi_value info_object(napi_env env) {
  napi_value o, s, t, b, ow, act;
  napi_create_object(env, &o);
  napi_create_string_utf8(env, level, NAPI_AUTO_LENGTH, &s);
  napi_create_int32(env, pool_threads(), &t);
  if (KB) napi_get_null(env, &b);
  else napi_create_string_utf8(env, KB_why, NAPI_AUTO_LENGTH, &b);
  napi_set_named_property(env, o, "simd", s);
  napi_set_named_property(env, o, "threads", t);
  napi_set_named_property(env, o, "bf16", b);
  napi_get_boolean(env, true, &ow);
  napi_set_named_property(env, o, "gradOverwrite", ow);
  napi_get_boolean(env, KB != NULL, &act);
  napi_set_named_property(env, o, "bf16Activations", act);
  return o;
}

// Chooses the kernels of level `want` (already known to be valid for K).
static void set_kernels(const fathom_kernels* k, const char* want) {
  const char* why;
  K = k;
  KB = fathom_select_bf16(want, &why);
  snprintf(KB_why, sizeof KB_why, "%s", KB ? "" : why);
  snprintf(level, sizeof level, "%s", KB ? KB->name : K->name);
}

// configure(threads: number, simd: string) → {simd, threads}. Restarts the pool only when the
// thread count changes. Process-wide: every wrapper of the addon sees the new setting.
#undef FN
#define FN "configure"
static napi_value Configure(napi_env env, napi_callback_info info) {
  ARGS(2);
  int threads;
  char want[32];
  size_t len;
  char msg[256];
  CHECK(get_dim(env, argv[0], FN, "threads", &threads));
  if (threads < 1 || threads > FATHOM_MAX_THREADS) {
    snprintf(msg, sizeof msg, "configure: threads = %d is not allowed: use 1 to 1024", threads);
    throw_range(env, msg);
    return NULL;
  }
  if (napi_get_value_string_utf8(env, argv[1], want, sizeof want, &len) != napi_ok) {
    throw_type(env, "configure: simd must be a string (auto, avx512bf16, avx512, avx2, avx2x16, generic)");
    return NULL;
  }
  const char* err;
  const fathom_kernels* k = fathom_select_kernels(want, &err);
  if (!k) {
    snprintf(msg, sizeof msg, "SIMD level \"%s\" is not available: %s", want, err);
    throw_range(env, msg);
    return NULL;
  }
  if (threads != pool_threads()) {
    int e = pool_start(threads);
    if (e) {
      snprintf(msg, sizeof msg, "configure: could not start %d threads (error %d); running on %d", threads, e,
               pool_threads());
      throw_range(env, msg);
      return NULL;
    }
  }
  set_kernels(k, want); // the N-API thread is blocked here, so no job of this thread is running
  return info_object(env);
}

static napi_value Info(napi_env env, napi_callback_info info) {
  (void)info;
  return info_object(env);
}

// alignOffset(arrayBuffer) → the bytes from the start of an ArrayBuffer's data to its first
// 64-byte boundary (0 … 63). Large ArrayBuffers come from malloc/mmap 16 bytes past a page, so a
// Float32Array over one puts every 64-byte vector across two cache lines; the wrapper's
// allocFloat32 starts its view at this offset instead.
static napi_value AlignOffset(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void* data = NULL;
  size_t len = 0;
  napi_value out;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_arraybuffer_info(env, argv[0], &data, &len) != napi_ok) {
    throw_type(env, "alignOffset: the argument must be an ArrayBuffer");
    return NULL;
  }
  napi_create_uint32(env, (uint32_t)((64 - (uintptr_t)data % 64) % 64), &out);
  return out;
}

// poolStats() → {jobs, threads}: jobs run on the pool since the process started and the threads
// that ran them, summed (bench: threads / jobs below the pool's size means workers missed jobs).
static napi_value PoolStats(napi_env env, napi_callback_info info) {
  (void)info;
  unsigned long long jobs, threads;
  pool_stats(&jobs, &threads);
  napi_value o, j, t;
  napi_create_object(env, &o);
  napi_create_double(env, (double)jobs, &j);
  napi_create_double(env, (double)threads, &t);
  napi_set_named_property(env, o, "jobs", j);
  napi_set_named_property(env, o, "threads", t);
  return o;
}

// peak(bf16: boolean, iters: number, units: number, parallel: boolean) → seconds: the
// register-only multiply-add loop of the current level (fp32 FMA, or vdpbf16ps), `units` claims
// of `iters` iterations, on the caller alone or on the whole pool. Returns {seconds, flops}.
#undef FN
#define FN "peak"
static napi_value Peak(napi_env env, napi_callback_info info) {
  ARGS(4);
  int bf16, units, parallel;
  double iters;
  CHECK(get_bool(env, argv[0], FN, "bf16", &bf16));
  CHECK(get_num(env, argv[1], FN, "iters", &iters));
  CHECK(get_dim(env, argv[2], FN, "units", &units));
  CHECK(get_bool(env, argv[3], FN, "parallel", &parallel));
  const fathom_kernels* T = bf16 ? KB : K;
  if (!T) {
    char msg[400];
    snprintf(msg, sizeof msg, "peak: no bf16 loop here: %s", KB_why);
    throw_range(env, msg);
    return NULL;
  }
  if (!(iters >= 1 && iters <= 1e12)) {
    throw_range(env, "peak: iters must be in [1, 1e12]");
    return NULL;
  }
  // acc·x + y stays near 1 (fp32); products of 1e-3 pairs add 2e-6 per step (bf16)
  fathom_peak_args p = {.iters = (long)iters, .units = units, .x = bf16 ? 1e-3f : 0.9999999f, .y = bf16 ? 1e-3f : 1e-7f, .sink = 0.f};
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  CHECK(run(env, T->peak, &p, 1, parallel));
  clock_gettime(CLOCK_MONOTONIC, &t1);
  napi_value o, sec, fl;
  napi_create_object(env, &o);
  napi_create_double(env, (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec), &sec);
  napi_create_double(env, (double)p.iters * units * T->peak_flops, &fl);
  napi_set_named_property(env, o, "seconds", sec);
  napi_set_named_property(env, o, "flops", fl);
  return o;
}

NAPI_MODULE_INIT() {
  if (!K) {
    const char* err;
    set_kernels(fathom_select_kernels("auto", &err), "auto");
  }
  napi_property_descriptor props[] = {
#define METHOD(name, fn) {name, NULL, fn, NULL, NULL, NULL, napi_enumerable, NULL}
      METHOD("configure", Configure),
      METHOD("info", Info),
      METHOD("poolStats", PoolStats),
      METHOD("alignOffset", AlignOffset),
      METHOD("peak", Peak),
      METHOD("gemm", Gemm),
      METHOD("biasAdd", BiasAdd),
      METHOD("biasBackward", BiasBackward),
      METHOD("layerNormForward", LayerNormForward),
      METHOD("layerNormBackward", LayerNormBackward),
      METHOD("swishForward", SwishForward),
      METHOD("swishBackward", SwishBackward),
      METHOD("denseLnSwishForward", DenseLnSwishForward),
      METHOD("denseLnSwishBackward", DenseLnSwishBackward),
      METHOD("adamStep", AdamStep),
      METHOD("add", Add),
      METHOD("sumSquares", SumSquares),
      METHOD("pairwiseEnergy", PairwiseEnergy),
      METHOD("pairwiseEnergyBackward", PairwiseEnergyBackward),
      METHOD("contrastiveLoss", ContrastiveLoss),
      METHOD("tanhGaussianSample", TanhGaussianSample),
      METHOD("tanhGaussianBackward", TanhGaussianBackward),
#undef METHOD
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
