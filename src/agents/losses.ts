// CRL's contrastive critic and tanh-Gaussian actor, as pure functions over typed arrays (SPEC §3;
// JaxGCRL agents/crl/losses.py). Each function documents the equation it implements. Gradients are
// hand-derived; test/agents/losses.test.ts checks them against finite differences.
//
// The B × B block (pairwise energy, the contrastive loss and its logsumexps, their backward) and
// the tanh-Gaussian are engine kernels (engine/composite.ts, with native versions in the native
// backend); this file re-exports their names for the agent and its tests. The update calls them
// through compositeKernels(backend). What stays here is per row (B × d): the actor's critic value.
import { type EnergyFn, MIN_DIST } from "../engine/composite.js";

export {
  CONTRASTIVE_LOSSES,
  type ContrastiveLoss,
  type CriticLossStats,
  contrastiveLossTs as contrastiveLoss,
  ENERGY_FNS,
  type EnergyFn,
  EnergyScratch,
  GEMM_DIST_MIN_FRACTION,
  LOG_STD_MAX,
  LOG_STD_MIN,
  LossScratch,
  logOneMinusTanhSq,
  logStdFromRaw,
  TANH_LOG_DETS,
  type TanhLogDet,
  tanhGaussianBackwardTs as tanhGaussianBackward,
  tanhGaussianSampleTs as tanhGaussianSample,
} from "../engine/composite.js";

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
