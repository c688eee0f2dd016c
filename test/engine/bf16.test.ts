// GEMMs with bf16 operands and fp32 accumulation (native/gemm_bf16.h, AVX512_BF16) against two
// oracles computed here in float64:
//   emu   Σ_p bf16(a_p)·bf16(b_p): the exact result of the operands the kernel multiplies
//         (roundToBf16 = the ref backend's emulation). The kernel may differ from it only by its
//         float32 accumulation: worst case (Higham's γ_n) |err| ≤ (K + 8)·2^-24·(|α|·Σ|â_p·b̂_p| + |β·c|)
//         (K roundings of the running sums, a few more across the k blocks of 512 and for α, β).
//         A dropped product or a wrong layout is ≈ 1/K of Σ|â·b̂| or more: far outside.
//   exact Σ_p a_p·b_p with the float32 inputs: the bound bf16's 8-bit significand allows. Each
//         operand is rounded to nearest with relative error δ, |δ| ≤ u = 2^-8, mean 0,
//         E δ² ≤ u²/3, so a product's error a·b·(δa + δb + δa·δb) has variance ≤ (a·b)²·2u²/3·(1 + u)
//         and the K independent ones sum to a standard deviation σ ≤ 0.82·u·sqrt(Σ_p (a_p·b_p)²)
//         (≤ 0.82·u·sqrt(K)·max|a|·max|b|). The test allows 6·u·sqrt(Σ (a·b)²) ≈ 7σ per element,
//         plus the float32 term above. For K ≤ 9 this is also above the worst case 2u·Σ|a·b|.
//         A dropped last product (|a_K·b_K|, ≈ rms(a·b)) exceeds it for typical elements whenever
//         6u·sqrt(K) < 1, i.e. K < 1800; the largest K here is 1101. The test checks that it
//         would: corrupted results (tail dropped, a wrong layout) are fed to the same checks.
// Sizes are odd (1, 7, 17, 33, 129, 257; k up to 1101 = three k blocks with an odd tail), every
// transpose, overwrite and accumulate, 1 and 2 threads (results must be bitwise the same), and
// outputs are views with guard values around them. Skipped, loudly, where the CPU has no
// AVX512_BF16; the fallback tests at the end run everywhere.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, describe, test } from "node:test";
import type { Backend } from "../../src/engine/backend.js";
import { resolvePrecision } from "../../src/engine/index.js";
import { loadNativeBackend, peakGflops } from "../../src/engine/native/native.js";
import { bf16Bits, RefBackend, roundToBf16 } from "../../src/engine/ref/ref.js";
import { keyFromSeed, Rng } from "../../src/random.js";
import { firstBitDifference, guardsIntact, view } from "./twin.js";

const U = 2 ** -8; // bf16 unit roundoff (8 significant bits)
const U32 = 2 ** -24; // float32's

const probe = loadNativeBackend({ simd: "auto" });
const why = "error" in probe ? `the native addon is not available (${probe.error})` : probe.backend.bf16Unavailable();
const skip = why === null ? false : `no bf16 GEMMs here: ${why}`;
if (skip) console.error(`\n*** SKIPPED: the bf16 kernel tests (${skip}) ***\n`);

after(() => {
  if (!("error" in probe)) loadNativeBackend(); // back to the environment's configuration
});

function randn(rng: Rng, n: number, scale = 1, offset = 3): Float32Array {
  const v = view(n, offset);
  for (let i = 0; i < n; i++) v[i] = scale * rng.normal();
  return v;
}
function copy(v: Float32Array): Float32Array {
  const c = view(v.length, 2);
  c.set(v);
  return c;
}
const bitwiseEqual = (a: Float32Array, b: Float32Array): boolean => firstBitDifference(a, b) < 0;

