import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { describe, test } from "node:test";
import { TrainConfigSchema } from "../../src/train/config.js";
import { readSafetensorsFile } from "../../src/train/checkpoint.js";
import { createRunDir } from "../../src/train/rundir.js";
import { train } from "../../src/train/trainer.js";
import { TINY } from "./tiny-config.js";

const tiny = { ...TINY, sgdBatchesPerStep: 4 };

describe("training loop", () => {
  test("a diverging run stops with the step, network and loss named, keeping the last good checkpoint", async () => {
    const root = mkdtempSync(`${tmpdir()}/fathom-nan-`);
    const runDir = createRunDir(root, { env: "simple_u_maze-v1", agent: "crl", depth: 4, seed: 0 });
    // A healthy run first, so that a good checkpoint exists; then the same run resumed with an
    // absurd learning rate, which makes the parameters overflow within a few dozen updates.
    const good = TrainConfigSchema.parse({ ...tiny, totalEnvSteps: 4000, numEvals: 2, runsDir: root });
    const first = await train(good, { runDir });
    assert.equal(first.status, "done");
    const checkpoint = first.lastCheckpoint;
    assert.ok(checkpoint !== null && existsSync(checkpoint), "the healthy run saved a checkpoint");
    const before = readFileSync(checkpoint);
    // The same evaluation interval (2000 env steps), extended to 20 000: the next evaluation, and
    // so the next checkpoint, would be at 6000.
    const config = TrainConfigSchema.parse({ ...tiny, lr: 1e30, totalEnvSteps: 20_000, numEvals: 10, runsDir: root });
    const res = await train(config, { runDir, resumeFrom: checkpoint });
    assert.equal(res.status, "nonfinite");
    assert.match(res.error ?? "", /training stopped at training step \d+ \(env step \d+, gradient step \d+\): non-finite .* in the (actor|critic)/);
    assert.equal(res.lastCheckpoint, checkpoint, "the last good checkpoint is the healthy run's");
    assert.ok((res.error ?? "").includes(`The last good checkpoint is ${checkpoint}.`), res.error);
    assert.deepEqual(readFileSync(checkpoint), before, "the healthy run's checkpoint is left as it was");
    let floats = 0;
    for (const [name, t] of readSafetensorsFile(checkpoint).tensors) {
      // The networks, optimizers and α (rng.* and env.* hold bit patterns, not numbers).
      if ((t.dtype !== "F32" && t.dtype !== "F64") || /^(rng|env)\./.test(name)) continue;
      floats++;
      assert.ok((t.data as Float32Array).every((x) => Number.isFinite(x)), `tensor ${name} of the last good checkpoint is finite`);
    }
    assert.ok(floats > 10, "the checkpoint holds the networks' float tensors");
    assert.ok(res.envSteps < 20_000, "the run stopped early");
  });

  test("checkpoint retention keeps the newest, also among saves at the same env step (step_…-k)", async () => {
    const root = mkdtempSync(`${tmpdir()}/fathom-keep-`);
    const runDir = createRunDir(root, { env: "simple_u_maze-v1", agent: "crl", depth: 4, seed: 0 });
    const first = await train(TrainConfigSchema.parse({ ...tiny, totalEnvSteps: 4000, numEvals: 2, runsDir: root }), { runDir });
    assert.equal(first.status, "done");
    // Resumed with 5 evaluations over the same budget (the CLI refuses this; train() does not):
    // evaluations 3..5 are all due at once, so three checkpoints are saved at 4000 env steps,
    // named step_0000004000-2, -3, -4 next to the first run's step_0000004000.
    const res = await train(TrainConfigSchema.parse({ ...tiny, totalEnvSteps: 4000, numEvals: 5, keepCheckpoints: 2, runsDir: root }), {
      runDir,
      resumeFrom: first.lastCheckpoint!,
    });
    assert.equal(res.status, "done");
    const kept = readdirSync(runDir.checkpointsDir).filter((f) => /^step_.*\d\.safetensors$/.test(f) && !f.includes("replay")).sort();
    assert.deepEqual(kept, ["step_0000004000-3.safetensors", "step_0000004000-4.safetensors"]);
    assert.ok(res.lastCheckpoint?.endsWith("step_0000004000-4.safetensors") && existsSync(res.lastCheckpoint), `${res.lastCheckpoint}`);
    const latest = JSON.parse(readFileSync(join(runDir.checkpointsDir, "latest.json"), "utf8"));
    assert.equal(latest.checkpoint, "step_0000004000-4.safetensors");
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

  test("the big maze evaluates its far goals (eval/…) and, beside them, all its goals (eval_all/…)", async () => {
    // 64 episodes of an untrained agent: the start is the same, so the mean distance to the goal
    // tells the goal sets apart (over the big maze's 25 goal cells the mean distance from the
    // start is 4.1 cells, over its 9 far cells 5.4).
    const config = TrainConfigSchema.parse({ ...tiny, env: "simple_big_maze-v1", numEvalEnvs: 64, totalEnvSteps: 400, numEvals: 1 });
    const [e] = (await train(config, { runDir: null })).evals;
    for (const k of ["eval_all/time_at_goal", "eval_all/success_rate", "eval_all/mean_dist", "eval_all/episode_success"] as const) {
      assert.equal(typeof e[k], "number", k);
    }
    assert.ok(!Object.keys(e).some((k) => k.startsWith("eval_far/")), "the far goals are the primary evaluation here");
    assert.ok(
      e["eval_all/mean_dist"] < e["eval/mean_dist"] - 0.5,
      `all goals are nearer than the far ones: ${e["eval_all/mean_dist"]} vs ${e["eval/mean_dist"]}`,
    );
    const off = await train({ ...config, allGoalEval: false }, { runDir: null });
    assert.ok(!Object.keys(off.evals[0]).some((k) => k.startsWith("eval_all/")), "--no-all-goal-eval: no eval_all/ metrics");
    assert.equal(off.evals[0]["eval/mean_dist"], e["eval/mean_dist"], "the extra evaluation changes nothing else");
    // Where the primary evaluation already uses every goal (the U-maze), there is no eval_all/.
    const u = await train(TrainConfigSchema.parse({ ...tiny, totalEnvSteps: 400, numEvals: 1 }), { runDir: null });
    assert.ok(!Object.keys(u.evals[0]).some((k) => k.startsWith("eval_all/")));
    assert.equal(typeof u.evals[0]["eval_far/time_at_goal"], "number");
  });

  test("the run says where its training envs step: the main thread, or the worker threads it got", async () => {
    const config = TrainConfigSchema.parse({ ...tiny, totalEnvSteps: 200, numEvals: 1 });
    for (const [threads, want] of [
      [0, "training envs: 4 stepped on the main thread"],
      [2, "training envs: 4 on 2 worker threads"],
      [9, "training envs: 4 on 4 worker threads"], // never more workers than envs
    ] as const) {
      const lines: string[] = [];
      await train({ ...config, threads }, { runDir: null, log: (l) => lines.push(l) });
      assert.ok(lines.includes(want), `threads ${threads}: ${lines.join(" | ")}`);
    }
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
