import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Backend } from "../../src/engine/backend.js";
import { getBackend, RefBackend } from "../../src/engine/index.js";
import { Adam } from "../../src/nn/adam.js";
import { ResNet } from "../../src/nn/resnet.js";
import { keyFromSeed, Rng } from "../../src/random.js";
import { firstBitDifference } from "../engine/twin.js";
import { gradientsWithOracle } from "./f64ref.js";

function backends(): Backend[] {
  const out: Backend[] = [new RefBackend()];
  const auto = getBackend("auto");
  if (auto.name !== "ref") out.push(auto);
  return out;
}

function randn(rng: Rng, n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * scale;
  return a;
}

/** Randomises LayerNorm and bias parameters too, so their gradients are not trivially special. */
function perturbAll(net: ResNet, rng: Rng): void {
  const d = net.params.data;
  for (let i = 0; i < d.length; i++) d[i] += 0.1 * rng.normal();
}

describe("ResNet configuration", () => {
  const be = new RefBackend();
  test("depth not a multiple of 4 is rejected with the allowed values", () => {
    assert.throws(() => new ResNet(be, { inDim: 3, width: 8, depth: 6, heads: [{ name: "out", dim: 2 }], maxBatch: 4 }), /multiple of 4.*got 6.*try 4 or 8/);
  });
  test("width < 1 and bad input shapes are rejected", () => {
    assert.throws(() => new ResNet(be, { inDim: 3, width: 0, depth: 4, heads: [{ name: "out", dim: 2 }], maxBatch: 4 }), /width must be an integer >= 1/);
    const net = new ResNet(be, { inDim: 3, width: 8, depth: 4, heads: [{ name: "out", dim: 2 }], maxBatch: 4 });
    assert.throws(() => net.forward(new Float32Array(5), 2), /expected batch × inDim = 2 × 3 = 6/);
    assert.throws(() => net.forward(new Float32Array(30), 5), /batch size must be an integer in \[1, 4\]/);
  });
  test("parameter names and shapes are the documented ones", () => {
    const net = new ResNet(be, { inDim: 5, width: 8, depth: 8, heads: [{ name: "mean", dim: 2 }, { name: "log_std", dim: 2 }], maxBatch: 4 });
    const names = net.params.tensors.map((t) => `${t.name}:${t.shape.join("x")}`);
    assert.ok(names.includes("input.dense.weight:5x8"));
    assert.ok(names.includes("blocks.1.dense.3.weight:8x8"));
    assert.ok(names.includes("blocks.0.norm.2.scale:8"));
    assert.ok(names.includes("head.log_std.weight:8x2"));
    assert.equal(net.params.tensors.length, 4 + 2 * 4 * 4 + 4);
  });
});

describe("ResNet init (SPEC §2)", () => {
  test("kernels uniform in ±1/sqrt(fan_in) with the right variance, biases 0, LN scale 1", () => {
    const net = new ResNet(new RefBackend(), { inDim: 40, width: 64, depth: 4, heads: [{ name: "out", dim: 16 }], maxBatch: 2 });
    net.init(new Rng(keyFromSeed(3)));
    for (const t of net.params.tensors) {
      const v = net.params.view(t);
      if (t.name.endsWith("norm.0.scale") || t.name === "input.norm.scale") assert.ok(v.every((x) => x === 1), t.name);
      else if (t.name.endsWith(".bias")) assert.ok(v.every((x) => x === 0), t.name);
      else if (t.name.endsWith(".weight")) {
        const lim = 1 / Math.sqrt(t.shape[0]);
        let s2 = 0;
        for (const x of v) {
          assert.ok(Math.abs(x) <= lim, `${t.name} value ${x} beyond ${lim}`);
          s2 += x * x;
        }
        const varExpected = (lim * lim) / 3;
        assert.ok(Math.abs(s2 / v.length / varExpected - 1) < 0.1, `${t.name} variance ${s2 / v.length} vs ${varExpected}`);
      }
    }
  });
});

