// GEMM with bf16 operands and fp32 accumulation on AVX512_BF16 (`vdpbf16ps`), included by
// kernels.h in place of the float32 gemm_run when FATHOM_GEMM_BF16 is defined (only
// kernels_avx512bf16.c does). C = alpha·op(A)·op(B) + beta·C keeps the float32 contract: A, B
// and C are float32 in memory; only the products see bf16 operands; C, the accumulators, alpha,
// beta and the fused epilogue stay float32.
//
// Pair layout: vdpbf16ps multiplies the bf16 pairs of its two operands lane by lane and adds both
// products to a float32 accumulator (lane j += a.lo·b.lo + a.hi·b.hi). So k runs in pairs: a
// 32-bit word holds bf16(x[2t]) in its low half and bf16(x[2t+1]) in its high half, and an odd k
// gets a zero high half (in A and B both, so no stale value can reach a sum).
//   packed B panel  [kc2, NR] words: word (t, j) = pair(op(B)[2t, j], op(B)[2t+1, j])
//   packed A panel  [kc2, MR] words: word (t, i) = pair(op(A)[i, 2t], op(A)[i, 2t+1])
// with kc2 = ceil(kc / 2). The kernel broadcasts one A word per row and multiplies it with NV
// vectors of 16 B words: 16 columns × 2 values of k per instruction.
//
// Conversion happens here, in the pack step, with vcvtne2ps2bf16 (round to nearest even; like
// vdpbf16ps it treats float32 denormals as zero and keeps NaN a NaN). Weights are not kept as a
// bf16 copy refreshed after each Adam step: every operand has to be re-laid out into the pair
// layout anyway (W is B in the forward, transposed B for dx), which reads and writes each value
// once per call, and converting during that pass costs a few more instructions per value but no
// extra pass over memory (O(k·n) work against the GEMM's O(m·n·k)). A bf16 copy would save
// only that conversion, while needing a second weight store per network, a layout per use and
// an Adam that knows about it. Activations and gradients change every call and must be
// converted per call in any case.
#include <immintrin.h>

#if !defined(__AVX512BF16__) || !defined(__AVX512BW__) || VW != 16 || NR != 32
#error "gemm_bf16.h needs -mavx512bf16 -mavx512bw and the 16-float vectors of an 8x32 tile"
#endif

#define KC2 (FATHOM_KC_BF16 / 2) // pairs per k block


// 16 words: word j = pair(even[j], odd[j]). cvtne2ps puts bf16(even) in halves 0–15 and
// bf16(odd) in halves 16–31; the permute interleaves them.
INLINE __m512i pairs_interleave(__m512 even, __m512 odd) {
  const __m512i both = (__m512i)_mm512_cvtne2ps_pbh(odd, even);
  const __m512i idx = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6, 21,
                                       5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  return _mm512_permutexvar_epi16(idx, both);
}

// Pairs from two rows: word j = pair(row0[j], row1[j]) for j < count, zero after; row1 = NULL
// means zero (the odd tail of k).
INLINE __m512i pairs_from_rows(const float* row0, const float* row1, int count) {
  const __mmask16 m = lanes(count);
  const __m512 e = _mm512_maskz_loadu_ps(m, row0);
  const __m512 o = row1 ? _mm512_maskz_loadu_ps(m, row1) : _mm512_setzero_ps();
  return pairs_interleave(e, o);
}

// 16 contiguous pairs: word t = pair(src[2t], src[2t+1]) for the first `count` floats, zero after.
// Consecutive floats become consecutive halves, which is already the pair layout.
INLINE __m512i pairs_contiguous(const float* src, int count) {
  const __m512 lo = _mm512_maskz_loadu_ps(lanes(count), src);
  const __m512 hi = _mm512_maskz_loadu_ps(lanes(count - 16), src + 16);
  return (__m512i)_mm512_cvtne2ps_pbh(hi, lo);
}

