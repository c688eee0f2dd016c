// The Backend kernels checked against the ref backend on given sizes: what native.test.ts (every
// kernel build and thread count) and webgpu.test.ts (fewer, smaller sizes: a software adapter is
// slow) both run. Each case draws its inputs from rng and compares with close() (./twin.ts).
import type { Backend, Precision } from "../../src/engine/backend.js";
import { RefBackend } from "../../src/engine/ref/ref.js";
import type { Rng } from "../../src/random.js";
import { absProductNorm, close, copy, firstBitDifference, maxAbs, randn, rms, view } from "./twin.js";

const ref = new RefBackend();

/** gemm in all four layouts for each shape [m, n, k] and each [alpha, beta] (beta = 0 must overwrite NaNs). */
export function gemmCases(b: Backend, rng: Rng, shapes: readonly (readonly [number, number, number])[], alphaBetas: readonly (readonly [number, number])[]): void {
  for (const [m, n, k] of shapes) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        for (const [alpha, beta] of alphaBetas) {
          const a = randn(rng, m * k);
          const bb = randn(rng, k * n, 1, 0, 1);
          const c0 = randn(rng, m * n);
          if (beta === 0) c0.fill(Number.NaN); // beta = 0 overwrites: NaNs must not survive
          const cr = copy(c0);
          const cb = copy(c0);
          ref.gemm(transA, transB, m, n, k, alpha, a, bb, beta, cr);
          b.gemm(transA, transB, m, n, k, alpha, a, bb, beta, cb);
          close(`gemm ${m}x${n}x${k} tA=${transA} tB=${transB} α=${alpha} β=${beta}`, cb, cr, "norm");
        }
      }
    }
  }
}

/** gemm with k = 0 scales C by beta; with m = 0 it leaves C alone. */
export function gemmEmptyCases(b: Backend, rng: Rng): void {
  const c = randn(rng, 12);
  const want = c.map((v) => 0.5 * v);
  b.gemm(false, false, 3, 4, 0, 2, view(0), view(0), 0.5, c);
  close("gemm k=0", c, want, "elem", 0);
  const c2 = randn(rng, 4);
  const c2copy = copy(c2);
  b.gemm(false, false, 0, 4, 3, 1, view(0), randn(rng, 12), 0, c2);
  close("gemm m=0", c2, c2copy, "elem", 0);
}

/** biasAdd and biasBackward for each [rows, cols]. */
export function biasCases(b: Backend, rng: Rng, sizes: readonly (readonly [number, number])[]): void {
  for (const [rows, cols] of sizes) {
    const x = randn(rng, rows * cols);
    const bias = randn(rng, cols);
    const [xr, xb] = [copy(x), copy(x)];
    ref.biasAdd(xr, bias, rows, cols);
    b.biasAdd(xb, bias, rows, cols);
    close(`biasAdd ${rows}x${cols}`, xb, xr, "elem");
    const db0 = randn(rng, cols);
    const [dbr, dbb] = [copy(db0), copy(db0)];
    ref.biasBackward(x, dbr, rows, cols);
    b.biasBackward(x, dbb, rows, cols);
    close(`biasBackward ${rows}x${cols}`, dbb, dbr, "elem");
  }
}

