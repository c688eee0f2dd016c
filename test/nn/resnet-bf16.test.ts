// The ResNet's gradient with precision bf16 (bf16 GEMM operands in the residual blocks, fp32
// accumulation; nn/resnet.ts) against float64 central differences of an independent float64
// forward (f64ref.ts), tensor by tensor, norm-wise:
//   ‖g_bf16 − g_f64‖ / ‖g_f64‖ ≤ 4·u·sqrt(2·depth + 1),   u = 2^-8.
// Why: rounding both operands of a GEMM to bf16 perturbs each output by a sum of K independent
// mean-zero errors, σ ≤ sqrt(2/3)·u·sqrt(Σ (a·b)²) (test/engine/bf16.test.ts), i.e. a norm-wise
// relative error of ≈ 0.82·u for products whose terms have random signs. A parameter's gradient
// depends on at most 2·depth + 1 such GEMMs (the depth block layers' forward GEMMs, the dx GEMMs
// of the layers after it, its own dW GEMM); LayerNorm rescales every layer's output, so each
// error reaches the gradient with a gain of about one and they add in quadrature:
// ≈ 0.82·u·sqrt(2·depth + 1) (measured here: 0.3–1.5 % at depth 4, 2.0 % at depth 8). The bound
// allows ≈ 5× that. A wrong layout or a dropped product gives errors of order 1. The float32 path
// stays ~1e-6 from the same oracle (resnet.test.ts), so the test also checks that bf16 was used.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import type { Backend } from "../../src/engine/backend.js";
import { loadNativeBackend } from "../../src/engine/native/native.js";
import { RefBackend } from "../../src/engine/ref/ref.js";
import { ResNet } from "../../src/nn/resnet.js";
import { keyFromSeed, Rng } from "../../src/random.js";
import { gradientsWithOracle } from "./f64ref.js";

const U = 2 ** -8;

const probe = loadNativeBackend({ simd: "auto" });
const why = "error" in probe ? `the native addon is not available (${probe.error})` : probe.backend.bf16Unavailable();
const skip = why === null ? false : `no bf16 GEMMs here: ${why}`;
if (skip) console.error(`\n*** SKIPPED: the ResNet bf16 gradient test (${skip}) ***\n`);

after(() => {
  if (!("error" in probe)) loadNativeBackend(); // back to the environment's configuration
});

test("a ResNet asked for bf16 on kernels without it refuses to build (callers resolve the precision first)", { skip: "error" in probe && "no native addon" }, () => {
  const r = loadNativeBackend({ simd: "generic" });
  assert.ok("backend" in r);
  const config = { inDim: 3, width: 8, depth: 4, heads: [{ name: "out", dim: 2 }], maxBatch: 2 };
  assert.throws(() => new ResNet(r.backend, { ...config, precision: "bf16" }), /precision bf16 needs a backend that runs bf16 GEMMs; native \(generic, \d+ threads?\) cannot \(.+\): use precision fp32/);
  new ResNet(r.backend, { ...config, precision: "fp32" });
});

