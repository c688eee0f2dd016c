import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CRL_DEFAULTS, CRL_PAPER_ACTOR, CRLAgent } from "../../src/agents/crl.js";
import { getBackend } from "../../src/engine/index.js";
import { decodeSafetensors, encodeSafetensors } from "../../src/nn/safetensors.js";
import { keyFromSeed, Rng } from "../../src/random.js";
import { assertCriticLearns, batch, cfg, dims } from "./crl-fixture.js";


describe("CRL agent", () => {
  test("rejects a depth that is not a multiple of 4 with a clear error", () => {
    assert.throws(() => new CRLAgent(getBackend(), dims, { ...cfg, criticDepth: 10 }, keyFromSeed(0)), /multiple of 4.*got 10/);
  });

  test("one update changes every network and logs the reference metrics", () => {
    const agent = new CRLAgent(getBackend(), dims, cfg, keyFromSeed(1));
    const before = [agent.actor, agent.saEncoder, agent.goalEncoder].map((n) => Float32Array.from(n.params.data));
    const b = batch(2);
    const m = agent.update(b.state, b.action, b.goal);
    for (const k of ["critic_loss", "actor_loss", "alpha_loss", "log_alpha", "logsumexp", "categorical_accuracy", "logits_pos", "logits_neg", "entropy"]) {
      assert.ok(Number.isFinite((m as unknown as Record<string, number>)[k]), k);
    }
    // At init the critic can't tell positives apart: InfoNCE ≈ log B.
    assert.ok(Math.abs(m.critic_loss - Math.log(cfg.batchSize)) < 1.0, `critic_loss ${m.critic_loss} vs log B ${Math.log(cfg.batchSize)}`);
    [agent.actor, agent.saEncoder, agent.goalEncoder].forEach((n, i) => {
      let diff = 0;
      for (let j = 0; j < n.params.data.length; j++) diff += Math.abs(n.params.data[j] - before[i][j]);
      assert.ok(diff > 0, `network ${i} did not move`);
    });
    assert.ok(m.log_alpha !== 0, "log α moved");
  });

  test("the critic learns to classify positives on a fixed batch", () => {
    assertCriticLearns(getBackend());
  });

  test("checkpoint → restore gives exactly the same next update as the uninterrupted agent", () => {
    const a = new CRLAgent(getBackend(), dims, cfg, keyFromSeed(5));
    for (let i = 0; i < 3; i++) {
      const b = batch(10 + i);
      a.update(b.state, b.action, b.goal);
    }
    const bytes = encodeSafetensors(a.stateTensors(), { note: "test" });
    const restored = new CRLAgent(getBackend(), dims, cfg, keyFromSeed(999)); // different init and rng
    restored.loadStateTensors(decodeSafetensors(bytes).tensors);
    const b = batch(20);
    const ma = a.update(b.state, b.action, b.goal);
    const mb = restored.update(b.state, b.action, b.goal);
    assert.deepEqual(mb, ma);
    assert.deepEqual(Array.from(restored.actor.params.data), Array.from(a.actor.params.data));
    assert.deepEqual(Array.from(restored.saEncoder.params.data), Array.from(a.saEncoder.params.data));
    assert.deepEqual(Array.from(restored.goalEncoder.params.data), Array.from(a.goalEncoder.params.data));
    assert.equal(restored.logAlpha, a.logAlpha);
  });

  test("a mismatched checkpoint is rejected and leaves the agent untouched", () => {
    const a = new CRLAgent(getBackend(), dims, { ...cfg, criticDepth: 8 }, keyFromSeed(5));
    const b = new CRLAgent(getBackend(), dims, cfg, keyFromSeed(6));
    const before = Float32Array.from(b.actor.params.data);
    assert.throws(() => b.loadStateTensors(decodeSafetensors(encodeSafetensors(a.stateTensors())).tensors), /lacks|shape|holds/);
    assert.deepEqual(Array.from(b.actor.params.data), Array.from(before));
  });

  test("deterministic actions are tanh(μ) and lie in [-1, 1]", () => {
    const agent = new CRLAgent(getBackend(), dims, cfg, keyFromSeed(7), 40);
    const rng = new Rng(keyFromSeed(8));
    const n = 40;
    const obs = Float32Array.from({ length: n * (dims.stateDim + dims.goalDim) }, () => 3 * rng.normal());
    const a1 = new Float32Array(n * dims.actionDim);
    const a2 = new Float32Array(n * dims.actionDim);
    agent.act(obs, n, a1, true);
    const [mean] = agent.actor.forward(obs, n);
    for (let i = 0; i < a1.length; i++) assert.ok(Math.abs(a1[i] - Math.tanh(mean[i])) < 1e-6);
    agent.act(obs, n, a2, false, rng);
    assert.ok(a2.every((v) => v >= -1 && v <= 1));
    assert.ok(a2.some((v, i) => v !== a1[i]), "stochastic actions differ from the mean");
  });
});

