import assert from "node:assert/strict";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { describe, test } from "node:test";
import { TrainConfigSchema } from "../../src/train/config.js";
import { createRunDir } from "../../src/train/rundir.js";
import { train } from "../../src/train/trainer.js";
import { TINY } from "./tiny-config.js";

const tiny = { ...TINY, sgdBatchesPerStep: 4 };

describe("training loop", () => {
  test("a diverging run stops with the step, network and loss named, keeping the last good checkpoint", async () => {
    const root = mkdtempSync(`${tmpdir()}/fathom-nan-`);
    const runDir = createRunDir(root, { env: "simple_u_maze-v1", agent: "crl", depth: 4, seed: 0 });
    // An absurd learning rate makes the parameters overflow within a few dozen updates.
    const config = TrainConfigSchema.parse({ ...tiny, lr: 1e30, totalEnvSteps: 20_000, numEvals: 50, runsDir: root });
    const res = await train(config, { runDir });
    assert.equal(res.status, "nonfinite");
    assert.match(res.error ?? "", /training stopped at training step \d+ \(env step \d+, gradient step \d+\): non-finite .* in the (actor|critic)/);
    if (res.lastCheckpoint) {
      assert.ok(existsSync(res.lastCheckpoint));
      assert.match(res.error ?? "", /last good checkpoint is/);
    }
    assert.ok(res.envSteps < 20_000, "the run stopped early");
  });

  test("the same seed gives the same evaluations (reproducible runs)", async () => {
    const config = TrainConfigSchema.parse({ ...tiny, totalEnvSteps: 1200, numEvals: 2 });
    const a = await train(config, { runDir: null });
    const b = await train(config, { runDir: null });
    assert.equal(a.updates, b.updates);
    assert.deepEqual(
      b.evals.map((e) => e["eval/episode_dist"]),
      a.evals.map((e) => e["eval/episode_dist"]),
    );
    const c = await train({ ...config, seed: 7 }, { runDir: null });
    assert.notDeepEqual(
      c.evals.map((e) => e["eval/episode_dist"]),
      a.evals.map((e) => e["eval/episode_dist"]),
    );
  });

  test("an abort stops the run and saves a resumable checkpoint with the replay buffer", async () => {
    const root = mkdtempSync(`${tmpdir()}/fathom-abort-`);
    const runDir = createRunDir(root, { env: "simple_u_maze-v1", agent: "crl", depth: 4, seed: 0 });
    const config = TrainConfigSchema.parse({ ...tiny, totalEnvSteps: 4000, numEvals: 2, runsDir: root });
    const ac = new AbortController();
    const res = await train(config, {
      runDir,
      signal: ac.signal,
      onTrainingStep: (p) => {
        if (p.trainingSteps === 5) ac.abort();
      },
    });
    assert.equal(res.status, "interrupted");
    assert.ok(res.lastCheckpoint && /interrupt_\d+\.safetensors$/.test(res.lastCheckpoint));
    assert.ok(existsSync(res.lastCheckpoint!.replace(/\.safetensors$/, ".replay.safetensors")));
    const resumed = await train(config, { runDir, resumeFrom: res.lastCheckpoint! });
    assert.equal(resumed.status, "done");
    assert.ok(resumed.envSteps >= 4000);
    assert.ok(resumed.updates > res.updates, "the resumed agent kept its update count and went on");
    assert.equal(resumed.evals.length, 2);
  });
});