describe("ResNet gradient with bf16 GEMMs vs float64 central differences", { skip }, () => {
  for (const { width, depth, rows, recompute, headNorm } of [
    { width: 33, depth: 4, rows: 6, recompute: false, headNorm: true },
    { width: 17, depth: 8, rows: 5, recompute: true, headNorm: false },
  ]) {
    test(`width ${width}, depth ${depth}, batch ${rows}${recompute ? ", recomputation" : ""}${headNorm ? ", head LayerNorm" : ""}: every parameter and the input`, (t) => {
      const r = loadNativeBackend({ simd: "auto", threads: 2 });
      assert.ok("backend" in r);
      const inDim = 5;
      const heads = [
        { name: "a", dim: 3 },
        { name: "b", dim: 2 },
      ];
      const rng = new Rng(keyFromSeed(40 + depth));
      const net = new ResNet(r.backend, { inDim, width, depth, heads, maxBatch: rows, recompute, headNorm, precision: "bf16" });
      net.init(rng);
      const d = net.params.data;
      for (let i = 0; i < d.length; i++) d[i] += 0.1 * rng.normal(); // LayerNorm and biases not special
      const x = Float32Array.from({ length: rows * inDim }, () => rng.normal());
      const R = heads.map((h) => Float32Array.from({ length: rows * h.dim }, () => rng.normal())); // L = Σ_k Σ out_k ⊙ R_k
      const { dx, ref, x64, fd } = gradientsWithOracle(net, x, R, rows);
      const bound = 4 * U * Math.sqrt(2 * depth + 1);
      const relErr = (got: Float32Array, arr: Float64Array) => {
        let num = 0;
        let den = 0;
        for (let i = 0; i < arr.length; i++) {
          const want = fd(arr, i);
          num += (got[i] - want) ** 2;
          den += want ** 2;
        }
        return Math.sqrt(num / den);
      };
      let worst = 0;
      let blockMin = Number.POSITIVE_INFINITY;
      for (const t of net.params.tensors) {
        const e = relErr(net.params.gradView(t), ref.p.get(t.name)!);
        assert.ok(e <= bound, `${t.name}: relative error ${e.toExponential(2)} > ${bound.toExponential(2)}`);
        worst = Math.max(worst, e);
        if (t.name.startsWith("blocks.")) blockMin = Math.min(blockMin, e);
      }
      const ex = relErr(dx, x64);
      assert.ok(ex <= bound, `input gradient: relative error ${ex.toExponential(2)} > ${bound.toExponential(2)}`);
      // bf16 operands were used (float32 ones give ~1e-6 here)
      assert.ok(blockMin > U / 16, `block gradients within ${blockMin.toExponential(2)} of float64: looks like float32`);
      t.diagnostic(`ResNet bf16 gradient, width ${width} depth ${depth}: worst tensor ${worst.toExponential(2)}, input ${ex.toExponential(2)} (bound ${bound.toExponential(2)})`);
    });
  }
});

describe("bf16 activations between a block's units (bf16Activations)", { skip }, () => {
  // The GEMMs that read a unit's output round it to bf16 anyway, so keeping it as bf16 rows
  // changes no value: outputs, every gradient and the input gradient are bitwise those of the same
  // network with float32 activations, for odd widths (rows padded to pairs), batches that leave a
  // partial row panel, recomputation, and on the ref twin as on native.
  const hide = (be: Backend): Backend => new Proxy(be, { get: (t, k) => (k === "bf16Activations" ? false : Reflect.get(t, k, t)) });
  const run = (be: Backend, cfg: { width: number; depth: number; rows: number; recompute: boolean }) => {
    const heads = [{ name: "out", dim: 3 }];
    const net = new ResNet(be, { inDim: 5, width: cfg.width, depth: cfg.depth, heads, maxBatch: cfg.rows + 3, recompute: cfg.recompute, precision: "bf16" });
    const rng = new Rng(keyFromSeed(7 + cfg.width));
    net.init(rng);
    const d = net.params.data;
    for (let i = 0; i < d.length; i++) d[i] += 0.1 * rng.normal();
    const x = Float32Array.from({ length: cfg.rows * 5 }, () => rng.normal());
    const R = Float32Array.from({ length: cfg.rows * 3 }, () => rng.normal());
    const out = Float32Array.from(net.forward(x, cfg.rows)[0]);
    const dx = Float32Array.from(net.backward([R], true, true, true)!);
    return { net, out, dx, grad: Float32Array.from(net.params.grad) };
  };
  const same = (a: Float32Array, b: Float32Array) => a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
  for (const cfg of [
    { width: 33, depth: 8, rows: 13, recompute: false },
    { width: 64, depth: 4, rows: 40, recompute: true },
    { width: 256, depth: 4, rows: 37, recompute: false },
  ]) {
    test(`width ${cfg.width}, depth ${cfg.depth}, batch ${cfg.rows}${cfg.recompute ? ", recomputation" : ""}: bitwise the float32-activation network, native and ref`, () => {
      const r = loadNativeBackend({ simd: "auto", threads: 2 });
      assert.ok("backend" in r);
      for (const be of [r.backend, new RefBackend()]) {
        const a = run(be, cfg);
        const b = run(hide(be), cfg);
        assert.equal(a.net.bf16Activations, true, `${be.describe()}: the activations are not bf16 rows`);
        assert.equal(b.net.bf16Activations, false);
        assert.ok(a.net.activationBytes < b.net.activationBytes, "bf16 rows take less memory");
        assert.ok(same(a.out, b.out), `${be.describe()}: outputs differ`);
        assert.ok(same(a.grad, b.grad), `${be.describe()}: parameter gradients differ`);
        assert.ok(same(a.dx, b.dx), `${be.describe()}: input gradients differ`);
      }
    });
  }
});
