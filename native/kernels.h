// The kernels, written once with GCC/Clang vector extensions and compiled once per instruction
// set by kernels_<isa>.c, which define before including this file:
//   VW      floats per vector register (16 AVX-512, 8 AVX2, 4 SSE2/NEON)
//   MR, NR  GEMM register tile: MR rows of C × NR columns (NR a multiple of VW)
//   KERNELS_NAME, KERNELS_FN  the table's name and the function returning it
// Each job runs as thread `tid` of `nt`; see common.h for the argument blocks.
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "common.h"
#include "pool.h"

#if defined(__SSE2__) || defined(__AVX__)
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

#define NV (NR / VW)
// Independent accumulators of the register-only peak loops: enough to cover multiply-add latency
// × throughput (4 × 2 for FMA, more for vdpbf16ps) on the cores we target.
#define PEAK_ACC 12

typedef float vf __attribute__((vector_size(VW * 4)));
typedef float vfu __attribute__((vector_size(VW * 4), aligned(4), may_alias));
typedef int32_t vi __attribute__((vector_size(VW * 4)));

#define INLINE static inline __attribute__((always_inline))

INLINE vf vload(const float* p) { return *(const vfu*)p; }
INLINE void vstore(float* p, vf v) { *(vfu*)p = v; }
// x − 0 is exactly x (also for −0), so this folds to one broadcast; `(vf){0} + x` would not
// (0 + (−0) = +0) and costs an add per broadcast in the GEMM loop.
INLINE vf vbcast(float x) { return x - (vf){0}; }
// Sum of a vector's lanes as a tree (halves added pairwise): log2(VW) dependent adds where a
// lane-by-lane sum is VW, which the row kernels (two or three sums per row) wait on.
INLINE float hsum(vf v) {
#if VW == 16 && defined(__AVX512F__)
  return _mm512_reduce_add_ps((__m512)v);
#else
  float t[VW];
  for (int i = 0; i < VW; i++) t[i] = v[i];
  for (int w = VW / 2; w >= 1; w /= 2)
    for (int i = 0; i < w; i++) t[i] += t[i + w];
  return t[0];
#endif
}
#if VW == 16 && defined(__AVX512F__)
// Mask of the first `count` of 16 lanes (count may be ≤ 0 or ≥ 16).
INLINE __mmask16 lanes(int count) { return count <= 0 ? 0 : count >= 16 ? 0xFFFF : (__mmask16)((1u << count) - 1); }
#endif
INLINE vf vselect(vi mask, vf a, vf b) { return (vf)(((vi)a & mask) | ((vi)b & ~mask)); }
// Clamp to [lo, hi] in one min and one max where the ISA has them (cmp + blend otherwise).
// The operand order returns x when x is NaN, so NaN propagates as in the ref.
INLINE vf vclamp(vf x, float lo, float hi) {
#if VW == 16 && defined(__AVX512F__)
  return (vf)_mm512_min_ps((__m512)vbcast(hi), _mm512_max_ps((__m512)vbcast(lo), (__m512)x));
#elif VW == 8 && defined(__AVX__)
  return (vf)_mm256_min_ps((__m256)vbcast(hi), _mm256_max_ps((__m256)vbcast(lo), (__m256)x));
#elif VW == 4 && defined(__SSE2__)
  return (vf)_mm_min_ps((__m128)vbcast(hi), _mm_max_ps((__m128)vbcast(lo), (__m128)x));
#else
  x = vselect(x < vbcast(lo), vbcast(lo), x);
  return vselect(x > vbcast(hi), vbcast(hi), x);
#endif
}