/** layerNormForward and layerNormBackward for each [rows, cols], also with the output aliasing the input. */
export function layerNormCases(b: Backend, rng: Rng, sizes: readonly (readonly [number, number])[]): void {
  for (const [rows, cols] of sizes) {
    const x = randn(rng, rows * cols, 2, 0.5);
    const gamma = randn(rng, cols, 0.5, 1);
    const beta = randn(rng, cols, 0.3);
    const [yr, yb] = [view(rows * cols), view(rows * cols, 2)];
    const [mr, mb, rr, rb] = [view(rows), view(rows), view(rows), view(rows)];
    ref.layerNormForward(x, gamma, beta, yr, mr, rr, rows, cols, 1e-6);
    b.layerNormForward(x, gamma, beta, yb, mb, rb, rows, cols, 1e-6);
    close(`lnFwd y ${rows}x${cols}`, yb, yr, "elem");
    close(`lnFwd mean ${rows}x${cols}`, mb, mr, "elem");
    close(`lnFwd rstd ${rows}x${cols}`, rb, rr, "elem");
    const xin = copy(x); // y aliases x
    b.layerNormForward(xin, gamma, beta, xin, mb, rb, rows, cols, 1e-6);
    close(`lnFwd in place ${rows}x${cols}`, xin, yr, "elem");

    const dy = randn(rng, rows * cols);
    const [dgr, dbr] = [randn(rng, cols), randn(rng, cols)];
    const [dgb, dbb] = [copy(dgr), copy(dbr)];
    const [dxr, dxb] = [view(rows * cols), view(rows * cols, 4)];
    ref.layerNormBackward(dy, x, mr, rr, gamma, dxr, dgr, dbr, rows, cols);
    b.layerNormBackward(dy, x, mr, rr, gamma, dxb, dgb, dbb, rows, cols);
    // dx = rstd·(dy·γ − means): the scale of the cancelling terms.
    const dxScale = maxAbs(rr) * rms(dy) * maxAbs(gamma);
    close(`lnBwd dx ${rows}x${cols}`, dxb, dxr, "elem", 1e-5, dxScale);
    close(`lnBwd dgamma ${rows}x${cols}`, dgb, dgr, "elem");
    close(`lnBwd dbeta ${rows}x${cols}`, dbb, dbr, "elem");
    const dyin = copy(dy); // dx aliases dy
    b.layerNormBackward(dyin, x, mr, rr, gamma, dyin, copy(dgb), copy(dbb), rows, cols);
    close(`lnBwd in place ${rows}x${cols}`, dyin, dxr, "elem", 1e-5, dxScale);
  }
}

/** swishForward and swishBackward for each n (saturated inputs where n > 5), also in place. */
export function swishCases(b: Backend, rng: Rng, ns: readonly number[]): void {
  for (const n of ns) {
    const x = randn(rng, n, 4);
    if (n > 5) {
      x[0] = 100; // saturated sigmoid on both sides
      x[1] = -100;
      x[2] = 0;
    }
    const [yr, yb] = [view(n), view(n, 6)];
    ref.swishForward(x, yr, n);
    b.swishForward(x, yb, n);
    close(`swishFwd n=${n}`, yb, yr, "elem");
    const xin = copy(x);
    b.swishForward(xin, xin, n);
    close(`swishFwd in place n=${n}`, xin, yr, "elem");
    const dy = randn(rng, n);
    const [dxr, dxb] = [view(n), view(n, 2)];
    ref.swishBackward(dy, x, dxr, n);
    b.swishBackward(dy, x, dxb, n);
    close(`swishBwd n=${n}`, dxb, dxr, "elem");
    const dyin = copy(dy);
    b.swishBackward(dyin, x, dyin, n);
    close(`swishBwd in place n=${n}`, dyin, dxr, "elem");
  }
}

/** A random dense layer rows × inD → outD: input, weights, bias, LayerNorm γ and β. */
function denseLayer(rng: Rng, rows: number, inD: number, outD: number) {
  const x = randn(rng, rows * inD);
  const w = randn(rng, inD * outD, 1 / Math.sqrt(inD));
  const bias = randn(rng, outD, 0.1);
  const gamma = randn(rng, outD, 0.2, 1);
  const beta = randn(rng, outD, 0.2);
  return { x, w, bias, gamma, beta };
}

