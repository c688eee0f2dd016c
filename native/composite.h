// Composite kernels of the native backend (Backend.sumSquares … tanhGaussianBackward): the
// gradient norm, the contrastive B × B block and the tanh-Gaussian. Their equations, and the
// TypeScript reference twins these are tested against, are in src/engine/composite.ts.
//
// Included by kernels.h in the float32 builds only (after gemm_run and the element-wise
// helpers): the GEMMs inside the pairwise energy are float32 whatever the networks' precision.
// Every output value is computed by one fixed sequence of operations whichever thread runs it
// (per-row or per-column work; scalar results reduced in index order on the calling thread),
// so results are bitwise identical for any thread count. Accumulations are float64, as in the
// twins; exponentials of the loss use the float32 vexp (~1 ulp) and everything per element of
// the tanh-Gaussian runs in float64 through libm, as the twin does through Math.

#define CMIN_DIST 1e-12 // engine/composite.ts MIN_DIST

// VW doubles (two registers). Converted and summed by macros: a function returning or taking
// one by value would not have the ISA's vector ABI in the builds whose registers are narrower.
typedef double vd __attribute__((vector_size(VW * 8)));
#define vtod(v) __builtin_convertvector((v), vd)
INLINE double hsumd(const vd* v) {
  double s = 0.0;
  for (int i = 0; i < VW; i++) s += (*v)[i];
  return s;
}

// ---------------------------------------------------------------------------------------------
// Σ x² in float64, one partial per element chunk (reduced in chunk order by the caller).

static void sumsq_job(void* args, int tid) {
  (void)tid;
  const fathom_sumsq_args* s = (const fathom_sumsq_args*)args;
  const float* x = s->x;
  size_t i0, i1;
  while (elem_claim(s->n, &i0, &i1)) {
    vd acc0 = (vd){0}, acc1 = (vd){0};
    size_t i = i0;
    for (; i + 2 * VW <= i1; i += 2 * VW) {
      const vd a = vtod(vload(x + i)), b = vtod(vload(x + i + VW));
      acc0 += a * a; // a float32 square is exact in float64
      acc1 += b * b;
    }
    for (; i + VW <= i1; i += VW) {
      const vd a = vtod(vload(x + i));
      acc0 += a * a;
    }
    double t = 0.0;
    for (; i < i1; i++) t += (double)x[i] * (double)x[i];
    acc0 += acc1;
    s->part[i0 / FATHOM_ELEM_CHUNK] = hsumd(&acc0) + t;
  }
}

// ---------------------------------------------------------------------------------------------
// Pairwise energy. Phases: row norms (claimed) → Φ·Ψᵀ (gemm_run) → barrier → per-row logits.

// Squared norms in float64 (norm, l2), or norms and unit rows (cosine), of rows [r0, r1).
static void pair_norm_rows(const fathom_pair_args* p, int r0, int r1) {
  const int d = p->d;
  for (int r = r0; r < r1; r++) {
    const float* a = p->phi + (long)r * d; // [d]
    const float* b = p->psi + (long)r * d; // [d]
    double sa = 0.0, sb = 0.0;
    for (int k = 0; k < d; k++) {
      sa += (double)a[k] * (double)a[k];
      sb += (double)b[k] * (double)b[k];
    }
    if (p->fn != FATHOM_PAIR_COSINE) {
      p->phiNorm[r] = sa;
      p->psiNorm[r] = sb;
      continue;
    }
    sa = sqrt(sa);
    sb = sqrt(sb);
    p->phiNorm[r] = sa;
    p->psiNorm[r] = sb;
    const double ia = 1.0 / fmax(sa, CMIN_DIST), ib = 1.0 / fmax(sb, CMIN_DIST);
    float* ha = p->phiHat + (long)r * d; // [d]
    float* hb = p->psiHat + (long)r * d; // [d]
    for (int k = 0; k < d; k++) {
      ha[k] = (float)((double)a[k] * ia);
      hb[k] = (float)((double)b[k] * ib);
    }
  }
}

// Σ_k (Φ_ik − Ψ_jk)² in float64.
static double pair_direct_d2(const fathom_pair_args* p, int i, int j) {
  const int d = p->d;
  const float* a = p->phi + (long)i * d;
  const float* b = p->psi + (long)j * d;
  double s = 0.0;
  for (int k = 0; k < d; k++) {
    const double t = (double)a[k] - (double)b[k];
    s += t * t;
  }
  return s;
}