/** Per output element, in float64: the exact product, its bf16 emulation and the sums the bounds need. */
interface Oracle {
  exact: Float64Array; // [m, n] Σ a·b
  emu: Float64Array; // [m, n] Σ bf16(a)·bf16(b)
  emuNoTail: Float64Array; // [m, n] emu without the last product (a kernel that drops the k tail)
  abs: Float64Array; // [m, n] Σ |bf16(a)·bf16(b)|
  sq: Float64Array; // [m, n] Σ (a·b)²
}
function oracle(tA: boolean, tB: boolean, m: number, n: number, k: number, a: Float32Array, b: Float32Array): Oracle {
  const qa = a.map(roundToBf16);
  const qb = b.map(roundToBf16);
  const o: Oracle = { exact: new Float64Array(m * n), emu: new Float64Array(m * n), emuNoTail: new Float64Array(m * n), abs: new Float64Array(m * n), sq: new Float64Array(m * n) };
  const ai = (i: number, p: number) => (tA ? p * m + i : i * k + p); // A: [k, m] | [m, k]
  const bi = (p: number, j: number) => (tB ? j * k + p : p * n + j); // B: [n, k] | [k, n]
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let ex = 0;
      let em = 0;
      let ab = 0;
      let sq = 0;
      let last = 0;
      for (let p = 0; p < k; p++) {
        const x = a[ai(i, p)] * b[bi(p, j)];
        const q = qa[ai(i, p)] * qb[bi(p, j)];
        ex += x;
        em += q;
        ab += Math.abs(q);
        sq += x * x;
        last = q;
      }
      const e = i * n + j;
      o.exact[e] = ex;
      o.emu[e] = em;
      o.emuNoTail[e] = em - last;
      o.abs[e] = ab;
      o.sq[e] = sq;
    }
  return o;
}

/**
 * The two checks of the header for C = α·op(A)·op(B) + β·C0 (c0 = C0 before the call). Returns
 * the first violation (null if none) and the largest error against the exact product beyond the
 * float32 term, in units of |α|·u·sqrt(Σ (a·b)²): it shows that bf16 operands were used at all.
 */
function check(c: Float32Array, o: Oracle, k: number, alpha: number, beta: number, c0: Float32Array, emu: Float64Array = o.emu) {
  let worstExact = 0;
  for (let e = 0; e < c.length; e++) {
    const prev = beta === 0 ? 0 : beta * c0[e];
    const acc = (k + 8) * U32 * (Math.abs(alpha) * o.abs[e] + Math.abs(prev));
    const dEmu = Math.abs(c[e] - (alpha * emu[e] + prev));
    if (!(dEmu <= acc)) return { bad: `element ${e}: ${c[e]} vs bf16-operand product ${alpha * emu[e] + prev}, |diff| ${dEmu.toExponential(2)} > float32-accumulation bound ${acc.toExponential(2)}`, worstExact };
    const dExact = Math.abs(c[e] - (alpha * o.exact[e] + prev));
    const allowed = Math.abs(alpha) * 6 * U * Math.sqrt(o.sq[e]) + acc;
    if (!(dExact <= allowed)) return { bad: `element ${e}: ${c[e]} vs exact ${alpha * o.exact[e] + prev}, |diff| ${dExact.toExponential(2)} > bf16 bound ${allowed.toExponential(2)}`, worstExact };
    if (o.sq[e] > 0) worstExact = Math.max(worstExact, Math.max(0, dExact - acc) / (Math.abs(alpha) * U * Math.sqrt(o.sq[e])));
  }
  return { bad: null as string | null, worstExact };
}

const ref = new RefBackend();

function native(threads: number): Backend {
  const r = loadNativeBackend({ simd: "auto", threads });
  assert.ok("backend" in r, "error" in r ? r.error : "");
  return r.backend;
}

