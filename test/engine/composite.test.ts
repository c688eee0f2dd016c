// Composite kernels (DESIGN §3: gradient norm, the contrastive B × B block, the tanh-Gaussian):
// the native ones against their TypeScript reference twins (engine/composite.ts, what RefBackend
// runs), for every kernel build this CPU runs and 1–3 threads; against float64 computed here;
// bitwise reproducible for any thread count; and the shared implementation that a backend
// without them gets (compositeKernels).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Backend } from "../../src/engine/backend.js";
import {
  CONTRASTIVE_LOSSES,
  compositeKernels,
  ENERGY_FNS,
  type EnergyFn,
  EnergyScratch,
  LossScratch,
  TANH_LOG_DETS,
} from "../../src/engine/composite.js";
import { loadNativeBackend } from "../../src/engine/native/native.js";
import { RefBackend } from "../../src/engine/ref/ref.js";
import { keyFromSeed, Rng } from "../../src/random.js";
import { loadNativeForTests, NATIVE_CONFIGS, nativeTest } from "./native-configs.js";
import { assertGradPhiNearF64, distanceGradPhiF64 } from "./twin.js";

const ref = new RefBackend();
const { skip } = loadNativeForTests();

function randn(rng: Rng, n: number, scale = 1): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = scale * rng.normal();
  return v;
}
/** ‖a − b‖ / max(‖b‖, floor): norm-wise relative error. */
function relNorm(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-30): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), floor);
}
function near(what: string, a: number, b: number, rel: number): void {
  assert.ok(Math.abs(a - b) <= rel * Math.max(Math.abs(b), 1e-300), `${what}: ${a} vs ${b} (relative ${(Math.abs(a - b) / Math.abs(b)).toExponential(2)} > ${rel})`);
}

/**
 * Φ, Ψ [B, d] with the cases the exact-distance path exists for: a third of the rows share a
 * large centre (‖·‖ ≈ 64, pairs 0.01 apart), the rest spread, and Ψ_i near Φ_i.
 */
function representations(rng: Rng, B: number, d: number): { phi: Float32Array; psi: Float32Array } {
  const centre = randn(rng, d);
  let n = 0;
  for (const v of centre) n += v * v;
  for (let k = 0; k < d; k++) centre[k] *= 64 / Math.sqrt(n || 1);
  const phi = new Float32Array(B * d);
  const psi = new Float32Array(B * d);
  for (let i = 0; i < B; i++) {
    const close = i % 3 === 0 ? 1 : 0;
    for (let k = 0; k < d; k++) {
      phi[i * d + k] = close * centre[k] + (close ? 0.005 : 3) * rng.normal();
      psi[i * d + k] = phi[i * d + k] + (close ? 0.005 : 1) * rng.normal();
    }
  }
  return { phi, psi };
}

