import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  CONTRASTIVE_LOSSES,
  contrastiveLoss,
  ENERGY_FNS,
  EnergyScratch,
  LossScratch,
  logOneMinusTanhSq,
  logStdFromRaw,
  rowEnergy,
  rowEnergyGradPhi,
  tanhGaussianBackward,
  tanhGaussianSample,
} from "../../src/agents/losses.js";
import { RefBackend } from "../../src/engine/ref/ref.js";
import { keyFromSeed, Rng } from "../../src/random.js";
import { assertGradPhiNearF64, distanceGradPhiF64 } from "../engine/twin.js";
import { centralDifference } from "../nn/f64ref.js";

const be = new RefBackend();

function randn(rng: Rng, n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * scale;
  return a;
}

function close(a: number, b: number, rel: number, abs: number, what: string): void {
  assert.ok(Math.abs(a - b) <= abs + rel * Math.abs(b), `${what}: ${a} vs ${b}`);
}

/** Compares gradients g of `loss` w.r.t. each array p (changed in place and restored) with central differences (h = 1e-3). */
function checkByCentralDifferences(loss: () => number, wrt: [Float32Array, Float32Array, string][], rel: number, abs: number): void {
  const h = 1e-3;
  for (const [p, grad, name] of wrt) {
    const g = Float32Array.from(grad);
    for (let i = 0; i < p.length; i++) close(g[i], centralDifference(loss, p, i, h), rel, abs, `${name}[${i}]`);
  }
}

describe("critic loss against hand-computed values (SPEC §3)", () => {
  // φ, ψ: [3, 2]; values computed independently in Python (math.dist, math.log, math.exp).
  const phi = Float32Array.from([0.5, -1.0, 2.0, 0.25, -0.5, 0.75]);
  const psi = Float32Array.from([0.0, -1.0, 1.5, 1.0, -1.0, 0.0]);
  const B = 3;
  const logits = new Float32Array(9);
  const G = new Float32Array(9);
  be.pairwiseEnergy("norm", phi, psi, B, 2, new EnergyScratch(B, 2), logits);
  test("logits are negative L2 distances", () => {
    close(logits[0], -0.5, 1e-6, 1e-7, "L00");
    close(logits[1], -Math.hypot(1, 2), 1e-6, 1e-7, "L01");
    close(logits[5], -Math.hypot(3, 0.25), 1e-6, 1e-7, "L12");
  });
  test("forward InfoNCE + 0.1·logsumexp² and the reference metrics", () => {
    const s = contrastiveLoss("fwd_infonce", logits, B, 0.1, new LossScratch(B), G);
    close(s.criticLoss, 0.4233392236992947, 1e-6, 0, "critic_loss");
    close(s.logsumexp, -0.3609361145590955, 1e-6, 0, "logsumexp");
    assert.equal(s.categoricalAccuracy, 1);
    close(s.logitsPos, -0.7675918792439983, 1e-6, 0, "logits_pos");
    close(s.logitsNeg, -2.207221575389796, 1e-6, 0, "logits_neg");
    const noPen = contrastiveLoss("fwd_infonce", logits, B, 0, new LossScratch(B), G);
    close(noPen.criticLoss, 0.40665476468490275, 1e-6, 0, "InfoNCE without penalty");
  });
  test("backward InfoNCE", () => {
    const s = contrastiveLoss("bwd_infonce", logits, B, 0.1, new LossScratch(B), G);
    close(s.criticLoss, 0.4303400278232621, 1e-6, 0, "bwd critic_loss");
  });
});