// Logits of row i (norm, l2): the GEMM form where it is accurate, else the direct distance.
static void pair_dist_row(const fathom_pair_args* p, int i) {
  const int B = p->B;
  const double pp = p->phiNorm[i];
  const long o0 = (long)i * B;
  int count = 0;
  for (int j = 0; j < B; j++) {
    const long o = o0 + j;
    const double scale = pp + p->psiNorm[j];
    double d2 = scale - 2.0 * (double)p->dot[o];
    uint8_t ex = 0;
    if (i == j || d2 < p->minFraction * scale) {
      d2 = pair_direct_d2(p, i, j);
      ex = 1;
      count++;
    }
    p->exact[o] = ex;
    if (p->fn == FATHOM_PAIR_L2) {
      p->logits[o] = (float)(-d2);
    } else {
      const double dist = sqrt(d2);
      p->aux[o] = (float)dist;
      p->logits[o] = (float)(-dist);
    }
  }
  p->rowExact[i] = (double)count;
}

// Claim counters: norms (0), the GEMM (1 … GEMM_SLOTS(d)), logit rows (1 + GEMM_SLOTS(d)).
static void pair_fwd_job(void* args, int tid) {
  const fathom_pair_args* p = (const fathom_pair_args*)args;
  const int B = p->B, d = p->d;
  fathom_gemm_args g = {.transA = 0, .transB = 1, .m = B, .n = B, .k = d, .alpha = 1.f, .beta = 0.f};
  if (p->fn == FATHOM_PAIR_DOT) {
    g.a = p->phi;
    g.b = p->psi;
    g.c = p->logits;
    gemm_run(&g, tid, 1);
    return;
  }
  int r0, r1;
  while (claim(0, FATHOM_ROW_CHUNK, B, &r0, &r1)) pair_norm_rows(p, r0, r1);
  if (p->fn == FATHOM_PAIR_COSINE) {
    pool_barrier(); // the unit rows are complete
    g.a = p->phiHat;
    g.b = p->psiHat;
    g.c = p->logits;
    gemm_run(&g, tid, 1);
    return;
  }
  g.a = p->phi;
  g.b = p->psi;
  g.c = p->dot;
  gemm_run(&g, tid, 1);
  pool_barrier(); // norms and Φ·Ψᵀ are complete
  while (claim(1 + FATHOM_GEMM_SLOTS(d), 1, B, &r0, &r1)) pair_dist_row(p, r0);
}

// H_ij of a directly computed or GEMM-form pair: G/D (norm) or 2G (l2), in float64.
INLINE double pair_weight(const fathom_pair_args* p, long o) {
  return p->fn == FATHOM_PAIR_L2 ? 2.0 * (double)p->G[o] : (double)p->G[o] / fmax((double)p->aux[o], CMIN_DIST);
}

// dx_i ← (dx_i − (dx_i·x̂_i) x̂_i) / ‖x_i‖ for rows [r0, r1) (cosine).
static void pair_project_rows(float* dx, const float* xh, const double* norms, int d, int r0, int r1) {
  for (int r = r0; r < r1; r++) {
    float* g = dx + (long)r * d;
    const float* u = xh + (long)r * d;
    double q = 0.0;
    for (int k = 0; k < d; k++) q += (double)g[k] * (double)u[k];
    const double inv = 1.0 / fmax(norms[r], CMIN_DIST);
    for (int k = 0; k < d; k++) g[k] = (float)(((double)g[k] - q * (double)u[k]) * inv);
  }
}