/** denseLnSwishForward for each [rows, inDim, outDim]. */
export function denseForwardCases(b: Backend, rng: Rng, shapes: readonly (readonly [number, number, number])[]): void {
  for (const [rows, inD, outD] of shapes) {
    const { x, w, bias, gamma, beta } = denseLayer(rng, rows, inD, outD);
    const outs = () => [view(rows * outD), view(rows), view(rows), view(rows * outD, 1)] as const;
    const [zr, mr, rr, yr] = outs();
    const [zb, mb, rb, yb] = outs();
    ref.denseLnSwishForward(x, w, bias, gamma, beta, zr, mr, rr, yr, rows, inD, outD, 1e-6);
    b.denseLnSwishForward(x, w, bias, gamma, beta, zb, mb, rb, yb, rows, inD, outD, 1e-6);
    const s = `${rows}x${inD}->${outD}`;
    close(`fusedFwd z ${s}`, zb, zr, "elem");
    close(`fusedFwd mean ${s}`, mb, mr, "elem");
    close(`fusedFwd rstd ${s}`, rb, rr, "elem");
    close(`fusedFwd y ${s}`, yb, yr, "elem");
  }
}

/** denseLnSwishBackward for each [rows, inDim, outDim] and each [with dx, with dw] (gradients accumulate into random values). */
export function denseBackwardCases(
  b: Backend,
  rng: Rng,
  shapes: readonly (readonly [number, number, number])[],
  outputs: readonly (readonly [boolean, boolean])[],
): void {
  for (const [rows, inD, outD] of shapes) {
    const { x, w, bias, gamma, beta } = denseLayer(rng, rows, inD, outD);
    const [z, mean, rstd, y] = [view(rows * outD), view(rows), view(rows), view(rows * outD)];
    ref.denseLnSwishForward(x, w, bias, gamma, beta, z, mean, rstd, y, rows, inD, outD, 1e-6);
    const dy = randn(rng, rows * outD);
    const accs = [randn(rng, inD * outD), randn(rng, outD), randn(rng, outD), randn(rng, outD)];
    for (const [withDx, withDw] of outputs) {
      const [dwr, dbr, dgr, dber] = accs.map(copy);
      const [dwb, dbb, dgb, dbeb] = accs.map(copy);
      const [dyr, dyb] = [copy(dy), copy(dy)];
      const dxr = view(rows * inD);
      const dxb = withDx ? view(rows * inD, 2) : null;
      ref.denseLnSwishBackward(dyr, x, w, gamma, beta, z, mean, rstd, dxr, dwr, dbr, dgr, dber, rows, inD, outD);
      b.denseLnSwishBackward(dyb, x, w, gamma, beta, z, mean, rstd, dxb, withDw ? dwb : null, dbb, dgb, dbeb, rows, inD, outD);
      const s = `${rows}x${inD}->${outD} dx=${withDx} dw=${withDw}`;
      close(`fusedBwd dz ${s}`, dyb, dyr, "elem", 1e-5, maxAbs(rstd) * rms(dy) * maxAbs(gamma));
      // dz sums to 0 over each row (LayerNorm), so dz·Wᵀ cancels: floor at ‖|dz|·|W|ᵀ‖.
      if (dxb) close(`fusedBwd dx ${s}`, dxb, dxr, "norm", 1e-5, absProductNorm(false, true, rows, inD, outD, dyr, w));
      if (withDw) close(`fusedBwd dw ${s}`, dwb, dwr, "norm", 1e-5, absProductNorm(true, false, inD, outD, rows, x, dyr));
      close(`fusedBwd db ${s}`, dbb, dbr, "elem");
      close(`fusedBwd dgamma ${s}`, dgb, dgr, "elem");
      close(`fusedBwd dbeta ${s}`, dbeb, dber, "elem");
    }
  }
}

/**
 * denseLnSwishBackward with `overwrite` for each [rows, inDim, outDim], precision and [with dx,
 * with dw]: the gradient buffers start as NaN (none may be read) and must end bit for bit as an
 * accumulating call leaves buffers that started at zero, with dz and dx unchanged too.
 */