// Pairs from two rows already in bf16: lo word j = pair(row0[j], row1[j]) for j < 16, hi the
// same for j = 16 … 31; halves ≥ count are zero, and row1 = NULL gives zero high halves (the odd
// tail of k).
INLINE void pairs_from_rows16(const uint16_t* row0, const uint16_t* row1, int count, __m512i* lo, __m512i* hi) {
  // half 2j of lo takes row0's half j, half 2j + 1 row1's (index 32 + j selects the second operand)
  static const uint16_t idx[64] __attribute__((aligned(64))) = {
      0,  32, 1,  33, 2,  34, 3,  35, 4,  36, 5,  37, 6,  38, 7,  39, 8,  40, 9,  41, 10, 42,
      11, 43, 12, 44, 13, 45, 14, 46, 15, 47, 16, 48, 17, 49, 18, 50, 19, 51, 20, 52, 21, 53,
      22, 54, 23, 55, 24, 56, 25, 57, 26, 58, 27, 59, 28, 60, 29, 61, 30, 62, 31, 63};
  const __mmask32 m = count <= 0 ? 0 : count >= 32 ? 0xFFFFFFFFu : (__mmask32)((1u << count) - 1);
  const __m512i e = _mm512_maskz_loadu_epi16(m, row0);
  const __m512i o = row1 ? _mm512_maskz_loadu_epi16(m, row1) : _mm512_setzero_si512();
  *lo = _mm512_permutex2var_epi16(e, _mm512_load_si512(idx), o);
  *hi = _mm512_permutex2var_epi16(e, _mm512_load_si512(idx + 32), o);
}

