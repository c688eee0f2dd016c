// SAC, SAC+HER and TD3+HER as agents (agents/sac.ts, agents/td3.ts): one update moves what it
// should (and TD3's actor only every policyDelay-th), target networks follow by Polyak averaging, a
// non-finite critic loss changes nothing, acting is tanh(μ) or noisy within [−1, 1], and a
// checkpoint restores the exact next update. Their losses: td-losses.test.ts.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { NonFiniteError } from "../../src/agents/agent.js";
import { SACAgent } from "../../src/agents/sac.js";
import { TD3Agent } from "../../src/agents/td3.js";
import { RefBackend } from "../../src/engine/ref/ref.js";
import { decodeSafetensors, encodeSafetensors } from "../../src/nn/safetensors.js";
import { keyFromSeed, Rng } from "../../src/random.js";
import type { TransitionBatch } from "../../src/replay/transitions.js";

const dims = { stateDim: 4, goalDim: 2, actionDim: 2 };
const cfg = { actorDepth: 4, criticDepth: 4, actorWidth: 16, criticWidth: 16, batchSize: 8 };
const B = cfg.batchSize;

function batch(seed: number): TransitionBatch {
  const rng = new Rng(keyFromSeed(seed));
  const f = (n: number, s = 1) => Float32Array.from({ length: n }, () => s * rng.normal());
  return {
    state: f(B * 4),
    goal: f(B * 2),
    action: f(B * 2, 0.5).map(Math.tanh),
    nextState: f(B * 4),
    reward: Float32Array.from({ length: B }, (_, i) => (i % 3 === 0 ? 1 : 0)),
    relabelled: Uint8Array.from({ length: B }, (_, i) => i % 2),
  };
}

const copy = (a: Float32Array) => Float32Array.from(a);
const differs = (a: Float32Array, b: Float32Array) => a.some((v, i) => v !== b[i]);

function sac(her = false, seed = 1) {
  return new SACAgent(new RefBackend(), dims, cfg, keyFromSeed(seed), 12, her);
}
function td3(seed = 1) {
  return new TD3Agent(new RefBackend(), dims, cfg, keyFromSeed(seed), 12);
}

describe("SAC / SAC+HER", () => {
  test("one update moves the actor, both critics, log α; the targets move by τ toward the critics", () => {
    const a = sac();
    const actor = copy(a.actor.params.data);
    const q = a.critic.q.map((n) => copy(n.params.data));
    const t = a.critic.target.map((n) => copy(n.params.data));
    const out = new Float64Array(a.metricNames.length);
    a.updateOn(batch(2), out);
    assert.ok(out.every(Number.isFinite), String(out));
    assert.ok(differs(actor, a.actor.params.data), "actor");
    for (const k of [0, 1]) {
      assert.ok(differs(q[k], a.critic.q[k].params.data), `Q${k + 1}`);
      const online = a.critic.q[k].params.data;
      const target = a.critic.target[k].params.data;
      for (let i = 0; i < online.length; i += 37) assert.ok(Math.abs(target[i] - (0.995 * t[k][i] + 0.005 * online[i])) < 1e-6, `target Q${k + 1}[${i}]`);
    }
    assert.notEqual(a.logAlpha, 0);
    assert.equal(a.updates, 1);
    const m = Object.fromEntries(a.metricNames.map((n, i) => [n, out[i]]));
    assert.equal(m.reward_mean, 3 / 8);
    assert.equal(m.relabelled, 0.5);
    assert.equal(m.log_alpha, a.logAlpha);
  });

  test("a non-finite critic loss throws before anything is applied", () => {
    const a = sac();
    a.updateOn(batch(2), new Float64Array(a.metricNames.length));
    // every network, optimiser state, log α and the update count (not the rng: the run stops there)
    const learnt = () => JSON.stringify([...a.stateTensors()].filter(([k]) => k !== "rng.state").map(([k, v]) => [k, Array.from(v.data)]));
    const before = learnt();
    const b = batch(3);
    b.reward[1] = Number.NaN;
    assert.throws(() => a.updateOn(b, new Float64Array(a.metricNames.length)), (e: unknown) => e instanceof NonFiniteError && /critic_loss/.test(e.message));
    assert.ok(learnt() === before, "something changed");
  });

  test("acting: tanh(μ) when deterministic; samples in [−1, 1] otherwise", () => {
    const a = sac();
    const rng = new Rng(keyFromSeed(4));
    const n = 12;
    const obs = Float32Array.from({ length: n * 6 }, () => 2 * rng.normal());
    const det = new Float32Array(n * 2);
    a.act(obs, n, det, true);
    const [mean] = a.actor.forward(obs, n);
    for (let i = 0; i < det.length; i++) assert.ok(Math.abs(det[i] - Math.tanh(mean[i])) < 1e-6);
    const sto = new Float32Array(n * 2);
    a.act(obs, n, sto, false, rng);
    assert.ok(sto.every((v) => v >= -1 && v <= 1) && sto.some((v, i) => v !== det[i]));
    assert.throws(() => a.act(obs, n, sto, false), /needs an rng/);
  });

  for (const her of [false, true]) {
    test(`checkpoint → restore gives exactly the next update (${her ? "sac_her" : "sac"})`, () => {
      const a = sac(her, 5);
      for (let i = 0; i < 3; i++) a.updateOn(batch(10 + i), new Float64Array(a.metricNames.length));
      const saved = decodeSafetensors(encodeSafetensors(a.stateTensors())).tensors;
      const r = sac(her, 99);
      r.loadStateTensors(saved);
      const ma = new Float64Array(a.metricNames.length);
      const mr = new Float64Array(r.metricNames.length);
      a.updateOn(batch(20), ma);
      r.updateOn(batch(20), mr);
      assert.deepEqual(Array.from(mr), Array.from(ma));
      assert.deepEqual(Array.from(r.actor.params.data), Array.from(a.actor.params.data));
      assert.deepEqual(Array.from(r.critic.target[1].params.data), Array.from(a.critic.target[1].params.data));
      assert.equal(r.updates, 4);
    });
  }

  test("a checkpoint of another shape is rejected and changes nothing", () => {
    const deep = new SACAgent(new RefBackend(), dims, { ...cfg, criticDepth: 8 }, keyFromSeed(1));
    const a = sac();
    const before = copy(a.actor.params.data);
    assert.throws(() => a.loadStateTensors(decodeSafetensors(encodeSafetensors(deep.stateTensors())).tensors), /lacks|holds|shape/);
    assert.deepEqual(Array.from(a.actor.params.data), Array.from(before));
  });
});

