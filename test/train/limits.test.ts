// Limits checked before a run starts (issue 10): the memory estimate against real networks, the
// refusal of runs that cannot fit, the env-step budget, the window and the batch.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CRLAgent } from "../../src/agents/crl.js";
import { RefBackend } from "../../src/engine/index.js";
import { getEnvSpec } from "../../src/envs/registry.js";
import { ResNet } from "../../src/nn/resnet.js";
import { keyFromSeed } from "../../src/random.js";
import { crossKeyIssues, minTotalEnvSteps, presetFor, TrainConfigSchema } from "../../src/train/config.js";
import {
  agentNetworks,
  checkTrainLimits,
  estimateTrainMemory,
  evaluationsBeforeTraining,
  formatBytes,
  resnetFloats,
  TrainLimitError,
  usableMemory,
} from "../../src/train/limits.js";

const GiB = 2 ** 30;
const cpu = (over: Record<string, unknown> = {}) => TrainConfigSchema.parse({ ...presetFor("cpu", "crl"), env: "simple_u_maze-v1", ...over });

describe("memory estimate", () => {
  test("parameters and activation bytes are exactly those of the ResNets the agent builds", () => {
    const be = new RefBackend();
    for (const shape of [
      { inDim: 6, width: 8, depth: 0, heads: [3], maxBatch: 5, recompute: false, headNorm: false },
      { inDim: 6, width: 8, depth: 8, heads: [3], maxBatch: 5, recompute: false, headNorm: false },
      { inDim: 6, width: 8, depth: 8, heads: [3], maxBatch: 5, recompute: true, headNorm: false },
      { inDim: 4, width: 16, depth: 12, heads: [2, 2], maxBatch: 7, recompute: false, headNorm: true },
      { inDim: 4, width: 16, depth: 12, heads: [2, 2], maxBatch: 7, recompute: true, headNorm: true },
    ]) {
      const net = new ResNet(be, { ...shape, heads: shape.heads.map((dim, i) => ({ name: `h${i}`, dim })) });
      const f = resnetFloats(shape);
      assert.equal(f.params, net.params.numel, JSON.stringify(shape));
      assert.equal(4 * f.activations, net.activationBytes, JSON.stringify(shape));
    }
  });

  test("the three networks have the shapes CRLAgent gives them", () => {
    const config = cpu({ actorDepth: 8, criticDepth: 12, recompute: true, numEvalEnvs: 100 });
    const spec = getEnvSpec(config.env);
    const agent = new CRLAgent(
      new RefBackend(),
      { stateDim: spec.stateDim, goalDim: spec.goalDim, actionDim: spec.actionDim },
      { ...config, targetEntropyCoef: -0.5 },
      keyFromSeed(0),
      Math.max(config.numEnvs, config.numEvalEnvs),
    );
    const byName = Object.fromEntries(agentNetworks(config).map((n) => [n.name, resnetFloats(n.shape)]));
    assert.equal(byName.actor.params, agent.actor.params.numel);
    assert.equal(4 * byName.actor.activations, agent.actor.activationBytes);
    assert.equal(byName["sa encoder"].params, agent.saEncoder.params.numel);
    assert.equal(4 * byName["sa encoder"].activations, agent.saEncoder.activationBytes);
    assert.equal(byName["goal encoder"].params, agent.goalEncoder.params.numel);
  });

  test("the parts: parameters × 4 (values, gradients, Adam m and v), the replay buffer from its shape", () => {
    const c = cpu();
    const e = estimateTrainMemory(c);
    const part = (w: string) => e.parts.find((p) => p.what.startsWith(w))?.bytes;
    assert.equal(part("network parameters"), 16 * e.params);
    assert.equal(part("replay buffer"), c.numEnvs * c.maxReplaySize * (6 + 2 + 1) * 4); // obs = state 4 + goal 2, action 2, episode id
    assert.ok(e.bytes > 300 * 2 ** 20 && e.bytes < 1 * GiB, formatBytes(e.bytes));
    assert.ok(estimateTrainMemory(c, { recompute: true }).bytes <= e.bytes);
  });
});

