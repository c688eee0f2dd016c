// The CRL update as a sequence of kernels (issue 12 §2): every gradient is checked before any
// optimiser applies one; the composite kernels (gradient norms, the contrastive block, the
// tanh-Gaussian) of the backend give the same update as the shared TypeScript ones; and the
// metrics' gradient norms are those of the gradients. (Allocation: crl-alloc.test.ts.)
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CRLAgent, type CRLMetrics, NonFiniteError } from "../../src/agents/crl.js";
import type { Backend } from "../../src/engine/backend.js";
import { loadNativeBackend } from "../../src/engine/native/native.js";
import { RefBackend } from "../../src/engine/ref/ref.js";
import { keyFromSeed, Rng } from "../../src/random.js";

const dims = { stateDim: 5, goalDim: 2, actionDim: 3 };
const cfg = { actorDepth: 4, criticDepth: 4, actorWidth: 32, criticWidth: 32, reprDim: 16, batchSize: 16 };
const native = loadNativeBackend();
const noNative = "error" in native ? `native addon not available (${native.error})` : false;

function batch(seed: number, B = cfg.batchSize) {
  const rng = new Rng(keyFromSeed(seed));
  const f = (n: number, s = 1) => Float32Array.from({ length: n }, () => s * rng.normal());
  return { state: f(B * dims.stateDim), action: f(B * dims.actionDim, 0.5).map(Math.tanh), goal: f(B * dims.goalDim) };
}

/** Everything an update may change: parameters, Adam moments and steps of the three networks, α and its Adam state. */
function snapshot(a: CRLAgent): string {
  const parts: number[][] = [];
  for (const [net, opt] of [
    [a.actor, a.actorOpt],
    [a.saEncoder, a.saOpt],
    [a.goalEncoder, a.goalOpt],
  ] as const) {
    parts.push(Array.from(net.params.data), Array.from(opt.m), Array.from(opt.v), [opt.step]);
  }
  const s = a.stateTensors();
  parts.push(Array.from(s.get("alpha.state")!.data)); // log α, its Adam moments and step, updates
  return JSON.stringify(parts);
}

/** A ref backend whose fused-layer backward poisons one gradient entry of the network whose gradients live in `target`. */
function poisoning(): { be: Backend; target: { grad: Float32Array | null } } {
  const be = new RefBackend();
  const target: { grad: Float32Array | null } = { grad: null };
  const inner = be.denseLnSwishBackward.bind(be);
  be.denseLnSwishBackward = (...args: Parameters<Backend["denseLnSwishBackward"]>) => {
    inner(...args);
    const db = args[10];
    if (target.grad && db.buffer === target.grad.buffer) db[0] = Number.NaN;
  };
  return { be, target };
}

describe("a non-finite gradient leaves every network and α as they were", () => {
  for (const which of ["saEncoder", "goalEncoder", "actor"] as const) {
    test(`a NaN in the ${which}'s gradient: NonFiniteError, and no parameter, Adam state or α changed`, () => {
      const { be, target } = poisoning();
      const agent = new CRLAgent(be, dims, cfg, keyFromSeed(1));
      agent.update(batch(2).state, batch(2).action, batch(2).goal); // Adam states are not zero
      const before = snapshot(agent);
      target.grad = agent[which].params.grad;
      const b = batch(3);
      assert.throws(
        () => agent.update(b.state, b.action, b.goal),
        (e: unknown) => e instanceof NonFiniteError && e.loss.endsWith("gradient") && e.network.includes(which === "actor" ? "actor" : "critic"),
      );
      assert.equal(snapshot(agent), before, "the failed update changed something");
      assert.equal(agent.updates, 1);
      // and the agent still trains once the gradient is finite again
      target.grad = null;
      const m = agent.update(b.state, b.action, b.goal);
      assert.ok(Number.isFinite(m.critic_loss));
      assert.equal(agent.updates as number, 2);
    });
  }
});

function maxRel(a: CRLMetrics, b: CRLMetrics): [string, number] {
  let worst: [string, number] = ["", 0];
  for (const k of Object.keys(a) as (keyof CRLMetrics)[]) {
    const e = Math.abs(a[k] - b[k]) / Math.max(Math.abs(b[k]), 1e-6);
    if (e > worst[1]) worst = [k, e];
  }
  return worst;
}

describe("the backend's composite kernels give the update of the TypeScript ones", () => {
  test("ref: its kernels are the TypeScript ones, so the updates are bitwise equal", () => {
    const be = new RefBackend();
    const a = new CRLAgent(be, dims, cfg, keyFromSeed(4));
    const t = new CRLAgent(be, dims, cfg, keyFromSeed(4), 0, { compositeKernels: "typescript" });
    assert.equal(a.kernels.where.contrastiveLoss, "ref");
    assert.equal(t.kernels.where.contrastiveLoss, "ts");
    for (let i = 0; i < 3; i++) {
      const b = batch(10 + i);
      assert.deepEqual(a.update(b.state, b.action, b.goal), t.update(b.state, b.action, b.goal));
    }
    assert.deepEqual(a.saEncoder.params.data, t.saEncoder.params.data);
  });
  test("native: every metric within 1e-4 (relative) over 5 updates, for each energy and loss", { skip: noNative }, () => {
    assert.ok("backend" in native);
    const be = native.backend;
    for (const [energyFn, contrastiveLoss, tanhLogDet] of [
      ["norm", "fwd_infonce", "reference"],
      ["l2", "sym_infonce", "exact"],
      ["cosine", "bwd_infonce", "exact"],
      ["dot", "binary_nce", "reference"],
    ] as const) {
      const c = { ...cfg, energyFn, contrastiveLoss, tanhLogDet };
      const a = new CRLAgent(be, dims, c, keyFromSeed(5));
      const t = new CRLAgent(be, dims, c, keyFromSeed(5), 0, { compositeKernels: "typescript" });
      assert.equal(a.kernels.where.pairwiseEnergy, "native");
      for (let i = 0; i < 5; i++) {
        const b = batch(20 + i);
        const [k, e] = maxRel(a.update(b.state, b.action, b.goal), t.update(b.state, b.action, b.goal));
        assert.ok(e < 1e-4, `${energyFn}/${contrastiveLoss}, update ${i}: ${k} differs by ${e.toExponential(2)}`);
      }
    }
  });
});

describe("gradient norms come from the kernel and are the gradients' norms", () => {
  for (const [name, be] of [
    ["ref", new RefBackend()],
    ["native", "backend" in native ? native.backend : null],
  ] as const) {
    test(`${name}: grad_norm_* = ‖params.grad‖ in float64`, { skip: be ? false : noNative }, () => {
      const agent = new CRLAgent(be!, dims, cfg, keyFromSeed(6));
      const b = batch(7);
      const m = agent.update(b.state, b.action, b.goal);
      for (const [k, net] of [
        ["grad_norm_actor", agent.actor],
        ["grad_norm_sa_encoder", agent.saEncoder],
        ["grad_norm_goal_encoder", agent.goalEncoder],
      ] as const) {
        let s = 0;
        for (const g of net.params.grad) s += g * g;
        assert.ok(Math.sqrt(s) > 0);
        assert.ok(Math.abs(m[k] - Math.sqrt(s)) <= 1e-12 * Math.sqrt(s), `${k}: ${m[k]} vs ${Math.sqrt(s)}`);
      }
    });
  }
});