describe("TD3+HER", () => {
  test("the critic learns every update, the actor and the targets every second (policy delay 2)", () => {
    const a = td3();
    const out = new Float64Array(a.metricNames.length);
    const snap = () => ({ actor: copy(a.actor.params.data), q1: copy(a.critic.q[0].params.data), t1: copy(a.critic.target[0].params.data), ta: copy(a.actorTarget.params.data) });
    let s = snap();
    a.updateOn(batch(2), out); // update 0: critic, actor, targets
    assert.ok(differs(s.q1, a.critic.q[0].params.data) && differs(s.actor, a.actor.params.data) && differs(s.t1, a.critic.target[0].params.data) && differs(s.ta, a.actorTarget.params.data));
    const loss0 = out[a.metricNames.indexOf("actor_loss")];
    s = snap();
    a.updateOn(batch(3), out); // update 1: the critic only
    assert.ok(differs(s.q1, a.critic.q[0].params.data), "critic");
    assert.ok(!differs(s.actor, a.actor.params.data) && !differs(s.t1, a.critic.target[0].params.data) && !differs(s.ta, a.actorTarget.params.data), "actor and targets wait");
    assert.equal(out[a.metricNames.indexOf("actor_loss")], loss0, "the last policy update's loss is reported");
    s = snap();
    a.updateOn(batch(4), out); // update 2: all again; the target actor moved by τ toward the online actor
    const online = a.actor.params.data;
    for (let i = 0; i < online.length; i += 29) assert.ok(Math.abs(a.actorTarget.params.data[i] - (0.995 * s.ta[i] + 0.005 * online[i])) < 1e-6, `target actor[${i}]`);
    assert.equal(a.updates, 3);
  });

  test("acting: tanh(μ) when deterministic; μ + noise clipped to ±0.5, then to [−1, 1], when exploring", () => {
    const a = td3();
    const rng = new Rng(keyFromSeed(6));
    const n = 12;
    const obs = Float32Array.from({ length: n * 6 }, () => 2 * rng.normal());
    const det = new Float32Array(n * 2);
    a.act(obs, n, det, true);
    const [pre] = a.actor.forward(obs, n);
    for (let i = 0; i < det.length; i++) assert.ok(Math.abs(det[i] - Math.tanh(pre[i])) < 1e-6);
    const sto = new Float32Array(n * 2);
    a.act(obs, n, sto, false, rng);
    for (let i = 0; i < sto.length; i++) {
      assert.ok(sto[i] >= -1 && sto[i] <= 1);
      assert.ok(Math.abs(sto[i] - det[i]) <= 0.5 + 1e-6);
    }
  });

  test("checkpoint → restore gives exactly the next updates (across the policy delay)", () => {
    const a = td3(5);
    for (let i = 0; i < 3; i++) a.updateOn(batch(10 + i), new Float64Array(a.metricNames.length));
    const r = td3(99);
    r.loadStateTensors(decodeSafetensors(encodeSafetensors(a.stateTensors())).tensors);
    for (const s of [20, 21]) {
      const ma = new Float64Array(a.metricNames.length);
      const mr = new Float64Array(r.metricNames.length);
      a.updateOn(batch(s), ma);
      r.updateOn(batch(s), mr);
      assert.deepEqual(Array.from(mr), Array.from(ma));
    }
    assert.deepEqual(Array.from(r.actorTarget.params.data), Array.from(a.actorTarget.params.data));
  });
});
