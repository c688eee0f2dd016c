// Native backend vs its ref twin (DESIGN §7): every kernel, on fresh random inputs of odd and
// even sizes, for every kernel build this CPU runs and for 1 and 3 threads (3 > cores here, so
// the pool's barriers are exercised under oversubscription). Inputs are subarray views with a
// non-zero byteOffset and guard values around them, so any out-of-bounds write is caught.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { loadNativeBackend, type NativeOptions, poolStats } from "../../src/engine/native/native.js";
import { RefBackend } from "../../src/engine/ref/ref.js";
import { keyFromSeed, Rng } from "../../src/random.js";
import { loadNativeForTests, NATIVE_CONFIGS, nativeTest } from "./native-configs.js";
import { absProductNorm, close, copy, maxAbs, randn, rms, view } from "./twin.js";

const ref = new RefBackend();
const { first, skip } = loadNativeForTests();

// CI (.ci/run sets FATHOM_NATIVE_STRICT=1) must not pass on the ref backend alone.
test("the native addon is loaded where the build is required (FATHOM_NATIVE_STRICT=1)", { skip: process.env.FATHOM_NATIVE_STRICT !== "1" && "FATHOM_NATIVE_STRICT is not set" }, () => {
  assert.ok(!("error" in first), `FATHOM_NATIVE_STRICT=1 but the native addon did not load: ${"error" in first ? first.error : ""}`);
});

