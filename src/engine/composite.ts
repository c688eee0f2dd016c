// Composite kernels (DESIGN §3): the gradient norm, the contrastive B × B block (pairwise energy
// with its exact-distance path, the InfoNCE-family losses with their logsumexps, and their
// backward) and the tanh-Gaussian (sample, log-probability, backward).
//
// This file holds their plain-TypeScript implementations, written over the backend's own GEMM
// and accumulating in float64. They are
//   - the reference twins: RefBackend's methods are these functions, and the native kernels are
//     tested against them (test/engine/composite.test.ts);
//   - what a backend gets that does not implement a composite kernel itself: the Backend methods
//     are optional, and compositeKernels(be) fills each missing one in from here, so a backend
//     written before they existed (or one that has no faster version) needs no change.
// Callers go through compositeKernels(be) once (it allocates; its methods do not).
import type { Backend, Kernel } from "./backend.js";

/**
 * denseLnSwishBackward with `overwrite` on a kernel that can only accumulate: zero what it adds
 * into (dw when given, db, dgamma, dbeta) first, so it writes what a zeroed buffer would hold.
 */
export function zeroDenseParamGrads(dw: Float32Array | null, db: Float32Array, dgamma: Float32Array, dbeta: Float32Array, inDim: number, outDim: number): void {
  dw?.fill(0, 0, inDim * outDim);
  db.fill(0, 0, outDim);
  dgamma.fill(0, 0, outDim);
  dbeta.fill(0, 0, outDim);
}

// ─────────────────────────────── names ───────────────────────────────

export const ENERGY_FNS = ["norm", "l2", "dot", "cosine"] as const;
export type EnergyFn = (typeof ENERGY_FNS)[number];
export const CONTRASTIVE_LOSSES = ["fwd_infonce", "bwd_infonce", "sym_infonce", "binary_nce"] as const;
export type ContrastiveLoss = (typeof CONTRASTIVE_LOSSES)[number];
/**
 * The tanh change of variables in log π: "reference" = −log(1 − a² + 1e-6) (the paper's code; its
 * gradient vanishes once |x| ≳ 7 and the term saturates at 13.8), "exact" = −log(1 − tanh²x)
 * computed as −2(log 2 − x − softplus(−2x)) (Brax/TFP's bijector; its gradient 2·tanh(x) never
 * vanishes, so a saturated pre-tanh action is pulled back).
 */
export const TANH_LOG_DETS = ["exact", "reference"] as const;
export type TanhLogDet = (typeof TANH_LOG_DETS)[number];

/** Below this, a distance or norm is treated as this (the gradient of ‖·‖ is undefined at 0). */
export const MIN_DIST = 1e-12;

/**
 * A pair's squared distance is taken from the GEMM form ‖Φ_i‖² + ‖Ψ_j‖² − 2Φ_i·Ψ_j only when it is
 * at least this fraction of ‖Φ_i‖² + ‖Ψ_j‖²; below, the float32 cancellation error (≈ 1e-7 ·
 * (‖Φ_i‖² + ‖Ψ_j‖²) · √dim) would exceed ~1e-4 of the result, so the pair is computed directly as
 * Σ_k (Φ_ik − Ψ_jk)². The positives (the diagonal) are always computed directly.
 */
export const GEMM_DIST_MIN_FRACTION = 1e-2;

export const LOG_STD_MIN = -5;
export const LOG_STD_MAX = 2;
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);
const LOG2 = Math.log(2);

// ─────────────────────────────── scratch ───────────────────────────────

/**
 * Scratch of pairwiseEnergy and its backward, sized once for [maxB, maxB] and [maxB, dim]. The
 * forward fills it, the backward of the same Φ, Ψ reads it; what each field holds is the same
 * for every backend (the native kernels read and write these arrays).
 */