describe("bf16 GEMM vs float64 (bf16 operands, fp32 accumulation)", { skip }, () => {
  test("the checks reject a dropped k tail and a wrong layout (so a kernel with either fails)", () => {
    const rng = new Rng(keyFromSeed(3));
    for (const [m, n, k] of [
      [33, 33, 33],
      [17, 33, 257],
    ]) {
      const a = randn(rng, m * k);
      const b = randn(rng, k * n);
      const o = oracle(false, false, m, n, k, a, b);
      const c0 = new Float32Array(m * n);
      // the exact emulation passes …
      assert.equal(check(Float32Array.from(o.emu), o, k, 1, 0, c0).bad, null);
      // … the same without the last product of every sum does not
      assert.notEqual(check(Float32Array.from(o.emuNoTail), o, k, 1, 0, c0, o.emuNoTail).bad, null, "the exact-product check");
      assert.notEqual(check(Float32Array.from(o.emuNoTail), o, k, 1, 0, c0).bad, null, "the emulation check");
      if (m === k && k === n) {
        const wrong = oracle(true, false, m, n, k, a, b); // A read as [k, m]
        assert.notEqual(check(Float32Array.from(wrong.emu), o, k, 1, 0, c0, wrong.emu).bad, null, "a transposed A");
      }
    }
  });

  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [7, 17, 33],
    [17, 33, 7],
    [33, 7, 17],
    [1, 129, 257],
    [257, 1, 129],
    [129, 257, 1],
    [257, 129, 33],
    [33, 257, 129],
    [129, 33, 257],
    [5, 100, 65], // one row panel, 2 threads: columns split between them
    [40, 70, 513], // two k blocks, the second of one value
    [24, 100, 1101], // three k blocks, odd tail
  ];
  for (const transA of [false, true])
    for (const transB of [false, true]) {
      test(`gemm transA=${transA} transB=${transB}: odd sizes, overwrite and accumulate, 1 and 2 threads`, () => {
        const rng = new Rng(keyFromSeed(10 + 2 * Number(transA) + Number(transB)));
        let worst = 0;
        for (const [m, n, k] of shapes) {
          const a = randn(rng, m * k);
          const b = randn(rng, k * n, 0.5, 1);
          const o = oracle(transA, transB, m, n, k, a, b);
          let shapeWorst = 0;
          for (const [alpha, beta] of [
            [1, 0],
            [0.7, -1.3],
            [-2, 1],
          ]) {
            const c0 = randn(rng, m * n);
            if (beta === 0) c0.fill(Number.NaN); // overwritten: NaNs must not survive
            const outs: Float32Array[] = [];
            for (const threads of [1, 2]) {
              const c = copy(c0);
              native(threads).gemm(transA, transB, m, n, k, alpha, a, b, beta, c, "bf16");
              const s = `${m}x${n}x${k} α=${alpha} β=${beta} ${threads} thread(s)`;
              assert.ok(guardsIntact(c), `${s}: wrote outside C`);
              const r = check(c, o, k, alpha, beta, c0);
              assert.equal(r.bad, null, `${s}: ${r.bad}`);
              shapeWorst = Math.max(shapeWorst, r.worstExact);
              outs.push(c);
            }
            assert.ok(bitwiseEqual(outs[0], outs[1]), `${m}x${n}x${k}: 1 and 2 threads differ`);
          }
          // bf16 operands were used: float32 operands would be ~2^16 times closer
          if (m * n >= 7) assert.ok(shapeWorst > 2 ** -6, `${m}x${n}x${k}: error ${shapeWorst} u·sqrt(Σ(ab)²) looks like float32, not bf16`);
          worst = Math.max(worst, shapeWorst);
        }
        assert.ok(worst < 6, `worst error ${worst}`);
      });
    }

  test("gemm k = 0 scales C by beta; m or n = 0 is a no-op", () => {
    const nb = native(2);
    const rng = new Rng(keyFromSeed(5));
    const c = randn(rng, 12);
    const want = c.map((v) => 0.5 * v);
    nb.gemm(false, false, 3, 4, 0, 2, view(0), view(0), 0.5, c, "bf16");
    assert.ok(bitwiseEqual(c, want));
    const c2 = randn(rng, 4);
    const keep = copy(c2);
    nb.gemm(false, false, 0, 4, 3, 1, view(0), randn(rng, 12), 0, c2, "bf16");
    assert.ok(bitwiseEqual(c2, keep));
  });

  test("bf16 rounding: to nearest even, denormals to 0, NaN and overflow kept (the ref's emulation)", () => {
    // 1 + 2^-8 is a tie between 1 and 1 + 2^-7: even is 1; 1 + 3·2^-8 ties up to 1 + 2^-6
    assert.equal(roundToBf16(1 + 2 ** -8), 1);
    assert.equal(roundToBf16(1 + 3 * 2 ** -8), 1 + 2 ** -6);
    assert.equal(roundToBf16(1 + 2 ** -8 + 2 ** -20), 1 + 2 ** -7);
    assert.equal(roundToBf16(-2.5), -2.5);
    assert.equal(roundToBf16(1e-40), 0);
    assert.ok(Number.isNaN(roundToBf16(Number.NaN)));
    assert.equal(roundToBf16(3.4e38), Number.POSITIVE_INFINITY);
    // the kernel rounds the same way: a 1 × 1 × 1 product of values that need rounding
    const nb = native(1);
    const c = new Float32Array(1);
    for (const [x, y] of [
      [1 + 2 ** -8, 3],
      [1 + 3 * 2 ** -8, -1],
      [1e-40, 1e30],
    ]) {
      nb.gemm(false, false, 1, 1, 1, 1, Float32Array.of(x), Float32Array.of(y), 0, c, "bf16");
      assert.equal(c[0], Math.fround(roundToBf16(x) * roundToBf16(y)), `${x}·${y}`);
    }
  });

  test("fused Dense→LayerNorm→Swish forward and backward: bf16 GEMMs, fp32 everything else", () => {
    for (const [rows, inD, outD] of [
      [1, 1, 3],
      [3, 17, 5],
      [17, 255, 33],
      [130, 256, 256],
      [2, 40, 300], // fewer row panels than threads: columns split, epilogue after a barrier
      [9, 20, 600], // dx's k = outDim over one block: Wᵀ packed by the dx GEMM, not during the row pass
      [600, 20, 70],
    ]) {
      const rng = new Rng(keyFromSeed(rows * 7 + inD));
      const x = randn(rng, rows * inD);
      const w = randn(rng, inD * outD, 1 / Math.sqrt(inD));
      const bias = randn(rng, outD, 0.1);
      const gamma = randn(rng, outD, 0.2).map((v) => v + 1);
      const beta = randn(rng, outD, 0.2);
      const dy0 = randn(rng, rows * outD);
      const [dw0, db0, dg0, dbe0] = [randn(rng, inD * outD), randn(rng, outD), randn(rng, outD), randn(rng, outD)];
      const s = `${rows}x${inD}->${outD}`;
      const outsBy: Float32Array[][] = [];
      for (const threads of [1, 2]) {
        const nb = native(threads);
        const [z, mean, rstd, y] = [view(rows * outD), view(rows), view(rows), view(rows * outD)];
        nb.denseLnSwishForward(x, w, bias, gamma, beta, z, mean, rstd, y, rows, inD, outD, 1e-6, "bf16");
        // z = bf16 GEMM + bias (float32): the emulated GEMM plus the bias, within float32 accumulation
        const o = oracle(false, false, rows, outD, inD, x, w);
        for (let e = 0; e < z.length; e++) {
          const want = o.emu[e] + bias[e % outD];
          const tol = (inD + 8) * U32 * (o.abs[e] + Math.abs(bias[e % outD]));
          assert.ok(Math.abs(z[e] - want) <= tol, `fwd z ${s}[${e}]: ${z[e]} vs ${want}`);
        }
        // the LayerNorm and Swish of that z, in float32, as the ref computes them
        const [mr, rr, yr] = [view(rows), view(rows), view(rows * outD)];
        ref.layerNormForward(z, gamma, beta, yr, mr, rr, rows, outD, 1e-6);
        ref.swishForward(yr, yr, rows * outD);
        for (let e = 0; e < y.length; e++) assert.ok(Math.abs(y[e] - yr[e]) <= 1e-5 * (1 + Math.abs(yr[e])), `fwd y ${s}[${e}]: ${y[e]} vs ${yr[e]}`);
        for (let r = 0; r < rows; r++) assert.ok(Math.abs(rstd[r] - rr[r]) <= 1e-5 * rr[r], `fwd rstd ${s}[${r}]`);

        const [dy, dw, db, dg, dbe] = [copy(dy0), copy(dw0), copy(db0), copy(dg0), copy(dbe0)];
        const dx = view(rows * inD, 4);
        nb.denseLnSwishBackward(dy, x, w, gamma, beta, z, mean, rstd, dx, dw, db, dg, dbe, rows, inD, outD, "bf16");
        // dy now holds dz (float32 LayerNorm/Swish backward: compare with the ref's) …
        const [dzr, dbr, dgr, dber] = [copy(dy0), copy(db0), copy(dg0), copy(dbe0)];
        ref.denseLnSwishBackward(dzr, x, w, gamma, beta, z, mean, rstd, null, null, dbr, dgr, dber, rows, inD, outD);
        let dzScale = 0;
        for (let e = 0; e < dzr.length; e++) dzScale = Math.max(dzScale, Math.abs(dzr[e]));
        for (let e = 0; e < dy.length; e++) assert.ok(Math.abs(dy[e] - dzr[e]) <= 1e-5 * dzScale, `bwd dz ${s}[${e}]: ${dy[e]} vs ${dzr[e]}`);
        for (const [name, got, want] of [
          ["db", db, dbr],
          ["dgamma", dg, dgr],
          ["dbeta", dbe, dber],
        ] as const)
          for (let j = 0; j < outD; j++) assert.ok(Math.abs(got[j] - want[j]) <= 1e-5 * (1 + Math.abs(want[j])), `bwd ${name} ${s}[${j}]`);
        // … and dW += xᵀ·dz, dx = dz·Wᵀ are bf16 GEMMs of that dz
        const ow = oracle(true, false, inD, outD, rows, x, dy);
        const cw = check(dw, ow, rows, 1, 1, dw0);
        assert.equal(cw.bad, null, `bwd dW ${s}: ${cw.bad}`);
        const ox = oracle(false, true, rows, inD, outD, dy, w);
        const cx = check(dx, ox, outD, 1, 0, dx);
        assert.equal(cx.bad, null, `bwd dx ${s}: ${cx.bad}`);
        for (const v of [z, y, mean, rstd, dx, dw, db, dg, dbe]) assert.ok(guardsIntact(v), `${s}: wrote outside a view`);
        outsBy.push([z, y, mean, rstd, dy, dx, dw, db, dg, dbe]);
      }
      for (let i = 0; i < outsBy[0].length; i++) assert.ok(bitwiseEqual(outsBy[0][i], outsBy[1][i]), `${s}: output #${i} differs between 1 and 2 threads`);
    }
  });
});