// Backward. dot: dΦ = G·Ψ, dΨ = Gᵀ·Φ. cosine: the same over the unit rows, then projected.
// norm, l2: H (claimed rows, with row sums) → barrier → column sums (split columns) and
// dΦ = H·Ψ, dΨ = Hᵀ·Φ → barrier → dΦ_i −= r_i Φ_i plus the direct pairs of row i, dΨ_i −= c_i Ψ_i
// (split rows) → barrier → the direct pairs of column j into dΨ_j (split columns).
static void pair_bwd_job(void* args, int tid) {
  const fathom_pair_args* p = (const fathom_pair_args*)args;
  const int B = p->B, d = p->d;
  const int slot1 = 1 + FATHOM_GEMM_SLOTS(B); // second GEMM's counters
  fathom_gemm_args g1 = {.transA = 0, .transB = 0, .m = B, .n = d, .k = B, .alpha = 1.f, .beta = 0.f, .c = p->dPhi};
  fathom_gemm_args g2 = {.transA = 1, .transB = 0, .m = B, .n = d, .k = B, .alpha = 1.f, .beta = 0.f, .c = p->dPsi};
  if (p->fn == FATHOM_PAIR_DOT || p->fn == FATHOM_PAIR_COSINE) {
    const int cos = p->fn == FATHOM_PAIR_COSINE;
    g1.a = p->G;
    g1.b = cos ? p->psiHat : p->psi;
    g2.a = p->G;
    g2.b = cos ? p->phiHat : p->phi;
    gemm_run(&g1, tid, 1);
    pool_barrier(); // the packed-B scratch is reused
    gemm_run(&g2, tid, slot1);
    if (!cos) return;
    const int nt = pool_barrier();
    const int r0 = (int)((long)tid * B / nt), r1 = (int)((long)(tid + 1) * B / nt);
    pair_project_rows(p->dPhi, p->phiHat, p->phiNorm, d, r0, r1);
    pair_project_rows(p->dPsi, p->psiHat, p->psiNorm, d, r0, r1);
    return;
  }
  int i0, i1;
  while (claim(0, 1, B, &i0, &i1)) {
    const long o0 = (long)i0 * B;
    double r = 0.0;
    for (int j = 0; j < B; j++) {
      const long o = o0 + j;
      const float h = p->exact[o] ? 0.f : (float)pair_weight(p, o);
      p->h[o] = h;
      r += (double)h;
    }
    p->rowSum[i0] = r;
  }
  int nt = pool_barrier(); // H complete
  {
    const int j0 = (int)((long)tid * B / nt), j1 = (int)((long)(tid + 1) * B / nt);
    for (int j = j0; j < j1; j++) {
      double c = 0.0;
      for (int i = 0; i < B; i++) c += (double)p->h[(long)i * B + j];
      p->colSum[j] = c;
    }
  }
  g1.a = p->h;
  g1.b = p->psi;
  g2.a = p->h;
  g2.b = p->phi;
  gemm_run(&g1, tid, 1);
  pool_barrier(); // the packed-B scratch is reused
  gemm_run(&g2, tid, slot1);
  nt = pool_barrier(); // dΦ, dΨ (GEMM parts) and the column sums complete
  const int r0 = (int)((long)tid * B / nt), r1 = (int)((long)(tid + 1) * B / nt);
  for (int i = r0; i < r1; i++) {
    float* gp = p->dPhi + (long)i * d;
    float* gq = p->dPsi + (long)i * d;
    const float* a = p->phi + (long)i * d;
    const float* b = p->psi + (long)i * d;
    const double r = p->rowSum[i], c = p->colSum[i];
    for (int k = 0; k < d; k++) {
      gp[k] = (float)((double)gp[k] - r * (double)a[k]);
      gq[k] = (float)((double)gq[k] - c * (double)b[k]);
    }
    // The directly computed pairs of row i: dΦ_i += H_ij (Ψ_j − Φ_i), in increasing j.
    for (int j = 0; j < B; j++) {
      const long o = (long)i * B + j;
      if (!p->exact[o]) continue;
      const double h = pair_weight(p, o);
      if (h == 0.0) continue;
      const float* bj = p->psi + (long)j * d;
      for (int k = 0; k < d; k++) gp[k] = (float)((double)gp[k] + h * ((double)bj[k] - (double)a[k]));
    }
  }
  pool_barrier(); // every dΨ row has had its −c·Ψ
  // The directly computed pairs of column j: dΨ_j −= H_ij (Ψ_j − Φ_i), in increasing i.
  for (int j = r0; j < r1; j++) {
    float* gq = p->dPsi + (long)j * d;
    const float* b = p->psi + (long)j * d;
    for (int i = 0; i < B; i++) {
      const long o = (long)i * B + j;
      if (!p->exact[o]) continue;
      const double h = pair_weight(p, o);
      if (h == 0.0) continue;
      const float* a = p->phi + (long)i * d;
      for (int k = 0; k < d; k++) gq[k] = (float)((double)gq[k] - h * ((double)b[k] - (double)a[k]));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Contrastive loss. Rows (claimed): max, argmax, exp(L − max) into G, logsumexp, the row's
// loss terms and G row × coefficient (and the binary terms); then, for bwd/sym, after a barrier,
// columns in blocks of VW (split by thread): column logsumexp and its softmax added into G.

static double csoftplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }

static void closs_row(const fathom_closs_args* c, int i) {
  const int B = c->B;
  const double invB = 1.0 / B;
  const float* L = c->L + (long)i * B; // [B]
  float* G = c->G + (long)i * B;       // [B]
  double* part = c->part + (long)i * FATHOM_CLOSS_PARTS;
  // max over the row (NaN ignored, as `v > m` in the twin), then the first index holding it
  vf vm = vbcast(-INFINITY);
  vd vs = (vd){0};
  int j = 0;
  for (; j + VW <= B; j += VW) {
    const vf v = vload(L + j);
    vm = vselect(v > vm, v, vm);
    vs += vtod(v);
  }
  float m = -INFINITY;
  for (int l = 0; l < VW; l++)
    if (vm[l] > m) m = vm[l];
  double rowSum = hsumd(&vs);
  for (; j < B; j++) {
    if (L[j] > m) m = L[j];
    rowSum += (double)L[j];
  }
  int arg = 0;
  if (m != -INFINITY)
    while (arg < B && L[arg] != m) arg++;
  // exp(L − m), kept in G; z in float64
  const vf vmax = vbcast(m);
  vd vz = (vd){0};
  for (j = 0; j + VW <= B; j += VW) {
    const vf e = vexp(vload(L + j) - vmax);
    vstore(G + j, e);
    vz += vtod(e);
  }
  double z = hsumd(&vz);
  for (; j < B; j++) {
    const float e = expf(L[j] - m);
    G[j] = e;
    z += (double)e;
  }
  const double lse = (double)m + log(z);
  c->lseRow[i] = lse;
  const double l = lse + 1e-6; // the reference takes logsumexp(logits + 1e-6)
  const int rowInfoNce = c->kind == FATHOM_CLOSS_FWD || c->kind == FATHOM_CLOSS_SYM;
  double loss = 0.0, coef = 0.0;
  if (rowInfoNce) {
    loss -= ((double)L[i] - lse) * invB;
    coef += invB;
  }
  if (c->penalty != 0.0) {
    loss += c->penalty * l * l * invB;
    coef += 2.0 * c->penalty * l * invB;
  }
  const double scale = coef / z;
  for (j = 0; j < B; j++) G[j] = (float)((double)G[j] * scale);
  if (rowInfoNce) G[i] = (float)((double)G[i] - invB);
  double bce = 0.0;
  if (c->kind == FATHOM_CLOSS_BINARY) {
    const double invB2 = invB * invB;
    for (j = 0; j < B; j++) {
      const double x = (double)L[j], y = j == i ? 1.0 : 0.0;
      bce += (csoftplus(x) - x * y) * invB2;
      G[j] = (float)((double)G[j] + (1.0 / (1.0 + exp(-x)) - y) * invB2);
    }
  }
  part[0] = loss;
  part[1] = l;
  part[2] = (double)L[i];
  part[3] = rowSum - (double)L[i];
  part[4] = arg == i ? 1.0 : 0.0;
  part[5] = bce;
}

// Columns [j0, j0 + w) (w ≤ VW), one lane each: lse_i L_ij and G_ij += softmax_i(L_·j)/B.
static void closs_cols(const fathom_closs_args* c, int j0, int w) {
  const int B = c->B;
  const double invB = 1.0 / B;
  float tmp[VW] __attribute__((aligned(64)));
  for (int l = 0; l < VW; l++) tmp[l] = 0.f;
  // max over rows, NaN-propagating (Math.max in the twin)
  vf vm = vbcast(-INFINITY);
  for (int i = 0; i < B; i++) {
    memcpy(tmp, c->L + (long)i * B + j0, sizeof(float) * (size_t)w);
    const vf v = *(const vf*)tmp;
    vm = vselect((v > vm) | (v != v), v, vm);
  }
  vd vz = (vd){0};
  for (int i = 0; i < B; i++) {
    memcpy(tmp, c->L + (long)i * B + j0, sizeof(float) * (size_t)w);
    vz += vtod(vexp(*(const vf*)tmp - vm));
  }
  double lse[VW];
  for (int l = 0; l < w; l++) {
    lse[l] = (double)vm[l] + log(vz[l]);
    c->lseCol[j0 + l] = lse[l];
  }
  for (int i = 0; i < B; i++) {
    const float* Li = c->L + (long)i * B + j0;
    float* Gi = c->G + (long)i * B + j0;
    for (int l = 0; l < w; l++) tmp[l] = (float)((double)Li[l] - lse[l]);
    const vf e = vexp(*(const vf*)tmp);
    for (int l = 0; l < w; l++) Gi[l] = (float)((double)Gi[l] + (double)e[l] * invB);
  }
  for (int l = 0; l < w; l++) {
    const int j = j0 + l;
    float* gjj = c->G + (long)j * B + j;
    *gjj = (float)((double)*gjj - invB);
    c->part[(long)j * FATHOM_CLOSS_PARTS + 5] = -((double)c->L[(long)j * B + j] - lse[l]) * invB;
  }
}

static void closs_job(void* args, int tid) {
  const fathom_closs_args* c = (const fathom_closs_args*)args;
  int i0, i1;
  while (claim(0, 1, c->B, &i0, &i1)) closs_row(c, i0);
  if (c->kind != FATHOM_CLOSS_BWD && c->kind != FATHOM_CLOSS_SYM) return;
  const int nt = pool_barrier(); // every row's part of G is in place
  const int blocks = (c->B + VW - 1) / VW;
  const int b0 = (int)((long)tid * blocks / nt), b1 = (int)((long)(tid + 1) * blocks / nt);
  for (int b = b0; b < b1; b++) closs_cols(c, b * VW, min_i(VW, c->B - b * VW));
}

// ---------------------------------------------------------------------------------------------
// Tanh-Gaussian (rows claimed FATHOM_ROW_CHUNK at a time; float64 per element).

#define LOG_STD_MIN_D (-5.0)
#define LOG_STD_HALF_RANGE 3.5 // (LOG_STD_MAX − LOG_STD_MIN) / 2
#define HALF_LOG_2PI_D 0.91893853320467274178
#define LOG2_D 0.69314718055994530942

static void tanh_fwd_job(void* args, int tid) {
  (void)tid;
  const fathom_tanh_args* t = (const fathom_tanh_args*)args;
  const int A = t->A;
  int r0, r1;
  while (claim(0, FATHOM_ROW_CHUNK, t->B, &r0, &r1))
    for (int i = r0; i < r1; i++) {
      double lp = 0.0;
      for (int k = 0; k < A; k++) {
        const long o = (long)i * A + k;
        const double ls = LOG_STD_MIN_D + LOG_STD_HALF_RANGE * (tanh((double)t->raw[o]) + 1.0);
        const double e = (double)t->eps[o];
        const double xv = (double)t->mean[o] + exp(ls) * e;
        const double av = tanh(xv);
        t->x[o] = (float)xv;
        t->a[o] = (float)av;
        // "exact": −log(1 − tanh²x) = −2(log 2 − x − softplus(−2x)); "reference": −log(1 − a² + 1e-6)
        const double det = t->exact ? 2.0 * (LOG2_D - xv - csoftplus(-2.0 * xv)) : log(1.0 - av * av + 1e-6);
        lp += -0.5 * e * e - ls - HALF_LOG_2PI_D - det;
      }
      t->logp[i] = lp;
    }
}

static void tanh_bwd_job(void* args, int tid) {
  (void)tid;
  const fathom_tanh_args* t = (const fathom_tanh_args*)args;
  const int A = t->A;
  int r0, r1;
  while (claim(0, FATHOM_ROW_CHUNK, t->B, &r0, &r1))
    for (int i = r0; i < r1; i++) {
      const double dl = t->dLogp[i];
      for (int k = 0; k < A; k++) {
        const long o = (long)i * A + k;
        double gx;
        if (t->exact) {
          const double xv = (double)t->x[o], ch = cosh(xv);
          gx = (double)t->dA[o] / (ch * ch) + dl * 2.0 * tanh(xv);
        } else {
          const double av = (double)t->a[o], oneMinus = 1.0 - av * av;
          gx = (double)t->dA[o] * oneMinus + dl * ((2.0 * av * oneMinus) / (oneMinus + 1e-6));
        }
        const double th = tanh((double)t->raw[o]);
        const double sigma = exp(LOG_STD_MIN_D + LOG_STD_HALF_RANGE * (th + 1.0));
        const double dLogStd = gx * sigma * (double)t->eps[o] - dl;
        t->dMean[o] = (float)gx;
        t->dRaw[o] = (float)(dLogStd * LOG_STD_HALF_RANGE * (1.0 - th * th));
      }
    }
}