describe("deep actors stay trainable (issue: depth-64 log-std saturation)", () => {
  // A depth-64 actor of width 128 on 2-D actions, 200 updates on one fixed batch of point-maze-like
  // tuples. With the paper's actor (unnormalised stream into the heads, −log(1 − a² + 1e-6)) one
  // or both log-std dims saturate within these updates on every seed tried (entropy −3…−8 against
  // a target of −1, α rising); with the defaults (head LayerNorm, exact tanh log-det) none does.
  const S = 4;
  const G = 2;
  const A = 2;
  const B = 32;
  function fixedBatch(seed: number) {
    const rng = new Rng(keyFromSeed(100 + seed));
    const state = new Float32Array(B * S);
    const action = new Float32Array(B * A);
    const goal = new Float32Array(B * G);
    for (let i = 0; i < B; i++) {
      for (let k = 0; k < S; k++) state[i * S + k] = k < 2 ? 1 + 10 * rng.uniform() : rng.normal();
      for (let k = 0; k < A; k++) action[i * A + k] = 2 * rng.uniform() - 1;
      for (let k = 0; k < G; k++) goal[i * G + k] = state[i * S + k] + rng.normal();
    }
    return { state, action, goal };
  }
  function run(seed: number, actor: object) {
    const agent = new CRLAgent(
      getBackend(),
      { stateDim: S, goalDim: G, actionDim: A },
      { actorDepth: 64, actorWidth: 128, criticDepth: 4, criticWidth: 64, batchSize: B, ...actor },
      keyFromSeed(seed),
    );
    const b = fixedBatch(seed);
    let maxStuck = 0;
    let maxLogAlpha = Number.NEGATIVE_INFINITY;
    let m = agent.update(b.state, b.action, b.goal);
    for (let u = 1; u < 200; u++) {
      m = agent.update(b.state, b.action, b.goal);
      maxStuck = Math.max(maxStuck, m.log_std_stuck_dims);
      maxLogAlpha = Math.max(maxLogAlpha, m.log_alpha);
    }
    return { m, maxStuck, maxLogAlpha, target: agent.targetEntropy };
  }
  for (const seed of [0, 3]) {
    test(`defaults: no stuck log-std dim, entropy above its target, α falling (seed ${seed})`, () => {
      const d = CRL_DEFAULTS; // what `fathom train` uses
      const r = run(seed, { actorHeadNorm: d.actorHeadNorm, tanhLogDet: d.tanhLogDet, actorHeadInitScale: d.actorHeadInitScale, actorLrWarmup: d.actorLrWarmup });
      assert.equal(r.maxStuck, 0, "a log-std dimension saturated");
      assert.ok(r.m.log_std_min > -4 && r.m.log_std_max < 1.5, `log σ range [${r.m.log_std_min}, ${r.m.log_std_max}]`);
      assert.ok(r.m.entropy > r.target, `entropy ${r.m.entropy} below target ${r.target}`);
      assert.ok(r.maxLogAlpha <= 0.01 && Number.isFinite(r.maxLogAlpha), `log α reached ${r.maxLogAlpha}`);
      for (const k of ["grad_norm_actor", "grad_norm_sa_encoder", "grad_norm_goal_encoder"] as const) assert.ok(Number.isFinite(r.m[k]) && r.m[k] > 0, k);
    });
  }
  test("control: the paper's actor saturates on the same batch (the check above can fail)", () => {
    const p = CRL_PAPER_ACTOR; // what `--preset paper` sets
    const r = run(0, { actorHeadNorm: p.actorHeadNorm, tanhLogDet: p.tanhLogDet, actorHeadInitScale: p.actorHeadInitScale, actorLrWarmup: p.actorLrWarmup });
    assert.ok(r.maxStuck >= 1, `no stuck dim (max ${r.maxStuck})`);
    assert.ok(r.m.entropy < r.target, `entropy ${r.m.entropy} vs target ${r.target}`);
  });
});

describe("saturated log-std recovery (logStdRawPenalty)", () => {
  // A log-std head pushed to raw ≈ 25, inside the +12…+27 of the measured depth-64 collapses:
  // tanh(raw) is exactly 1 there, so its gradient is exactly 0 and without the penalty it stays
  // stuck; with it, the raw log-std returns inside ±4 (Adam moves the head's output by ~lr·Σ|h|
  // per update, so this takes a few thousand updates at width 64).
  const dims2 = { stateDim: 4, goalDim: 2, actionDim: 2 };
  function stuckAfter(penalty: number): number {
    const agent = new CRLAgent(
      getBackend(),
      dims2,
      { ...CRL_PAPER_ACTOR, actorDepth: 4, criticDepth: 4, actorWidth: 64, criticWidth: 32, reprDim: 16, batchSize: 16, logStdRawPenalty: penalty },
      keyFromSeed(4),
    );
    const bias = agent.actor.params.tensors.find((t) => t.name === "head.log_std.bias")!;
    agent.actor.params.view(bias).fill(25);
    const rng = new Rng(keyFromSeed(8));
    const f = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
    const state = f(16 * 4);
    const action = f(16 * 2).map(Math.tanh);
    const goal = f(16 * 2);
    let m = agent.update(state, action, goal);
    assert.equal(m.log_std_stuck_dims, 2, "the setup saturates both dims");
    for (let u = 0; u < 2500; u++) m = agent.update(state, action, goal);
    return m.log_std_stuck_dims;
  }
  test("without the penalty both dims stay stuck; with it none does", () => {
    assert.equal(stuckAfter(0), 2);
    assert.equal(stuckAfter(1), 0);
  });
});