export class EnergyScratch {
  readonly dot: Float32Array; // [B, B] Φ·Ψᵀ (norm, l2)
  readonly aux: Float32Array; // [B, B] D = ‖Φ_i − Ψ_j‖ (norm)
  readonly h: Float32Array; // [B, B] backward weights H
  readonly phiNorm: Float64Array; // [B] ‖Φ_i‖² (norm, l2) or ‖Φ_i‖ (cosine)
  readonly psiNorm: Float64Array; // [B] same for Ψ
  readonly rowSum: Float64Array; // [B] Σ_j H_ij (backward)
  readonly colSum: Float64Array; // [B] Σ_i H_ij (backward)
  readonly phiHat: Float32Array; // [B, dim] Φ_i/‖Φ_i‖ (cosine)
  readonly psiHat: Float32Array; // [B, dim] (cosine)
  /** [B, B]: 1 where the pair's distance was computed directly (norm, l2: the diagonal and close pairs). */
  readonly exact: Uint8Array;
  /** How many entries of `exact` are 1 (set by pairwiseEnergy). */
  exactCount = 0;
  constructor(
    readonly maxB: number,
    readonly dim: number,
  ) {
    this.dot = new Float32Array(maxB * maxB);
    this.aux = new Float32Array(maxB * maxB);
    this.h = new Float32Array(maxB * maxB);
    this.phiNorm = new Float64Array(maxB);
    this.psiNorm = new Float64Array(maxB);
    this.rowSum = new Float64Array(maxB);
    this.colSum = new Float64Array(maxB);
    this.phiHat = new Float32Array(maxB * dim);
    this.psiHat = new Float32Array(maxB * dim);
    this.exact = new Uint8Array(maxB * maxB);
  }
}

export interface CriticLossStats {
  criticLoss: number;
  logsumexp: number;
  categoricalAccuracy: number;
  logitsPos: number;
  logitsNeg: number;
}

/** Scratch of contrastiveLoss, sized once for B ≤ maxB; `stats` is overwritten by each call. */
export class LossScratch {
  readonly lseRow: Float64Array; // [B] lse_j L_ij
  readonly lseCol: Float64Array; // [B] lse_i L_ij (bwd, sym)
  /** [5] the native kernel's results: criticLoss, logsumexp, categoricalAccuracy, logitsPos, logitsNeg. */
  readonly statsOut: Float64Array;
  /** The last call's results (the object contrastiveLoss returns; reused, not reallocated). */
  readonly stats: CriticLossStats = { criticLoss: 0, logsumexp: 0, categoricalAccuracy: 0, logitsPos: 0, logitsNeg: 0 };
  constructor(readonly maxB: number) {
    this.lseRow = new Float64Array(maxB);
    this.lseCol = new Float64Array(maxB);
    this.statsOut = new Float64Array(5);
  }
}

// ─────────────────────── gradient norm (Σ x²) ───────────────────────

/** Σ x[i]² over n values in float64 (each square is exact in float64; NaN and ±Infinity propagate). */
export function sumSquaresTs(x: Float32Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += x[i] * x[i];
  return s;
}

// ─────────────────────── pairwise energy ───────────────────────

/** Σ_k (Φ_i,k − Ψ_j,k)² accumulated in float64. */
function directSquaredDistance(phi: Float32Array, psi: Float32Array, i: number, j: number, d: number): number {
  let s = 0;
  const a = i * d;
  const b = j * d;
  for (let k = 0; k < d; k++) {
    const t = phi[a + k] - psi[b + k];
    s += t * t;
  }
  return s;
}

function rowNorms(x: Float32Array, B: number, d: number, out: Float64Array, squared: boolean): void {
  for (let i = 0; i < B; i++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += x[i * d + k] * x[i * d + k];
    out[i] = squared ? s : Math.sqrt(s);
  }
}

/**
 * Pairwise logits L[i, j] = energy(Φ_i, Ψ_j)   Φ, Ψ: [B, d] → L: [B, B]
 *   norm:   −‖Φ_i − Ψ_j‖₂   (the paper's; SPEC §3)
 *   l2:     −‖Φ_i − Ψ_j‖₂²
 *   dot:    Φ_i·Ψ_j
 *   cosine: Φ_i·Ψ_j / (‖Φ_i‖‖Ψ_j‖)   (per row; JaxGCRL divides by whole-matrix norms instead)
 * The distances use ‖Φ_i‖² + ‖Ψ_j‖² − 2Φ_i·Ψ_j with one GEMM where that form is accurate, and
 * Σ_k (Φ_ik − Ψ_jk)² directly for the diagonal and for every pair whose squared distance is below
 * GEMM_DIST_MIN_FRACTION of ‖Φ_i‖² + ‖Ψ_j‖² (the reference computes √Σ(φ − ψ)² for all pairs; the
 * GEMM form alone loses all precision for close pairs of large vectors, e.g. ‖φ‖ ≈ 64 and a distance
 * of 0.01 rounds to 0 half the time). The directly computed pairs are marked in `s.exact` for the
 * backward.
 */