for (const cfg of NATIVE_CONFIGS) {
  describe(`native composite kernels vs their twins (${cfg.simd}, ${cfg.threads} threads)`, { skip }, () => {
    const rng = new Rng(keyFromSeed(7 + cfg.threads! * 13 + cfg.simd!.length));
    const maybe = nativeTest(cfg, (b) => {
      for (const k of ["sumSquares", "pairwiseEnergy", "pairwiseEnergyBackward", "contrastiveLoss", "tanhGaussianSample", "tanhGaussianBackward"] as const) {
        assert.equal(typeof b[k], "function", `the addon has no ${k}: rebuild it (npm run build:native)`);
      }
    });

    maybe("sumSquares: float64 accuracy on every size; NaN and Infinity propagate", (b) => {
      for (const n of [0, 1, 17, 4096, 4097, 3 * 4096 + 5, 100_003]) {
        const x = randn(rng, n, 3);
        let want = 0;
        for (let i = 0; i < n; i++) want += x[i] * x[i];
        const got = b.sumSquares!(x, n);
        if (n === 0) assert.equal(got, 0);
        else near(`sumSquares n=${n}`, got, want, 1e-13);
        // a prefix only: n counts, not the array's length
        if (n > 2) near(`sumSquares prefix n=${n}`, b.sumSquares!(x, n - 1), want - x[n - 1] * x[n - 1], 1e-12);
      }
      const big = new Float32Array(50_000).fill(3e38); // squares overflow float32, not float64
      near("sumSquares of 3e38s", b.sumSquares!(big, big.length), 50_000 * 3e38 ** 2 * (Math.fround(3e38) / 3e38) ** 2, 1e-12);
      for (const [bad, want] of [
        [Number.NaN, Number.NaN],
        [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY],
        [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY],
      ]) {
        for (const at of [0, 4095, 77_777]) {
          const x = randn(rng, 80_000);
          x[at] = bad;
          assert.ok(Object.is(b.sumSquares!(x, x.length), want), `sumSquares with ${bad} at ${at}`);
        }
      }
    });

    maybe("pairwiseEnergy and its backward: every energy, odd sizes, close pairs of large vectors", (b) => {
      for (const [B, d] of [
        [1, 1],
        [2, 3],
        [17, 13],
        [67, 64],
        [256, 64],
      ]) {
        const { phi, psi } = representations(rng, B, d);
        for (const fn of ENERGY_FNS) {
          const [sn, sr] = [new EnergyScratch(B, d), new EnergyScratch(B, d)];
          const [Ln, Lr] = [new Float32Array(B * B), new Float32Array(B * B)];
          b.pairwiseEnergy!(fn, phi, psi, B, d, sn, Ln);
          ref.pairwiseEnergy(fn, phi, psi, B, d, sr, Lr);
          const s = `${fn} B=${B} d=${d}`;
          // dot and l2 logits of the spread rows are GEMM results (float32 rounding of large terms)
          assert.ok(relNorm(Ln, Lr) <= (fn === "norm" || fn === "cosine" ? 1e-6 : 1e-5), `${s} logits: ${relNorm(Ln, Lr).toExponential(2)}`);
          if (fn === "norm" || fn === "l2") {
            // the exact path: same pairs (up to a pair within rounding of the threshold), always the diagonal
            assert.ok(Math.abs(sn.exactCount - sr.exactCount) <= 1, `${s}: ${sn.exactCount} vs ${sr.exactCount} direct pairs`);
            for (let i = 0; i < B; i++) assert.equal(sn.exact[i * B + i], 1, `${s}: diagonal ${i} not computed directly`);
          }
          const G = randn(rng, B * B, 1 / B);
          const [pn, qn, pr, qr] = [new Float32Array(B * d), new Float32Array(B * d), new Float32Array(B * d), new Float32Array(B * d)];
          b.pairwiseEnergyBackward!(fn, phi, psi, G, B, d, sn, pn, qn);
          ref.pairwiseEnergyBackward(fn, phi, psi, G, B, d, sr, pr, qr);
          // dΦ = H·Ψ − rowsum(H)·Φ cancels for large Φ: floor at the size of those terms
          const tol = fn === "dot" || fn === "cosine" ? 1e-5 : 2e-4;
          assert.ok(relNorm(pn, pr) <= tol, `${s} dPhi: ${relNorm(pn, pr).toExponential(2)}`);
          assert.ok(relNorm(qn, qr) <= tol, `${s} dPsi: ${relNorm(qn, qr).toExponential(2)}`);
        }
      }
    });

    maybe("pairwiseEnergy (norm) matches float64 at large norms and gives a bounded gradient", (b) => {
      const B = 96;
      const d = 64;
      const { phi, psi } = representations(rng, B, d);
      const s = new EnergyScratch(B, d);
      const L = new Float32Array(B * B);
      b.pairwiseEnergy!("norm", phi, psi, B, d, s, L);
      const G = randn(rng, B * B, 1 / B);
      const dPhi = new Float32Array(B * d);
      const dPsi = new Float32Array(B * d);
      b.pairwiseEnergyBackward!("norm", phi, psi, G, B, d, s, dPhi, dPsi);
      let worst = 0;
      for (let i = 0; i < B; i++)
        for (let j = 0; j < B; j++) {
          let d2 = 0;
          for (let k = 0; k < d; k++) d2 += (phi[i * d + k] - psi[j * d + k]) ** 2;
          const D = Math.sqrt(d2);
          worst = Math.max(worst, Math.abs(-L[i * B + j] - D) / D);
        }
      assert.ok(worst < 1e-4, `distance: worst relative error ${worst.toExponential(2)} against float64`);
      assertGradPhiNearF64("norm", dPhi, dPsi, distanceGradPhiF64("norm", phi, psi, G, B, d));
    });

    maybe("contrastiveLoss: every kind, with and without the penalty, odd sizes", (b) => {
      for (const B of [1, 2, 17, 67, 256]) {
        for (const kind of CONTRASTIVE_LOSSES) {
          for (const penalty of [0, 0.1]) {
            if (B === 1 && kind !== "fwd_infonce") continue;
            const L = randn(rng, B * B, 3);
            for (let i = 0; i < B; i++) L[i * B + i] += 2; // some positives win
            const [Gn, Gr] = [new Float32Array(B * B), new Float32Array(B * B)];
            const [sn, sr] = [new LossScratch(B), new LossScratch(B)];
            const a = { ...b.contrastiveLoss!(kind, L, B, penalty, sn, Gn) };
            const r = ref.contrastiveLoss(kind, L, B, penalty, sr, Gr);
            const s = `${kind} B=${B} c=${penalty}`;
            near(`${s} loss`, a.criticLoss, r.criticLoss, 1e-6);
            near(`${s} logsumexp`, a.logsumexp, r.logsumexp, 1e-6);
            assert.equal(a.categoricalAccuracy, r.categoricalAccuracy, `${s} accuracy`);
            near(`${s} logits_pos`, a.logitsPos, r.logitsPos, 1e-12);
            if (B > 1) near(`${s} logits_neg`, a.logitsNeg, r.logitsNeg, 1e-9);
            assert.ok(relNorm(Gn, Gr) <= 1e-6, `${s} G: ${relNorm(Gn, Gr).toExponential(2)}`);
            assert.ok(relNorm(sn.lseRow.subarray(0, B), sr.lseRow.subarray(0, B)) <= 1e-7, `${s} lse rows`);
          }
        }
      }
    });

    maybe("contrastiveLoss: a NaN logit makes the loss NaN", (b) => {
      const B = 33;
      const L = randn(rng, B * B);
      L[5 * B + 7] = Number.NaN;
      for (const kind of CONTRASTIVE_LOSSES) {
        assert.ok(Number.isNaN(b.contrastiveLoss!(kind, L, B, 0.1, new LossScratch(B), new Float32Array(B * B)).criticLoss), kind);
      }
    });

    maybe("tanhGaussianSample and Backward: both log-dets, saturated pre-tanh actions", (b) => {
      for (const [B, A] of [
        [1, 1],
        [3, 7],
        [256, 8],
        [300, 17],
      ]) {
        const mean = randn(rng, B * A, 2);
        mean[0] = 12; // tanh is ±1 in float32
        if (B * A > 3) mean[2] = -15;
        const raw = randn(rng, B * A, 2);
        raw[B * A - 1] = 30; // log σ at its bound
        const eps = randn(rng, B * A);
        const dA = randn(rng, B * A);
        const dLogp = Float64Array.from({ length: B }, () => rng.normal());
        for (const logDet of TANH_LOG_DETS) {
          const outs = () => [new Float32Array(B * A), new Float32Array(B * A), new Float64Array(B)] as const;
          const [xn, an, ln] = outs();
          const [xr, ar, lr] = outs();
          b.tanhGaussianSample!(mean, raw, eps, B, A, xn, an, ln, logDet);
          ref.tanhGaussianSample(mean, raw, eps, B, A, xr, ar, lr, logDet);
          const s = `${logDet} B=${B} A=${A}`;
          assert.ok(relNorm(xn, xr) <= 1e-7, `${s} x`);
          assert.ok(relNorm(an, ar) <= 1e-7, `${s} a`);
          // float64 throughout; libm's tanh and V8's may differ in the last bit, which 1 − a² amplifies at saturation
          assert.ok(relNorm(ln, lr) <= 1e-9, `${s} log π: ${relNorm(ln, lr).toExponential(2)}`);
          const [mn, rn, mr, rr] = [new Float32Array(B * A), new Float32Array(B * A), new Float32Array(B * A), new Float32Array(B * A)];
          b.tanhGaussianBackward!(raw, eps, ar, dLogp, dA, B, A, mn, rn, logDet, xr);
          ref.tanhGaussianBackward(raw, eps, ar, dLogp, dA, B, A, mr, rr, logDet, xr);
          assert.ok(relNorm(mn, mr) <= 1e-7, `${s} dMean: ${relNorm(mn, mr).toExponential(2)}`);
          assert.ok(relNorm(rn, rr) <= 1e-7, `${s} dRaw: ${relNorm(rn, rr).toExponential(2)}`);
        }
      }
    });
  });
}