export function denseBackwardOverwriteCases(
  b: Backend,
  rng: Rng,
  shapes: readonly (readonly [number, number, number])[],
  precisions: readonly Precision[] = ["fp32"],
): void {
  for (const [rows, inD, outD] of shapes) {
    const { x, w, bias, gamma, beta } = denseLayer(rng, rows, inD, outD);
    const [z, mean, rstd, y] = [view(rows * outD), view(rows), view(rows), view(rows * outD)];
    ref.denseLnSwishForward(x, w, bias, gamma, beta, z, mean, rstd, y, rows, inD, outD, 1e-6);
    const dy = randn(rng, rows * outD);
    for (const precision of precisions) {
      for (const [withDx, withDw] of [
        [true, true],
        [false, true],
        [true, false],
      ] as const) {
        const run = (overwrite: boolean): Float32Array[] => {
          const fill = overwrite ? Number.NaN : 0;
          const [dw, db, dg, dbe] = [view(inD * outD).fill(fill), view(outD).fill(fill), view(outD).fill(fill), view(outD).fill(fill)];
          const dyc = copy(dy);
          const dx = withDx ? view(rows * inD) : null;
          b.denseLnSwishBackward(dyc, x, w, gamma, beta, z, mean, rstd, dx, withDw ? dw : null, db, dg, dbe, rows, inD, outD, precision, overwrite);
          return [dyc, ...(dx ? [dx] : []), ...(withDw ? [dw] : []), db, dg, dbe];
        };
        const acc = run(false);
        const ow = run(true);
        const s = `${rows}x${inD}->${outD} ${precision} dx=${withDx} dw=${withDw}`;
        for (let i = 0; i < acc.length; i++) {
          const bad = firstBitDifference(acc[i], ow[i]);
          if (bad >= 0) throw new Error(`fusedBwd overwrite ${s}: output #${i} differs at ${bad}: ${ow[i][bad]} vs ${acc[i][bad]} (accumulated into zeros)`);
        }
      }
    }
  }
}

/** adamStep for each n at steps 1 and 7. */
export function adamCases(b: Backend, rng: Rng, ns: readonly number[]): void {
  for (const n of ns) {
    for (const step of [1, 7]) {
      const p = randn(rng, n);
      const g = randn(rng, n, 0.01);
      const m = randn(rng, n, 0.01);
      const v = randn(rng, n, 1e-4).map(Math.abs);
      const [pr, mr, vr, pb, mb, vb] = [copy(p), copy(m), copy(v), copy(p), copy(m), copy(v)];
      ref.adamStep(pr, g, mr, vr, n, 3e-4, 0.9, 0.999, 1e-8, step);
      b.adamStep(pb, g, mb, vb, n, 3e-4, 0.9, 0.999, 1e-8, step);
      close(`adam p n=${n} t=${step}`, pb, pr, "elem");
      close(`adam m n=${n} t=${step}`, mb, mr, "elem");
      close(`adam v n=${n} t=${step}`, vb, vr, "elem");
      // The update itself (p − p0), so a tiny step cannot hide behind p's magnitude.
      const dr = pr.map((x, i) => x - p[i]);
      const db = pb.map((x, i) => x - p[i]);
      close(`adam update n=${n} t=${step}`, db, dr, "elem", 2e-3);
    }
  }
}

/** add for each n, also in place. */
export function addCases(b: Backend, rng: Rng, ns: readonly number[]): void {
  for (const n of ns) {
    const x = randn(rng, n);
    const y = randn(rng, n);
    const [or, ob] = [view(n), view(n, 1)];
    ref.add(x, y, or, n);
    b.add(x, y, ob, n);
    close(`add n=${n}`, ob, or, "elem", 0);
    const xin = copy(x);
    b.add(xin, y, xin, n);
    close(`add in place n=${n}`, xin, or, "elem", 0);
  }
}