for (const cfg of NATIVE_CONFIGS) {
  const label = `${cfg.simd}, ${cfg.threads} threads`;
  describe(`native kernels vs ref (${label})`, { skip }, () => {
    const rng = new Rng(keyFromSeed(cfg.threads! * 100 + (cfg.simd?.length ?? 0)));
    const maybe = nativeTest(cfg);

    maybe("describe() names the SIMD level and the thread count", (b) => {
      assert.match(b.describe(), /^native \((avx512bf16|avx512|avx2|avx2x16|generic), \d+ threads?\)$/);
      assert.equal(b.threads, cfg.threads);
      if (cfg.simd !== "auto") assert.ok(b.describe().includes(`(${cfg.simd},`), b.describe());
    });

    maybe("gemm: all transposes, alpha/beta, odd sizes, several k blocks", (b) => {
      const shapes: [number, number, number][] = [
        [1, 1, 1],
        [3, 17, 5],
        [17, 3, 255],
        [255, 257, 17],
        [257, 255, 3],
        [1, 257, 257],
        [257, 1, 33],
        [64, 300, 520],
        [40, 70, 600],
      ];
      for (const [m, n, k] of shapes) {
        for (const transA of [false, true]) {
          for (const transB of [false, true]) {
            for (const [alpha, beta] of [
              [0.7, -1.3],
              [1, 0],
              [-2, 1],
            ]) {
              const a = randn(rng, m * k);
              const bb = randn(rng, k * n, 1, 0, 1);
              const c0 = randn(rng, m * n);
              if (beta === 0) c0.fill(Number.NaN); // beta = 0 overwrites: NaNs must not survive
              const cr = copy(c0);
              const cn = copy(c0);
              ref.gemm(transA, transB, m, n, k, alpha, a, bb, beta, cr);
              b.gemm(transA, transB, m, n, k, alpha, a, bb, beta, cn);
              close(`gemm ${m}x${n}x${k} tA=${transA} tB=${transB} α=${alpha} β=${beta}`, cn, cr, "norm");
            }
          }
        }
      }
    });

    maybe("gemm: k = 0 scales C by beta; m or n = 0 is a no-op", (b) => {
      const c = randn(rng, 12);
      const want = c.map((v) => 0.5 * v);
      b.gemm(false, false, 3, 4, 0, 2, view(0), view(0), 0.5, c);
      close("gemm k=0", c, want, "elem", 0);
      const c2 = randn(rng, 4);
      const c2copy = copy(c2);
      b.gemm(false, false, 0, 4, 3, 1, view(0), randn(rng, 12), 0, c2);
      close("gemm m=0", c2, c2copy, "elem", 0);
    });

    maybe("biasAdd and biasBackward", (b) => {
      for (const [rows, cols] of [
        [1, 1],
        [3, 17],
        [257, 255],
        [300, 100],
        [2000, 9],
      ]) {
        const x = randn(rng, rows * cols);
        const bias = randn(rng, cols);
        const xr = copy(x);
        const xn = copy(x);
        ref.biasAdd(xr, bias, rows, cols);
        b.biasAdd(xn, bias, rows, cols);
        close(`biasAdd ${rows}x${cols}`, xn, xr, "elem");
        const db0 = randn(rng, cols);
        const dbr = copy(db0);
        const dbn = copy(db0);
        ref.biasBackward(x, dbr, rows, cols);
        b.biasBackward(x, dbn, rows, cols);
        close(`biasBackward ${rows}x${cols}`, dbn, dbr, "elem");
      }
    });

    maybe("layerNormForward and layerNormBackward (also in place)", (b) => {
      for (const [rows, cols] of [
        [1, 1],
        [3, 17],
        [17, 255],
        [257, 257],
        [130, 256],
      ]) {
        const x = randn(rng, rows * cols, 2, 0.5);
        const gamma = randn(rng, cols, 0.5, 1);
        const beta = randn(rng, cols, 0.3);
        const [yr, yn] = [view(rows * cols), view(rows * cols, 2)];
        const [mr, mn, rr, rn] = [view(rows), view(rows), view(rows), view(rows)];
        ref.layerNormForward(x, gamma, beta, yr, mr, rr, rows, cols, 1e-6);
        b.layerNormForward(x, gamma, beta, yn, mn, rn, rows, cols, 1e-6);
        close(`lnFwd y ${rows}x${cols}`, yn, yr, "elem");
        close(`lnFwd mean ${rows}x${cols}`, mn, mr, "elem");
        close(`lnFwd rstd ${rows}x${cols}`, rn, rr, "elem");
        const xin = copy(x); // y aliases x
        b.layerNormForward(xin, gamma, beta, xin, mn, rn, rows, cols, 1e-6);
        close(`lnFwd in place ${rows}x${cols}`, xin, yr, "elem");

        const dy = randn(rng, rows * cols);
        const [dgr, dbr] = [randn(rng, cols), randn(rng, cols)];
        const [dgn, dbn] = [copy(dgr), copy(dbr)];
        const [dxr, dxn] = [view(rows * cols), view(rows * cols, 4)];
        ref.layerNormBackward(dy, x, mr, rr, gamma, dxr, dgr, dbr, rows, cols);
        b.layerNormBackward(dy, x, mr, rr, gamma, dxn, dgn, dbn, rows, cols);
        // dx = rstd·(dy·γ − means): the scale of the cancelling terms.
        const dxScale = maxAbs(rr) * rms(dy) * maxAbs(gamma);
        close(`lnBwd dx ${rows}x${cols}`, dxn, dxr, "elem", 1e-5, dxScale);
        close(`lnBwd dgamma ${rows}x${cols}`, dgn, dgr, "elem");
        close(`lnBwd dbeta ${rows}x${cols}`, dbn, dbr, "elem");
        const dyin = copy(dy); // dx aliases dy
        b.layerNormBackward(dyin, x, mr, rr, gamma, dyin, copy(dgn), copy(dbn), rows, cols);
        close(`lnBwd in place ${rows}x${cols}`, dyin, dxr, "elem", 1e-5, dxScale);
      }
    });

    maybe("swishForward and swishBackward (wide input range, in place)", (b) => {
      for (const n of [1, 3, 17, 255, 257, 40000]) {
        const x = randn(rng, n, 4);
        if (n > 5) {
          x[0] = 100; // saturated sigmoid on both sides
          x[1] = -100;
          x[2] = 0;
        }
        const [yr, yn] = [view(n), view(n, 6)];
        ref.swishForward(x, yr, n);
        b.swishForward(x, yn, n);
        close(`swishFwd n=${n}`, yn, yr, "elem");
        const xin = copy(x);
        b.swishForward(xin, xin, n);
        close(`swishFwd in place n=${n}`, xin, yr, "elem");
        const dy = randn(rng, n);
        const [dxr, dxn] = [view(n), view(n, 2)];
        ref.swishBackward(dy, x, dxr, n);
        b.swishBackward(dy, x, dxn, n);
        close(`swishBwd n=${n}`, dxn, dxr, "elem");
        const dyin = copy(dy);
        b.swishBackward(dyin, x, dyin, n);
        close(`swishBwd in place n=${n}`, dyin, dxr, "elem");
      }
    });

    maybe("denseLnSwishForward", (b) => {
      for (const [rows, inD, outD] of [
        [1, 1, 1],
        [3, 17, 5],
        [17, 3, 255],
        [257, 33, 257],
        [130, 256, 256],
        [20, 600, 40],
        [2, 40, 300], // fewer row panels than threads: columns split, epilogue after a barrier
      ]) {
        const x = randn(rng, rows * inD);
        const w = randn(rng, inD * outD, 1 / Math.sqrt(inD));
        const bias = randn(rng, outD, 0.1);
        const gamma = randn(rng, outD, 0.2, 1);
        const beta = randn(rng, outD, 0.2);
        const outs = () => [view(rows * outD), view(rows), view(rows), view(rows * outD, 1)] as const;
        const [zr, mr, rr, yr] = outs();
        const [zn, mn, rn, yn] = outs();
        ref.denseLnSwishForward(x, w, bias, gamma, beta, zr, mr, rr, yr, rows, inD, outD, 1e-6);
        b.denseLnSwishForward(x, w, bias, gamma, beta, zn, mn, rn, yn, rows, inD, outD, 1e-6);
        const s = `${rows}x${inD}->${outD}`;
        close(`fusedFwd z ${s}`, zn, zr, "elem");
        close(`fusedFwd mean ${s}`, mn, mr, "elem");
        close(`fusedFwd rstd ${s}`, rn, rr, "elem");
        close(`fusedFwd y ${s}`, yn, yr, "elem");
      }
    });

    maybe("denseLnSwishBackward (with and without dx)", (b) => {
      // outDim ≥ 3: with one or two features LayerNorm's output is constant (0, or ±1) and dz is
      // rounding noise (covered, with a floor, by the LayerNorm test above).
      for (const [rows, inD, outD] of [
        [1, 1, 3],
        [1, 3, 17],
        [17, 255, 3],
        [257, 33, 255],
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
          [false, true],
          [true, false],
          [false, false],
        ]) {
          const [dwr, dbr, dgr, dber] = accs.map(copy);
          const [dwn, dbn, dgn, dben] = accs.map(copy);
          const [dyr, dyn] = [copy(dy), copy(dy)];
          const dxr = view(rows * inD);
          const dxn = withDx ? view(rows * inD, 2) : null;
          ref.denseLnSwishBackward(dyr, x, w, gamma, beta, z, mean, rstd, dxr, dwr, dbr, dgr, dber, rows, inD, outD);
          b.denseLnSwishBackward(dyn, x, w, gamma, beta, z, mean, rstd, dxn, withDw ? dwn : null, dbn, dgn, dben, rows, inD, outD);
          const s = `${rows}x${inD}->${outD} dx=${withDx} dw=${withDw}`;
          close(`fusedBwd dz ${s}`, dyn, dyr, "elem", 1e-5, maxAbs(rstd) * rms(dy) * maxAbs(gamma));
          // dz sums to 0 over each row (LayerNorm), so dz·Wᵀ cancels: floor at ‖|dz|·|W|ᵀ‖.
          if (dxn) close(`fusedBwd dx ${s}`, dxn, dxr, "norm", 1e-5, absProductNorm(false, true, rows, inD, outD, dyr, w));
          if (withDw) close(`fusedBwd dw ${s}`, dwn, dwr, "norm", 1e-5, absProductNorm(true, false, inD, outD, rows, x, dyr));
          close(`fusedBwd db ${s}`, dbn, dbr, "elem");
          close(`fusedBwd dgamma ${s}`, dgn, dgr, "elem");
          close(`fusedBwd dbeta ${s}`, dben, dber, "elem");
        }
      }
    });

    maybe("adamStep", (b) => {
      for (const n of [1, 17, 257, 100000]) {
        for (const step of [1, 7]) {
          const p = randn(rng, n);
          const g = randn(rng, n, 0.01);
          const m = randn(rng, n, 0.01);
          const v = randn(rng, n, 1e-4).map(Math.abs);
          const [pr, mr, vr, pn, mn, vn] = [copy(p), copy(m), copy(v), copy(p), copy(m), copy(v)];
          ref.adamStep(pr, g, mr, vr, n, 3e-4, 0.9, 0.999, 1e-8, step);
          b.adamStep(pn, g, mn, vn, n, 3e-4, 0.9, 0.999, 1e-8, step);
          close(`adam p n=${n} t=${step}`, pn, pr, "elem");
          close(`adam m n=${n} t=${step}`, mn, mr, "elem");
          close(`adam v n=${n} t=${step}`, vn, vr, "elem");
          // The update itself (p − p0), so a tiny step cannot hide behind p's magnitude.
          const dr = pr.map((x, i) => x - p[i]);
          const dn = pn.map((x, i) => x - p[i]);
          close(`adam update n=${n} t=${step}`, dn, dr, "elem", 2e-3);
        }
      }
    });

    maybe("add (also in place)", (b) => {
      for (const n of [1, 3, 17, 257, 70000]) {
        const x = randn(rng, n);
        const y = randn(rng, n);
        const [or, on] = [view(n), view(n, 1)];
        ref.add(x, y, or, n);
        b.add(x, y, on, n);
        close(`add n=${n}`, on, or, "elem", 0);
        const xin = copy(x);
        b.add(xin, y, xin, n);
        close(`add in place n=${n}`, xin, or, "elem", 0);
      }
    });
  });
}

