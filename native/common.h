// Shared declarations of the native CPU backend: the argument blocks each kernel job reads,
// the per-ISA kernel table, and the scratch memory the addon owns (DESIGN §3).
//
// Layering: addon.c (N-API glue, validation, scratch sizing) → dispatch.c (CPU detection) →
// kernels_<isa>.c (one compilation of kernels.h per instruction set) → pool.c (thread pool).
#ifndef FATHOM_COMMON_H
#define FATHOM_COMMON_H

#include <stddef.h>
#include <stdint.h>

// GEMM blocking along k: a packed B block is [KC, n]; one A micro-panel is [KC, MR].
#define FATHOM_KC 256
// The bf16 GEMMs (gemm_bf16.h) block k in KC_BF16 values = KC pairs of bf16, one pair per 32-bit
// word, so their packed blocks take the same scratch as the float32 ones (and no more claim
// counters: FATHOM_GEMM_SLOTS(k) is an upper bound for them).
#define FATHOM_KC_BF16 (2 * FATHOM_KC)
// Transposed A is claimed and packed this many [KC, MR] micro-panels at a time.
#define FATHOM_PACK_GROUP 2
// Rows per chunk of float32 column sums, reduced in float64 (keeps long sums accurate).
#define FATHOM_SUM_BLOCK 32

// Halves per row of bf16 rows with `cols` values: whole pairs (an odd row ends with a zero half).
#define FATHOM_BF16_ROW(cols) ((cols) + ((cols) & 1))

// Scratch memory owned by the addon, grown on demand on the calling thread before a job is
// dispatched, never inside a job (no allocation in hot loops).
typedef struct {
  float* packB;     // [KC, roundup(n, NR)] shared packed B block
  size_t packBCap;  // floats
  float* packB2;    // [KC, roundup(in, NR)] a fused backward's Wᵀ, packed for its dx GEMM
  size_t packB2Cap; // floats
  float* packA;     // [threads, PACK_GROUP, KC, MR] A micro-panels packed by each thread
  size_t packACap;  // floats
  double* colsum;   // [threads, 3, cols] float64 column totals (each thread its columns)
  size_t colsumCap; // doubles
  float* colblk;    // [ceil(rows / SUM_BLOCK), 3, cols] float32 column sums per row chunk
  size_t colblkCap; // floats
  double* part;     // per-chunk / per-row partial results of the composite kernels, reduced in order
  size_t partCap;   // doubles
  uint16_t* dz16;   // [rows, roundup(out, 2)] a bf16 fused backward's dz, rounded once (see below)
  size_t dz16Cap;   // halves
} fathom_scratch;

// C = alpha·op(A)·op(B) + beta·C, row-major. op(A): [m, k], op(B): [k, n], C: [m, n].
// Optional epilogue (fused Dense→LayerNorm→Swish forward): after C's rows are complete,
// z = C + bias; mean/rstd/y from LayerNorm(z)·γ+β then Swish.
typedef struct {
  int transA, transB;
  int m, n, k;
  float alpha, beta;
  const float* a; // [m, k] or [k, m] when transA
  const float* b; // [k, n] or [n, k] when transB
  float* c;       // [m, n]
  // op(B) already packed (one k block: k ≤ the build's KC), as gemm_run would pack it, by every
  // thread of the job before its first barrier; NULL = gemm_run packs it
  const void* bpacked;
  // bf16 builds only (gemm_bf16.h): A or B given already rounded to bf16, row-major, rows lda16 /
  // ldb16 halves apart (even; a row's halves past its length are zero), in place of a / b: A [m, k]
  // (a row's consecutive halves are its pairs along k, so A is read in place instead of packed)
  // or, with transA, [k, m]; B [k, n] (transB = 0 only).
  const uint16_t* a16; // or NULL (use a)
  const uint16_t* b16; // or NULL (use b)
  long lda16, ldb16;
  // epilogue (NULL bias = none)
  const float* bias;  // [n]
  const float* gamma; // [n]
  const float* lnb;   // [n]
  float* mean;        // [m]
  float* rstd;        // [m]
  float* y;           // [m, n], or NULL when y16 is set
  uint16_t* y16;      // bf16 builds: y rounded to bf16 instead, [m, ldy16] (pad half 0), or NULL
  long ldy16;
  float eps;
} fathom_gemm_args;