export function pairwiseEnergyTs(
  be: Backend,
  fn: EnergyFn,
  phi: Float32Array,
  psi: Float32Array,
  B: number,
  d: number,
  s: EnergyScratch,
  logits: Float32Array,
): void {
  if (fn === "cosine") {
    rowNorms(phi, B, d, s.phiNorm, false);
    rowNorms(psi, B, d, s.psiNorm, false);
    for (let i = 0; i < B; i++) {
      const a = 1 / Math.max(s.phiNorm[i], MIN_DIST);
      const b = 1 / Math.max(s.psiNorm[i], MIN_DIST);
      for (let k = 0; k < d; k++) {
        s.phiHat[i * d + k] = phi[i * d + k] * a;
        s.psiHat[i * d + k] = psi[i * d + k] * b;
      }
    }
    be.gemm(false, true, B, B, d, 1, s.phiHat, s.psiHat, 0, logits);
    return;
  }
  if (fn === "dot") {
    be.gemm(false, true, B, B, d, 1, phi, psi, 0, logits);
    return;
  }
  be.gemm(false, true, B, B, d, 1, phi, psi, 0, s.dot);
  rowNorms(phi, B, d, s.phiNorm, true);
  rowNorms(psi, B, d, s.psiNorm, true);
  let nExact = 0;
  for (let i = 0; i < B; i++) {
    for (let j = 0; j < B; j++) {
      const o = i * B + j;
      const scale = s.phiNorm[i] + s.psiNorm[j];
      let d2 = scale - 2 * s.dot[o];
      let ex = 0;
      if (i === j || d2 < GEMM_DIST_MIN_FRACTION * scale) {
        d2 = directSquaredDistance(phi, psi, i, j, d);
        ex = 1;
        nExact++;
      }
      s.exact[o] = ex;
      if (fn === "l2") logits[o] = -d2;
      else {
        const dist = Math.sqrt(d2);
        s.aux[o] = dist;
        logits[o] = -dist;
      }
    }
  }
  s.exactCount = nExact;
}

/** dx_i ← (dx_i − (dx_i·x̂_i) x̂_i) / ‖x_i‖: the gradient through x ↦ x/‖x‖ (cosine), in place. */
function projectOutNormal(dx: Float32Array, xh: Float32Array, norms: Float64Array, B: number, d: number): void {
  for (let i = 0; i < B; i++) {
    let p = 0;
    for (let k = 0; k < d; k++) p += dx[i * d + k] * xh[i * d + k];
    const inv = 1 / Math.max(norms[i], MIN_DIST);
    for (let k = 0; k < d; k++) dx[i * d + k] = (dx[i * d + k] - p * xh[i * d + k]) * inv;
  }
}

/** H_ij for pair o: ∂L_ij/∂D_ij-weighted G (norm: G/D, l2: 2G). */
function pairWeight(fn: EnergyFn, G: Float32Array, aux: Float32Array, o: number): number {
  return fn === "l2" ? 2 * G[o] : G[o] / Math.max(aux[o], MIN_DIST);
}

/**
 * Backward of pairwiseEnergy: given G = ∂loss/∂L [B, B], writes dPhi, dPsi [B, d] (overwritten).
 * For norm: ∂L_ij/∂Φ_i = −(Φ_i − Ψ_j)/D_ij, so with H_ij = G_ij/D_ij:
 *   dΦ = −(rowsum(H)·Φ − H·Ψ),  dΨ = Hᵀ·Φ − colsum(H)·Ψ.   (l2: H_ij = 2·G_ij.)
 * The pairs pairwiseEnergy computed directly (s.exact: the diagonal and the close pairs) are left
 * out of the GEMM form and added as H_ij·(Ψ_j − Φ_i) with the difference taken directly, so
 * their gradient is G_ij times a unit vector (bounded) instead of a cancellation of large terms.
 * Must follow the pairwiseEnergy call that filled `s` for the same Φ, Ψ.
 */