for (const be of backends()) {
  describe(`ResNet backward vs float64 central differences [${be.name}]`, () => {
    for (const { depth, recompute, headNorm } of [
      { depth: 0, recompute: false, headNorm: false },
      { depth: 4, recompute: false, headNorm: false },
      { depth: 8, recompute: false, headNorm: false },
      { depth: 8, recompute: true, headNorm: false },
      { depth: 8, recompute: false, headNorm: true },
      { depth: 4, recompute: true, headNorm: true },
    ]) {
      test(`depth ${depth}${recompute ? " with recomputation" : ""}${headNorm ? " with head LayerNorm" : ""}: parameter and input gradients`, () => {
        const rng = new Rng(keyFromSeed(100 + depth));
        const rows = 3;
        const inDim = 5;
        const width = 7;
        const heads = [
          { name: "a", dim: 3 },
          { name: "b", dim: 2 },
        ];
        const net = new ResNet(be, { inDim, width, depth, heads, maxBatch: 4, recompute, headNorm });
        net.init(rng);
        perturbAll(net, rng);
        const x = randn(rng, rows * inDim);
        const R = heads.map((h) => randn(rng, rows * h.dim)); // L = Σ_k Σ out_k ⊙ R_k
        const { dx, ref, x64, fd } = gradientsWithOracle(net, x, R, rows);
        let checked = 0;
        let worst = 0;
        for (const t of net.params.tensors) {
          const arr = ref.p.get(t.name)!;
          const g = net.params.gradView(t);
          const idx = [0, arr.length - 1, Math.floor(rng.uniform() * arr.length)];
          for (const i of idx) {
            const want = fd(arr, i);
            const err = Math.abs(g[i] - want) / (Math.abs(want) + 1e-2);
            worst = Math.max(worst, err);
            assert.ok(err < 2e-3, `${t.name}[${i}]: backward ${g[i]} vs finite difference ${want}`);
            checked++;
          }
        }
        for (let i = 0; i < x64.length; i++) {
          const want = fd(x64, i);
          assert.ok(Math.abs(dx[i] - want) / (Math.abs(want) + 1e-2) < 2e-3, `dx[${i}]: backward ${dx[i]} vs finite difference ${want}`);
        }
        assert.ok(checked > 10);
      });
    }
  });
}

describe("ResNet recomputation", () => {
  test("gives the same gradients as the cached backward", () => {
    const be = getBackend("auto");
    const mk = (recompute: boolean) => {
      const net = new ResNet(be, { inDim: 6, width: 16, depth: 12, heads: [{ name: "o", dim: 4 }], maxBatch: 8, recompute });
      net.init(new Rng(keyFromSeed(9)));
      return net;
    };
    const a = mk(false);
    const b = mk(true);
    const rng = new Rng(keyFromSeed(10));
    const x = randn(rng, 8 * 6);
    const d = randn(rng, 8 * 4);
    a.forward(x, 8);
    b.forward(x, 8);
    a.params.zeroGrad();
    b.params.zeroGrad();
    const dxa = Float32Array.from(a.backward([d], true)!);
    const dxb = b.backward([d], true)!;
    assert.deepEqual(Array.from(b.params.grad), Array.from(a.params.grad));
    assert.deepEqual(Array.from(dxb), Array.from(dxa));
    assert.ok(b.activationBytes < a.activationBytes);
  });
});

describe("ResNet input gradient without parameter gradients", () => {
  test("backward(…, paramGrads = false) gives the same input gradient", () => {
    for (const be of backends()) {
      const net = new ResNet(be, { inDim: 5, width: 24, depth: 8, heads: [{ name: "o", dim: 3 }], maxBatch: 16 });
      net.init(new Rng(keyFromSeed(21)));
      const rng = new Rng(keyFromSeed(22));
      const x = randn(rng, 16 * 5);
      const d = randn(rng, 16 * 3);
      net.forward(x, 16);
      net.params.zeroGrad();
      const full = Float32Array.from(net.backward([Float32Array.from(d)], true)!);
      net.forward(x, 16);
      const only = net.backward([Float32Array.from(d)], true, false)!;
      assert.deepEqual(Array.from(only), Array.from(full), be.name);
    }
  });
});

describe("ResNet backward with overwrite", () => {
  test("writes every gradient entry: bit for bit what zeroGrad() and an accumulating backward give", () => {
    for (const be of backends()) {
      for (const opts of [
        { headNorm: false, recompute: false, nullHead: false },
        { headNorm: true, recompute: false, nullHead: true },
        { headNorm: true, recompute: true, nullHead: false },
      ]) {
        const mk = () => {
          const net = new ResNet(be, {
            inDim: 5,
            width: 24,
            depth: 8,
            heads: [
              { name: "a", dim: 3 },
              { name: "b", dim: 2 },
            ],
            maxBatch: 16,
            headNorm: opts.headNorm,
            recompute: opts.recompute,
          });
          net.init(new Rng(keyFromSeed(31)));
          perturbAll(net, new Rng(keyFromSeed(32)));
          return net;
        };
        const rng = new Rng(keyFromSeed(33));
        const x = randn(rng, 16 * 5);
        const dOut = [randn(rng, 16 * 3), opts.nullHead ? null : randn(rng, 16 * 2)];
        const acc = mk();
        acc.forward(x, 16);
        acc.params.zeroGrad();
        const dxAcc = Float32Array.from(acc.backward(dOut.map((d) => d && Float32Array.from(d)), true)!);
        const ow = mk();
        ow.forward(x, 16);
        ow.params.grad.fill(Number.NaN); // nothing may be read, everything must be written
        const dxOw = ow.backward(dOut.map((d) => d && Float32Array.from(d)), true, true, true)!;
        const label = `${be.name} ${JSON.stringify(opts)}`;
        const i = firstBitDifference(acc.params.grad, ow.params.grad);
        if (i >= 0) assert.fail(`${label}: gradient #${i} is ${ow.params.grad[i]}, accumulated ${acc.params.grad[i]}`);
        assert.deepEqual(Array.from(dxOw), Array.from(dxAcc), label);
      }
    }
  });
});