describe("loss gradients against finite differences", () => {
  for (const kind of CONTRASTIVE_LOSSES) {
    test(`${kind}: ∂loss/∂logits`, () => {
      const rng = new Rng(keyFromSeed(7));
      const B = 5;
      const L = randn(rng, B * B, 2);
      const G = new Float32Array(B * B);
      const scratch = new LossScratch(B);
      contrastiveLoss(kind, L, B, 0.1, scratch, G);
      const g0 = Float32Array.from(G);
      const h = 1e-3;
      for (let i = 0; i < B * B; i++) {
        const old = L[i];
        L[i] = old + h;
        const lp = contrastiveLoss(kind, L, B, 0.1, scratch, G).criticLoss;
        L[i] = old - h;
        const lm = contrastiveLoss(kind, L, B, 0.1, scratch, G).criticLoss;
        L[i] = old;
        close(g0[i], (lp - lm) / (2 * h), 1e-3, 2e-5, `${kind} G[${i}]`);
      }
    });
  }
  for (const fn of ENERGY_FNS) {
    test(`${fn} energy: pairwise backward and row energy gradient`, () => {
      const rng = new Rng(keyFromSeed(11));
      const B = 4;
      const d = 3;
      const phi = randn(rng, B * d);
      const psi = randn(rng, B * d);
      const W = randn(rng, B * B); // loss = Σ W ⊙ L
      const s = new EnergyScratch(B, d);
      const L = new Float32Array(B * B);
      const dPhi = new Float32Array(B * d);
      const dPsi = new Float32Array(B * d);
      be.pairwiseEnergy(fn, phi, psi, B, d, s, L);
      be.pairwiseEnergyBackward(fn, phi, psi, W, B, d, s, dPhi, dPsi);
      const loss = () => {
        be.pairwiseEnergy(fn, phi, psi, B, d, s, L);
        let t = 0;
        for (let i = 0; i < B * B; i++) t += W[i] * L[i];
        return t;
      };
      checkByCentralDifferences(
        loss,
        [
          [phi, dPhi, `${fn} dPhi`],
          [psi, dPsi, `${fn} dPsi`],
        ],
        5e-3,
        5e-4,
      );
      // Row energy: ∂/∂φ of Σ_i coef·energy(φ_i, ψ_i).
      const e = new Float64Array(B);
      const coef = -0.7;
      rowEnergyGradPhi(fn, phi, psi, B, d, coef, dPhi);
      rowEnergy(fn, phi, psi, B, d, e);
      be.pairwiseEnergy(fn, phi, psi, B, d, s, L);
      for (let i = 0; i < B; i++) close(e[i], L[i * B + i], 1e-4, 1e-5, `${fn} row energy = diagonal`);
      const rowLoss = () => {
        rowEnergy(fn, phi, psi, B, d, e);
        return coef * e.reduce((a, b) => a + b, 0);
      };
      checkByCentralDifferences(rowLoss, [[phi, dPhi, `${fn} row dPhi`]], 5e-3, 5e-4);
    });
  }
});

/** A tanh-Gaussian backward case from seed (B = 3, A = 4): inputs, upstream gradients dLogp and dA, and sample outputs x, a, lp. */
function tanhGaussianCase(seed: number) {
  const rng = new Rng(keyFromSeed(seed));
  const B = 3;
  const A = 4;
  const mean = randn(rng, B * A, 0.5);
  const raw = randn(rng, B * A, 0.5);
  const eps = randn(rng, B * A);
  const dLogp = Float64Array.from([0.3, -0.2, 0.5]);
  const dA = randn(rng, B * A);
  return { B, A, mean, raw, eps, dLogp, dA, x: new Float32Array(B * A), a: new Float32Array(B * A), lp: new Float64Array(B) };
}

/** ⟨dLogp, log π⟩ + ⟨dA, a⟩ of tanhGaussianSample on (mean, raw, eps) [B, A]: the loss whose gradient tanhGaussianBackward returns. */
function sampleLoss(mean: Float32Array, raw: Float32Array, eps: Float32Array, B: number, A: number, dLogp: Float64Array, dA: Float32Array, logDet?: "exact"): () => number {
  const x = new Float32Array(B * A);
  const a = new Float32Array(B * A);
  const lp = new Float64Array(B);
  return () => {
    tanhGaussianSample(mean, raw, eps, B, A, x, a, lp, logDet);
    let t = 0;
    for (let i = 0; i < B; i++) t += dLogp[i] * lp[i];
    for (let i = 0; i < B * A; i++) t += dA[i] * a[i];
    return t;
  };
}