describe("runs that cannot fit are refused before they start", () => {
  test("--critic-depth 100000: says how much it needs and how much there is", () => {
    const c = cpu({ criticDepth: 100_000 });
    assert.throws(
      () => checkTrainLimits(c, { memory: 16 * GiB }),
      (err: Error) => {
        assert.ok(err instanceof TrainLimitError);
        assert.match(err.message, /needs about \d+(\.\d)? GiB of memory, but this machine has 16\.0 GiB \(14\.4 GiB usable/);
        assert.match(err.message, /network parameters, gradients and Adam state/);
        assert.match(err.message, /lower --actor-depth\/--critic-depth/);
        assert.doesNotMatch(err.message, /--recompute/, "recompute cannot save parameters");
        return true;
      },
    );
    assert.doesNotThrow(() => checkTrainLimits(cpu(), { memory: 16 * GiB }));
  });

  test("--recompute is suggested when it would fit with it, not otherwise", () => {
    const c = cpu({ criticDepth: 512, actorDepth: 512, batchSize: 2048, criticWidth: 256, actorWidth: 256 });
    const plain = estimateTrainMemory(c).bytes;
    const withRc = estimateTrainMemory(c, { recompute: true }).bytes;
    assert.ok(withRc < plain / 2, `${formatBytes(withRc)} vs ${formatBytes(plain)}`);
    // a machine on which it fits only with --recompute
    let memory = 2 * withRc;
    while (usableMemory(memory) < withRc) memory *= 1.1;
    assert.ok(usableMemory(memory) < plain);
    assert.throws(() => checkTrainLimits(c, { memory }), /add --recompute \(activation checkpointing\), which brings it down to about/);
    assert.doesNotThrow(() => checkTrainLimits({ ...c, recompute: true }, { memory }));
    // a machine too small either way
    assert.throws(() => checkTrainLimits(c, { memory: withRc / 2 }), (e: Error) => !/--recompute/.test(e.message));
  });

  test("a replay buffer over the 2^31 − 1 values per array is refused with the flags to lower", () => {
    const c = cpu({ maxReplaySize: 100_000_000, numEnvs: 8 });
    assert.throws(() => checkTrainLimits(c, { memory: 2 ** 50 }), /replay buffer would hold 8 envs × 100000000 rows .* lower --num-envs or --max-replay-size/);
  });
});

describe("configuration rules across keys", () => {
  const issues = (over: Record<string, unknown>) => crossKeyIssues(cpu(over)).map((i) => `${i.key}: ${i.message}`);

  test("the budget must cover the prefill plus one training step per evaluation; the error gives the minimum", () => {
    // not schema rules: a run saved before them still loads
    assert.equal(TrainConfigSchema.safeParse({ ...presetFor("cpu", "crl"), env: "simple_u_maze-v1", totalEnvSteps: 10, windowLength: 5000 }).success, true);
    const c = cpu();
    assert.equal(minTotalEnvSteps(c), 16 * 100 + 10 * 16 * 62);
    assert.match(issues({ totalEnvSteps: 10 }).join("\n"), /totalEnvSteps: totalEnvSteps must be at least 11520: the replay prefill .*counted in the budget/);
    assert.match(issues({ numEnvs: 65536, totalEnvSteps: 100_000 }).join("\n"), /at least 47185920/);
    assert.deepEqual(issues({ totalEnvSteps: 11520 }), []);
  });

  test("windowLength > maxReplaySize and a batch larger than one step's tuples are errors", () => {
    assert.match(issues({ windowLength: 5000 }).join("\n"), /windowLength: windowLength \(5000\) must not exceed maxReplaySize \(4000\)/);
    assert.match(issues({ numEnvs: 1, windowLength: 100 }).join("\n"), /batchSize: batchSize \(256\) exceeds the tuples one training step can sample, numEnvs × \(windowLength − 1\) = 99/);
  });

  test("evaluations that would come before any training step are counted", () => {
    assert.equal(evaluationsBeforeTraining(cpu()), 0);
    // 16 × 100 prefill steps; evaluations every 1,200 env steps: the first one is at 1,200 ≤ 1,600
    assert.equal(evaluationsBeforeTraining(cpu({ totalEnvSteps: 12_000 })), 1);
    assert.equal(evaluationsBeforeTraining({ numEnvs: 10, minReplaySize: 100, totalEnvSteps: 1000, numEvals: 10 }), 10);
    assert.equal(evaluationsBeforeTraining({ numEnvs: 1, minReplaySize: 1, totalEnvSteps: 1e8, numEvals: 100 }), 0);
  });
});
