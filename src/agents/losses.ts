// CRL's contrastive critic, as pure functions over typed arrays (SPEC §3; JaxGCRL
// agents/crl/losses.py). Each function documents the equation it implements. Gradients are
// hand-derived; test/agents/losses.test.ts checks them against finite differences.
import type { Backend } from "../engine/backend.js";

export const ENERGY_FNS = ["norm", "l2", "dot", "cosine"] as const;
export type EnergyFn = (typeof ENERGY_FNS)[number];
export const CONTRASTIVE_LOSSES = ["fwd_infonce", "bwd_infonce", "sym_infonce", "binary_nce"] as const;
export type ContrastiveLoss = (typeof CONTRASTIVE_LOSSES)[number];

/** Below this, a distance is treated as this (the gradient of ‖·‖ is undefined at 0). */
const MIN_DIST = 1e-12;

/** Scratch for the pairwise energy and its backward; sized once for [maxB, maxB] and [maxB, dim]. */
export class EnergyScratch {
  readonly dot: Float32Array; // [B, B] Φ·Ψᵀ (or normalised, for cosine)
  readonly aux: Float32Array; // [B, B] D for norm, unused otherwise
  readonly h: Float32Array; // [B, B] backward weights
  readonly phiNorm: Float64Array; // [B]
  readonly psiNorm: Float64Array; // [B]
  readonly phiHat: Float32Array; // [B, dim] (cosine)
  readonly psiHat: Float32Array; // [B, dim] (cosine)
  /** Flat indices i·B + j of the pairs whose distance was computed directly (norm, l2). */
  readonly exact: Int32Array; // [B·B]
  /** How many entries of `exact` are in use (set by pairwiseEnergy). */
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
    this.phiHat = new Float32Array(maxB * dim);
    this.psiHat = new Float32Array(maxB * dim);
    this.exact = new Int32Array(maxB * maxB);
  }
}

/**
 * A pair's squared distance is taken from the GEMM form ‖Φ_i‖² + ‖Ψ_j‖² − 2Φ_i·Ψ_j only when it is
 * at least this fraction of ‖Φ_i‖² + ‖Ψ_j‖²; below, the float32 cancellation error (≈ 1e-7 ·
 * (‖Φ_i‖² + ‖Ψ_j‖²) · √dim) would exceed ~1e-4 of the result, so the pair is computed directly as
 * Σ_k (Φ_ik − Ψ_jk)². The positives (the diagonal) are always computed directly.
 */
export const GEMM_DIST_MIN_FRACTION = 1e-2;

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
 * of 0.01 rounds to 0 half the time). The directly computed pairs are listed in `s.exact` for the
 * backward.
 */
