// The oracle checked (DESIGN §7): the ref kernels against float64 re-implementations written
// here from the definitions, and their backward passes against central finite differences of a
// scalar loss L = Σ c ⊙ output in float64. The native backend is only as right as this.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RefBackend } from "../../src/engine/ref/ref.js";
import { keyFromSeed, Rng } from "../../src/random.js";
import { centralDifference } from "../nn/f64ref.js";
import { denseBackwardOverwriteCases } from "./kernel-cases.js";

const ref = new RefBackend();
const EPS = 1e-6; // SPEC §2
const H = 1e-4; // finite-difference step (float64: truncation error ~H², rounding ~1e-16/H)

function randn(rng: Rng, n: number, scale = 1, shift = 0): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = shift + scale * rng.normal();
  return v;
}
/** max_i |a − b| / (|b| + rms(b)). */
function relElem(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ss = 0;
  for (let i = 0; i < b.length; i++) ss += b[i] ** 2;
  const floor = Math.max(Math.sqrt(ss / Math.max(1, b.length)), 1e-30);
  let worst = 0;
  for (let i = 0; i < b.length; i++) {
    const e = Math.abs(a[i] - b[i]) / (Math.abs(b[i]) + floor);
    if (!(e <= worst)) worst = e;
  }
  return worst;
}
function close(name: string, a: ArrayLike<number>, b: ArrayLike<number>, tol: number): void {
  assert.equal(a.length, b.length, `${name}: length`);
  const e = relElem(a, b);
  assert.ok(e <= tol, `${name}: relative error ${e.toExponential(2)} > ${tol}`);
}

// ---- float64 definitions --------------------------------------------------------------------

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const swish = (x: number) => x * sigmoid(x);

/** LayerNorm over each row of x [rows, cols], float64. */
function layerNorm64(x: ArrayLike<number>, g: ArrayLike<number>, b: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const y = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let mu = 0;
    for (let j = 0; j < cols; j++) mu += x[r * cols + j];
    mu /= cols;
    let v = 0;
    for (let j = 0; j < cols; j++) v += (x[r * cols + j] - mu) ** 2;
    v /= cols;
    for (let j = 0; j < cols; j++) y[r * cols + j] = ((x[r * cols + j] - mu) / Math.sqrt(v + EPS)) * g[j] + b[j];
  }
  return y;
}

/** swish(LN(x·W + b)) in float64; also returns z = x·W + b. */
function layer64(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  b: ArrayLike<number>,
  g: ArrayLike<number>,
  be: ArrayLike<number>,
  rows: number,
  inD: number,
  outD: number,
): { z: Float64Array; y: Float64Array } {
  const z = new Float64Array(rows * outD);
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < outD; j++) {
      let s = b[j];
      for (let p = 0; p < inD; p++) s += x[r * inD + p] * w[p * outD + j];
      z[r * outD + j] = s;
    }
  return { z, y: layerNorm64(z, g, be, rows, outD).map(swish) };
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

/** Central differences of loss() with respect to every entry of p (perturbed in place). */
function fd(p: Float64Array, loss: () => number): Float64Array {
  const g = new Float64Array(p.length);
  for (let i = 0; i < p.length; i++) g[i] = centralDifference(loss, p, i, H);
  return g;
}

// ---- tests -------------------------------------------------------------------------------------

