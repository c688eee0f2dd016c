// The TD baselines' losses (agents/td.ts, sac.ts, td3.ts): each against values computed by hand on
// a tiny batch, each gradient against central finite differences, and the whole gradient of each
// network step (critic, SAC actor, TD3 actor) against finite differences through the networks.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SACAgent, alphaLoss, sacActorLoss, sacTarget } from "../../src/agents/sac.js";
import { twinTdLoss } from "../../src/agents/td.js";
import { smoothedTargetAction, TD3Agent, td3ActorLoss, td3Target } from "../../src/agents/td3.js";
import { RefBackend } from "../../src/engine/ref/ref.js";
import { keyFromSeed, Rng } from "../../src/random.js";
import { centralDifference as fd } from "../nn/f64ref.js";

function close(a: number, b: number, tol: number, what: string): void {
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);
}

describe("losses against hand-computed values (B = 2)", () => {
  test("twin TD loss 0.5·mean_{i,k}(Q_k − y)² and its gradient (Q_k − y)/(2B)", () => {
    const q1 = Float32Array.of(1, 2);
    const q2 = Float32Array.of(0.5, 3);
    const y = Float64Array.of(1.5, 1);
    const d1 = new Float32Array(2);
    const d2 = new Float32Array(2);
    // errors (−0.5, 1) and (−1, 2): 0.5 · (0.25 + 1 + 1 + 4) / 4
    assert.equal(twinTdLoss(q1, q2, y, 2, d1, d2), 0.78125);
    assert.deepEqual(Array.from(d1), [-0.125, 0.25]);
    assert.deepEqual(Array.from(d2), [-0.25, 0.5]);
  });

  test("SAC target r + γ(min Q′ − α log π′)", () => {
    const out = new Float64Array(2);
    sacTarget(Float32Array.of(0, 1), Float64Array.of(2, 3), Float64Array.of(-1, 0.5), 0.5, 0.9, 2, out);
    close(out[0], 0.9 * (2 + 0.5), 1e-12, "y0"); // 2.25
    close(out[1], 1 + 0.9 * (3 - 0.25), 1e-12, "y1"); // 3.475
  });

  test("SAC actor loss mean(α log π − min(Q1, Q2)): the gradient goes to the smaller critic", () => {
    const dLogp = new Float64Array(2);
    const d1 = new Float32Array(2);
    const d2 = new Float32Array(2);
    const loss = sacActorLoss(Float64Array.of(-1, 2), Float32Array.of(1, 3), Float32Array.of(2, 0), 0.5, 2, dLogp, d1, d2);
    close(loss, ((-0.5 - 1) + (1 - 0)) / 2, 1e-12, "loss"); // −0.25
    assert.deepEqual(Array.from(dLogp), [0.25, 0.25]);
    assert.deepEqual(Array.from(d1), [-0.5, 0]);
    assert.deepEqual(Array.from(d2), [0, -0.5]);
  });

  test("α loss α·mean(−log π − H̄) and its log-α gradient", () => {
    // α = 2, mean(−log π − H̄) = ((1 + 1) + (−2 + 1)) / 2 = 0.5
    const r = alphaLoss(Float64Array.of(-1, 2), 2, Math.log(2), -1);
    close(r.loss, 1, 1e-12, "loss");
    close(r.grad, 1, 1e-12, "grad");
    const x = [Math.log(2)];
    close(r.grad, fd(() => alphaLoss(Float64Array.of(-1, 2), 2, x[0], -1).loss, x, 0, 1e-6), 1e-8, "∂L/∂log α by finite differences");
  });

  test("TD3 target r + γ·min Q′, actor loss −mean Q1, smoothed target action", () => {
    const y = new Float64Array(2);
    td3Target(Float32Array.of(0, 1), Float64Array.of(2, 3), 0.9, 2, y);
    close(y[0], 1.8, 1e-12, "y0");
    close(y[1], 3.7, 1e-12, "y1");
    const d = new Float32Array(2);
    assert.equal(td3ActorLoss(Float32Array.of(1, 3), 2, d), -2);
    assert.deepEqual(Array.from(d), [-0.5, -0.5]);
    const a = new Float32Array(3);
    // noise 0.2·(1, −5, 0.3) clipped at ±0.5 → (0.2, −0.5, 0.06); then the action clipped at ±1
    smoothedTargetAction(Float32Array.of(0.9, -0.2, 0), Float32Array.of(1, -5, 0.3), 0.2, 0.5, 3, a);
    close(a[0], 1, 0, "a′0");
    close(a[1], -0.7, 1e-6, "a′1");
    close(a[2], 0.06, 1e-6, "a′2");
  });
});