describe("native results are bitwise identical for every thread count and run", { skip }, () => {
  // Every output element is computed by one fixed sequence of float operations whichever thread
  // runs it (column sums go through fixed row chunks), so training is reproducible under a seed
  // whatever FATHOM_THREADS is.
  test("gemm, fused layer forward/backward, LayerNorm and bias backward, Adam", () => {
    const rng = new Rng(keyFromSeed(99));
    const [rows, inD, outD] = [300, 70, 260];
    const x = randn(rng, rows * inD);
    const w = randn(rng, inD * outD, 0.1);
    const [bias, gamma, beta] = [randn(rng, outD, 0.1), randn(rng, outD, 0.1, 1), randn(rng, outD, 0.1)];
    const dy = randn(rng, rows * outD);
    const run = (threads: number): Float32Array[] => {
      const r = loadNativeBackend({ threads });
      assert.ok("backend" in r);
      const b = r.backend;
      const [z, mean, rstd, y] = [view(rows * outD), view(rows), view(rows), view(rows * outD)];
      b.denseLnSwishForward(x, w, bias, gamma, beta, z, mean, rstd, y, rows, inD, outD, 1e-6);
      const [dyc, dx, dw, db, dg, dbe] = [copy(dy), view(rows * inD), view(inD * outD).fill(0), view(outD).fill(0), view(outD).fill(0), view(outD).fill(0)];
      b.denseLnSwishBackward(dyc, x, w, gamma, beta, z, mean, rstd, dx, dw, db, dg, dbe, rows, inD, outD);
      const [lg, lb, ldx] = [view(outD).fill(0), view(outD).fill(0), view(rows * outD)];
      b.layerNormBackward(dy, z, mean, rstd, gamma, ldx, lg, lb, rows, outD);
      const bb = view(outD).fill(0);
      b.biasBackward(dy, bb, rows, outD);
      const c = view(outD * outD);
      b.gemm(true, false, outD, outD, rows, 0.5, dy, y, 0, c);
      const [p, m, v] = [copy(w), view(inD * outD).fill(0), view(inD * outD).fill(0)];
      b.adamStep(p, dw, m, v, inD * outD, 1e-3, 0.9, 0.999, 1e-8, 1);
      return [z, mean, rstd, y, dyc, dx, dw, db, dg, dbe, lg, lb, ldx, bb, c, p];
    };
    const same = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
    const base = run(1);
    for (const threads of [2, 3, 2]) {
      const other = run(threads);
      for (let i = 0; i < base.length; i++) assert.ok(same(base[i], other[i]), `output #${i} differs with ${threads} threads`);
    }
    // Workers that sleep at once (no spinning) often wake after a job's first barrier and must
    // then skip it: the results must not change, however the work was shared out.
    const spin = process.env.FATHOM_SPIN_US;
    process.env.FATHOM_SPIN_US = "0";
    try {
      loadNativeBackend({ threads: 1 }); // the pool reads FATHOM_SPIN_US when it (re)starts
      for (let rep = 0; rep < 20; rep++) {
        const other = run(3);
        for (let i = 0; i < base.length; i++) assert.ok(same(base[i], other[i]), `output #${i} differs (3 sleeping threads, run ${rep})`);
      }
    } finally {
      if (spin === undefined) delete process.env.FATHOM_SPIN_US;
      else process.env.FATHOM_SPIN_US = spin;
      loadNativeBackend({ threads: 1 });
    }
  });
});