export function pairwiseEnergyBackwardTs(
  be: Backend,
  fn: EnergyFn,
  phi: Float32Array,
  psi: Float32Array,
  G: Float32Array,
  B: number,
  d: number,
  s: EnergyScratch,
  dPhi: Float32Array,
  dPsi: Float32Array,
): void {
  if (fn === "dot") {
    be.gemm(false, false, B, d, B, 1, G, psi, 0, dPhi); // dΦ = G·Ψ
    be.gemm(true, false, B, d, B, 1, G, phi, 0, dPsi); // dΨ = Gᵀ·Φ
    return;
  }
  if (fn === "cosine") {
    // L = Φ̂·Ψ̂ᵀ; dΦ̂ = G·Ψ̂; dΦ_i = (dΦ̂_i − (dΦ̂_i·Φ̂_i)Φ̂_i)/‖Φ_i‖ (same for Ψ with Gᵀ).
    be.gemm(false, false, B, d, B, 1, G, s.psiHat, 0, dPhi);
    be.gemm(true, false, B, d, B, 1, G, s.phiHat, 0, dPsi);
    projectOutNormal(dPhi, s.phiHat, s.phiNorm, B, d);
    projectOutNormal(dPsi, s.psiHat, s.psiNorm, B, d);
    return;
  }
  const H = s.h;
  const ex = s.exact;
  for (let o = 0; o < B * B; o++) H[o] = ex[o] ? 0 : pairWeight(fn, G, s.aux, o);
  // dΦ = H·Ψ − rowsum(H)·Φ ; dΨ = Hᵀ·Φ − colsum(H)·Ψ   (signs: L = −D)
  be.gemm(false, false, B, d, B, 1, H, psi, 0, dPhi);
  be.gemm(true, false, B, d, B, 1, H, phi, 0, dPsi);
  for (let i = 0; i < B; i++) {
    let r = 0;
    let c = 0;
    for (let j = 0; j < B; j++) {
      r += H[i * B + j];
      c += H[j * B + i];
    }
    s.rowSum[i] = r;
    s.colSum[i] = c;
    for (let k = 0; k < d; k++) {
      dPhi[i * d + k] -= r * phi[i * d + k];
      dPsi[i * d + k] -= c * psi[i * d + k];
    }
  }
  // The directly computed pairs: dΦ_i += H_ij (Ψ_j − Φ_i), dΨ_j −= H_ij (Ψ_j − Φ_i).
  for (let o = 0; o < B * B; o++) {
    if (!ex[o]) continue;
    const h = pairWeight(fn, G, s.aux, o);
    if (h === 0) continue;
    const i = (o / B) | 0;
    const j = o - i * B;
    const a = i * d;
    const b = j * d;
    for (let k = 0; k < d; k++) {
      const t = h * (psi[b + k] - phi[a + k]);
      dPhi[a + k] += t;
      dPsi[b + k] -= t;
    }
  }
}

// ─────────────────────── contrastive loss ───────────────────────

function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/**
 * Critic loss over logits L [B, B] (positives on the diagonal) and its gradient G = ∂loss/∂L
 * (overwritten):
 *   fwd_infonce: −mean_i(L_ii − lse_j L_ij)              (SPEC §3, the paper's)
 *   bwd_infonce: −mean_j(L_jj − lse_i L_ij)
 *   sym_infonce: −mean_i(2L_ii − lse_j L_ij − lse_j L_ji)
 *   binary_nce:  mean_ij BCE(σ(L_ij), I_ij)   (JaxGCRL's binary NCE with identity labels)
 * plus the penalty c · mean_i(lse_j(L_ij + 1e-6)²)  (c = 0.1 in the paper). Returns s.stats.
 */