describe("loss gradients against central finite differences", () => {
  const rng = new Rng(keyFromSeed(11));
  const B = 5;
  const q1 = Float32Array.from({ length: B }, () => rng.normal());
  // Q2 half a unit above or below Q1: no tie within a difference step
  const q2 = Float32Array.from(q1, (v, i) => v + (i % 2 === 0 ? 0.5 : -0.5));
  const logp = Float64Array.from({ length: B }, () => rng.normal());
  const y = Float64Array.from({ length: B }, () => rng.normal());

  test("twin TD loss w.r.t. Q1 and Q2", () => {
    const d1 = new Float32Array(B);
    const d2 = new Float32Array(B);
    const f = () => twinTdLoss(q1, q2, y, B, new Float32Array(B), new Float32Array(B));
    twinTdLoss(q1, q2, y, B, d1, d2);
    for (let i = 0; i < B; i++) {
      close(d1[i], fd(f, q1, i, 1e-2), 1e-5, `dQ1[${i}]`);
      close(d2[i], fd(f, q2, i, 1e-2), 1e-5, `dQ2[${i}]`);
    }
  });

  test("SAC actor loss w.r.t. log π, Q1 and Q2", () => {
    const dl = new Float64Array(B);
    const d1 = new Float32Array(B);
    const d2 = new Float32Array(B);
    const f = () => sacActorLoss(logp, q1, q2, 0.3, B, new Float64Array(B), new Float32Array(B), new Float32Array(B));
    sacActorLoss(logp, q1, q2, 0.3, B, dl, d1, d2);
    for (let i = 0; i < B; i++) {
      close(dl[i], fd(f, logp, i, 1e-4), 1e-7, `dLogp[${i}]`);
      close(d1[i], fd(f, q1, i, 1e-3), 1e-5, `dQ1[${i}]`);
      close(d2[i], fd(f, q2, i, 1e-3), 1e-5, `dQ2[${i}]`);
    }
  });

  test("TD3 actor loss w.r.t. Q1", () => {
    const d = new Float32Array(B);
    const f = () => td3ActorLoss(q1, B, new Float32Array(B));
    td3ActorLoss(q1, B, d);
    for (let i = 0; i < B; i++) close(d[i], fd(f, q1, i, 1e-2), 1e-6, `dQ1[${i}]`);
  });
});

/**
 * The gradient a network step leaves in `grad` (after `step()`) against central differences of
 * `loss()` in `params`, at the `count` entries of largest gradient and a few random ones. float32
 * networks: h = 1e-3 and a tolerance of 2 % of the gradient (plus an absolute floor).
 */
function checkNetworkGradient(step: () => void, loss: () => number, params: Float32Array, grad: Float32Array, what: string): void {
  step();
  const g = Float32Array.from(grad);
  const order = Array.from(g.keys()).sort((a, b) => Math.abs(g[b]) - Math.abs(g[a]));
  const pick = [...order.slice(0, 8), ...order.slice(8).filter((_, j) => j % 97 === 3).slice(0, 6)];
  const scale = Math.abs(g[order[0]]);
  assert.ok(scale > 0, `${what}: the gradient is zero`);
  for (const i of pick) {
    const num = fd(loss, params, i, 1e-3);
    close(g[i], num, 0.02 * Math.abs(g[i]) + 2e-3 * scale, `${what}[${i}]`);
  }
}

describe("network gradients against finite differences (ref backend, tiny networks)", () => {
  const dims = { stateDim: 3, goalDim: 2, actionDim: 2 };
  const B = 6;
  const rng = new Rng(keyFromSeed(21));
  const f = (n: number, s = 1) => Float32Array.from({ length: n }, () => s * rng.normal());
  const state = f(B * 3);
  const goal = f(B * 2);
  const action = f(B * 2, 0.5).map(Math.tanh);
  const eps = f(B * 2);
  const small = { actorDepth: 4, criticDepth: 4, actorWidth: 8, criticWidth: 8, batchSize: B };

  test("SAC actor: mean(α log π(a|s,g) − min Q(s,g,a)), a = tanh(μ + σε), through both critics", () => {
    const agent = new SACAgent(new RefBackend(), dims, small, keyFromSeed(3));
    const p = agent.actor.params;
    checkNetworkGradient(
      () => agent.actorGradients(state, goal, eps, 0.7),
      () => agent.actorGradients(state, goal, eps, 0.7).loss,
      p.data,
      p.grad,
      "SAC actor",
    );
  });

  test("TD3 actor: −mean Q1(s, g, tanh(μ(s, g)))", () => {
    const agent = new TD3Agent(new RefBackend(), dims, small, keyFromSeed(4));
    const p = agent.actor.params;
    checkNetworkGradient(() => agent.actorGradients(state, goal), () => agent.actorGradients(state, goal).loss, p.data, p.grad, "TD3 actor");
  });

  test("twin critic: 0.5·mean_{i,k}(Q_k(s, g, a) − y)², both critics", () => {
    const agent = new SACAgent(new RefBackend(), dims, small, keyFromSeed(5));
    const x = new Float32Array(B * 7);
    for (let i = 0; i < B; i++) {
      x.set(state.subarray(i * 3, i * 3 + 3), i * 7);
      x.set(goal.subarray(i * 2, i * 2 + 2), i * 7 + 3);
      x.set(action.subarray(i * 2, i * 2 + 2), i * 7 + 5);
    }
    const y = Float64Array.from({ length: B }, () => rng.normal());
    for (const k of [0, 1]) {
      const p = agent.critic.q[k].params;
      checkNetworkGradient(() => agent.critic.gradients(x, y, B), () => agent.critic.gradients(x, y, B).loss, p.data, p.grad, `Q${k + 1}`);
    }
  });
});