export function pairwiseEnergy(
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
  be.gemm(false, true, B, B, d, 1, phi, psi, 0, s.dot);
  if (fn === "dot") {
    logits.set(s.dot.subarray(0, B * B));
    return;
  }
  rowNorms(phi, B, d, s.phiNorm, true);
  rowNorms(psi, B, d, s.psiNorm, true);
  let nExact = 0;
  for (let i = 0; i < B; i++) {
    for (let j = 0; j < B; j++) {
      const o = i * B + j;
      const scale = s.phiNorm[i] + s.psiNorm[j];
      let d2 = scale - 2 * s.dot[o];
      if (i === j || d2 < GEMM_DIST_MIN_FRACTION * scale) {
        d2 = directSquaredDistance(phi, psi, i, j, d);
        s.exact[nExact++] = o;
      }
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

/**
 * Backward of pairwiseEnergy: given G = ∂loss/∂L [B, B], writes dPhi, dPsi [B, d] (overwritten).
 * For norm: ∂L_ij/∂Φ_i = −(Φ_i − Ψ_j)/D_ij, so with H_ij = G_ij/D_ij:
 *   dΦ = −(rowsum(H)·Φ − H·Ψ),  dΨ = Hᵀ·Φ − colsum(H)·Ψ.   (l2: H_ij = 2·G_ij.)
 * The pairs pairwiseEnergy computed directly (s.exact: the diagonal and the close pairs) are left
 * out of the GEMM form and added as H_ij·(Ψ_j − Φ_i) with the difference taken directly, so
 * their gradient is G_ij times a unit vector (bounded) instead of a cancellation of large terms.
 * Must follow the pairwiseEnergy call that filled `s` for the same Φ, Ψ.
 */
export function pairwiseEnergyBackward(
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
    const project = (dx: Float32Array, xh: Float32Array, norms: Float64Array) => {
      for (let i = 0; i < B; i++) {
        let p = 0;
        for (let k = 0; k < d; k++) p += dx[i * d + k] * xh[i * d + k];
        const inv = 1 / Math.max(norms[i], MIN_DIST);
        for (let k = 0; k < d; k++) dx[i * d + k] = (dx[i * d + k] - p * xh[i * d + k]) * inv;
      }
    };
    project(dPhi, s.phiHat, s.phiNorm);
    project(dPsi, s.psiHat, s.psiNorm);
    return;
  }
  const H = s.h;
  const weight = (o: number) => (fn === "l2" ? 2 * G[o] : G[o] / Math.max(s.aux[o], MIN_DIST));
  for (let i = 0; i < B * B; i++) H[i] = weight(i);
  for (let e = 0; e < s.exactCount; e++) H[s.exact[e]] = 0;
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
    for (let k = 0; k < d; k++) {
      dPhi[i * d + k] -= r * phi[i * d + k];
      dPsi[i * d + k] -= c * psi[i * d + k];
    }
  }
  // The directly computed pairs: dΦ_i += H_ij (Ψ_j − Φ_i), dΨ_j −= H_ij (Ψ_j − Φ_i).
  for (let e = 0; e < s.exactCount; e++) {
    const o = s.exact[e];
    const i = (o / B) | 0;
    const j = o - i * B;
    const h = weight(o);
    if (h === 0) continue;
    const a = i * d;
    const b = j * d;
    for (let k = 0; k < d; k++) {
      const t = h * (psi[b + k] - phi[a + k]);
      dPhi[a + k] += t;
      dPsi[b + k] -= t;
    }
  }
}

/** energy(φ_i, ψ_i) per row (the actor's critic value).  phi, psi: [B, d] → out [B]. */
export function rowEnergy(fn: EnergyFn, phi: Float32Array, psi: Float32Array, B: number, d: number, out: Float64Array): void {
  for (let i = 0; i < B; i++) {
    let dot = 0;
    let d2 = 0;
    let pp = 0;
    let qq = 0;
    for (let k = 0; k < d; k++) {
      const a = phi[i * d + k];
      const b = psi[i * d + k];
      dot += a * b;
      d2 += (a - b) * (a - b);
      pp += a * a;
      qq += b * b;
    }
    if (fn === "norm") out[i] = -Math.sqrt(d2);
    else if (fn === "l2") out[i] = -d2;
    else if (fn === "dot") out[i] = dot;
    else out[i] = dot / (Math.max(Math.sqrt(pp), MIN_DIST) * Math.max(Math.sqrt(qq), MIN_DIST));
  }
}

/** ∂energy(φ_i, ψ_i)/∂φ_i scaled by coef[i], written into dPhi [B, d]. */
export function rowEnergyGradPhi(fn: EnergyFn, phi: Float32Array, psi: Float32Array, B: number, d: number, coef: number, dPhi: Float32Array): void {
  for (let i = 0; i < B; i++) {
    const o = i * d;
    if (fn === "dot") {
      for (let k = 0; k < d; k++) dPhi[o + k] = coef * psi[o + k];
      continue;
    }
    if (fn === "l2") {
      for (let k = 0; k < d; k++) dPhi[o + k] = -2 * coef * (phi[o + k] - psi[o + k]);
      continue;
    }
    if (fn === "norm") {
      let d2 = 0;
      for (let k = 0; k < d; k++) d2 += (phi[o + k] - psi[o + k]) ** 2;
      const inv = 1 / Math.max(Math.sqrt(d2), MIN_DIST);
      for (let k = 0; k < d; k++) dPhi[o + k] = -coef * (phi[o + k] - psi[o + k]) * inv;
      continue;
    }
    let pp = 0;
    let qq = 0;
    let pq = 0;
    for (let k = 0; k < d; k++) {
      pp += phi[o + k] ** 2;
      qq += psi[o + k] ** 2;
      pq += phi[o + k] * psi[o + k];
    }
    const np = Math.max(Math.sqrt(pp), MIN_DIST);
    const nq = Math.max(Math.sqrt(qq), MIN_DIST);
    const cos = pq / (np * nq);
    for (let k = 0; k < d; k++) dPhi[o + k] = (coef * (psi[o + k] / nq - (cos * phi[o + k]) / np)) / np;
  }
}

export interface CriticLossStats {
  criticLoss: number;
  logsumexp: number;
  categoricalAccuracy: number;
  logitsPos: number;
  logitsNeg: number;
}

/** Scratch for the contrastive loss. */
export class LossScratch {
  readonly lseRow: Float64Array; // [B]
  readonly lseCol: Float64Array; // [B]
  constructor(maxB: number) {
    this.lseRow = new Float64Array(maxB);
    this.lseCol = new Float64Array(maxB);
  }
}

function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/**
 * Critic loss over logits L [B, B] (positives on the diagonal) and its gradient G = ∂loss/∂L:
 *   fwd_infonce: −mean_i(L_ii − lse_j L_ij)              (SPEC §3, the paper's)
 *   bwd_infonce: −mean_j(L_jj − lse_i L_ij)
 *   sym_infonce: −mean_i(2L_ii − lse_j L_ij − lse_j L_ji)
 *   binary_nce:  mean_ij BCE(σ(L_ij), I_ij)   (JaxGCRL's binary NCE with identity labels)
 * plus the penalty c · mean_i(lse_j(L_ij + 1e-6)²)  (c = 0.1 in the paper).
 */
export function contrastiveLoss(
  kind: ContrastiveLoss,
  logits: Float32Array,
  B: number,
  penalty: number,
  s: LossScratch,
  G: Float32Array,
): CriticLossStats {
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
  return {
    criticLoss: loss,
    logsumexp: lseMean,
    categoricalAccuracy: correct / B,
    logitsPos: pos / B,
    logitsNeg: B > 1 ? neg / (B * (B - 1)) : 0,
  };
}

/**
 * The tanh change of variables in log π: "reference" = −log(1 − a² + 1e-6) (the paper's code; its
 * gradient vanishes once |x| ≳ 7 and the term saturates at 13.8), "exact" = −log(1 − tanh²x)
 * computed as −2(log 2 − x − softplus(−2x)) (Brax/TFP's bijector; its gradient 2·tanh(x) never
 * vanishes, so a saturated pre-tanh action is pulled back).
 */
export const TANH_LOG_DETS = ["exact", "reference"] as const;
export type TanhLogDet = (typeof TANH_LOG_DETS)[number];
const LOG2 = Math.log(2);

/** log(1 − tanh²x) = 2(log 2 − x − softplus(−2x)), exact for every x. */
export function logOneMinusTanhSq(x: number): number {
  return 2 * (LOG2 - x - softplus(-2 * x));
}

export const LOG_STD_MIN = -5;
export const LOG_STD_MAX = 2;
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

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
export function tanhGaussianSample(
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
 */
export function tanhGaussianBackward(
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