export function contrastiveLossTs(kind: ContrastiveLoss, logits: Float32Array, B: number, penalty: number, s: LossScratch, G: Float32Array): CriticLossStats {
  const L = logits;
  const { lseRow, lseCol } = s;
  const invB = 1 / B;
  const rowInfoNce = kind === "fwd_infonce" || kind === "sym_infonce";
  let correct = 0;
  let pos = 0;
  let neg = 0;
  let loss = 0;
  let lseMean = 0;
  // One pass per row: max, exp(L − max) kept in G, logsumexp, then G row = P_i· × coefficient,
  // where P is the row softmax: ∂(fwd InfoNCE)/∂L_ij = (P_ij − δ_ij)/B and
  // ∂(c·mean lse²)/∂L_ij = 2c·lse_i·P_ij/B.
  for (let i = 0; i < B; i++) {
    const o = i * B;
    let m = Number.NEGATIVE_INFINITY;
    let arg = 0;
    let rowSum = 0;
    for (let j = 0; j < B; j++) {
      const v = L[o + j];
      if (v > m) {
        m = v;
        arg = j;
      }
      rowSum += v;
    }
    pos += L[o + i];
    neg += rowSum - L[o + i];
    if (arg === i) correct++;
    let z = 0;
    for (let j = 0; j < B; j++) {
      const e = Math.exp(L[o + j] - m);
      G[o + j] = e;
      z += e;
    }
    const lse = m + Math.log(z);
    lseRow[i] = lse;
    const l = lse + 1e-6; // the reference takes logsumexp(logits + 1e-6)
    lseMean += l * invB;
    let coef = 0;
    if (rowInfoNce) {
      loss -= (L[o + i] - lse) * invB;
      coef += invB;
    }
    if (penalty !== 0) {
      loss += penalty * l * l * invB;
      coef += 2 * penalty * l * invB;
    }
    const scale = coef / z;
    for (let j = 0; j < B; j++) G[o + j] *= scale;
    if (rowInfoNce) G[o + i] -= invB;
  }
  if (kind === "bwd_infonce" || kind === "sym_infonce") {
    for (let j = 0; j < B; j++) {
      let m = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < B; i++) m = Math.max(m, L[i * B + j]);
      let z = 0;
      for (let i = 0; i < B; i++) z += Math.exp(L[i * B + j] - m);
      lseCol[j] = m + Math.log(z);
    }
    for (let j = 0; j < B; j++) {
      loss -= (L[j * B + j] - lseCol[j]) * invB;
      for (let i = 0; i < B; i++) G[i * B + j] += Math.exp(L[i * B + j] - lseCol[j]) * invB;
      G[j * B + j] -= invB;
    }
  }
  if (kind === "binary_nce") {
    const invB2 = invB * invB;
    for (let i = 0; i < B; i++)
      for (let j = 0; j < B; j++) {
        const x = L[i * B + j];
        const y = i === j ? 1 : 0;
        loss += (softplus(x) - x * y) * invB2;
        G[i * B + j] += (1 / (1 + Math.exp(-x)) - y) * invB2;
      }
  }
  const st = s.stats;
  st.criticLoss = loss;
  st.logsumexp = lseMean;
  st.categoricalAccuracy = correct / B;
  st.logitsPos = pos / B;
  st.logitsNeg = B > 1 ? neg / (B * (B - 1)) : 0;
  return st;
}

// ─────────────────────── tanh-Gaussian policy ───────────────────────

/** log(1 − tanh²x) = 2(log 2 − x − softplus(−2x)), exact for every x. */
export function logOneMinusTanhSq(x: number): number {
  return 2 * (LOG2 - x - softplus(-2 * x));
}

/** log σ = −5 + 3.5·(tanh(raw) + 1) ∈ [−5, 2]   (SPEC §2). */
export function logStdFromRaw(raw: number): number {
  return LOG_STD_MIN + 0.5 * (LOG_STD_MAX - LOG_STD_MIN) * (Math.tanh(raw) + 1);
}

/**
 * Tanh-Gaussian sample and log-probability (SPEC §3):
 *   x = μ + σ·ε,  a = tanh(x),  log π = Σ_k [log N(x_k; μ_k, σ_k) − log(1 − a_k² + 1e-6)]
 * (logDet "exact": − log(1 − tanh² x_k) instead of the last term, see TanhLogDet).
 * mean, raw: [B, A]; eps: [B, A] standard normals; writes x, a [B, A] and logp [B].
 */
export function tanhGaussianSampleTs(
  mean: Float32Array,
  raw: Float32Array,
  eps: Float32Array,
  B: number,
  A: number,
  x: Float32Array,
  a: Float32Array,
  logp: Float64Array,
  logDet: TanhLogDet = "reference",
): void {
  const exact = logDet === "exact";
  for (let i = 0; i < B; i++) {
    let lp = 0;
    for (let k = 0; k < A; k++) {
      const o = i * A + k;
      const ls = logStdFromRaw(raw[o]);
      const xv = mean[o] + Math.exp(ls) * eps[o];
      const av = Math.tanh(xv);
      x[o] = xv;
      a[o] = av;
      lp += -0.5 * eps[o] * eps[o] - ls - HALF_LOG_2PI - (exact ? logOneMinusTanhSq(xv) : Math.log(1 - av * av + 1e-6));
    }
    logp[i] = lp;
  }
}

