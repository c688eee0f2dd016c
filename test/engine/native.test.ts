// Native backend vs its ref twin (DESIGN §7): every kernel, on fresh random inputs of odd and
// even sizes, for every kernel build this CPU runs and for 1 and 3 threads (3 > cores here, so
// the pool's barriers are exercised under oversubscription). Inputs are subarray views with a
// non-zero byteOffset and guard values around them, so any out-of-bounds write is caught.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createRequire } from "node:module";
import { addonPath, loadNativeBackend, type NativeOptions, nativeBackendOver, poolStats } from "../../src/engine/native/native.js";
import { keyFromSeed, Rng } from "../../src/random.js";
import {
  adamCases,
  addCases,
  biasCases,
  denseBackwardCases,
  denseBackwardOverwriteCases,
  denseForwardCases,
  gemmCases,
  gemmEmptyCases,
  layerNormCases,
  swishCases,
} from "./kernel-cases.js";
import { loadNativeForTests, NATIVE_CONFIGS, nativeTest } from "./native-configs.js";
import { absProductNorm, close, copy, firstBitDifference, randn, view } from "./twin.js";
import { RefBackend } from "../../src/engine/ref/ref.js";
import { allocFloat32 } from "../../src/engine/alloc.js";

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
      gemmCases(
        b,
        rng,
        [
          [1, 1, 1],
          [3, 17, 5],
          [17, 3, 255],
          [255, 257, 17],
          [257, 255, 3],
          [1, 257, 257],
          [257, 1, 33],
          [64, 300, 520],
          [40, 70, 600],
        ],
        [
          [0.7, -1.3],
          [1, 0],
          [-2, 1],
        ],
      );
    });

    maybe("gemm: k = 0 scales C by beta; m or n = 0 is a no-op", (b) => {
      gemmEmptyCases(b, rng);
    });

    maybe("biasAdd and biasBackward", (b) => {
      biasCases(b, rng, [
        [1, 1],
        [3, 17],
        [257, 255],
        [300, 100],
        [2000, 9],
      ]);
    });

    maybe("layerNormForward and layerNormBackward (also in place)", (b) => {
      layerNormCases(b, rng, [
        [1, 1],
        [3, 17],
        [17, 255],
        [257, 257],
        [130, 256],
      ]);
    });

    maybe("swishForward and swishBackward (wide input range, in place)", (b) => {
      swishCases(b, rng, [1, 3, 17, 255, 257, 40000]);
    });

    maybe("denseLnSwishForward", (b) => {
      denseForwardCases(b, rng, [
        [1, 1, 1],
        [3, 17, 5],
        [17, 3, 255],
        [257, 33, 257],
        [130, 256, 256],
        [20, 600, 40],
        [2, 40, 300], // fewer row panels than threads: columns split, epilogue after a barrier
      ]);
    });

    maybe("denseLnSwishBackward (with and without dx)", (b) => {
      // outDim ≥ 3: with one or two features LayerNorm's output is constant (0, or ±1) and dz is
      // rounding noise (covered, with a floor, by the LayerNorm test above).
      denseBackwardCases(
        b,
        rng,
        [
          [1, 1, 3],
          [1, 3, 17],
          [17, 255, 3],
          [257, 33, 255],
          [130, 256, 256],
          [600, 20, 70],
          [40, 30, 300], // dx's k = outDim over one float32 block: Wᵀ packed by the dx GEMM itself
        ],
        [
          [true, true],
          [false, true],
          [true, false],
          [false, false],
        ],
      );
    });

    maybe("denseLnSwishBackward with overwrite: the gradients bit for bit as accumulated into zeros", (b) => {
      const precisions = b.bf16Unavailable() === null ? (["fp32", "bf16"] as const) : (["fp32"] as const);
      denseBackwardOverwriteCases(
        b,
        rng,
        [
          [0, 5, 7], // no rows: zeros
          [1, 3, 17],
          [17, 255, 3],
          [130, 256, 256],
          [40, 30, 300],
        ],
        precisions,
      );
    });

    maybe("denseLnSwishBackward with dx in x's buffer: dW still sees the x it was given", (b) => {
      // The dx GEMM may start before every thread has finished reading x for dW (no barrier
      // between them, when Wᵀ is packed during the row pass); with dx in x's buffer it must wait.
      // The race, if the wait were missing, needs one thread to finish dW while another has
      // claimed but not yet packed its last x panels: this checks the values, not that timing.
      const ref = new RefBackend();
      for (const [rows, n] of [
        [130, 256],
        [33, 40],
      ] as const) {
        const x = randn(rng, rows * n);
        const w = randn(rng, n * n, 0.1);
        const [bias, gamma, beta] = [randn(rng, n, 0.1), randn(rng, n, 0.1, 1), randn(rng, n, 0.1)];
        const [z, mean, rstd, y] = [view(rows * n), view(rows), view(rows), view(rows * n)];
        ref.denseLnSwishForward(x, w, bias, gamma, beta, z, mean, rstd, y, rows, n, n, 1e-6);
        const dy = randn(rng, rows * n);
        const out = (be: typeof ref) => {
          const xs = copy(x); // dx is written here
          const [dyc, dw, db, dg, dbe] = [copy(dy), view(n * n), view(n), view(n), view(n)];
          be.denseLnSwishBackward(dyc, xs, w, gamma, beta, z, mean, rstd, xs, dw, db, dg, dbe, rows, n, n, "fp32", true);
          return { dx: xs, dw, dz: dyc };
        };
        const want = out(ref);
        const got = out(b as unknown as typeof ref);
        close(`aliased dw ${rows}x${n}`, got.dw, want.dw, "norm", 1e-5, absProductNorm(true, false, n, n, rows, x, want.dz));
        close(`aliased dx ${rows}x${n}`, got.dx, want.dx, "norm", 1e-5, absProductNorm(false, true, rows, n, n, want.dz, w));
      }
    });

    maybe("adamStep", (b) => {
      adamCases(b, rng, [1, 17, 257, 100000]);
    });

    maybe("add (also in place)", (b) => {
      addCases(b, rng, [1, 3, 17, 257, 70000]);
    });
  });
}