describe("fused layers with bf16 rows (Uint16Array) for x and y", { skip }, () => {
  test("y as bf16 rows is swish(LN(z)) rounded to nearest even, bit for bit; x as bf16 rows gives the float32 x's results; wrong use is refused", () => {
    for (const [rows, inD, outD] of [
      [1, 3, 5],
      [17, 33, 7],
      [37, 256, 256],
    ]) {
      const rng = new Rng(keyFromSeed(rows + inD));
      const x = Float32Array.from({ length: rows * inD }, () => rng.normal());
      const w = Float32Array.from({ length: inD * outD }, () => rng.normal() / Math.sqrt(inD));
      const bias = Float32Array.from({ length: outD }, () => 0.1 * rng.normal());
      const gamma = Float32Array.from({ length: outD }, () => 1 + 0.2 * rng.normal());
      const beta = Float32Array.from({ length: outD }, () => 0.2 * rng.normal());
      for (const threads of [1, 2]) {
        const nb = native(threads);
        assert.equal(nb.bf16Activations, true);
        const fwd = (xa: Float32Array | Uint16Array, ya: Float32Array | Uint16Array) => {
          const [z, mean, rstd] = [new Float32Array(rows * outD), new Float32Array(rows), new Float32Array(rows)];
          nb.denseLnSwishForward(xa, w, bias, gamma, beta, z, mean, rstd, ya, rows, inD, outD, 1e-6, "bf16");
          return { z, mean, rstd };
        };
        const y = new Float32Array(rows * outD);
        const a = fwd(x, y);
        const ld = outD + (outD & 1);
        const y16 = new Uint16Array(rows * ld).fill(0xffff); // the pad halves must be written 0
        const b = fwd(x, y16);
        assert.equal(firstBitDifference(a.z, b.z), -1);
        for (let r = 0; r < rows; r++) {
          for (let j = 0; j < outD; j++) assert.equal(y16[r * ld + j], bf16Bits(y[r * outD + j]), `${rows}x${inD}->${outD} y[${r}, ${j}]`);
          if (ld > outD) assert.equal(y16[r * ld + outD], 0, "pad half");
        }
        // x as bf16 rows: the same z as the float32 x (the GEMM rounds x to bf16 either way)
        const ldx = inD + (inD & 1);
        const x16 = new Uint16Array(rows * ldx);
        for (let r = 0; r < rows; r++) for (let j = 0; j < inD; j++) x16[r * ldx + j] = bf16Bits(x[r * inD + j]);
        const c = fwd(x16, new Float32Array(rows * outD));
        assert.equal(firstBitDifference(a.z, c.z), -1, "forward with x as bf16 rows");
        // backward: dW from x as bf16 rows equals dW from the float32 x
        const bwd = (xa: Float32Array | Uint16Array) => {
          const dy = Float32Array.from(y, (v, i) => v * 0.5 + (i % 7) * 0.01);
          const [dx, dw, db, dg, dbb] = [new Float32Array(rows * inD), new Float32Array(inD * outD), new Float32Array(outD), new Float32Array(outD), new Float32Array(outD)];
          nb.denseLnSwishBackward(dy, xa, w, gamma, beta, a.z, a.mean, a.rstd, dx, dw, db, dg, dbb, rows, inD, outD, "bf16", true);
          return [dx, dw, db, dg, dbb];
        };
        const g32 = bwd(x);
        const g16 = bwd(x16);
        for (let i = 0; i < g32.length; i++) assert.equal(firstBitDifference(g32[i], g16[i]), -1, `backward output #${i} with x as bf16 rows`);
      }
    }
    const nb = native(1);
    const f = (n: number) => new Float32Array(n);
    assert.throws(() => nb.denseLnSwishForward(new Uint16Array(8), f(8), f(2), f(2), f(2), f(4), f(2), f(2), f(4), 2, 4, 2, 1e-6, "fp32"), /x is a Uint16Array \(bf16 rows\), which needs precision bf16/);
    assert.throws(() => nb.denseLnSwishForward(f(6), f(9), f(3), f(3), f(3), f(6), f(2), f(2), new Uint16Array(7), 2, 3, 3, 1e-6, "bf16"), /y has 7 bf16 values but needs 8 \(\[rows, cols rounded up to even\]\)/);
    assert.throws(() => nb.denseLnSwishForward(new Int16Array(8) as unknown as Float32Array, f(8), f(2), f(2), f(2), f(4), f(2), f(2), f(4), 2, 4, 2, 1e-6, "bf16"), /x must be a Float32Array \(or, with precision bf16, a Uint16Array of bf16 rows\)/);
    const ref = new RefBackend();
    assert.throws(() => ref.denseLnSwishForward(f(6), f(9), f(3), f(3), f(3), f(6), f(2), f(2), new Uint16Array(8), 2, 3, 3, 1e-6, "fp32"), /needs precision "bf16"/);
  });
});