/**
 * Backward of the actor loss through the tanh-Gaussian, given
 *   dLogp[i] = ∂loss/∂log π_i and dA [B, A] = ∂loss/∂a (from the critic),
 * writes dMean, dRaw [B, A] (∂loss w.r.t. the actor's two heads). With x = μ + σε:
 *   ∂log N/∂μ = 0 (x − μ = σε), ∂log N/∂log σ = −1, ∂/∂x[−log(1 − a² + 1e-6)] = 2a(1 − a²)/(1 − a² + 1e-6)
 * ("exact": ∂/∂x[−log(1 − tanh²x)] = 2·tanh(x), and da/dx = 1/cosh²(x) from x; needs `x`).
 * Note: the "reference" form reads a = tanh(x) as stored in float32, as the paper's code does.
 */
export function tanhGaussianBackwardTs(
  raw: Float32Array,
  eps: Float32Array,
  a: Float32Array,
  dLogp: Float64Array,
  dA: Float32Array,
  B: number,
  A: number,
  dMean: Float32Array,
  dRaw: Float32Array,
  logDet: TanhLogDet = "reference",
  x?: Float32Array,
): void {
  const half = 0.5 * (LOG_STD_MAX - LOG_STD_MIN);
  const exact = logDet === "exact";
  if (exact && !x) throw new Error('tanhGaussianBackward with logDet "exact" needs the pre-tanh sample x');
  for (let i = 0; i < B; i++) {
    for (let k = 0; k < A; k++) {
      const o = i * A + k;
      let gx: number;
      if (exact) {
        const xv = x![o];
        const c = Math.cosh(xv);
        gx = dA[o] / (c * c) + dLogp[i] * 2 * Math.tanh(xv);
      } else {
        const av = a[o];
        const oneMinus = 1 - av * av;
        gx = dA[o] * oneMinus + dLogp[i] * ((2 * av * oneMinus) / (oneMinus + 1e-6));
      }
      const t = Math.tanh(raw[o]);
      const sigma = Math.exp(LOG_STD_MIN + half * (t + 1));
      const dLogStd = gx * sigma * eps[o] - dLogp[i];
      dMean[o] = gx;
      dRaw[o] = dLogStd * half * (1 - t * t);
    }
  }
}

// ─────────────────────── dispatch ───────────────────────

/** The composite kernels: the optional methods of Backend. */
export const COMPOSITE_KERNELS = ["sumSquares", "pairwiseEnergy", "pairwiseEnergyBackward", "contrastiveLoss", "tanhGaussianSample", "tanhGaussianBackward"] as const;
export type CompositeKernelName = (typeof COMPOSITE_KERNELS)[number];

/** The composite kernels with every method present: the backend's own, else the TypeScript ones here. */
export type CompositeKernels = { [K in CompositeKernelName]-?: Kernel<K> } & {
  /** Where each kernel runs: the backend's name, or "ts" for this file's implementation. */
  readonly where: Readonly<Record<CompositeKernelName, string>>;
};

/**
 * The composite kernels of `be`: each of its own where it has one (and `own` is true), else the
 * TypeScript implementation above over be.gemm. own = false gives the TypeScript ones throughout
 * (the update as it ran before these kernels moved into the backends; bench -- crl compares).
 */
export function compositeKernels(be: Backend, own = true): CompositeKernels {
  const has = (k: CompositeKernelName) => own && typeof be[k] === "function";
  const where = {} as Record<CompositeKernelName, string>;
  for (const k of COMPOSITE_KERNELS) where[k] = has(k) ? be.name : "ts";
  return {
    where,
    sumSquares: has("sumSquares") ? be.sumSquares!.bind(be) : sumSquaresTs,
    pairwiseEnergy: has("pairwiseEnergy") ? be.pairwiseEnergy!.bind(be) : (fn, phi, psi, B, d, s, logits) => pairwiseEnergyTs(be, fn, phi, psi, B, d, s, logits),
    pairwiseEnergyBackward: has("pairwiseEnergyBackward")
      ? be.pairwiseEnergyBackward!.bind(be)
      : (fn, phi, psi, G, B, d, s, dPhi, dPsi) => pairwiseEnergyBackwardTs(be, fn, phi, psi, G, B, d, s, dPhi, dPsi),
    contrastiveLoss: has("contrastiveLoss") ? be.contrastiveLoss!.bind(be) : contrastiveLossTs,
    tanhGaussianSample: has("tanhGaussianSample") ? be.tanhGaussianSample!.bind(be) : tanhGaussianSampleTs,
    tanhGaussianBackward: has("tanhGaussianBackward") ? be.tanhGaussianBackward!.bind(be) : tanhGaussianBackwardTs,
  };
}