// exp(x) for float32 (Cephes expf: range reduction by ln 2, degree-6 polynomial, ~1 ulp).
// Clamped above at 88.3 (exp stays finite, which the sigmoid below needs); below, the AVX-512
// version goes through the subnormals to 0 (clamp at −104), the others saturate at −87.3 so that
// 2^n stays a normal float. Either way the sigmoid turns those ends into exactly 0/1 weights.
// e^(x − n·ln 2) for the integer-valued n nearest x·log2 e: Cody–Waite reduction, then Cephes'
// degree-6 polynomial.
INLINE vf vexp_reduced(vf x, vf n) {
  vf r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  vf p = vbcast(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  return p * (r * r) + r + 1.0f;
}
INLINE vf vexp(vf x) {
#if VW == 16 && defined(__AVX512F__)
  // n rounded by vrndscaleps and 2^n applied by vscalefps, which takes n as a float and goes
  // through the subnormals to 0 by itself: no exponent arithmetic. Clamped so that exp never
  // reaches +Inf (1/(1 + Inf) would become 0·Inf in the reciprocal's Newton step) and −Inf gives 0
  // (e^−104 rounds to 0), not −Inf − (−Inf).
  x = vclamp(x, -104.0f, 88.3f);
  const vf n = (vf)_mm512_roundscale_ps((__m512)(x * 1.44269504088896341f), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  return (vf)_mm512_scalef_ps((__m512)vexp_reduced(x, n), (__m512)n);
#else
  x = vclamp(x, -87.3f, 88.3f);
  const vf magic = vbcast(12582912.0f); // 1.5·2^23: adding it rounds to the nearest integer
  const vf n = (x * 1.44269504088896341f + magic) - magic;
  const vi bits = (__builtin_convertvector(n, vi) + 127) << 23;
  return vexp_reduced(x, n) * (vf)bits;
#endif
}
// 1/d for d ≥ 1 (finite or NaN): a hardware reciprocal estimate refined by one Newton step
// (relative error ~1e-7 with AVX2's 12-bit estimate, ~1e-8 with AVX-512's 14-bit one), which
// is much cheaper than a division where vdivps is slow (zmm divisions on Intel cores).
INLINE vf vrecip(vf d) {
#if VW == 16 && defined(__AVX512F__)
  vf r = (vf)_mm512_rcp14_ps((__m512)d);
  return r * (2.0f - d * r);
#elif VW == 8 && defined(__AVX__)
  vf r = (vf)_mm256_rcp_ps((__m256)d);
  return r * (2.0f - d * r);
#else
  return vbcast(1.0f) / d;
#endif
}
INLINE vf vsigmoid(vf u) { return vrecip(vbcast(1.0f) + vexp(-u)); }
INLINE float ssigmoid(float u) { return 1.0f / (1.0f + expf(-u)); }

static inline int min_i(int a, int b) { return a < b ? a : b; }

// ---------------------------------------------------------------------------------------------
// Work claiming (pool.h): items [*b, *e) taken `unit` at a time from the shared counter `slot`,
// until `total` items are gone. Whichever thread takes an item computes it the same way, so
// results do not depend on the thread count or on timing.

static inline int claim(int slot, int unit, int total, int* b, int* e) {
  const int i = pool_claim(slot, unit);
  if (i >= total) return 0;
  *b = i;
  *e = min_i(i + unit, total);
  return 1;
}

// ---------------------------------------------------------------------------------------------
// GEMM: packed B panels [kc, NR] shared by all threads, A read in place (row-major, no
// transpose) or packed per micro-panel [kc, MR] (transposed A, or the last partial panel).

// Prefetch (for writing) the mr rows × NR columns of a C tile at the start of its micro-kernel:
// in a deep network C is cold (a layer's z in the forward, its dW read back with beta = 1 in the
// backward), and without this each tile waits on its lines' misses at the store.
INLINE void prefetch_tile(const float* c, long ldc, int mr) {
  for (int i = 0; i < mr; i++)
    for (int j = 0; j < NR; j += 64 / (int)sizeof(float)) __builtin_prefetch(c + i * ldc + j, 1, 3);
}

// C[i, j] = alpha·acc + beta·C for the tile's mr × nr real elements (beta = 0: C is not read).
INLINE void store_tile(vf acc[MR][NV], float* restrict c, long ldc, int mr, int nr, float alpha, float beta) {
  if (mr == MR && nr == NR) {
    if (beta == 0.f) {
      for (int i = 0; i < MR; i++)
        for (int v = 0; v < NV; v++) vstore(c + i * ldc + v * VW, acc[i][v] * alpha);
    } else {
      for (int i = 0; i < MR; i++)
        for (int v = 0; v < NV; v++) {
          float* cp = c + i * ldc + v * VW;
          vstore(cp, acc[i][v] * alpha + vload(cp) * beta);
        }
    }
  } else {
    float tile[MR * NR] __attribute__((aligned(64))); // [MR, NR]
    for (int i = 0; i < MR; i++)
      for (int v = 0; v < NV; v++) *(vf*)(tile + i * NR + v * VW) = acc[i][v];
    for (int i = 0; i < mr; i++)
      for (int j = 0; j < nr; j++) {
        float* cp = c + i * ldc + j;
        *cp = beta == 0.f ? alpha * tile[i * NR + j] : alpha * tile[i * NR + j] + beta * *cp;
      }
  }
}

#ifndef FATHOM_GEMM_BF16
// acc[MR][NV] = Σ_p A[i, p]·Bp[p, :]; element A[i, p] is ap[i·rsA + p·csA].
// C[i, j] = alpha·acc + beta·C (beta = 0: C is not read).
INLINE void micro_kernel(int kc, const float* restrict ap, long rsA, long csA, const float* restrict bp,
                         float* restrict c, long ldc, int mr, int nr, float alpha, float beta) {
  prefetch_tile(c, ldc, mr);
  vf acc[MR][NV];
  for (int i = 0; i < MR; i++)
    for (int v = 0; v < NV; v++) acc[i][v] = (vf){0};
  for (int p = 0; p < kc; p++) {
    vf bv[NV];
    for (int v = 0; v < NV; v++) bv[v] = *(const vf*)(bp + (long)p * NR + v * VW);
    for (int i = 0; i < MR; i++) {
      const vf av = vbcast(ap[i * rsA + p * csA]);
      for (int v = 0; v < NV; v++) acc[i][v] += av * bv[v];
    }
  }
  store_tile(acc, c, ldc, mr, nr, alpha, beta);
}

// Two instantiations so the inner loop has constant strides where it can.
static __attribute__((noinline)) void kernel_rowsA(int kc, const float* ap, long lda, const float* bp, float* c, long ldc,
                                                   int mr, int nr, float alpha, float beta) {
  micro_kernel(kc, ap, lda, 1, bp, c, ldc, mr, nr, alpha, beta);
}
static __attribute__((noinline)) void kernel_packedA(int kc, const float* ap, const float* bp, float* c, long ldc,
                                                     int mr, int nr, float alpha, float beta) {
  micro_kernel(kc, ap, 1, MR, bp, c, ldc, mr, nr, alpha, beta);
}

// Packs op(B)[pc:pc+kc, j0:j0+NR] into dst [kc, NR], zero-padding columns past n.
static void pack_b_panel(const fathom_gemm_args* g, int pc, int kc, int j0, float* restrict dst) {
  const int n = g->n, k = g->k, nr = min_i(NR, n - j0);
  if (!g->transB) { // B: [k, n]
    // Each row contributes NR floats to a panel, rows n floats apart, which the hardware
    // prefetchers follow poorly: fetch the same rows' next two panels (the next one this thread
    // or the other claims) while this one is packed. A deep network's W comes from DRAM.
    const int pf = j0 + 3 * NR <= n ? 2 * NR : j0 + 2 * NR <= n ? NR : 0;
    for (int p = 0; p < kc; p++) {
      const float* src = g->b + (long)(pc + p) * n + j0;
      float* d = dst + (long)p * NR;
      for (int o = NR; o <= pf; o += 64 / (int)sizeof(float)) __builtin_prefetch(src + o, 0, 2);
      if (nr == NR) {
        for (int v = 0; v < NV; v++) *(vf*)(d + v * VW) = vload(src + v * VW);
      } else {
        int j = 0;
        for (; j < nr; j++) d[j] = src[j];
        for (; j < NR; j++) d[j] = 0.f;
      }
    }
  } else { // B: [n, k]; op(B)[p, j] = B[j, p]
    for (int jj = 0; jj < nr; jj++) {
      const float* src = g->b + (long)(j0 + jj) * k + pc;
      for (int p = 0; p < kc; p++) dst[(long)p * NR + jj] = src[p];
    }
    for (int jj = nr; jj < NR; jj++)
      for (int p = 0; p < kc; p++) dst[(long)p * NR + jj] = 0.f;
  }
}

// Packs op(A)[ip0·MR : ip1·MR, pc:pc+kc] into panels dst + (ip − ip0)·kc·MR, each [kc, MR],
// zero-padding rows past m. Transposed A is read row by row (contiguous), so each source cache
// line is loaded once for all the panels it feeds.
static void pack_a_panels(const fathom_gemm_args* g, int pc, int kc, int ip0, int ip1, float* restrict dst) {
  const int m = g->m, k = g->k;
  if (ip1 <= ip0) return;
  if (g->transA) { // A: [k, m]; op(A)[i, p] = A[p, i]
    // Groups of FATHOM_PACK_GROUP panels: each source row segment is read once, and the writes
    // go to few enough streams (panels are kc·MR floats apart, a near power-of-two stride) to
    // stay within the associativity of L1.
    enum { PACK_GROUP = FATHOM_PACK_GROUP };
    const int full1 = min_i(ip1, m / MR); // panels with MR real rows
    for (int gp = ip0; gp < ip1; gp += PACK_GROUP) {
      const int ge = min_i(gp + PACK_GROUP, ip1), gfull = min_i(ge, full1 > gp ? full1 : gp);
      for (int p = 0; p < kc; p++) {
        const float* src = g->a + (long)(pc + p) * m;
        // The source is read one cache line per row, rows m floats apart, which the hardware
        // prefetchers follow poorly: fetch the next two groups' lines (this thread's next group
        // when the threads claim in turn) while this one is packed.
        if (ge * MR < m) __builtin_prefetch(src + ge * MR, 0, 2);
        if ((ge + PACK_GROUP) * MR < m) __builtin_prefetch(src + (ge + PACK_GROUP) * MR, 0, 2);
        for (int ip = gp; ip < gfull; ip++) {
          float* d = dst + (long)(ip - ip0) * kc * MR + (long)p * MR;
          for (int i = 0; i < MR; i++) d[i] = src[ip * MR + i];
        }
        for (int ip = gfull; ip < ge; ip++) {
          float* d = dst + (long)(ip - ip0) * kc * MR + (long)p * MR;
          const int mr = min_i(MR, m - ip * MR);
          int i = 0;
          for (; i < mr; i++) d[i] = src[ip * MR + i];
          for (; i < MR; i++) d[i] = 0.f;
        }
      }
    }
  } else { // A: [m, k]
    for (int ip = ip0; ip < ip1; ip++) {
      float* d = dst + (long)(ip - ip0) * kc * MR;
      const int i0 = ip * MR, mr = min_i(MR, m - i0);
      for (int i = 0; i < mr; i++) {
        const float* src = g->a + (long)(i0 + i) * k + pc;
        for (int p = 0; p < kc; p++) d[(long)p * MR + i] = src[p];
      }
      for (int i = mr; i < MR; i++)
        for (int p = 0; p < kc; p++) d[(long)p * MR + i] = 0.f;
    }
  }
}

// The build's k block: a packed B holds k ≤ GEMM_KC in one block.
#define GEMM_KC FATHOM_KC
// Packs every panel of op(B)[pc:pc+kc, :] into dst ([nPanels, kc, NR]), panels claimed from `slot`.
static void pack_b_block(const fathom_gemm_args* g, int slot, int pc, int kc, void* dst) {
  const int nPanels = (g->n + NR - 1) / NR;
  int b0, b1;
  while (claim(slot, 1, nPanels, &b0, &b1)) pack_b_panel(g, pc, kc, b0 * NR, (float*)dst + (long)b0 * kc * NR);
}

#endif // !FATHOM_GEMM_BF16

// Fused forward epilogue on complete rows of z = C: z += bias, then LayerNorm, then Swish.
static void dense_epilogue_rows(const fathom_gemm_args* g, int r0, int r1) {
  const int n = g->n;
  const float inv_n = 1.0f / (float)n;
  for (int r = r0; r < r1; r++) {
    float* z = g->c + (long)r * n; // [n]
    float* y = g->y ? g->y + (long)r * n : NULL; // [n]
    // y is cold (a new layer's output): fetch its lines for writing while z is reduced.
    if (y)
      for (int j = 0; j < n; j += 64 / (int)sizeof(float)) __builtin_prefetch(y + j, 1, 3);
#ifdef FATHOM_GEMM_BF16
    uint16_t* y16 = g->y16 ? g->y16 + r * g->ldy16 : NULL; // [ldy16]
    if (y16)
      for (int j = 0; j < n; j += 64 / (int)sizeof(uint16_t)) __builtin_prefetch(y16 + j, 1, 3);
#endif
    // Four partial sums each: one would make every row wait on a chain of n / VW dependent adds.
    vf vs[4] = {{0}, {0}, {0}, {0}};
    float s = 0.f;
    int j = 0;
    for (; j + 4 * VW <= n; j += 4 * VW)
      for (int q = 0; q < 4; q++) {
        const vf t = vload(z + j + q * VW) + vload(g->bias + j + q * VW);
        vstore(z + j + q * VW, t);
        vs[q] += t;
      }
    for (; j + VW <= n; j += VW) {
      const vf t = vload(z + j) + vload(g->bias + j);
      vstore(z + j, t);
      vs[0] += t;
    }
    for (; j < n; j++) s += (z[j] += g->bias[j]);
    const float mu = (hsum((vs[0] + vs[1]) + (vs[2] + vs[3])) + s) * inv_n;
    vf vq[4] = {{0}, {0}, {0}, {0}};
    float q = 0.f;
    for (j = 0; j + 4 * VW <= n; j += 4 * VW)
      for (int p = 0; p < 4; p++) {
        const vf d = vload(z + j + p * VW) - mu;
        vq[p] += d * d;
      }
    for (; j + VW <= n; j += VW) {
      const vf d = vload(z + j) - mu;
      vq[0] += d * d;
    }
    for (; j < n; j++) q += (z[j] - mu) * (z[j] - mu);
    const float rs = 1.0f / sqrtf((hsum((vq[0] + vq[1]) + (vq[2] + vq[3])) + q) * inv_n + g->eps);
    g->mean[r] = mu;
    g->rstd[r] = rs;
#ifdef FATHOM_GEMM_BF16
    if (y16) { // y rounded to bf16 (to nearest even, as a GEMM's pack would round it); masked
      for (j = 0; j < n; j += 16) {
        const __mmask16 m = lanes(n - j);
        const vf u = ((vf)_mm512_maskz_loadu_ps(m, z + j) - mu) * rs * (vf)_mm512_maskz_loadu_ps(m, g->gamma + j) +
                     (vf)_mm512_maskz_loadu_ps(m, g->lnb + j);
        _mm256_mask_storeu_epi16(y16 + j, m, (__m256i)_mm512_cvtneps_pbh((__m512)(u * vsigmoid(u))));
      }
      if (n & 1) y16[n] = 0; // the pad half of the last pair
      continue;
    }
#endif
    for (j = 0; j + VW <= n; j += VW) {
      vf u = (vload(z + j) - mu) * rs * vload(g->gamma + j) + vload(g->lnb + j);
      vstore(y + j, u * vsigmoid(u));
    }
    for (; j < n; j++) {
      float u = (z[j] - mu) * rs * g->gamma[j] + g->lnb[j];
      y[j] = u * ssigmoid(u);
    }
  }
}

#ifdef FATHOM_GEMM_BF16
// gemm_run with bf16 operands: same contract, slots and thread grid as the float32 one below.
#include "gemm_bf16.h"
#else
// C = alpha·op(A)·op(B) + beta·C, then the optional epilogue, by every thread of the job, using
// claim counters slot0 … slot0 + FATHOM_GEMM_SLOTS(k) − 1.
static void gemm_run(const fathom_gemm_args* g, int tid, int slot0) {
  const int m = g->m, n = g->n, k = g->k;
  if (m == 0 || n == 0) return;
  const int mPanels = (m + MR - 1) / MR, nPanels = (n + NR - 1) / NR;
  // Packed A, private to each thread: transposed A is packed FATHOM_PACK_GROUP micro-panels at a
  // time, just before use; row-major A is read in place, except its partial last panel.
  float* packA = fathom_scr.packA + (long)tid * FATHOM_PACK_GROUP * FATHOM_KC * MR;
  const int edge = m % MR != 0 && !g->transA ? mPanels - 1 : -1;
  const int nblk = k == 0 ? 1 : (k + FATHOM_KC - 1) / FATHOM_KC;
  int nt = 1, tm = 1, tn = 1;
  for (int blk = 0; blk < nblk; blk++) {
    const int pc = blk * FATHOM_KC, kc = min_i(FATHOM_KC, k - pc);
    const int last = blk == nblk - 1;
    const int slot = slot0 + 2 * blk;
    if (blk > 0) pool_barrier(); // everyone is done with the previous packed block
    const float* packB = fathom_scr.packB;
    if (g->bpacked && nblk == 1) { // packed before the job's last barrier
      packB = (const float*)g->bpacked;
      nt = pool_job_threads();
    } else {
      pack_b_block(g, slot, pc, kc, fathom_scr.packB);
      nt = pool_barrier();
    }
    // Thread grid: rows first. With at least one row panel per thread, each thread owns whole
    // rows (the epilogue needs them) and row panels are claimed; else rows × columns, fixed.
    tm = min_i(nt, mPanels);
    tn = min_i(nt / tm, nPanels);
    const int claiming = tm == nt;
    const int ti = tid % tm, tj = tid / tm;
    if (!claiming && tid >= tm * tn) continue;
    const int jp0 = (int)((long)tj * nPanels / tn), jp1 = (int)((long)(tj + 1) * nPanels / tn);
    const int unit = g->transA ? FATHOM_PACK_GROUP : 1;
    const float beta = blk == 0 ? g->beta : 1.0f;
    int cb = (int)((long)ti * mPanels / tm), ce = (int)((long)(ti + 1) * mPanels / tm);
    if (claiming && !claim(slot + 1, unit, mPanels, &cb, &ce)) continue;
    for (;;) {
      for (int ip = cb; ip < ce; ip++) {
        const int i0 = ip * MR, mr = min_i(MR, m - i0);
        float* crow = g->c + (long)i0 * n;
        const float* ap;
        if (g->transA) {
          const int off = (ip - cb) % FATHOM_PACK_GROUP;
          if (off == 0) pack_a_panels(g, pc, kc, ip, min_i(ip + FATHOM_PACK_GROUP, ce), packA);
          ap = packA + (long)off * kc * MR;
        } else if (ip == edge) {
          pack_a_panels(g, pc, kc, ip, ip + 1, packA);
          ap = packA;
        } else {
          ap = NULL;
        }
        if (!ap) {
          const float* arow = g->a + (long)i0 * k + pc;
          for (int jp = jp0; jp < jp1; jp++)
            kernel_rowsA(kc, arow, k, packB + (long)jp * kc * NR, crow + jp * NR, n, mr,
                         min_i(NR, n - jp * NR), g->alpha, beta);
        } else {
          for (int jp = jp0; jp < jp1; jp++)
            kernel_packedA(kc, ap, packB + (long)jp * kc * NR, crow + jp * NR, n, mr,
                           min_i(NR, n - jp * NR), g->alpha, beta);
        }
        // The rows are complete and still in L1: run the epilogue now.
        if (last && g->bias && tn == 1) dense_epilogue_rows(g, i0, i0 + mr);
      }
      if (!claiming || !claim(slot + 1, unit, mPanels, &cb, &ce)) break;
    }
  }
  if (g->bias && tn > 1) { // rows were split across threads by columns: finish after a barrier
    pool_barrier();
    dense_epilogue_rows(g, (int)((long)tid * m / nt), (int)((long)(tid + 1) * m / nt));
  }
}

#endif // FATHOM_GEMM_BF16

static void gemm_job(void* args, int tid) { gemm_run((const fathom_gemm_args*)args, tid, 0); }

// ---------------------------------------------------------------------------------------------
// Column sums over rows (bias and LayerNorm parameter gradients), bitwise identical for any
// thread count and any claiming order: rows are cut into chunks of FATHOM_SUM_BLOCK; a chunk's
// float32 sums go to that chunk's own slot, whichever thread claims it; after a barrier the
// threads reduce disjoint column ranges over the chunks, in chunk order, in float64.

static inline int sum_chunks(int rows) { return (rows + FATHOM_SUM_BLOCK - 1) / FATHOM_SUM_BLOCK; }
// Chunk c's sums: [nsum, cols], zeroed.
static float* chunk_sums_begin(int c, int nsum, int cols) {
  float* s = fathom_scr.colblk + (long)c * nsum * cols;
  memset(s, 0, sizeof(float) * (size_t)nsum * cols);
  return s;
}
// After every chunk is summed: out_q[j] += Σ_c sums_c[q, j] for this thread's columns
// (overwrite: out_q[j] = Σ_c sums_c[q, j], the same value as added to a zero).
static void colsums_reduce(int tid, int chunks, int nsum, int cols, float* out0, float* out1, float* out2, int overwrite) {
  const int nt = pool_barrier();
  float* outs[3] = {out0, out1, out2};
  const int j0 = (int)((long)tid * cols / nt), j1 = (int)((long)(tid + 1) * cols / nt);
  double* acc = fathom_scr.colsum + (long)tid * 3 * cols; // [nsum, cols], this thread's columns used
  for (int q = 0; q < nsum; q++)
    for (int j = j0; j < j1; j++) acc[(long)q * cols + j] = 0;
  for (int c = 0; c < chunks; c++)
    for (int q = 0; q < nsum; q++) {
      const float* sc = fathom_scr.colblk + ((long)c * nsum + q) * cols;
      for (int j = j0; j < j1; j++) acc[(long)q * cols + j] += sc[j];
    }
  for (int q = 0; q < nsum; q++)
    for (int j = j0; j < j1; j++) outs[q][j] = (float)((overwrite ? 0.0 : (double)outs[q][j]) + acc[(long)q * cols + j]);
}

// Fused backward, phase 1 for one row: g = dy·swish'(u) with u = LN(z); then the LayerNorm
// backward writes dz into dy. Column sums: [0] dgamma += g·x̂, [1] dbeta += g, [2] db += dz.
static void fused_bwd_row(const fathom_fused_bwd_args* f, int r, float* sums) {
  const int n = f->out;
  float* dy = f->dy + (long)r * n;      // [out]
  const float* z = f->z + (long)r * n;  // [out]
  const float mu = f->mean[r], rs = f->rstd[r];
  float* sg = sums;         // [out] dgamma partial
  float* sb = sums + n;     // [out] dbeta partial
  float* sd = sums + 2 * n; // [out] db partial
  vf vD = (vf){0}, vDX = (vf){0};
  float sD = 0.f, sDX = 0.f;
  int j = 0;
  for (; j + VW <= n; j += VW) {
    vf xh = (vload(z + j) - mu) * rs;
    vf gm = vload(f->gamma + j);
    vf u = xh * gm + vload(f->lnb + j);
    vf s = vsigmoid(u);
    vf g = vload(dy + j) * (s * (1.0f + u * (1.0f - s)));
    vstore(dy + j, g);
    vf d = g * gm;
    vD += d;
    vDX += d * xh;
    vstore(sg + j, vload(sg + j) + g * xh);
    vstore(sb + j, vload(sb + j) + g);
  }
  for (; j < n; j++) {
    float xh = (z[j] - mu) * rs;
    float u = xh * f->gamma[j] + f->lnb[j];
    float s = ssigmoid(u);
    float g = dy[j] * (s * (1.0f + u * (1.0f - s)));
    dy[j] = g;
    float d = g * f->gamma[j];
    sD += d;
    sDX += d * xh;
    sg[j] += g * xh;
    sb[j] += g;
  }
  const float mD = (hsum(vD) + sD) / (float)n, mDX = (hsum(vDX) + sDX) / (float)n;
#ifdef FATHOM_GEMM_BF16
  if (f->dz16) {
    // dz rounded to bf16 (round to nearest even, as the GEMMs' packs would round it) into the
    // row both GEMMs read; db sums the float32 values, and dy gets them too (its lines are in L1
    // from the pass above, so the store is nearly free, and dy holds dz as in float32 builds).
    // Masked: no scalar tail.
    uint16_t* d16 = f->dz16 + (long)r * f->ldz16;
    for (j = 0; j < n; j += 16) {
      const __mmask16 m = lanes(n - j);
      const vf xh = ((vf)_mm512_maskz_loadu_ps(m, z + j) - mu) * rs;
      const vf gd = (vf)_mm512_maskz_loadu_ps(m, dy + j) * (vf)_mm512_maskz_loadu_ps(m, f->gamma + j);
      const vf dz = rs * (gd - mD - xh * mDX);
      _mm512_mask_storeu_ps(dy + j, m, (__m512)dz);
      _mm256_mask_storeu_epi16(d16 + j, m, (__m256i)_mm512_cvtneps_pbh((__m512)dz));
      _mm512_mask_storeu_ps(sd + j, m, (__m512)((vf)_mm512_maskz_loadu_ps(m, sd + j) + dz));
    }
    if (n & 1) d16[n] = 0; // the pad half of the last pair
    return;
  }
#endif
  for (j = 0; j + VW <= n; j += VW) {
    vf xh = (vload(z + j) - mu) * rs;
    vf dz = rs * (vload(dy + j) * vload(f->gamma + j) - mD - xh * mDX);
    vstore(dy + j, dz);
    vstore(sd + j, vload(sd + j) + dz);
  }
  for (; j < n; j++) {
    float xh = (z[j] - mu) * rs;
    float dz = rs * (dy[j] * f->gamma[j] - mD - xh * mDX);
    dy[j] = dz;
    sd[j] += dz;
  }
}

static void fused_bwd_job(void* args, int tid) {
  const fathom_fused_bwd_args* f = (const fathom_fused_bwd_args*)args;
  const int chunks = sum_chunks(f->rows);
  // Slots: 0 row chunks, 1 … the dW GEMM's, then the dx GEMM's (its first: the Wᵀ panels).
  const int dxSlot = 1 + FATHOM_GEMM_SLOTS(f->rows);
  // dx = dz·Wᵀ   (W: [in, out]). Its B, Wᵀ, does not depend on dz: with one k block it is packed
  // during phase 1, into its own scratch, so the dx GEMM needs no pack step and no barrier:
  // threads go from their share of dW straight to dx.
  const int prepack = f->dx && f->out <= GEMM_KC;
  fathom_gemm_args gx = {.transA = 0, .transB = 1, .m = f->rows, .n = f->in, .k = f->out, .alpha = 1.f, .beta = 0.f,
                         .a = f->dy, .b = f->w, .c = f->dx, .bpacked = prepack ? fathom_scr.packB2 : NULL,
                         .a16 = f->dz16, .lda16 = f->ldz16};
  int c0, c1;
  // Phase 1 streams through dy and z a row at a time; the dx GEMM's Wᵀ comes from W, which in a
  // deep network comes from DRAM. Row r's share of W is fetched into L2 while row r is
  // computed, so the packing finds it there (bf16 backward −5 % on a depth-64 chain, width 256;
  // the same for x, which the dW GEMM reads, measured slower in float32 and is left out). At
  // most the first 256 KB of W: the part packed first, within any core's L2.
  const long wTotal = f->dx ? ((long)f->in * f->out < 65536 ? (long)f->in * f->out : 65536) : 0;
  const long wShare = (wTotal + f->rows - 1) / f->rows;
  while (claim(0, 1, chunks, &c0, &c1)) { // slot 0: row chunks
    float* sums = chunk_sums_begin(c0, 3, f->out);
    const int r1 = min_i(f->rows, (c0 + 1) * FATHOM_SUM_BLOCK);
    for (int r = c0 * FATHOM_SUM_BLOCK; r < r1; r++) {
      const long o1 = (long)(r + 1) * wShare < wTotal ? (long)(r + 1) * wShare : wTotal;
      for (long o = (long)r * wShare; o < o1; o += 64 / (long)sizeof(float)) __builtin_prefetch(f->w + o, 0, 2);
      fused_bwd_row(f, r, sums);
    }
  }
  if (prepack) pack_b_block(&gx, dxSlot, 0, f->out, fathom_scr.packB2);
  colsums_reduce(tid, chunks, 3, f->out, f->dgamma, f->dbeta, f->db, f->overwrite); // barrier: dz complete (and Wᵀ packed)
  if (f->dw) {
    // dW += xᵀ·dz   (x: [rows, in], dz: [rows, out]); overwrite: dW = xᵀ·dz, dW not read
    fathom_gemm_args gw = {.transA = 1, .transB = 0, .m = f->in, .n = f->out, .k = f->rows, .alpha = 1.f, .beta = f->overwrite ? 0.f : 1.f,
                           .a = f->x, .b = f->dy, .c = f->dw, .a16 = f->x16, .lda16 = f->ldx16, .b16 = f->dz16, .ldb16 = f->ldz16};
    gemm_run(&gw, tid, 1);
    if (!f->dx) return;
    // the packed-B scratch is reused, or dx overwrites the x the dW GEMM reads
    if (!prepack || f->dxAliasesX) pool_barrier();
  }
  if (!f->dx) return;
  gemm_run(&gx, tid, dxSlot);
}

// ---------------------------------------------------------------------------------------------
// Row kernels.

static void ln_fwd_job(void* args, int tid) {
  (void)tid;
  const fathom_rows_args* a = (const fathom_rows_args*)args;
  const int n = a->cols;
  const float inv_n = 1.0f / (float)n;
  int r0, r1;
  while (claim(0, FATHOM_ROW_CHUNK, a->rows, &r0, &r1))
  for (int r = r0; r < r1; r++) {
    const float* x = a->x + (long)r * n; // [cols]
    float* y = a->y + (long)r * n;       // [cols] (may alias x)
    vf vs = (vf){0};
    float s = 0.f;
    int j = 0;
    for (; j + VW <= n; j += VW) vs += vload(x + j);
    for (; j < n; j++) s += x[j];
    const float mu = (hsum(vs) + s) * inv_n;
    vf vq = (vf){0};
    float q = 0.f;
    for (j = 0; j + VW <= n; j += VW) {
      vf d = vload(x + j) - mu;
      vq += d * d;
    }
    for (; j < n; j++) q += (x[j] - mu) * (x[j] - mu);
    const float rs = 1.0f / sqrtf((hsum(vq) + q) * inv_n + a->eps);
    a->mean[r] = mu;
    a->rstd[r] = rs;
    for (j = 0; j + VW <= n; j += VW) vstore(y + j, (vload(x + j) - mu) * rs * vload(a->gamma + j) + vload(a->beta + j));
    for (; j < n; j++) y[j] = (x[j] - mu) * rs * a->gamma[j] + a->beta[j];
  }
}

static void ln_bwd_job(void* args, int tid) {
  const fathom_rows_args* a = (const fathom_rows_args*)args;
  const int n = a->cols, chunks = sum_chunks(a->rows);
  int c0, c1;
  while (claim(0, 1, chunks, &c0, &c1)) {
    float* sg = chunk_sums_begin(c0, 2, n); // [cols] dgamma partial
    float* sb = sg + n;                     // [cols] dbeta partial
    const int rEnd = min_i(a->rows, (c0 + 1) * FATHOM_SUM_BLOCK);
    for (int r = c0 * FATHOM_SUM_BLOCK; r < rEnd; r++) {
      const float* x = a->x + (long)r * n;   // [cols]
      const float* dy = a->dy + (long)r * n; // [cols]
      float* dx = a->y + (long)r * n;        // [cols] (may alias dy)
      const float mu = a->mean[r], rs = a->rstd[r];
      vf vD = (vf){0}, vDX = (vf){0};
      float sD = 0.f, sDX = 0.f;
      int j = 0;
      for (; j + VW <= n; j += VW) {
        vf xh = (vload(x + j) - mu) * rs;
        vf g = vload(dy + j);
        vf d = g * vload(a->gamma + j);
        vD += d;
        vDX += d * xh;
        vstore(sg + j, vload(sg + j) + g * xh);
        vstore(sb + j, vload(sb + j) + g);
      }
      for (; j < n; j++) {
        float xh = (x[j] - mu) * rs;
        float d = dy[j] * a->gamma[j];
        sD += d;
        sDX += d * xh;
        sg[j] += dy[j] * xh;
        sb[j] += dy[j];
      }
      const float mD = (hsum(vD) + sD) / (float)n, mDX = (hsum(vDX) + sDX) / (float)n;
      for (j = 0; j + VW <= n; j += VW) {
        vf xh = (vload(x + j) - mu) * rs;
        vstore(dx + j, rs * (vload(dy + j) * vload(a->gamma + j) - mD - xh * mDX));
      }
      for (; j < n; j++) {
        float xh = (x[j] - mu) * rs;
        dx[j] = rs * (dy[j] * a->gamma[j] - mD - xh * mDX);
      }
    }
  }
  colsums_reduce(tid, chunks, 2, n, a->dgamma, a->dbeta, NULL, 0);
}

static void bias_add_job(void* args, int tid) {
  (void)tid;
  const fathom_rows_args* a = (const fathom_rows_args*)args;
  const int n = a->cols;
  int r0, r1;
  while (claim(0, FATHOM_ROW_CHUNK, a->rows, &r0, &r1))
  for (int r = r0; r < r1; r++) {
    float* x = a->xo + (long)r * n; // [cols]
    for (int j = 0; j < n; j++) x[j] += a->beta[j];
  }
}

static void bias_bwd_job(void* args, int tid) {
  const fathom_rows_args* a = (const fathom_rows_args*)args;
  const int n = a->cols, chunks = sum_chunks(a->rows);
  int c0, c1;
  while (claim(0, 1, chunks, &c0, &c1)) {
    float* sb = chunk_sums_begin(c0, 1, n); // [cols]
    const int rEnd = min_i(a->rows, (c0 + 1) * FATHOM_SUM_BLOCK);
    for (int r = c0 * FATHOM_SUM_BLOCK; r < rEnd; r++) {
      const float* dy = a->x + (long)r * n; // [cols]
      for (int j = 0; j < n; j++) sb[j] += dy[j];
    }
  }
  colsums_reduce(tid, chunks, 1, n, a->dgamma, NULL, NULL, 0);
}

// ---------------------------------------------------------------------------------------------
// Element-wise kernels: claimed in chunks of FATHOM_ELEM_CHUNK values (whole cache lines).

static inline int elem_claim(size_t n, size_t* i0, size_t* i1) {
  const size_t i = (size_t)pool_claim(0, 1) * FATHOM_ELEM_CHUNK;
  if (i >= n) return 0;
  *i0 = i;
  *i1 = i + FATHOM_ELEM_CHUNK < n ? i + FATHOM_ELEM_CHUNK : n;
  return 1;
}

static void swish_fwd_job(void* args, int tid) {
  (void)tid;
  const fathom_elem_args* e = (const fathom_elem_args*)args;
  size_t i, i1;
  while (elem_claim(e->n, &i, &i1)) {
    for (; i + VW <= i1; i += VW) {
      vf x = vload(e->a + i);
      vstore(e->out + i, x * vsigmoid(x));
    }
    for (; i < i1; i++) e->out[i] = e->a[i] * ssigmoid(e->a[i]);
  }
}

static void swish_bwd_job(void* args, int tid) {
  (void)tid;
  const fathom_elem_args* e = (const fathom_elem_args*)args;
  size_t i, i1;
  while (elem_claim(e->n, &i, &i1)) {
    for (; i + VW <= i1; i += VW) {
      vf x = vload(e->a + i);
      vf s = vsigmoid(x);
      vstore(e->out + i, vload(e->b + i) * (s * (1.0f + x * (1.0f - s))));
    }
    for (; i < i1; i++) {
      float x = e->a[i], s = ssigmoid(x);
      e->out[i] = e->b[i] * (s * (1.0f + x * (1.0f - s)));
    }
  }
}

static void add_job(void* args, int tid) {
  (void)tid;
  const fathom_elem_args* e = (const fathom_elem_args*)args;
  const float* a = e->a;
  const float* b = e->b;
  float* out = e->out;
  size_t i0, i1;
  while (elem_claim(e->n, &i0, &i1))
    for (size_t i = i0; i < i1; i++) out[i] = a[i] + b[i];
}

static void adam_job(void* args, int tid) {
  (void)tid;
  const fathom_elem_args* e = (const fathom_elem_args*)args;
  const float b1 = e->beta1, b2 = e->beta2, c1 = 1.0f - e->beta1, c2 = 1.0f - e->beta2;
  const float lr_c1 = e->lr_c1, rbc2 = e->rbc2, eps = e->eps;
  float* restrict p = e->out;
  const float* restrict g = e->a;
  float* restrict m = e->m;
  float* restrict v = e->v;
  size_t i0, i1;
  while (elem_claim(e->n, &i0, &i1))
    for (size_t i = i0; i < i1; i++) {
      const float gi = g[i];
      const float mi = b1 * m[i] + c1 * gi;
      const float vi_ = b2 * v[i] + c2 * gi * gi;
      m[i] = mi;
      v[i] = vi_;
      p[i] -= lr_c1 * mi / (sqrtf(vi_ * rbc2) + eps);
    }
}

#ifndef FATHOM_GEMM_BF16
#include "composite.h"
#endif

// ---------------------------------------------------------------------------------------------
// Register-only peak loop (bench -- gemm prints the ceiling it measured); the bf16 build's
// (vdpbf16ps) is in gemm_bf16.h.

#ifndef FATHOM_GEMM_BF16
#define PEAK_FLOPS (PEAK_ACC * VW * 2)
// acc = acc·x + y (one FMA per vector where the ISA has it; -ffp-contract=fast fuses it).
static void peak_job(void* args, int tid) {
  (void)tid;
  fathom_peak_args* p = (fathom_peak_args*)args;
  int u0, u1;
  while (claim(0, 1, p->units, &u0, &u1)) {
    vf acc[PEAK_ACC];
    for (int i = 0; i < PEAK_ACC; i++) acc[i] = vbcast(1.0f + 0.001f * (float)i);
    const vf x = vbcast(p->x), y = vbcast(p->y);
    for (long it = 0; it < p->iters; it++)
      for (int i = 0; i < PEAK_ACC; i++) acc[i] = acc[i] * x + y;
    vf s = (vf){0};
    for (int i = 0; i < PEAK_ACC; i++) s += acc[i];
    float total = hsum(s);
    __atomic_store(&p->sink, &total, __ATOMIC_RELAXED);
  }
}
#endif

static const fathom_kernels kernels_table = {
    .name = KERNELS_NAME,
    .mr = MR,
    .nr = NR,
    .gemm = gemm_job,
    .fused_bwd = fused_bwd_job,
    .ln_fwd = ln_fwd_job,
    .ln_bwd = ln_bwd_job,
    .bias_add = bias_add_job,
    .bias_bwd = bias_bwd_job,
    .swish_fwd = swish_fwd_job,
    .swish_bwd = swish_bwd_job,
    .add = add_job,
    .adam = adam_job,
    .peak = peak_job,
    .peak_flops = PEAK_FLOPS,
#ifndef FATHOM_GEMM_BF16
    .sumsq = sumsq_job,
    .pair_fwd = pair_fwd_job,
    .pair_bwd = pair_bwd_job,
    .closs = closs_job,
    .tanh_fwd = tanh_fwd_job,
    .tanh_bwd = tanh_bwd_job,
#endif
};

const fathom_kernels* KERNELS_FN(void) { return &kernels_table; }
