// GCBC (agents/gcbc.ts): its loss against hand-computed values and finite differences, the actor's
// gradient through the network against finite differences, acting, and checkpoints.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { GCBCAgent, gcbcLoss } from "../../src/agents/gcbc.js";
import { RefBackend } from "../../src/engine/ref/ref.js";
import { decodeSafetensors, encodeSafetensors } from "../../src/nn/safetensors.js";
import { keyFromSeed, Rng } from "../../src/random.js";
import { centralDifference as fd } from "../nn/f64ref.js";

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

describe("GCBC loss −mean log N(a; μ, I)", () => {
  test("against hand-computed values (B = 2, A = 2)", () => {
    const d = new Float32Array(4);
    // errors μ − a = (0.5, −1) and (0, 2): ½(0.25 + 1) and ½(0 + 4), mean 1.3125, plus 2 · ½ log 2π
    const r = gcbcLoss(Float32Array.of(1, 0, 0.5, 2), Float32Array.of(0.5, 1, 0.5, 0), 2, 2, d);
    assert.ok(Math.abs(r.loss - (1.3125 + 2 * HALF_LOG_2PI)) < 1e-12, String(r.loss));
    assert.equal(r.mse, (0.25 + 1 + 0 + 4) / 4);
    assert.deepEqual(Array.from(d), [0.25, -0.5, 0, 1]);
  });

  test("its gradient against central finite differences", () => {
    const rng = new Rng(keyFromSeed(3));
    const mu = Float32Array.from({ length: 10 }, () => rng.normal());
    const a = Float32Array.from({ length: 10 }, () => Math.tanh(rng.normal()));
    const d = new Float32Array(10);
    gcbcLoss(mu, a, 5, 2, d);
    const f = () => gcbcLoss(mu, a, 5, 2, new Float32Array(10)).loss;
    for (let i = 0; i < 10; i++) assert.ok(Math.abs(d[i] - fd(f, mu, i, 1e-2)) < 1e-5, `dμ[${i}]`);
  });

  test("the actor's gradient through the network against finite differences", () => {
    const dims = { stateDim: 3, goalDim: 2, actionDim: 2 };
    const B = 6;
    const agent = new GCBCAgent(new RefBackend(), dims, { actorDepth: 4, actorWidth: 8, batchSize: B }, keyFromSeed(5));
    const rng = new Rng(keyFromSeed(6));
    const f = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
    const state = f(B * 3);
    const goal = f(B * 2);
    const action = f(B * 2).map(Math.tanh);
    const p = agent.actor.params;
    agent.gradients(state, action, goal);
    const g = Float32Array.from(p.grad);
    const order = Array.from(g.keys()).sort((x, y) => Math.abs(g[y]) - Math.abs(g[x]));
    const scale = Math.abs(g[order[0]]);
    for (const i of [...order.slice(0, 10), ...order.slice(10).filter((_, j) => j % 53 === 1).slice(0, 6)]) {
      const num = fd(() => agent.gradients(state, action, goal).loss, p.data, i, 1e-3);
      assert.ok(Math.abs(g[i] - num) <= 0.02 * Math.abs(g[i]) + 2e-3 * scale, `actor[${i}]: ${g[i]} vs ${num}`);
    }
  });
});

describe("GCBC agent", () => {
  const dims = { stateDim: 4, goalDim: 2, actionDim: 2 };
  const cfg = { actorDepth: 4, actorWidth: 16, batchSize: 8 };
  const rng = new Rng(keyFromSeed(7));
  const f = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  const batch = () => ({ state: f(32), action: f(16).map(Math.tanh), goal: f(16) });

  test("updates reduce the loss on a fixed batch; acting is clip(μ, ±1) or clip(μ + ε, ±1)", () => {
    const agent = new GCBCAgent(new RefBackend(), dims, { ...cfg, lr: 3e-3 }, keyFromSeed(1), 12);
    const b = batch();
    const out = new Float64Array(agent.metricNames.length);
    agent.updateOn(b, out);
    const first = out[0];
    for (let i = 0; i < 100; i++) agent.updateOn(b, out);
    assert.ok(out[0] < first - 0.3, `loss ${first} → ${out[0]}`);
    assert.equal(agent.updates, 101);
    const obs = f(12 * 6);
    const det = new Float32Array(24);
    agent.act(obs, 12, det, true);
    const [mu] = agent.actor.forward(obs, 12);
    for (let i = 0; i < 24; i++) assert.equal(det[i], Math.min(1, Math.max(-1, mu[i])));
    const sto = new Float32Array(24);
    agent.act(obs, 12, sto, false, new Rng(keyFromSeed(2)));
    assert.ok(sto.every((v) => v >= -1 && v <= 1) && sto.some((v, i) => v !== det[i]));
  });

  test("checkpoint → restore gives exactly the next update", () => {
    const a = new GCBCAgent(new RefBackend(), dims, cfg, keyFromSeed(3));
    for (let i = 0; i < 3; i++) a.updateOn(batch(), new Float64Array(3));
    const r = new GCBCAgent(new RefBackend(), dims, cfg, keyFromSeed(99));
    r.loadStateTensors(decodeSafetensors(encodeSafetensors(a.stateTensors())).tensors);
    const b = batch();
    const ma = new Float64Array(3);
    const mr = new Float64Array(3);
    a.updateOn(b, ma);
    r.updateOn(b, mr);
    assert.deepEqual(Array.from(mr), Array.from(ma));
    assert.equal(r.updates, 4);
  });
});