describe("tanh-Gaussian policy (SPEC §2–3)", () => {
  test("log-std squashing spans [-5, 2]", () => {
    close(logStdFromRaw(0), -1.5, 0, 1e-12, "raw 0");
    close(logStdFromRaw(50), 2, 0, 1e-9, "raw +inf");
    close(logStdFromRaw(-50), -5, 0, 1e-9, "raw -inf");
  });
  test("log-probability matches the change-of-variables formula", () => {
    const mean = Float32Array.from([0.3]);
    const raw = Float32Array.from([-0.2]);
    const eps = Float32Array.from([0.8]);
    const x = new Float32Array(1);
    const a = new Float32Array(1);
    const lp = new Float64Array(1);
    tanhGaussianSample(mean, raw, eps, 1, 1, x, a, lp);
    const ls = -5 + 3.5 * (Math.tanh(-0.2) + 1);
    const xv = 0.3 + Math.exp(ls) * 0.8;
    const want = -0.5 * 0.8 * 0.8 - ls - 0.5 * Math.log(2 * Math.PI) - Math.log(1 - Math.tanh(xv) ** 2 + 1e-6);
    close(lp[0], want, 1e-6, 1e-6, "log π");
    close(a[0], Math.tanh(xv), 1e-6, 1e-7, "a");
  });
  test("backward through sample and log-prob matches finite differences (ε fixed)", () => {
    const { B, A, mean, raw, eps, dLogp, dA, x, a, lp } = tanhGaussianCase(5);
    tanhGaussianSample(mean, raw, eps, B, A, x, a, lp);
    const dMean = new Float32Array(B * A);
    const dRaw = new Float32Array(B * A);
    tanhGaussianBackward(raw, eps, a, dLogp, dA, B, A, dMean, dRaw);
    const loss = sampleLoss(mean, raw, eps, B, A, dLogp, dA);
    checkByCentralDifferences(loss, [
      [mean, dMean, "dMean"],
      [raw, dRaw, "dRaw"],
    ], 1e-2, 1e-3);
  });
});

describe("tanh-Gaussian with the exact tanh log-det", () => {
  test("log(1 − tanh²x) = 2(log 2 − x − softplus(−2x)) for small and saturated x", () => {
    for (const x of [-30, -8, -1, 0, 0.3, 2, 9, 40]) {
      // 1 − tanh²x = 1/cosh²x, computed as −2·log(cosh x) = −2(|x| + log((1 + e^{−2|x|})/2)).
      const want = -2 * (Math.abs(x) + Math.log1p(Math.exp(-2 * Math.abs(x))) - Math.log(2));
      close(logOneMinusTanhSq(x), want, 1e-12, 1e-12, `x = ${x}`);
    }
  });
  test("log-probability and backward match finite differences, also with saturated pre-tanh actions", () => {
    const { B, A, mean, raw, eps, dLogp, dA, x, a, lp } = tanhGaussianCase(6);
    mean[1] = 12; // tanh is ±1 in float32 here: only the exact form keeps a gradient
    mean[6] = -15;
    tanhGaussianSample(mean, raw, eps, B, A, x, a, lp, "exact");
    for (let i = 0; i < B; i++) {
      let want = 0;
      for (let k = 0; k < A; k++) {
        const o = i * A + k;
        const ls = logStdFromRaw(raw[o]);
        const xv = mean[o] + Math.exp(ls) * eps[o];
        want += -0.5 * eps[o] ** 2 - ls - 0.5 * Math.log(2 * Math.PI) + 2 * Math.log(Math.cosh(xv));
      }
      close(lp[i], want, 1e-6, 1e-5, `log π[${i}]`);
    }
    const dMean = new Float32Array(B * A);
    const dRaw = new Float32Array(B * A);
    tanhGaussianBackward(raw, eps, a, dLogp, dA, B, A, dMean, dRaw, "exact", x);
    // The saturated entries: ∂log π/∂μ = 2·tanh(x) ≈ ±2 (the reference form gives ~0 there).
    close(dMean[1], dLogp[0] * 2, 1e-3, 1e-4, "saturated dMean[1]");
    close(dMean[6], -dLogp[1] * 2, 1e-3, 1e-4, "saturated dMean[6]");
    const loss = sampleLoss(mean, raw, eps, B, A, dLogp, dA, "exact");
    checkByCentralDifferences(loss, [
      [mean, dMean, "dMean"],
      [raw, dRaw, "dRaw"],
    ], 1e-2, 2e-3);
    assert.throws(() => tanhGaussianBackward(raw, eps, a, dLogp, dA, B, A, dMean, dRaw, "exact"), /needs the pre-tanh sample/);
  });
});