// Transposes 16×16 32-bit words in place: r[i] lane j ↔ r[j] lane i.
INLINE void transpose16(__m512i r[16]) {
  __m512i t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
  }
  // r[4s + c], 128-bit lane L: column 4L + c of rows 4s … 4s + 3
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
    r[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
    r[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
    r[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
  }
  for (int c = 0; c < 4; c++) {
    const __m512i u = _mm512_shuffle_i32x4(r[c], r[4 + c], 0x88), u1 = _mm512_shuffle_i32x4(r[c], r[4 + c], 0xDD);
    const __m512i v = _mm512_shuffle_i32x4(r[8 + c], r[12 + c], 0x88), v1 = _mm512_shuffle_i32x4(r[8 + c], r[12 + c], 0xDD);
    t[c] = _mm512_shuffle_i32x4(u, v, 0x88);
    t[4 + c] = _mm512_shuffle_i32x4(u1, v1, 0x88);
    t[8 + c] = _mm512_shuffle_i32x4(u, v, 0xDD);
    t[12 + c] = _mm512_shuffle_i32x4(u1, v1, 0xDD);
  }
  for (int i = 0; i < 16; i++) r[i] = t[i];
}

// Up to 16 rows, each `count` contiguous floats from src + r·ld, as pairs and transposed:
// out[t] lane r = pair(row r [2t], row r [2t+1]); rows ≥ nrows and floats ≥ count are zero.
INLINE void pairs_rows_transposed(const float* src, long ld, int nrows, int count, __m512i out[16]) {
  for (int r = 0; r < 16; r++) out[r] = r < nrows ? pairs_contiguous(src + r * ld, count) : _mm512_setzero_si512();
  transpose16(out);
}

// Packs op(B)[pc:pc+kc, j0:j0+NR] into dst [kc2, NR] words, zero past n and past kc.
static void pack_b_panel(const fathom_gemm_args* g, int pc, int kc, int j0, uint32_t* restrict dst) {
  const int n = g->n, k = g->k, nr = min_i(NR, n - j0), kc2 = (kc + 1) / 2;
  if (g->b16) { // B: [k, n] in bf16, rows ldb16 halves apart: no conversion, one interleave per pair
    for (int t = 0; t < kc2; t++) {
      const uint16_t* r0 = g->b16 + (long)(pc + 2 * t) * g->ldb16 + j0;
      const uint16_t* r1 = 2 * t + 1 < kc ? r0 + g->ldb16 : NULL;
      if (j0 + 3 * NR <= n) { // the same rows' panel after next (as below)
        __builtin_prefetch(r0 + 2 * NR, 0, 2);
        if (r1) __builtin_prefetch(r1 + 2 * NR, 0, 2);
      }
      __m512i lo, hi;
      pairs_from_rows16(r0, r1, nr, &lo, &hi);
      _mm512_store_si512(dst + (long)t * NR, lo);
      _mm512_store_si512(dst + (long)t * NR + 16, hi);
    }
    return;
  }
  if (!g->transB) { // B: [k, n]; the two rows of a pair are n apart
    // Each row contributes NR floats to a panel, rows n floats apart, which the hardware
    // prefetchers follow poorly: fetch the same rows' next two panels (the next one this thread
    // or the other claims) while this one is packed. A deep network's W comes from DRAM.
    const int pf = j0 + 3 * NR <= n ? 2 * NR : j0 + 2 * NR <= n ? NR : 0;
    for (int t = 0; t < kc2; t++) {
      const float* r0 = g->b + (long)(pc + 2 * t) * n + j0;
      const float* r1 = 2 * t + 1 < kc ? r0 + n : NULL;
      if (pf) {
        for (int o = NR; o <= pf; o += 64 / (int)sizeof(float)) {
          __builtin_prefetch(r0 + o, 0, 2);
          if (r1) __builtin_prefetch(r1 + o, 0, 2);
        }
      }
      for (int v = 0; v < NV; v++)
        _mm512_store_si512(dst + (long)t * NR + v * 16, pairs_from_rows(r0 + v * 16, r1 ? r1 + v * 16 : NULL, nr - v * 16));
    }
  } else { // B: [n, k]; op(B)[p, j] = B[j, p]: a pair is contiguous in row j, so 16 rows are transposed
    __m512i w[16];
    for (int v = 0; v < NV; v++) {
      const int rows = nr - v * 16; // ≤ 0: a zero column group
      const float* src = g->b + (long)(j0 + v * 16) * k + pc;
      for (int t0 = 0; t0 < kc2; t0 += 16) {
        pairs_rows_transposed(src + 2 * t0, k, rows, kc - 2 * t0, w);
        for (int t = 0; t < min_i(16, kc2 - t0); t++) _mm512_store_si512(dst + (long)(t0 + t) * NR + v * 16, w[t]);
      }
    }
  }
}

// The build's k block: a packed B holds k ≤ GEMM_KC values (GEMM_KC / 2 pairs) in one block.
#define GEMM_KC FATHOM_KC_BF16
// Packs every panel of op(B)[pc:pc+kc, :] into dst ([nPanels, kc2, NR] words), panels claimed
// from `slot`.
static void pack_b_block(const fathom_gemm_args* g, int slot, int pc, int kc, void* dst) {
  const int nPanels = (g->n + NR - 1) / NR, kc2 = (kc + 1) / 2;
  int b0, b1;
  while (claim(slot, 1, nPanels, &b0, &b1)) pack_b_panel(g, pc, kc, b0 * NR, (uint32_t*)dst + (long)b0 * kc2 * NR);
}

// Packs op(A)[ip0·MR : ip1·MR, pc:pc+kc] (ip1 − ip0 ≤ 2 panels, i.e. 16 rows) into panels
// dst + (ip − ip0)·kc2·MR, each [kc2, MR] words, zero past m and past kc.
static void pack_a_panels(const fathom_gemm_args* g, int pc, int kc, int ip0, int ip1, uint32_t* restrict dst) {
  const int m = g->m, k = g->k, kc2 = (kc + 1) / 2;
  const int i0 = ip0 * MR, rows = min_i((ip1 - ip0) * MR, m - i0); // 1 … 16
  uint32_t* d1 = dst + (long)kc2 * MR;                               // the second panel, if any
  const int two = ip1 - ip0 == 2;
  if (g->transA && g->a16) { // A: [k, m] in bf16, rows lda16 halves apart: one interleave per pair
    for (int t = 0; t < kc2; t++) {
      const uint16_t* r0 = g->a16 + (long)(pc + 2 * t) * g->lda16 + i0;
      const uint16_t* r1 = 2 * t + 1 < kc ? r0 + g->lda16 : NULL;
      if (i0 + 32 < m) { // the next groups' line (one 64-byte line holds two groups of 16 halves)
        __builtin_prefetch(r0 + 32, 0, 2);
        if (r1) __builtin_prefetch(r1 + 32, 0, 2);
      }
      __m512i w, unused;
      pairs_from_rows16(r0, r1, rows, &w, &unused);
      _mm256_store_si256((__m256i*)(dst + (long)t * MR), _mm512_castsi512_si256(w));
      if (two) _mm256_store_si256((__m256i*)(d1 + (long)t * MR), _mm512_extracti64x4_epi64(w, 1));
    }
  } else if (g->transA) { // A: [k, m]; op(A)[i, p] = A[p, i]: a pair spans two rows of A, m apart
    for (int t = 0; t < kc2; t++) {
      const float* r0 = g->a + (long)(pc + 2 * t) * m + i0;
      // One cache line per row of A, rows m floats apart: fetch the next two groups' lines (see
      // the float32 pack_a_panels).
      if (i0 + 16 < m) {
        __builtin_prefetch(r0 + 16, 0, 2);
        if (2 * t + 1 < kc) __builtin_prefetch(r0 + m + 16, 0, 2);
      }
      if (i0 + 32 < m) {
        __builtin_prefetch(r0 + 32, 0, 2);
        if (2 * t + 1 < kc) __builtin_prefetch(r0 + m + 32, 0, 2);
      }
      const __m512i w = pairs_from_rows(r0, 2 * t + 1 < kc ? r0 + m : NULL, rows);
      _mm256_store_si256((__m256i*)(dst + (long)t * MR), _mm512_castsi512_si256(w));
      if (two) _mm256_store_si256((__m256i*)(d1 + (long)t * MR), _mm512_extracti64x4_epi64(w, 1));
    }
  } else { // A: [m, k]: a pair is contiguous in row i, so the 16 rows are transposed
    __m512i w[16];
    const float* src = g->a + (long)i0 * k + pc;
    for (int t0 = 0; t0 < kc2; t0 += 16) {
      pairs_rows_transposed(src + 2 * t0, k, rows, kc - 2 * t0, w);
      for (int t = 0; t < min_i(16, kc2 - t0); t++) {
        _mm256_store_si256((__m256i*)(dst + (long)(t0 + t) * MR), _mm512_castsi512_si256(w[t]));
        if (two) _mm256_store_si256((__m256i*)(d1 + (long)(t0 + t) * MR), _mm512_extracti64x4_epi64(w[t], 1));
      }
    }
  }
}

// acc[MR][NV] = Σ_t pair(A row i, t) · pair(B, t, :), A's word (i, t) at ap[i·rsA + t·csA], then
// C = alpha·acc + beta·C. Two instantiations below, so the inner loop has constant strides where
// it can.
INLINE void micro_bf16(int kc2, const uint32_t* restrict ap, long rsA, long csA, const uint32_t* restrict bp,
                       float* restrict c, long ldc, int mr, int nr, float alpha, float beta) {
  prefetch_tile(c, ldc, mr);
  __m512 acc[MR][NV];
  for (int i = 0; i < MR; i++)
    for (int v = 0; v < NV; v++) acc[i][v] = _mm512_setzero_ps();
  for (int t = 0; t < kc2; t++) {
    __m512bh bv[NV];
    for (int v = 0; v < NV; v++) bv[v] = (__m512bh)_mm512_load_si512(bp + (long)t * NR + v * 16);
    for (int i = 0; i < MR; i++) {
      const __m512bh av = (__m512bh)_mm512_set1_epi32((int)ap[i * rsA + t * csA]);
      for (int v = 0; v < NV; v++) acc[i][v] = _mm512_dpbf16_ps(acc[i][v], av, bv[v]);
    }
  }
  vf out[MR][NV];
  for (int i = 0; i < MR; i++)
    for (int v = 0; v < NV; v++) out[i][v] = (vf)acc[i][v];
  store_tile(out, c, ldc, mr, nr, alpha, beta);
}

// A packed as a [kc2, MR] panel (mr ≤ MR rows).
static __attribute__((noinline)) void kernel_bf16(int kc2, const uint32_t* restrict ap, const uint32_t* restrict bp,
                                                  float* restrict c, long ldc, int mr, int nr, float alpha, float beta) {
  micro_bf16(kc2, ap, 1, MR, bp, c, ldc, mr, nr, alpha, beta);
}

// Packs the rows i0 … m − 1 (fewer than MR) of an A given in bf16 (a16) into one [kc2, MR] panel,
// zero past m: the partial last panel, which the in-place kernel below cannot read.
static void pack_a16_edge(const fathom_gemm_args* g, int pc, int kc, int i0, uint32_t* restrict dst) {
  const int kc2 = (kc + 1) / 2, rows = g->m - i0;
  for (int t = 0; t < kc2; t++)
    for (int i = 0; i < MR; i++) dst[(long)t * MR + i] = i < rows ? ((const uint32_t*)(g->a16 + (long)(i0 + i) * g->lda16 + pc))[t] : 0;
}

// Packs MR full rows of a float32 A [m, k] (not transposed) as bf16 rows of pairs, [MR, kc2]
// words, for kernel_bf16_rows: a row's consecutive floats become its consecutive pairs, so this is
// a conversion without the transposition the [kc2, MR] panel of kernel_bf16 needs (zero past kc).
static void pack_a_rows(const fathom_gemm_args* g, int pc, int kc, int i0, uint32_t* restrict dst) {
  const int kc2 = (kc + 1) / 2;
  for (int i = 0; i < MR; i++) {
    const float* src = g->a + (long)(i0 + i) * g->k + pc;
    uint32_t* d = dst + (long)i * kc2;
    for (int t0 = 0; t0 < kc2; t0 += 16) _mm512_mask_storeu_epi32(d + t0, lanes(kc2 - t0), pairs_contiguous(src + 2 * t0, kc - 2 * t0));
  }
}

// A read in place from MR full rows, ldaw words apart: a row's words are its pairs along k (the
// pad half of an odd k is zero), so each A word is one broadcast from memory, as the float32
// kernel_rowsA reads a float32 A.
static __attribute__((noinline)) void kernel_bf16_rows(int kc2, const uint32_t* restrict ap, long ldaw, const uint32_t* restrict bp,
                                                       float* restrict c, long ldc, int nr, float alpha, float beta) {
  micro_bf16(kc2, ap, ldaw, 1, bp, c, ldc, MR, nr, alpha, beta);
}

// C = alpha·op(A)·op(B) + beta·C with bf16 operands, then the optional epilogue, by every thread
// of the job, using claim counters slot0 … slot0 + 2·ceil(k / KC_BF16) − 1 (within
// FATHOM_GEMM_SLOTS(k)). As in the float32 gemm_run: B is packed one k block at a time by all
// threads together; then each thread computes its row panels: a full panel of a row-major A is
// read as rows of pairs (converted into packA, or in place when A is given in bf16, a16), any
// other panel is packed [kc2, MR]; every C element is computed by one fixed sequence of
// operations, so the result does not depend on the thread count.
static void gemm_run(const fathom_gemm_args* g, int tid, int slot0) {
  const int m = g->m, n = g->n, k = g->k;
  if (m == 0 || n == 0) return;
  const int mPanels = (m + MR - 1) / MR, nPanels = (n + NR - 1) / NR;
  // [PACK_GROUP, KC2, MR] words per thread: the same scratch as the float32 [PACK_GROUP, KC, MR].
  uint32_t* packA = (uint32_t*)fathom_scr.packA + (long)tid * FATHOM_PACK_GROUP * KC2 * MR;
  const uint32_t* packB = (const uint32_t*)fathom_scr.packB; // [nPanels, kc2, NR] words
  const int nblk = k == 0 ? 1 : (k + FATHOM_KC_BF16 - 1) / FATHOM_KC_BF16;
  int nt = 1, tm = 1, tn = 1;
  for (int blk = 0; blk < nblk; blk++) {
    const int pc = blk * FATHOM_KC_BF16, kc = min_i(FATHOM_KC_BF16, k - pc), kc2 = (kc + 1) / 2;
    const int last = blk == nblk - 1;
    const int slot = slot0 + 2 * blk;
    if (blk > 0) pool_barrier(); // everyone is done with the previous packed block
    if (g->bpacked && nblk == 1) { // packed before the job's last barrier
      packB = (const uint32_t*)g->bpacked;
      nt = pool_job_threads();
    } else {
      pack_b_block(g, slot, pc, kc, (uint32_t*)fathom_scr.packB);
      nt = pool_barrier();
    }
    // Thread grid as in the float32 gemm_run: rows first, claimed FATHOM_PACK_GROUP panels at a
    // time when every thread has some; else a fixed rows × columns split.
    tm = min_i(nt, mPanels);
    tn = min_i(nt / tm, nPanels);
    const int claiming = tm == nt;
    const int ti = tid % tm, tj = tid / tm;
    if (!claiming && tid >= tm * tn) continue;
    const int jp0 = (int)((long)tj * nPanels / tn), jp1 = (int)((long)(tj + 1) * nPanels / tn);
    const float beta = blk == 0 ? g->beta : 1.0f;
    int cb = (int)((long)ti * mPanels / tm), ce = (int)((long)(ti + 1) * mPanels / tm);
    if (claiming && !claim(slot + 1, FATHOM_PACK_GROUP, mPanels, &cb, &ce)) continue;
    for (;;) {
      for (int ip = cb; ip < ce; ip++) {
        const int i0 = ip * MR, mr = min_i(MR, m - i0);
        float* crow = g->c + (long)i0 * n;
        if (!g->transA && mr == MR) { // a full panel of a row-major A: rows of pairs
          const uint32_t* ar = packA;
          long ldaw = kc2;
          if (g->a16) { // already bf16: read in place
            ar = (const uint32_t*)(g->a16 + (long)i0 * g->lda16 + pc);
            ldaw = g->lda16 / 2;
          } else {
            pack_a_rows(g, pc, kc, i0, packA);
          }
          for (int jp = jp0; jp < jp1; jp++)
            kernel_bf16_rows(kc2, ar, ldaw, packB + (long)jp * kc2 * NR, crow + jp * NR, n, min_i(NR, n - jp * NR), g->alpha, beta);
        } else {
          const uint32_t* ap;
          if (!g->transA && g->a16) { // the partial last panel
            pack_a16_edge(g, pc, kc, i0, packA);
            ap = packA;
          } else if (!g->transA) { // the partial last panel
            pack_a_panels(g, pc, kc, ip, ip + 1, packA);
            ap = packA;
          } else {
            const int off = (ip - cb) % FATHOM_PACK_GROUP;
            if (off == 0) pack_a_panels(g, pc, kc, ip, min_i(ip + FATHOM_PACK_GROUP, ce), packA);
            ap = packA + (long)off * kc2 * MR;
          }
          for (int jp = jp0; jp < jp1; jp++)
            kernel_bf16(kc2, ap, packB + (long)jp * kc2 * NR, crow + jp * NR, n, mr, min_i(NR, n - jp * NR), g->alpha, beta);
        }
        // The rows are complete and still in L1: run the epilogue now.
        if (last && g->bias && tn == 1) dense_epilogue_rows(g, i0, i0 + mr);
      }
      if (!claiming || !claim(slot + 1, FATHOM_PACK_GROUP, mPanels, &cb, &ce)) break;
    }
  }
  if (g->bias && tn > 1) { // rows were split across threads by columns: finish after a barrier
    pool_barrier();
    dense_epilogue_rows(g, (int)((long)tid * m / nt), (int)((long)(tid + 1) * m / nt));
  }
}

// ---------------------------------------------------------------------------------------------
// Register-only vdpbf16ps loop: 16 lanes × 2 products × 2 flops per instruction.
#define PEAK_FLOPS (PEAK_ACC * 64)
static void peak_job(void* args, int tid) {
  (void)tid;
  fathom_peak_args* p = (fathom_peak_args*)args;
  int u0, u1;
  while (claim(0, 1, p->units, &u0, &u1)) {
    __m512 acc[PEAK_ACC];
    for (int i = 0; i < PEAK_ACC; i++) acc[i] = _mm512_set1_ps(0.001f * (float)i);
    const __m512bh x = (__m512bh)_mm512_cvtne2ps_pbh(_mm512_set1_ps(p->x), _mm512_set1_ps(p->x));
    const __m512bh y = (__m512bh)_mm512_cvtne2ps_pbh(_mm512_set1_ps(p->y), _mm512_set1_ps(p->y));
    for (long it = 0; it < p->iters; it++)
      for (int i = 0; i < PEAK_ACC; i++) acc[i] = _mm512_dpbf16_ps(acc[i], x, y);
    __m512 s = _mm512_setzero_ps();
    for (int i = 0; i < PEAK_ACC; i++) s = _mm512_add_ps(s, acc[i]);
    float total = _mm512_reduce_add_ps(s);
    __atomic_store(&p->sink, &total, __ATOMIC_RELAXED);
  }
}