describe("ref backend vs float64 definitions and finite differences", () => {
  const rng = new Rng(keyFromSeed(2024));

  test("gemm: a hand-computed 2×3·3×2 product, every transpose, alpha and beta", () => {
    // A = [[1, 2, 3], [4, 5, 6]], B = [[7, 8], [9, 10], [11, 12]]; A·B = [[58, 64], [139, 154]]
    const A = new Float32Array([1, 2, 3, 4, 5, 6]);
    const At = new Float32Array([1, 4, 2, 5, 3, 6]);
    const B = new Float32Array([7, 8, 9, 10, 11, 12]);
    const Bt = new Float32Array([7, 9, 11, 8, 10, 12]);
    for (const [tA, tB] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ]) {
      const c = new Float32Array([1, 1, 1, 1]);
      ref.gemm(tA, tB, 2, 2, 3, 2, tA ? At : A, tB ? Bt : B, -3, c);
      assert.deepEqual([...c], [2 * 58 - 3, 2 * 64 - 3, 2 * 139 - 3, 2 * 154 - 3], `tA=${tA} tB=${tB}`);
    }
    const nan = new Float32Array([Number.NaN, Number.NaN, Number.NaN, Number.NaN]);
    ref.gemm(false, false, 2, 2, 3, 1, A, B, 0, nan);
    assert.deepEqual([...nan], [58, 64, 139, 154], "beta = 0 overwrites NaN");
  });

  test("bias add and bias backward (db = column sums)", () => {
    const x = new Float32Array([1, 2, 3, 4, 5, 6]);
    ref.biasAdd(x, new Float32Array([10, 20, 30]), 2, 3);
    assert.deepEqual([...x], [11, 22, 33, 14, 25, 36]);
    const db = new Float32Array([1, 1, 1]);
    ref.biasBackward(new Float32Array([1, 2, 3, 4, 5, 6]), db, 2, 3);
    assert.deepEqual([...db], [6, 8, 10]);
  });

  test("swish forward = x·σ(x); backward = central differences", () => {
    const n = 41;
    const x = randn(rng, n, 3);
    const y = new Float32Array(n);
    ref.swishForward(x, y, n);
    close("swish", y, Array.from(x, swish), 1e-6);
    const dy = randn(rng, n);
    const dx = new Float32Array(n);
    ref.swishBackward(dy, x, dx, n);
    const want = Array.from(x, (xi, i) => (dy[i] * (swish(xi + H) - swish(xi - H))) / (2 * H));
    close("swish'", dx, want, 1e-6);
  });

  for (const [rows, cols] of [
    [1, 3],
    [4, 7],
    [3, 17],
  ]) {
    test(`layerNorm ${rows}×${cols}: forward vs float64; dx, dγ, dβ vs central differences`, () => {
      const x = randn(rng, rows * cols, 2, 0.5);
      const g = randn(rng, cols, 0.5, 1);
      const b = randn(rng, cols, 0.3);
      const [y, mean, rstd] = [new Float32Array(rows * cols), new Float32Array(rows), new Float32Array(rows)];
      ref.layerNormForward(x, g, b, y, mean, rstd, rows, cols, EPS);
      close("LN forward", y, layerNorm64(x, g, b, rows, cols), 1e-6);

      const c = randn(rng, rows * cols); // L = Σ c ⊙ LN(x)
      const [dx, dg, db] = [new Float32Array(rows * cols), new Float32Array(cols), new Float32Array(cols)];
      ref.layerNormBackward(c, x, mean, rstd, g, dx, dg, db, rows, cols);
      const [x64, g64, b64] = [Float64Array.from(x), Float64Array.from(g), Float64Array.from(b)];
      const loss = () => dot(c, layerNorm64(x64, g64, b64, rows, cols));
      close("LN dx", dx, fd(x64, loss), 1e-6);
      close("LN dgamma", dg, fd(g64, loss), 1e-6);
      close("LN dbeta", db, fd(b64, loss), 1e-6);
    });
  }

  for (const [rows, inD, outD] of [
    [1, 1, 3],
    [3, 4, 5],
    [5, 7, 6],
  ]) {
    test(`fused Dense→LN→Swish ${rows}×${inD}→${outD}: forward vs float64; every gradient vs central differences`, () => {
      const x = randn(rng, rows * inD);
      const w = randn(rng, inD * outD, 1 / Math.sqrt(inD));
      const b = randn(rng, outD, 0.1);
      const g = randn(rng, outD, 0.2, 1);
      const be = randn(rng, outD, 0.2);
      const [z, mean, rstd, y] = [new Float32Array(rows * outD), new Float32Array(rows), new Float32Array(rows), new Float32Array(rows * outD)];
      ref.denseLnSwishForward(x, w, b, g, be, z, mean, rstd, y, rows, inD, outD, EPS);
      const want = layer64(x, w, b, g, be, rows, inD, outD);
      close("fused z", z, want.z, 1e-6);
      close("fused y", y, want.y, 1e-6);

      const c = randn(rng, rows * outD); // L = Σ c ⊙ y
      const dy = Float32Array.from(c);
      const dx = new Float32Array(rows * inD);
      const [dw, db, dg, dbe] = [new Float32Array(inD * outD), new Float32Array(outD), new Float32Array(outD), new Float32Array(outD)];
      ref.denseLnSwishBackward(dy, x, w, g, be, z, mean, rstd, dx, dw, db, dg, dbe, rows, inD, outD);
      const p = [x, w, b, g, be].map((a) => Float64Array.from(a));
      const loss = () => dot(c, layer64(p[0], p[1], p[2], p[3], p[4], rows, inD, outD).y);
      close("fused dx", dx, fd(p[0], loss), 1e-5);
      close("fused dw", dw, fd(p[1], loss), 1e-5);
      close("fused db", db, fd(p[2], loss), 1e-5);
      close("fused dgamma", dg, fd(p[3], loss), 1e-5);
      close("fused dbeta", dbe, fd(p[4], loss), 1e-5);
      // Gradients accumulate (+=) and dx = null skips dx.
      const dw2 = Float32Array.from(dw);
      ref.denseLnSwishBackward(Float32Array.from(c), x, w, g, be, z, mean, rstd, null, dw2, db.slice(), dg.slice(), dbe.slice(), rows, inD, outD);
      close("fused dw accumulates", dw2, Array.from(dw, (v) => 2 * v), 1e-6);
    });
  }

  test("adam: hand-computed steps (t = 1 moves each parameter by lr·sign(g); t = 2 as in optax)", () => {
    const p = new Float32Array([1, -2, 0.5]);
    const g = new Float32Array([0.1, -3, 1e-3]);
    const [m, v] = [new Float32Array(3), new Float32Array(3)];
    const lr = 0.01;
    ref.adamStep(p, g, m, v, 3, lr, 0.9, 0.999, 1e-8, 1);
    close("m after 1", m, [0.01, -0.3, 1e-4], 1e-6);
    close("v after 1", v, [1e-5, 9e-3, 1e-9], 1e-6);
    // m̂ = g, v̂ = g², so p −= lr·g/(|g| + eps)
    close("p after 1", p, [1 - lr / (1 + 1e-7), -2 + lr / (1 + 1e-8 / 3), 0.5 - lr / (1 + 1e-5)], 1e-7);
    const g2 = new Float32Array([0.2, 1, -1e-3]);
    const p1 = Float64Array.from(p);
    const [m1, v1] = [Float64Array.from(m), Float64Array.from(v)];
    ref.adamStep(p, g2, m, v, 3, lr, 0.9, 0.999, 1e-8, 2);
    const want = Array.from(p1, (pi, i) => {
      const mi = 0.9 * m1[i] + 0.1 * g2[i];
      const vi = 0.999 * v1[i] + 0.001 * g2[i] ** 2;
      return pi - (lr * (mi / (1 - 0.81))) / (Math.sqrt(vi / (1 - 0.999 ** 2)) + 1e-8);
    });
    close("p after 2", p, want, 1e-7);
  });

  test("fused backward with overwrite: the gradients bit for bit as accumulated into zeros (NaN buffers not read)", () => {
    denseBackwardOverwriteCases(ref, new Rng(keyFromSeed(11)), [
      [0, 3, 5],
      [1, 3, 17],
      [9, 20, 33],
    ]);
  });

  test("add", () => {
    const out = new Float32Array(3);
    ref.add(new Float32Array([1, 2, 3]), new Float32Array([10, 20, 30]), out, 3);
    assert.deepEqual([...out], [11, 22, 33]);
  });
});