describe("native thread pool statistics", { skip }, () => {
  test("poolStats counts the jobs run on the pool and the threads that ran them", () => {
    const r = loadNativeBackend({ threads: 2 });
    assert.ok("backend" in r);
    const a = new Float32Array(256 * 256).fill(0.5);
    const c = new Float32Array(256 * 256);
    const p0 = poolStats();
    assert.ok(p0, "the addon has no pool statistics: rebuild it (npm run build:native)");
    for (let i = 0; i < 5; i++) r.backend.gemm(false, false, 256, 256, 256, 1, a, a, 0, c); // parallel
    r.backend.gemm(false, false, 4, 4, 4, 1, a, a, 0, c); // small: the caller alone, not a pool job
    const p1 = poolStats()!;
    assert.equal(p1.jobs - p0.jobs, 5);
    assert.ok(p1.threads - p0.threads >= 5 && p1.threads - p0.threads <= 10, `${p1.threads - p0.threads} threads for 5 jobs on 2`);
    loadNativeBackend();
  });
});

describe("native argument checks", { skip }, () => {
  const nat = () => {
    const r = loadNativeBackend();
    assert.ok("backend" in r);
    return r.backend;
  };
  test("too-short arrays throw a RangeError naming the argument and the need", () => {
    const b = nat();
    const a = new Float32Array(6);
    assert.throws(() => b.gemm(false, false, 2, 3, 3, 1, a, new Float32Array(9), 0, new Float32Array(5)), {
      name: "RangeError",
      message: /gemm: c has 5 floats but needs 6/,
    });
    // A view shorter than its buffer: the view's length counts, not the buffer's.
    const big = new Float32Array(100);
    assert.throws(() => b.gemm(true, false, 3, 3, 2, 1, big.subarray(95), big, 0, big), /gemm: a has 5 floats but needs 6/);
    assert.throws(() => b.add(a, a, new Float32Array(5), 6), /add: out has 5 floats but needs 6/);
    assert.throws(
      () => b.layerNormForward(a, a, a, a, a, new Float32Array(1), 2, 3, 1e-6),
      /layerNormForward: rstd has 1 floats but needs 2/,
    );
    const f = new Float32Array(64);
    assert.throws(
      () => b.denseLnSwishBackward(f, f, f, f, f, f, f, f, new Float32Array(3), f, f, f, f, 2, 2, 4),
      /denseLnSwishBackward: dx has 3 floats but needs 4/,
    );
  });
  test("bad dimensions, types and steps throw", () => {
    const b = nat();
    const a = new Float32Array(8);
    assert.throws(() => b.add(a, a, a, -1), /add: n = -1 is not allowed/);
    assert.throws(() => b.add(a, a, a, 1.5), /add: n = 1.5 is not allowed/);
    assert.throws(() => b.add(a, new Float64Array(8) as unknown as Float32Array, a, 4), {
      name: "TypeError",
      message: /add: b must be a Float32Array/,
    });
    assert.throws(() => b.add(null as unknown as Float32Array, a, a, 4), { name: "TypeError", message: /add: a must be a Float32Array/ });
    assert.throws(() => b.adamStep(a, a, a, a, 8, 1e-3, 0.9, 0.999, 1e-8, 0), /adamStep: step = 0 is not allowed/);
  });
  test("unknown or unsupported configurations are reported, not thrown", () => {
    const r = loadNativeBackend({ simd: "sse9" as NativeOptions["simd"] });
    assert.ok("error" in r && /FATHOM_SIMD="sse9" is not allowed/.test(r.error));
    const t = loadNativeBackend({ threads: 0 });
    assert.ok("error" in t && /threads = 0 is not allowed/.test(t.error));
  });
});