describe("native composite kernels are bitwise identical for every thread count", { skip }, () => {
  test("sumSquares, pairwise energy and backward (norm, cosine), contrastive loss (fwd, sym), tanh-Gaussian", () => {
    const rng = new Rng(keyFromSeed(31));
    const B = 200;
    const d = 40;
    const A = 11;
    const { phi, psi } = representations(rng, B, d);
    const G0 = randn(rng, B * B, 1 / B);
    const big = randn(rng, 300_001);
    const [mean, raw, eps, dA] = [randn(rng, B * A), randn(rng, B * A), randn(rng, B * A), randn(rng, B * A)];
    const dLogp = Float64Array.from({ length: B }, () => rng.normal());
    const run = (threads: number): ArrayLike<number>[] => {
      const r = loadNativeBackend({ threads });
      assert.ok("backend" in r);
      const b = r.backend;
      const out: ArrayLike<number>[] = [[b.sumSquares!(big, big.length)]];
      for (const fn of ["norm", "cosine"] as EnergyFn[]) {
        const s = new EnergyScratch(B, d);
        const L = new Float32Array(B * B);
        b.pairwiseEnergy!(fn, phi, psi, B, d, s, L);
        const [p, q] = [new Float32Array(B * d), new Float32Array(B * d)];
        b.pairwiseEnergyBackward!(fn, phi, psi, G0, B, d, s, p, q);
        out.push(L, p, q);
        for (const kind of ["fwd_infonce", "sym_infonce"] as const) {
          const G = new Float32Array(B * B);
          const st = b.contrastiveLoss!(kind, L, B, 0.1, new LossScratch(B), G);
          out.push(G, [st.criticLoss, st.logsumexp, st.logitsNeg]);
        }
      }
      const [x, a, lp, dm, dr] = [new Float32Array(B * A), new Float32Array(B * A), new Float64Array(B), new Float32Array(B * A), new Float32Array(B * A)];
      b.tanhGaussianSample!(mean, raw, eps, B, A, x, a, lp, "exact");
      b.tanhGaussianBackward!(raw, eps, a, dLogp, dA, B, A, dm, dr, "exact", x);
      out.push(x, a, lp, dm, dr);
      return out;
    };
    const base = run(1);
    const spin = process.env.FATHOM_SPIN_US;
    try {
      for (const [threads, spinUs] of [
        [2, undefined],
        [3, undefined],
        [3, "0"], // workers that sleep at once often miss a job's first barrier and skip it
      ] as const) {
        if (spinUs === undefined) delete process.env.FATHOM_SPIN_US;
        else process.env.FATHOM_SPIN_US = spinUs;
        loadNativeBackend({ threads: 1 }); // the pool reads FATHOM_SPIN_US when it (re)starts
        for (let rep = 0; rep < 3; rep++) {
          const other = run(threads);
          for (let i = 0; i < base.length; i++) assert.deepEqual(Array.from(other[i]), Array.from(base[i]), `output #${i} differs with ${threads} threads`);
        }
      }
    } finally {
      if (spin === undefined) delete process.env.FATHOM_SPIN_US;
      else process.env.FATHOM_SPIN_US = spin;
      loadNativeBackend({ threads: 1 });
    }
  });
});

