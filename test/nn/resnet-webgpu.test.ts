// The device-resident ResNet (nn/resnet-webgpu.ts) against an independent float64 forward by
// central differences (as test/nn/resnet.test.ts does for the CPU backends), and the CPU ResNet
// on the synchronous WebGPU backend against the same oracle. Skipped loudly without an adapter.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { RefBackend } from "../../src/engine/index.js";
import { gview, type WebGpuContext } from "../../src/engine/webgpu/context.js";
import { createNodeContext } from "../../src/engine/webgpu/node.js";
import { loadWebGpuBackend } from "../../src/engine/webgpu/webgpu.js";
import { declareResNetParams, GpuResNet } from "../../src/nn/resnet-webgpu.js";
import { ResNet, type ResNetConfig } from "../../src/nn/resnet.js";
import { keyFromSeed, Rng } from "../../src/random.js";
import { webgpuSkip } from "../engine/webgpu-skip.js";
import { centralDifferences, toF64 } from "./f64ref.js";

const skip = await webgpuSkip();

function randn(rng: Rng, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal() * scale);
}

/** Largest relative gradient error of (grad, dx) against float64 central differences, over sampled entries. */
function worstFdError(net: ResNet, grad: Float32Array, dx: Float32Array, x: Float32Array, R: Float32Array[], rows: number, rng: Rng): { worst: number; checked: number } {
  const ref = toF64(net);
  const x64 = Float64Array.from(x);
  const fd = centralDifferences(ref, x64, R, rows);
  let worst = 0;
  let checked = 0;
  for (const t of net.params.tensors) {
    const arr = ref.p.get(t.name)!;
    for (const i of [0, arr.length - 1, Math.floor(rng.uniform() * arr.length)]) {
      const want = fd(arr, i);
      worst = Math.max(worst, Math.abs(grad[t.offset + i] - want) / (Math.abs(want) + 1e-2));
      checked++;
    }
  }
  for (let i = 0; i < x64.length; i++) {
    const want = fd(x64, i);
    worst = Math.max(worst, Math.abs(dx[i] - want) / (Math.abs(want) + 1e-2));
  }
  return { worst, checked };
}

describe("GpuResNet parameter layout", () => {
  test("is ResNet's (names, shapes, offsets), so parameters upload as one array", () => {
    const cfg: ResNetConfig = { inDim: 5, width: 8, depth: 8, heads: [{ name: "mean", dim: 2 }, { name: "log_std", dim: 2 }], maxBatch: 4, headNorm: true };
    const cpu = new ResNet(new RefBackend(), cfg);
    const gpu = declareResNetParams(cfg).params;
    assert.deepEqual(
      gpu.tensors.map((t) => [t.name, t.shape, t.offset]),
      cpu.params.tensors.map((t) => [t.name, t.shape, t.offset]),
    );
  });
});

describe("GpuResNet backward vs float64 central differences", { skip }, () => {
  let ctx: WebGpuContext;
  const errors: string[] = [];
  before(async () => {
    ctx = await createNodeContext();
  });
  after(() => {
    console.log(`# GpuResNet vs float64, largest relative gradient error: ${errors.join(", ")}`);
    ctx?.destroy();
  });
  for (const { depth, recompute, headNorm } of [
    { depth: 0, recompute: false, headNorm: false },
    { depth: 8, recompute: false, headNorm: false },
    { depth: 8, recompute: true, headNorm: true },
  ]) {
    test(`depth ${depth}${recompute ? " with recomputation" : ""}${headNorm ? " with head LayerNorm" : ""}: parameter and input gradients`, async () => {
      const rng = new Rng(keyFromSeed(200 + depth));
      const rows = 3;
      const cfg: ResNetConfig = { inDim: 5, width: 7, depth, heads: [{ name: "a", dim: 3 }, { name: "b", dim: 2 }], maxBatch: 4, recompute, headNorm };
      const net = new ResNet(new RefBackend(), cfg);
      net.init(rng);
      for (let i = 0; i < net.params.data.length; i++) net.params.data[i] += 0.1 * rng.normal();
      const gnet = new GpuResNet(ctx, cfg);
      gnet.setParams(net.params.data);
      const x = randn(rng, rows * cfg.inDim);
      const R = cfg.heads.map((h) => randn(rng, rows * h.dim));
      const xBuf = ctx.createBuffer(x.length, "x");
      ctx.write(gview(xBuf), x);
      const rBufs = R.map((r) => {
        const b = ctx.createBuffer(r.length, "dout");
        ctx.write(gview(b), r);
        return gview(b, 0, r.length);
      });
      gnet.forward(gview(xBuf, 0, x.length), rows);
      gnet.zeroGrad();
      gnet.backward(rBufs, true);
      const [grad, dx] = await ctx.readMany([gnet.grad, { ...gnet.dInput, len: rows * cfg.inDim }]);
      const { worst, checked } = worstFdError(net, grad, dx, x, R, rows, rng);
      errors.push(`depth ${depth}${recompute ? " recompute" : ""}${headNorm ? " headNorm" : ""} ${worst.toExponential(2)}`);
      assert.ok(checked > 10);
      assert.ok(worst < 2e-3, `largest relative error ${worst} ≥ 2e-3`);
      gnet.destroy();
    });
  }
});

describe("ResNet on the synchronous WebGPU backend vs float64", { skip }, () => {
  test("depth 4: parameter and input gradients", () => {
    const r = loadWebGpuBackend();
    if ("error" in r) throw new Error(r.error);
    try {
      const rng = new Rng(keyFromSeed(300));
      const rows = 3;
      const cfg: ResNetConfig = { inDim: 5, width: 7, depth: 4, heads: [{ name: "a", dim: 3 }], maxBatch: 4 };
      const net = new ResNet(r.backend, cfg);
      net.init(rng);
      for (let i = 0; i < net.params.data.length; i++) net.params.data[i] += 0.1 * rng.normal();
      const x = randn(rng, rows * cfg.inDim);
      const R = [randn(rng, rows * 3)];
      net.forward(x, rows);
      net.params.zeroGrad();
      const dx = net.backward(R, true)!;
      const { worst } = worstFdError(net, net.params.grad, dx, x, R, rows, rng);
      console.log(`# ResNet on WebGpuBackend vs float64, largest relative gradient error: ${worst.toExponential(2)}`);
      assert.ok(worst < 2e-3, `largest relative error ${worst}`);
    } finally {
      r.backend.close();
    }
  });
});
