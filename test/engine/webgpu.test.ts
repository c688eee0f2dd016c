// WebGPU backend vs its ref twin (DESIGN §7, issue 16): every kernel of the Backend interface
// through the synchronous WebGpuBackend (the WGSL kernels of engine/webgpu/kernels.ts), on odd
// sizes, every GEMM layout, a large K, aliased operands, and views with guard values around them.
// Runs on whatever adapter the machine has (lavapipe on CPU-only machines: .ci/run installs it);
// without one every test is skipped with a loud message.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { BACKEND_NAMES, getBackend } from "../../src/engine/index.js";
import { RefBackend } from "../../src/engine/ref/ref.js";
import { describeAdapter, generateWgsl, type KernelDef } from "../../src/engine/webgpu/context.js";
import { WEBGPU_KERNELS } from "../../src/engine/webgpu/kernels.js";
import { loadWebGpuBackend, type WebGpuBackend } from "../../src/engine/webgpu/webgpu.js";
import { keyFromSeed, Rng } from "../../src/random.js";
import { absProductNorm, close, copy, maxAbs, randn, rms, view, worstErrors as worst } from "./twin.js";
import { webgpuSkip } from "./webgpu-skip.js";

const ref = new RefBackend();
const skip = await webgpuSkip();

describe("WebGPU backend selection", () => {
  test("webgpu is a backend name; auto never picks it (by argument, FATHOM_BACKEND=auto or unset), whatever adapter exists", () => {
    assert.ok((BACKEND_NAMES as readonly string[]).includes("webgpu"));
    assert.notEqual(getBackend("auto").name, "webgpu");
    const saved = process.env.FATHOM_BACKEND;
    try {
      for (const v of [undefined, "", "auto", "AUTO"]) {
        if (v === undefined) delete process.env.FATHOM_BACKEND;
        else process.env.FATHOM_BACKEND = v;
        assert.notEqual(getBackend().name, "webgpu", `FATHOM_BACKEND=${v}`);
        assert.notEqual(getBackend("auto").name, "webgpu", `FATHOM_BACKEND=${v}`);
      }
    } finally {
      if (saved === undefined) delete process.env.FATHOM_BACKEND;
      else process.env.FATHOM_BACKEND = saved;
    }
  });
  test("every kernel's WGSL is generated for a pattern with aliased operands", () => {
    const all: KernelDef[] = Object.values(WEBGPU_KERNELS).flatMap((x): KernelDef[] => ("body" in x ? [x as KernelDef] : Object.values(x as Record<string, KernelDef>)));
    assert.ok(all.length >= 20);
    for (const k of all) {
      const code = generateWgsl(k, k.ops.map(() => 0), [true]);
      assert.match(code, /fn main\(/, k.name);
    }
  });
});

describe("WebGPU kernels vs ref", { skip }, () => {
  let b: WebGpuBackend;
  const rng = new Rng(keyFromSeed(16));
  before(() => {
    const r = loadWebGpuBackend();
    if ("error" in r) throw new Error(r.error);
    b = r.backend;
    console.log(`# WebGPU adapter: ${describeAdapter(b.adapter)}`);
  });
  after(() => {
    console.log(`# WebGPU vs ref, largest relative error per kernel: ${[...worst].map(([k, v]) => `${k} ${v.toExponential(2)}`).join(", ")}`);
    b?.close();
  });

  test("describe() names the adapter (and says so when it is a software one); bf16 is refused with the reason", () => {
    assert.match(b.describe(), /^webgpu \(/);
    if (b.adapter.software) assert.match(b.describe(), /\[software adapter: a CPU implementation, slow\]/);
    assert.match(b.bf16Unavailable() ?? "", /fp32/);
    assert.throws(() => b.gemm(false, false, 1, 1, 1, 1, view(1), view(1), 0, view(1), "bf16"), /cannot run precision bf16/);
  });

  test("gemm: all layouts, alpha/beta, odd sizes, several K tiles", () => {
    const shapes: [number, number, number][] = [
      [1, 1, 1],
      [3, 17, 5],
      [17, 3, 255],
      [65, 63, 17],
      [130, 67, 33],
      [1, 129, 70],
    ];
    for (const [m, n, k] of shapes) {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          for (const [alpha, beta] of [
            [0.7, -1.3],
            [1, 0],
          ]) {
            const a = randn(rng, m * k);
            const bb = randn(rng, k * n, 1, 0, 1);
            const c0 = randn(rng, m * n);
            if (beta === 0) c0.fill(Number.NaN); // beta = 0 overwrites: NaNs must not survive
            const cr = copy(c0);
            const cg = copy(c0);
            ref.gemm(transA, transB, m, n, k, alpha, a, bb, beta, cr);
            b.gemm(transA, transB, m, n, k, alpha, a, bb, beta, cg);
            close(`gemm ${m}x${n}x${k} tA=${transA} tB=${transB} α=${alpha} β=${beta}`, cg, cr, "norm");
          }
        }
      }
    }
  });

  test("gemm: large K (4099) in the three layouts the ResNet uses", () => {
    const [m, n, k] = [33, 70, 4099];
    for (const [transA, transB] of [
      [false, false],
      [true, false],
      [false, true],
    ] as const) {
      const a = randn(rng, m * k);
      const bb = randn(rng, k * n);
      const [cr, cg] = [view(m * n), view(m * n, 2)];
      ref.gemm(transA, transB, m, n, k, 1, a, bb, 0, cr);
      b.gemm(transA, transB, m, n, k, 1, a, bb, 0, cg);
      close(`gemm large K tA=${transA} tB=${transB}`, cg, cr, "norm");
    }
  });

  test("gemm: k = 0 scales C by beta; m or n = 0 is a no-op", () => {
    const c = randn(rng, 12);
    const want = c.map((v) => 0.5 * v);
    b.gemm(false, false, 3, 4, 0, 2, view(0), view(0), 0.5, c);
    close("gemm k=0", c, want, "elem", 0);
    const c2 = randn(rng, 4);
    const c2copy = copy(c2);
    b.gemm(false, false, 0, 4, 3, 1, view(0), randn(rng, 12), 0, c2);
    close("gemm m=0", c2, c2copy, "elem", 0);
  });

  test("biasAdd and biasBackward", () => {
    for (const [rows, cols] of [
      [1, 1],
      [3, 17],
      [257, 255],
      [2000, 9],
    ]) {
      const x = randn(rng, rows * cols);
      const bias = randn(rng, cols);
      const [xr, xg] = [copy(x), copy(x)];
      ref.biasAdd(xr, bias, rows, cols);
      b.biasAdd(xg, bias, rows, cols);
      close(`biasAdd ${rows}x${cols}`, xg, xr, "elem");
      const db0 = randn(rng, cols);
      const [dbr, dbg] = [copy(db0), copy(db0)];
      ref.biasBackward(x, dbr, rows, cols);
      b.biasBackward(x, dbg, rows, cols);
      close(`biasBackward ${rows}x${cols}`, dbg, dbr, "elem");
    }
  });

  test("layerNormForward and layerNormBackward (also in place)", () => {
    for (const [rows, cols] of [
      [1, 1],
      [3, 17],
      [17, 255],
      [130, 256],
    ]) {
      const x = randn(rng, rows * cols, 2, 0.5);
      const gamma = randn(rng, cols, 0.5, 1);
      const beta = randn(rng, cols, 0.3);
      const [yr, yg] = [view(rows * cols), view(rows * cols, 2)];
      const [mr, mg, rr, rg] = [view(rows), view(rows), view(rows), view(rows)];
      ref.layerNormForward(x, gamma, beta, yr, mr, rr, rows, cols, 1e-6);
      b.layerNormForward(x, gamma, beta, yg, mg, rg, rows, cols, 1e-6);
      close(`lnFwd y ${rows}x${cols}`, yg, yr, "elem");
      close(`lnFwd mean ${rows}x${cols}`, mg, mr, "elem");
      close(`lnFwd rstd ${rows}x${cols}`, rg, rr, "elem");
      const xin = copy(x);
      b.layerNormForward(xin, gamma, beta, xin, mg, rg, rows, cols, 1e-6);
      close(`lnFwd in place ${rows}x${cols}`, xin, yr, "elem");

      const dy = randn(rng, rows * cols);
      const [dgr, dbr] = [randn(rng, cols), randn(rng, cols)];
      const [dgg, dbg] = [copy(dgr), copy(dbr)];
      const [dxr, dxg] = [view(rows * cols), view(rows * cols, 4)];
      ref.layerNormBackward(dy, x, mr, rr, gamma, dxr, dgr, dbr, rows, cols);
      b.layerNormBackward(dy, x, mr, rr, gamma, dxg, dgg, dbg, rows, cols);
      const dxScale = maxAbs(rr) * rms(dy) * maxAbs(gamma);
      close(`lnBwd dx ${rows}x${cols}`, dxg, dxr, "elem", 1e-5, dxScale);
      close(`lnBwd dgamma ${rows}x${cols}`, dgg, dgr, "elem");
      close(`lnBwd dbeta ${rows}x${cols}`, dbg, dbr, "elem");
      const dyin = copy(dy);
      b.layerNormBackward(dyin, x, mr, rr, gamma, dyin, copy(dgg), copy(dbg), rows, cols);
      close(`lnBwd in place ${rows}x${cols}`, dyin, dxr, "elem", 1e-5, dxScale);
    }
  });

  test("swishForward and swishBackward (wide input range, in place)", () => {
    for (const n of [1, 17, 257, 40000]) {
      const x = randn(rng, n, 4);
      if (n > 5) {
        x[0] = 100;
        x[1] = -100;
        x[2] = 0;
      }
      const [yr, yg] = [view(n), view(n, 6)];
      ref.swishForward(x, yr, n);
      b.swishForward(x, yg, n);
      close(`swishFwd n=${n}`, yg, yr, "elem");
      const xin = copy(x);
      b.swishForward(xin, xin, n);
      close(`swishFwd in place n=${n}`, xin, yr, "elem");
      const dy = randn(rng, n);
      const [dxr, dxg] = [view(n), view(n, 2)];
      ref.swishBackward(dy, x, dxr, n);
      b.swishBackward(dy, x, dxg, n);
      close(`swishBwd n=${n}`, dxg, dxr, "elem");
      const dyin = copy(dy);
      b.swishBackward(dyin, x, dyin, n);
      close(`swishBwd in place n=${n}`, dyin, dxr, "elem");
    }
  });

  test("denseLnSwishForward", () => {
    for (const [rows, inD, outD] of [
      [1, 1, 1],
      [3, 17, 5],
      [17, 3, 255],
      [130, 256, 256],
      [20, 600, 40],
    ]) {
      const x = randn(rng, rows * inD);
      const w = randn(rng, inD * outD, 1 / Math.sqrt(inD));
      const bias = randn(rng, outD, 0.1);
      const gamma = randn(rng, outD, 0.2, 1);
      const beta = randn(rng, outD, 0.2);
      const outs = () => [view(rows * outD), view(rows), view(rows), view(rows * outD, 1)] as const;
      const [zr, mr, rr, yr] = outs();
      const [zg, mg, rg, yg] = outs();
      ref.denseLnSwishForward(x, w, bias, gamma, beta, zr, mr, rr, yr, rows, inD, outD, 1e-6);
      b.denseLnSwishForward(x, w, bias, gamma, beta, zg, mg, rg, yg, rows, inD, outD, 1e-6);
      const s = `${rows}x${inD}->${outD}`;
      close(`fusedFwd z ${s}`, zg, zr, "elem");
      close(`fusedFwd mean ${s}`, mg, mr, "elem");
      close(`fusedFwd rstd ${s}`, rg, rr, "elem");
      close(`fusedFwd y ${s}`, yg, yr, "elem");
    }
  });

  test("denseLnSwishBackward (with and without dx, dw)", () => {
    for (const [rows, inD, outD] of [
      [1, 1, 3],
      [17, 255, 3],
      [130, 256, 256],
      [600, 20, 70],
    ]) {
      const x = randn(rng, rows * inD);
      const w = randn(rng, inD * outD, 1 / Math.sqrt(inD));
      const bias = randn(rng, outD, 0.1);
      const gamma = randn(rng, outD, 0.2, 1);
      const beta = randn(rng, outD, 0.2);
      const [z, mean, rstd, y] = [view(rows * outD), view(rows), view(rows), view(rows * outD)];
      ref.denseLnSwishForward(x, w, bias, gamma, beta, z, mean, rstd, y, rows, inD, outD, 1e-6);
      const dy = randn(rng, rows * outD);
      const accs = [randn(rng, inD * outD), randn(rng, outD), randn(rng, outD), randn(rng, outD)];
      for (const [withDx, withDw] of [
        [true, true],
        [false, false],
      ]) {
        const [dwr, dbr, dgr, dber] = accs.map(copy);
        const [dwg, dbg, dgg, dbeg] = accs.map(copy);
        const [dyr, dyg] = [copy(dy), copy(dy)];
        const dxr = view(rows * inD);
        const dxg = withDx ? view(rows * inD, 2) : null;
        ref.denseLnSwishBackward(dyr, x, w, gamma, beta, z, mean, rstd, dxr, dwr, dbr, dgr, dber, rows, inD, outD);
        b.denseLnSwishBackward(dyg, x, w, gamma, beta, z, mean, rstd, dxg, withDw ? dwg : null, dbg, dgg, dbeg, rows, inD, outD);
        const s = `${rows}x${inD}->${outD} dx=${withDx} dw=${withDw}`;
        close(`fusedBwd dz ${s}`, dyg, dyr, "elem", 1e-5, maxAbs(rstd) * rms(dy) * maxAbs(gamma));
        if (dxg) close(`fusedBwd dx ${s}`, dxg, dxr, "norm", 1e-5, absProductNorm(false, true, rows, inD, outD, dyr, w));
        if (withDw) close(`fusedBwd dw ${s}`, dwg, dwr, "norm", 1e-5, absProductNorm(true, false, inD, outD, rows, x, dyr));
        close(`fusedBwd db ${s}`, dbg, dbr, "elem");
        close(`fusedBwd dgamma ${s}`, dgg, dgr, "elem");
        close(`fusedBwd dbeta ${s}`, dbeg, dber, "elem");
      }
    }
  });

  test("adamStep", () => {
    for (const n of [1, 257, 100000]) {
      for (const step of [1, 7]) {
        const p = randn(rng, n);
        const g = randn(rng, n, 0.01);
        const m = randn(rng, n, 0.01);
        const v = randn(rng, n, 1e-4).map(Math.abs);
        const [pr, mr, vr, pg, mg, vg] = [copy(p), copy(m), copy(v), copy(p), copy(m), copy(v)];
        ref.adamStep(pr, g, mr, vr, n, 3e-4, 0.9, 0.999, 1e-8, step);
        b.adamStep(pg, g, mg, vg, n, 3e-4, 0.9, 0.999, 1e-8, step);
        close(`adam p n=${n} t=${step}`, pg, pr, "elem");
        close(`adam m n=${n} t=${step}`, mg, mr, "elem");
        close(`adam v n=${n} t=${step}`, vg, vr, "elem");
        const dr = pr.map((x, i) => x - p[i]);
        const dg = pg.map((x, i) => x - p[i]);
        close(`adamUpdate n=${n} t=${step}`, dg, dr, "elem", 2e-3);
      }
    }
  });

  test("add (also in place)", () => {
    for (const n of [1, 17, 70000]) {
      const x = randn(rng, n);
      const y = randn(rng, n);
      const [or, og] = [view(n), view(n, 1)];
      ref.add(x, y, or, n);
      b.add(x, y, og, n);
      close(`add n=${n}`, og, or, "elem", 0);
      const xin = copy(x);
      b.add(xin, y, xin, n);
      close(`add in place n=${n}`, xin, or, "elem", 0);
    }
  });

  test("short arrays are refused with the argument named", () => {
    assert.throws(() => b.gemm(false, false, 2, 2, 2, 1, view(3), view(4), 0, view(4)), /gemm: a has 3 values, needs 4/);
    assert.throws(() => b.add(view(2), view(3), view(3), 3), /add: a has 2 values, needs 3/);
  });
});