// Fused Dense→LayerNorm→Swish backward (see Backend.denseLnSwishBackward).
typedef struct {
  float* dy;          // [rows, out] in: ∂L/∂y; out: ∂L/∂z
  const float* x;     // [rows, in], or NULL when x16 is set
  const uint16_t* x16; // bf16 builds: x as bf16 rows [rows, ldx16] instead, or NULL
  int ldx16;
  const float* w;     // [in, out]
  const float* gamma; // [out]
  const float* lnb;   // [out]
  const float* z;     // [rows, out]
  const float* mean;  // [rows]
  const float* rstd;  // [rows]
  float* dx;          // [rows, in] or NULL
  float* dw;          // [in, out] accumulated, or NULL (no weight gradient)
  float* db;          // [out] accumulated
  float* dgamma;      // [out] accumulated
  float* dbeta;       // [out] accumulated
  int rows, in, out;
  int overwrite;      // dw, db, dgamma, dbeta written instead of accumulated
  int dxAliasesX;     // dx and x overlap: the dx GEMM must wait until the dW GEMM has read x
  // bf16 builds: dz rounded to bf16 once, [rows, ldz16] (ldz16 = out rounded up to even, the pad
  // half zero), is what both GEMMs read (dW's B, dx's A) instead of converting dy's float32 dz
  // in each pack; NULL = dz goes to dy in float32 (float32 builds).
  uint16_t* dz16;
  int ldz16;
} fathom_fused_bwd_args;

// Row kernels: LayerNorm forward/backward, bias add/backward.
typedef struct {
  const float* x;     // [rows, cols] (LN fwd/bwd input, biasAdd target, biasBackward dy)
  float* xo;          // [rows, cols] biasAdd target (same as x)
  const float* dy;    // [rows, cols] LN backward upstream gradient
  const float* gamma; // [cols]
  const float* beta;  // [cols] (LN forward shift; biasAdd bias)
  float* y;           // [rows, cols] LN forward output / LN backward dx
  float* mean;        // [rows]
  float* rstd;        // [rows]
  float* dgamma;      // [cols] accumulated (LN backward; biasBackward: db)
  float* dbeta;       // [cols] accumulated
  int rows, cols;
  float eps;
} fathom_rows_args;

// The register-only peak loop (bench): `units` claims of `iters` iterations, each iteration
// `peak_flops` floating-point operations on one thread. x and y are the loop's multiplier and
// addend (run-time values, so nothing folds); every claim stores its result into sink (an atomic
// store), so the loop cannot be optimised away.
typedef struct {
  long iters;
  int units;
  float x, y;
  float sink;
} fathom_peak_args;

// Element-wise kernels: swish fwd/bwd, add, Adam.
typedef struct {
  const float* a; // swish x / add a / Adam grad
  const float* b; // swish-backward dy / add b
  float* out;     // result (Adam: param)
  float* m;       // Adam first moment
  float* v;       // Adam second moment
  size_t n;
  float lr_c1; // Adam: lr / (1 − β1^t)
  float rbc2;  // Adam: 1 / (1 − β2^t)
  float beta1, beta2, eps;
} fathom_elem_args;

// ── Composite kernels (composite.h; Backend.sumSquares … tanhGaussianBackward) ──

// Σ x² over n values: one float64 partial per FATHOM_ELEM_CHUNK chunk into part[chunk].
typedef struct {
  const float* x; // [n]
  size_t n;
  double* part; // [ceil(n / FATHOM_ELEM_CHUNK)]
} fathom_sumsq_args;

// Pairwise energy of Φ, Ψ and its backward. fn: FATHOM_PAIR_NORM … FATHOM_PAIR_COSINE.
#define FATHOM_PAIR_NORM 0
#define FATHOM_PAIR_L2 1
#define FATHOM_PAIR_DOT 2
#define FATHOM_PAIR_COSINE 3
typedef struct {
  int fn, B, d;
  const float* phi;  // [B, d]
  const float* psi;  // [B, d]
  float* logits;     // [B, B] forward output
  float* dot;        // [B, B] Φ·Ψᵀ (norm, l2)
  float* aux;        // [B, B] D_ij (norm)
  float* h;          // [B, B] backward weights H
  uint8_t* exact;    // [B, B] 1 where the distance was computed directly
  double* phiNorm;   // [B] ‖Φ_i‖² (norm, l2) or ‖Φ_i‖ (cosine)
  double* psiNorm;   // [B]
  double* rowSum;    // [B] Σ_j H_ij
  double* colSum;    // [B] Σ_i H_ij
  float* phiHat;     // [B, d] (cosine)
  float* psiHat;     // [B, d]
  const float* G;    // [B, B] ∂loss/∂L (backward)
  float* dPhi;       // [B, d] (backward output)
  float* dPsi;       // [B, d]
  double* rowExact;  // [B] directly computed pairs per row (forward)
  double minFraction; // GEMM_DIST_MIN_FRACTION
} fathom_pair_args;