test("an addon built before `overwrite` (it accumulates whatever it is given): the backend zeroes the gradients for it", { skip }, () => {
  // The built addon stands in for an older one: its info() without gradOverwrite, and its
  // denseLnSwishBackward called without the flag, as an addon that does not know it would run.
  const real = createRequire(import.meta.url)(addonPath()) as Record<string, (...a: unknown[]) => unknown>;
  loadNativeBackend({ threads: 1 }); // configures the addon
  const old: Record<string, unknown> = {};
  for (const k of Object.getOwnPropertyNames(real)) old[k] = real[k];
  old.info = () => ({ ...(real.info() as object), gradOverwrite: undefined });
  old.denseLnSwishBackward = (...a: unknown[]) => real.denseLnSwishBackward(...a.slice(0, 17));
  const b = nativeBackendOver(old);
  denseBackwardOverwriteCases(b, new Rng(keyFromSeed(77)), [
    [9, 20, 33],
    [0, 5, 7],
  ]);
  // and the stand-in is faithful: without the backend's zeroing, NaN buffers stay NaN
  const dw = new Float32Array(4).fill(Number.NaN);
  const [db, dg, dbe] = [new Float32Array(2), new Float32Array(2), new Float32Array(2)];
  (old.denseLnSwishBackward as (...a: unknown[]) => void)(new Float32Array(2), new Float32Array(2), new Float32Array(4), new Float32Array(2).fill(1), new Float32Array(2), new Float32Array(2), new Float32Array(1), new Float32Array(1).fill(1), null, dw, db, dg, dbe, 1, 2, 2, false, true);
  assert.ok(Number.isNaN(dw[0]), "the stand-in addon ignores overwrite");
});

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
    const same = (a: Float32Array, b: Float32Array) => firstBitDifference(a, b) < 0;
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

describe("native aligned buffers (allocFloat32)", { skip }, () => {
  test("views start at the 64-byte boundary alignOffset reports, hold n zeros, and give bitwise the results of misaligned arrays", () => {
    const r = loadNativeBackend({ threads: 2 });
    assert.ok("backend" in r);
    const be = r.backend;
    const addon = createRequire(import.meta.url)(addonPath()) as { alignOffset(b: ArrayBuffer): number };
    for (const n of [0, 1, 17, 256 * 256 + 3]) {
      const a = allocFloat32(be, n);
      assert.equal(a.length, n);
      assert.ok(a.every((v) => v === 0));
      assert.equal(a.byteOffset, addon.alignOffset(a.buffer as ArrayBuffer), `n = ${n}: the view does not start at the buffer's 64-byte boundary`);
      assert.ok(a.byteOffset >= 0 && a.byteOffset < 64 && a.byteOffset % 4 === 0);
    }
    // a plain large Float32Array: its data starts wherever malloc put it (16 past a page boundary on glibc)
    // (malloc returns 16-byte-aligned memory, so the distance to the next 64-byte boundary of a
    // plain buffer is a multiple of 16: a check of alignOffset that does not go through it)
    const plain = new Float32Array(1 << 20);
    const off = addon.alignOffset(plain.buffer);
    assert.ok(off >= 0 && off < 64 && off % 16 === 0, `alignOffset ${off}`);
    // The same fused layer on an aligned and a misaligned (by 16 bytes) copy of every operand:
    // alignment changes which loads split cache lines, never a value.
    const [rows, inD, outD] = [37, 256, 256];
    const rng = new Rng(keyFromSeed(42));
    const src = { x: randn(rng, rows * inD), w: randn(rng, inD * outD, 1 / 16), b: randn(rng, outD, 0.1), g: randn(rng, outD, 0.1).map((v) => v + 1), bb: randn(rng, outD, 0.1) };
    const run = (mk: (n: number) => Float32Array, precision: "fp32" | "bf16") => {
      const c = (v: Float32Array) => {
        const o = mk(v.length);
        o.set(v);
        return o;
      };
      const [x, w, b, g, bb] = [c(src.x), c(src.w), c(src.b), c(src.g), c(src.bb)];
      const [z, mean, rstd, y] = [mk(rows * outD), mk(rows), mk(rows), mk(rows * outD)];
      be.denseLnSwishForward(x, w, b, g, bb, z, mean, rstd, y, rows, inD, outD, 1e-6, precision);
      const [dx, dw, db, dg, dbb] = [mk(rows * inD), mk(inD * outD), mk(outD), mk(outD), mk(outD)];
      const dy = c(y);
      be.denseLnSwishBackward(dy, x, w, g, bb, z, mean, rstd, dx, dw, db, dg, dbb, rows, inD, outD, precision, true);
      return [z, y, mean, rstd, dx, dw, db, dg, dbb];
    };
    for (const precision of be.bf16Unavailable() === null ? (["fp32", "bf16"] as const) : (["fp32"] as const)) {
      const A = run((n) => allocFloat32(be, n), precision);
      const M = run((n) => {
        const buf = new ArrayBuffer(4 * n + 128);
        return new Float32Array(buf, addon.alignOffset(buf) + 16, n); // 16 bytes past a boundary
      }, precision);
      for (let i = 0; i < A.length; i++) assert.equal(firstBitDifference(A[i], M[i]), -1, `${precision}: output #${i} differs between aligned and misaligned operands`);
    }
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
