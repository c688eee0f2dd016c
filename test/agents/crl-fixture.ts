// The small CRL agent that crl.test.ts (fp32) and crl-bf16.test.ts (bf16 GEMMs) both train: its
// env dimensions and config, a random batch, and the check that its critic learns.
import assert from "node:assert/strict";
import { CRLAgent, type CRLConfig } from "../../src/agents/crl.js";
import type { Backend } from "../../src/engine/backend.js";
import { keyFromSeed, Rng } from "../../src/random.js";

export const dims = { stateDim: 5, goalDim: 2, actionDim: 3 };
export const cfg = { actorDepth: 4, criticDepth: 4, actorWidth: 32, criticWidth: 32, reprDim: 16, batchSize: 16 };

/** A batch of cfg.batchSize rows drawn from seed: N(0, 1) states and goals, tanh(N(0, 0.5²)) actions. */
export function batch(seed: number) {
  const rng = new Rng(keyFromSeed(seed));
  const B = cfg.batchSize;
  const f = (n: number, s = 1) => Float32Array.from({ length: n }, () => s * rng.normal());
  return { state: f(B * dims.stateDim), action: f(B * dims.actionDim, 0.5).map(Math.tanh), goal: f(B * dims.goalDim) };
}

/** 150 updates at lr 1e-3 on one fixed batch halve the critic loss and classify ≥ 90 % of the positives. */
export function assertCriticLearns(be: Backend, config: Partial<CRLConfig> = {}): void {
  const agent = new CRLAgent(be, dims, { ...cfg, lr: 1e-3, ...config }, keyFromSeed(3));
  const b = batch(4);
  let m = agent.update(b.state, b.action, b.goal);
  const first = m.critic_loss;
  for (let i = 0; i < 150; i++) m = agent.update(b.state, b.action, b.goal);
  assert.ok(m.critic_loss < 0.5 * first, `critic loss ${first} → ${m.critic_loss}`);
  assert.ok(m.categorical_accuracy >= 0.9, `accuracy ${m.categorical_accuracy}`);
}