describe("native composite kernels check their arguments", { skip }, () => {
  test("wrong array types, short arrays and unknown codes throw errors naming the argument", () => {
    const r = loadNativeBackend();
    assert.ok("backend" in r);
    const b = r.backend;
    const B = 4;
    const d = 3;
    const s = new EnergyScratch(B, d);
    const f = new Float32Array(B * d);
    assert.throws(() => b.pairwiseEnergy!("norm", f, f.subarray(1), B, d, s, new Float32Array(B * B)), /pairwiseEnergy: psi has 11 elements|psi has 11 floats but needs 12/);
    assert.throws(() => b.pairwiseEnergy!("norm", f, f, B, d, s, new Float32Array(B * B - 1)), /pairwiseEnergy: logits has 15 floats but needs 16/);
    assert.throws(() => b.pairwiseEnergy!("bogus" as EnergyFn, f, f, B, d, s, new Float32Array(B * B)), /pairwiseEnergy: fn = .* is not allowed|fn must be a number/);
    assert.throws(() => b.sumSquares!(f, 13), { name: "RangeError", message: /sumSquares: x has 12 floats but needs 13/ });
    const ls = new LossScratch(2);
    assert.throws(() => b.contrastiveLoss!("fwd_infonce", new Float32Array(16), B, 0.1, ls, new Float32Array(16)), /contrastiveLoss: lseRow has 2 elements but needs 4/);
    assert.throws(
      () => b.tanhGaussianSample!(f, f, f, B, d, f, f, new Float32Array(B) as unknown as Float64Array, "exact"),
      { name: "TypeError", message: /tanhGaussianSample: logp must be a Float64Array/ },
    );
  });
});

