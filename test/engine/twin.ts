// What the tests of a backend against its ref twin share (native.test.ts, webgpu.test.ts, and in
// part bf16.test.ts and webgpu-browser.test.ts): inputs as subarray views with a non-zero
// byteOffset and guard values around them, so that any out-of-bounds write is caught, and the
// error measures with which an output is compared to the ref backend's.
import assert from "node:assert/strict";
import { RefBackend } from "../../src/engine/ref/ref.js";
import type { Rng } from "../../src/random.js";

const ref = new RefBackend();

export const GUARD = 12345.5;
const PAD = 5;

/** A view of n floats at a non-zero byteOffset inside a larger buffer whose ends hold GUARD. */
export function view(n: number, offset = 3): Float32Array {
  const buf = new Float32Array(offset + n + PAD).fill(GUARD);
  return buf.subarray(offset, offset + n);
}

/** Whether everything around the view v in its buffer still holds GUARD. */
export function guardsIntact(v: Float32Array): boolean {
  const whole = new Float32Array(v.buffer);
  const start = v.byteOffset / 4;
  for (let i = 0; i < whole.length; i++) {
    if ((i < start || i >= start + v.length) && whole[i] !== GUARD) return false;
  }
  return true;
}

/** A view (see view) of n values shift + scale · N(0, 1) from rng. */
export function randn(rng: Rng, n: number, scale = 1, shift = 0, offset = 3): Float32Array {
  const v = view(n, offset);
  for (let i = 0; i < n; i++) v[i] = shift + scale * rng.normal();
  return v;
}

/** The first index where a and b differ bit for bit (NaN payloads and ±0 included), or −1 if none. */
export function firstBitDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  const [p, q] = [new Uint32Array(a.buffer, a.byteOffset, a.length), new Uint32Array(b.buffer, b.byteOffset, b.length)];
  for (let i = 0; i < p.length; i++) if (p[i] !== q[i]) return i;
  return -1;
}

/** A copy of v in a view at another offset. */
export function copy(v: Float32Array): Float32Array {
  const c = view(v.length, (v.byteOffset / 4) % 7 || 1);
  c.set(v);
  return c;
}

export function rms(v: Float32Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] ** 2;
  return Math.sqrt(s / Math.max(1, v.length));
}

export function maxAbs(v: Float32Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s = Math.max(s, Math.abs(v[i]));
  return s;
}

/** ‖|op(A)|·|op(B)|‖, the magnitude scale of a product's rounding errors (see relNorm). */
export function absProductNorm(transA: boolean, transB: boolean, m: number, n: number, k: number, a: Float32Array, b: Float32Array): number {
  const c = new Float32Array(m * n);
  ref.gemm(transA, transB, m, n, k, 1, a.map(Math.abs), b.map(Math.abs), 0, c);
  return Math.sqrt(c.reduce((s, v) => s + v * v, 0));
}

/**
 * ‖a − b‖ / max(‖b‖, floorNorm) (norm-wise relative error, for GEMM-like outputs). floorNorm,
 * when given, is ‖|A|·|B|‖: the scale float32 rounding errors of a product are bounded by, which
 * matters when the exact result cancels (e.g. dz·Wᵀ where each row of dz sums to 0).
 */
export function relNorm(a: Float32Array | Float64Array, b: Float32Array | Float64Array, floorNorm = 0): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  const d = Math.max(Math.sqrt(den), floorNorm);
  return d === 0 ? Math.sqrt(num) : Math.sqrt(num) / d;
}

/**
 * max_i |a − b| / (|b| + floor), floor = max(rms(b), absFloor): per-element relative error with
 * the output's RMS as floor. absFloor is the scale of the terms that cancel in an output that is
 * exactly 0 in exact arithmetic (e.g. a LayerNorm gradient over one column).
 */
export function relElem(a: Float32Array, b: Float32Array, absFloor = 0): number {
  const floor = Math.max(rms(b), absFloor, 1e-30);
  let worst = 0;
  for (let i = 0; i < b.length; i++) {
    const e = Math.abs(a[i] - b[i]) / (Math.abs(b[i]) + floor);
    if (!(e <= worst)) worst = e; // NaN propagates as a failure
  }
  return worst;
}

/** Largest error close() has seen per kernel family (the first word of its name), for the record. */
export const worstErrors = new Map<string, number>();

/** Asserts that a is within tol of b (relNorm or relElem) and that a's guards are intact. */
export function close(name: string, a: Float32Array, b: Float32Array, how: "norm" | "elem", tol = 1e-5, absFloor = 0): void {
  assert.equal(a.length, b.length);
  const e = how === "norm" ? relNorm(a, b, absFloor) : relElem(a, b, absFloor);
  const family = name.split(" ")[0];
  worstErrors.set(family, Math.max(worstErrors.get(family) ?? 0, e));
  assert.ok(e <= tol, `${name}: relative error ${e.toExponential(2)} > ${tol}`);
  assert.ok(guardsIntact(a), `${name}: wrote outside its view`);
}

/**
 * ∂/∂Φ of Σ_ij G_ij · L_ij in float64 for the distance energies (L_ij = −‖φ_i − ψ_j‖ for "norm",
 * −‖φ_i − ψ_j‖² for "l2"), from the float32 inputs Φ, Ψ [B, d] and G [B, B].
 */
export function distanceGradPhiF64(fn: "norm" | "l2", phi: Float32Array, psi: Float32Array, G: Float32Array, B: number, d: number): Float64Array {
  const refPhi = new Float64Array(B * d);
  for (let i = 0; i < B; i++)
    for (let j = 0; j < B; j++) {
      let d2 = 0;
      for (let k = 0; k < d; k++) d2 += (phi[i * d + k] - psi[j * d + k]) ** 2;
      const h = fn === "norm" ? G[i * B + j] / Math.sqrt(d2) : 2 * G[i * B + j];
      for (let k = 0; k < d; k++) refPhi[i * d + k] += h * (psi[j * d + k] - phi[i * d + k]);
    }
  return refPhi;
}

/** Asserts that dPhi and dPsi are finite and dPhi is within 1e-3 · max |refPhi| of the float64 refPhi, element by element. */
export function assertGradPhiNearF64(name: string, dPhi: Float32Array, dPsi: Float32Array, refPhi: Float64Array): void {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < dPhi.length; i++) {
    assert.ok(Number.isFinite(dPhi[i]) && Number.isFinite(dPsi[i]), "gradient must be finite");
    err = Math.max(err, Math.abs(dPhi[i] - refPhi[i]));
    scale = Math.max(scale, Math.abs(refPhi[i]));
  }
  assert.ok(err <= 1e-3 * scale, `${name}: dΦ max error ${err.toExponential(2)} against float64 (max |dΦ| ${scale.toExponential(2)})`);
}