describe("pairwise distance at large norms (float64 reference)", () => {
  // Deep encoders give ‖φ‖ ≈ 16–64 while positives sit ~0.01 apart: the GEMM form
  // ‖φ‖² + ‖ψ‖² − 2φ·ψ cancels to noise (or exactly 0) there; the direct form must not.
  for (const fn of ["norm", "l2"] as const) {
    test(`${fn}: close pairs of vectors of norm 64 match float64 and give bounded finite gradients`, () => {
      const rng = new Rng(keyFromSeed(23));
      const B = 64;
      const d = 64;
      const centre = randn(rng, d);
      let n = 0;
      for (const v of centre) n += v * v;
      for (let k = 0; k < d; k++) centre[k] *= 64 / Math.sqrt(n);
      const phi = new Float32Array(B * d);
      const psi = new Float32Array(B * d);
      // Half the rows share one large centre (all their pairs are close), the rest are spread.
      for (let i = 0; i < B; i++) {
        const c = i < B / 2 ? 1 : 0;
        for (let k = 0; k < d; k++) {
          phi[i * d + k] = c * centre[k] + (c ? 0.002 : 30) * rng.normal();
          psi[i * d + k] = phi[i * d + k] + (c ? 0.002 : 0.5) * rng.normal();
        }
      }
      const s = new EnergyScratch(B, d);
      const L = new Float32Array(B * B);
      be.pairwiseEnergy(fn, phi, psi, B, d, s, L);
      let worst = 0;
      for (let i = 0; i < B; i++)
        for (let j = 0; j < B; j++) {
          let d2 = 0;
          for (let k = 0; k < d; k++) d2 += (phi[i * d + k] - psi[j * d + k]) ** 2; // float64 of the float32 inputs
          const want = fn === "norm" ? -Math.sqrt(d2) : -d2;
          assert.ok(L[i * B + j] < 0, `${fn} L[${i},${j}] = ${L[i * B + j]}: distinct vectors must not be at distance 0`);
          worst = Math.max(worst, Math.abs(L[i * B + j] - want) / Math.abs(want));
        }
      assert.ok(worst < 1e-4, `${fn}: worst relative error ${worst} (the GEMM form alone is off by ~100 % here)`);
      // Gradient of Σ G ⊙ L: finite, and for each pair bounded by |G_ij| · ‖∂L_ij/∂φ_i‖.
      const G = randn(rng, B * B, 1 / B);
      const dPhi = new Float32Array(B * d);
      const dPsi = new Float32Array(B * d);
      be.pairwiseEnergyBackward(fn, phi, psi, G, B, d, s, dPhi, dPsi);
      assertGradPhiNearF64(fn, dPhi, dPsi, distanceGradPhiF64(fn, phi, psi, G, B, d));
    });
  }
  test("norm: identical φ and ψ rows give distance 0 and a zero, finite gradient", () => {
    const B = 3;
    const d = 4;
    const phi = Float32Array.from([10, 20, 30, 40, 1, 2, 3, 4, -5, 6, -7, 8]);
    const psi = Float32Array.from(phi);
    const s = new EnergyScratch(B, d);
    const L = new Float32Array(B * B);
    be.pairwiseEnergy("norm", phi, psi, B, d, s, L);
    for (let i = 0; i < B; i++) assert.equal(L[i * B + i], -0);
    const G = new Float32Array(B * B).fill(1);
    const dPhi = new Float32Array(B * d);
    const dPsi = new Float32Array(B * d);
    be.pairwiseEnergyBackward("norm", phi, psi, G, B, d, s, dPhi, dPsi);
    for (const v of [...dPhi, ...dPsi]) assert.ok(Number.isFinite(v));
  });
});
