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
import { close, randn, view, worstErrors as worst } from "./twin.js";
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
    gemmCases(
      b,
      rng,
      [
        [1, 1, 1],
        [3, 17, 5],
        [17, 3, 255],
        [65, 63, 17],
        [130, 67, 33],
        [1, 129, 70],
      ],
      [
        [0.7, -1.3],
        [1, 0],
      ],
    );
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
    gemmEmptyCases(b, rng);
  });

  test("biasAdd and biasBackward", () => {
    biasCases(b, rng, [
      [1, 1],
      [3, 17],
      [257, 255],
      [2000, 9],
    ]);
  });

  test("layerNormForward and layerNormBackward (also in place)", () => {
    layerNormCases(b, rng, [
      [1, 1],
      [3, 17],
      [17, 255],
      [130, 256],
    ]);
  });

  test("swishForward and swishBackward (wide input range, in place)", () => {
    swishCases(b, rng, [1, 17, 257, 40000]);
  });

  test("denseLnSwishForward", () => {
    denseForwardCases(b, rng, [
      [1, 1, 1],
      [3, 17, 5],
      [17, 3, 255],
      [130, 256, 256],
      [20, 600, 40],
    ]);
  });

  test("denseLnSwishBackward (with and without dx, dw)", () => {
    denseBackwardCases(
      b,
      rng,
      [
        [1, 1, 3],
        [17, 255, 3],
        [130, 256, 256],
        [600, 20, 70],
      ],
      [
        [true, true],
        [false, false],
      ],
    );
  });

  test("denseLnSwishBackward with overwrite: the gradients as accumulated into zeros", () => {
    denseBackwardOverwriteCases(b, rng, [
      [1, 3, 17],
      [33, 20, 70],
    ]);
  });

  test("adamStep", () => {
    adamCases(b, rng, [1, 257, 100000]);
  });

  test("add (also in place)", () => {
    addCases(b, rng, [1, 17, 70000]);
  });

  test("short arrays are refused with the argument named", () => {
    assert.throws(() => b.gemm(false, false, 2, 2, 2, 1, view(3), view(4), 0, view(4)), /gemm: a has 3 values, needs 4/);
    assert.throws(() => b.add(view(2), view(3), view(3), 3), /add: a has 2 values, needs 3/);
  });
});