// Contrastive loss over logits [B, B] and its gradient. kind: FATHOM_CLOSS_FWD … BINARY.
#define FATHOM_CLOSS_FWD 0
#define FATHOM_CLOSS_BWD 1
#define FATHOM_CLOSS_SYM 2
#define FATHOM_CLOSS_BINARY 3
// Per-row partials part[i·FATHOM_CLOSS_PARTS + q]: q = 0 row loss, 1 lse_i + 1e-6, 2 L_ii,
// 3 Σ_{j≠i} L_ij, 4 1 if argmax_j L_ij = i, 5 column-i loss (bwd, sym) or row-i BCE (binary).
#define FATHOM_CLOSS_PARTS 6
typedef struct {
  int kind, B;
  double penalty;
  const float* L; // [B, B]
  float* G;       // [B, B]
  double* lseRow; // [B]
  double* lseCol; // [B]
  double* part;   // [B, FATHOM_CLOSS_PARTS]
} fathom_closs_args;

// Tanh-Gaussian sample / backward (float64 arithmetic per element, as the TypeScript twin).
typedef struct {
  int B, A, exact; // exact: log-det "exact" (else "reference")
  const float* mean; // [B, A]
  const float* raw;  // [B, A]
  const float* eps;  // [B, A]
  float* x;          // [B, A] pre-tanh sample (sample: out; backward: in, "exact")
  float* a;          // [B, A] tanh(x) (sample: out; backward: in)
  double* logp;      // [B] (sample: out)
  const double* dLogp; // [B] (backward)
  const float* dA;   // [B, A] (backward)
  float* dMean;      // [B, A] (backward: out)
  float* dRaw;       // [B, A] (backward: out)
} fathom_tanh_args;

// One ISA's kernels. Each *_job runs as thread `tid` of the pool's current job (see pool.h:
// work before the first barrier is claimed, the thread count is known after it).
typedef void (*fathom_job)(void* args, int tid);
// The avx512bf16 table's gemm and fused_bwd take bf16 operands (fp32 accumulation and outputs);
// everything else in it is the float32 code, and it has no composite kernels.
typedef struct {
  const char* name; // "avx512", "avx2", "avx2x16", "generic", "avx512bf16"
  int mr, nr;       // GEMM register tile
  fathom_job gemm;
  fathom_job fused_bwd;
  fathom_job ln_fwd, ln_bwd, bias_add, bias_bwd;
  fathom_job swish_fwd, swish_bwd, add, adam;
  fathom_job peak; // register-only multiply-add loop (fathom_peak_args): fp32 FMA, or vdpbf16ps
  int peak_flops;  // flops of one iteration of that loop
  // Composite kernels (float32 tables only; NULL in the avx512bf16 table, whose GEMMs take bf16
  // operands: the addon runs these from the float32 table of the level).
  fathom_job sumsq, pair_fwd, pair_bwd, closs, tanh_fwd, tanh_bwd;
} fathom_kernels;

// Scratch and pool are process-wide; the kernel jobs read this pointer.
extern fathom_scratch fathom_scr;

#define FATHOM_MAX_THREADS 1024
// Elements per claim in element-wise kernels (a multiple of 16 floats: whole cache lines).
#define FATHOM_ELEM_CHUNK 4096
// Rows per claim in row kernels that need no column sums.
#define FATHOM_ROW_CHUNK 8
// Claim counters a GEMM over k uses (one pack and one compute counter per k block).
#define FATHOM_GEMM_SLOTS(k) (2 * ((k) == 0 ? 1 : ((k) + FATHOM_KC - 1) / FATHOM_KC))

const fathom_kernels* fathom_kernels_avx512(void);
const fathom_kernels* fathom_kernels_avx2(void);
const fathom_kernels* fathom_kernels_avx2x16(void);
const fathom_kernels* fathom_kernels_generic(void);
const fathom_kernels* fathom_kernels_avx512bf16(void);

#endif