describe("precision bf16 where it cannot run falls back to fp32 with a note", () => {
  const noNative = "error" in probe ? `the native addon is not available (${probe.error})` : false;
  test("a forced level without bf16 GEMMs (FATHOM_SIMD=generic, or avx512 as a CPU without AVX512_BF16)", { skip: noNative }, () => {
    for (const simd of ["generic", "avx512"] as const) {
      const r = loadNativeBackend({ simd, threads: 2 });
      if ("error" in r) continue; // avx512 on a CPU without it
      const be = r.backend;
      const why = be.bf16Unavailable();
      assert.ok(why?.includes(`"${simd}" was forced`), `${simd}: ${why}`);
      const res = resolvePrecision(be, "bf16");
      assert.equal(res.precision, "fp32");
      assert.ok(res.note !== null);
      assert.match(res.note, /^precision bf16 was requested but native \(\w+, 2 threads\) cannot run it \(.+\): running in fp32$/);
      assert.ok(!res.note.includes("\n"), "one line");
      assert.deepEqual(resolvePrecision(be, "fp32"), { precision: "fp32", note: null });
      // a kernel asked for bf16 anyway refuses (the boundary check), and fp32 still runs
      const f = new Float32Array(4).fill(1);
      assert.throws(() => be.gemm(false, false, 2, 2, 1, 1, f, f, 0, f, "bf16"), { name: "RangeError", message: /gemm: bf16 operands are not available here: .*; use precision fp32/ });
      const c = new Float32Array(4);
      be.gemm(false, false, 2, 2, 1, 1, f, f, 0, c, "fp32");
      assert.deepEqual([...c], [1, 1, 1, 1]);
    }
  });

  test("auto on this CPU: bf16 exactly when the CPU reports AVX512_BF16", { skip: noNative }, () => {
    const be = native(2);
    const cpuinfo = (() => {
      try {
        return readFileSync("/proc/cpuinfo", "utf8");
      } catch {
        return null;
      }
    })();
    if (cpuinfo !== null && process.arch === "x64") {
      const has = /\bavx512_bf16\b/.test(cpuinfo);
      assert.equal(be.bf16Unavailable() === null, has, `cpuinfo says avx512_bf16 = ${has}, the addon says ${be.bf16Unavailable()}`);
      if (has) assert.match(be.describe(), /^native \(avx512bf16, 2 threads\)$/);
    }
    assert.equal(resolvePrecision(be, "bf16").precision, be.bf16Unavailable() === null ? "bf16" : "fp32");
  });

  test("the register-only peak loops run (not optimised away): between 0.1 and 10,000 GFLOP/s per core", { skip: noNative }, () => {
    // bench -- gemm prints these as the machine's ceiling; a loop the compiler removed once
    // reported 9e10 GFLOP/s
    const be = native(1);
    for (const precision of be.bf16Unavailable() === null ? (["fp32", "bf16"] as const) : (["fp32"] as const)) {
      const g = peakGflops(precision, false, 0.005, 1);
      assert.ok(g > 0.1 && g < 10_000, `${precision} peak ${g} GFLOP/s`);
    }
  });

  test("the ref backend emulates bf16 (it is the oracle)", () => {
    assert.equal(ref.bf16Unavailable(), null);
    assert.deepEqual(resolvePrecision(ref, "bf16"), { precision: "bf16", note: null });
  });
});