describe("compositeKernels: a backend without them gets the shared TypeScript ones", () => {
  /** A backend with only the required kernels (as one written before the composite kernels existed). */
  function coreOnly(be: Backend): Backend {
    return {
      name: "core-only",
      threads: 1,
      describe: () => "core-only",
      bf16Unavailable: () => null,
      gemm: be.gemm.bind(be),
      biasAdd: be.biasAdd.bind(be),
      biasBackward: be.biasBackward.bind(be),
      layerNormForward: be.layerNormForward.bind(be),
      layerNormBackward: be.layerNormBackward.bind(be),
      swishForward: be.swishForward.bind(be),
      swishBackward: be.swishBackward.bind(be),
      denseLnSwishForward: be.denseLnSwishForward.bind(be),
      denseLnSwishBackward: be.denseLnSwishBackward.bind(be),
      adamStep: be.adamStep.bind(be),
      add: be.add.bind(be),
    };
  }
  test("every kernel is present, runs in TypeScript, and equals the ref backend's", () => {
    const k = compositeKernels(coreOnly(ref));
    for (const w of Object.values(k.where)) assert.equal(w, "ts");
    assert.deepEqual(Object.values(compositeKernels(ref).where), Array(6).fill("ref"));
    assert.deepEqual(Object.values(compositeKernels(ref, false).where), Array(6).fill("ts"));
    const rng = new Rng(keyFromSeed(3));
    const B = 9;
    const d = 5;
    const { phi, psi } = representations(rng, B, d);
    const [L1, L2] = [new Float32Array(B * B), new Float32Array(B * B)];
    const [s1, s2] = [new EnergyScratch(B, d), new EnergyScratch(B, d)];
    k.pairwiseEnergy("norm", phi, psi, B, d, s1, L1);
    ref.pairwiseEnergy("norm", phi, psi, B, d, s2, L2);
    assert.deepEqual(L1, L2);
    const [G1, G2] = [new Float32Array(B * B), new Float32Array(B * B)];
    const a = { ...k.contrastiveLoss("fwd_infonce", L1, B, 0.1, new LossScratch(B), G1) };
    assert.deepEqual(a, { ...ref.contrastiveLoss("fwd_infonce", L2, B, 0.1, new LossScratch(B), G2) });
    const [p1, q1, p2, q2] = [new Float32Array(B * d), new Float32Array(B * d), new Float32Array(B * d), new Float32Array(B * d)];
    k.pairwiseEnergyBackward("norm", phi, psi, G1, B, d, s1, p1, q1);
    ref.pairwiseEnergyBackward("norm", phi, psi, G2, B, d, s2, p2, q2);
    assert.deepEqual([p1, q1], [p2, q2]);
    assert.equal(k.sumSquares(phi, phi.length), ref.sumSquares(phi, phi.length));
  });
});