describe("ResNet + Adam fit a regression target", () => {
  test("loss falls by at least 10x in 300 steps", () => {
    const be = getBackend("auto");
    const rng = new Rng(keyFromSeed(42));
    const B = 64;
    const inDim = 4;
    const net = new ResNet(be, { inDim, width: 32, depth: 8, heads: [{ name: "y", dim: 2 }], maxBatch: B });
    net.init(rng);
    const adam = new Adam(be, net.params, { lr: 1e-3 });
    const x = randn(rng, B * inDim);
    const y = new Float32Array(B * 2); // a smooth nonlinear target
    for (let r = 0; r < B; r++) {
      const a = x[r * inDim];
      const b = x[r * inDim + 1];
      const c = x[r * inDim + 2];
      y[r * 2] = Math.sin(a) + 0.5 * b * c;
      y[r * 2 + 1] = Math.tanh(b - c) + 0.3 * a * a;
    }
    const grad = new Float32Array(B * 2);
    const lossAt = () => {
      const [out] = net.forward(x, B);
      let l = 0;
      for (let i = 0; i < out.length; i++) {
        const e = out[i] - y[i];
        l += e * e;
        grad[i] = (2 * e) / out.length;
      }
      return l / out.length;
    };
    const first = lossAt();
    let last = first;
    for (let s = 0; s < 300; s++) {
      last = lossAt();
      net.params.zeroGrad();
      net.backward([grad]);
      adam.update();
    }
    last = lossAt();
    assert.ok(Number.isFinite(last));
    assert.ok(first / last >= 10, `loss went from ${first} to ${last} (ratio ${first / last})`);
  });
});

describe("ResNet head options", () => {
  test("initScale multiplies a head's init range (0 = zero head, 1 = the default draws)", () => {
    const mk = (initScale?: number) => {
      const net = new ResNet(backends()[0], { inDim: 4, width: 8, depth: 4, heads: [{ name: "m", dim: 3 }, { name: "s", dim: 3, initScale }], maxBatch: 2 });
      net.init(new Rng(keyFromSeed(5)));
      return net;
    };
    const base = mk();
    const v = (net: ResNet, name: string) => net.params.view(net.params.tensors.find((t) => t.name === name)!);
    assert.deepEqual(v(mk(1), "head.s.weight"), v(base, "head.s.weight"));
    const scaled = v(mk(0.01), "head.s.weight");
    const ref = v(base, "head.s.weight");
    for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(scaled[i] - 0.01 * ref[i]) < 1e-9);
    assert.ok(v(mk(0), "head.s.weight").every((x) => x === 0));
    assert.deepEqual(v(mk(0), "head.m.weight"), v(base, "head.m.weight"));
    assert.throws(() => mk(-1), /initScale must be a finite number >= 0/);
  });
  test("headNorm keeps the head outputs O(1) at depth 256 (the unnormalised stream grows with depth)", () => {
    const rms = (headNorm: boolean) => {
      const rng = new Rng(keyFromSeed(9));
      const net = new ResNet(backends()[0], { inDim: 6, width: 32, depth: 256, heads: [{ name: "o", dim: 2 }], maxBatch: 64, headNorm });
      net.init(rng);
      const [y] = net.forward(randn(rng, 64 * 6), 64);
      let s = 0;
      for (const t of y) s += t * t;
      return Math.sqrt(s / y.length);
    };
    // Head output rms ≈ |stream| · |w| : without the norm it grows with depth, with it stays O(1).
    const plain = rms(false);
    const normed = rms(true);
    assert.ok(plain > 3, `head output rms without the norm ${plain} (≈ 9 measured at depth 256)`);
    assert.ok(normed < 1.5, `head output rms with the norm ${normed}`);
  });
});
