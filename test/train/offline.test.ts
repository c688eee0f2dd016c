// Offline training (issue 15): `fathom collect` writes the documented dataset format, `fathom train
// --offline` learns from it without env steps (resumable bit for bit), a dataset from another env
// and options that do not apply are refused clearly, and GCBC trained on a dataset collected by a
// trained point-maze agent reaches the maze's goals.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { readSafetensorsFile } from "../../src/train/checkpoint.js";
import { TrainConfigSchema } from "../../src/train/config.js";
import { DATASET_FORMAT, loadDataset, offlineConfig, readDatasetInfo } from "../../src/train/dataset.js";
import { readMetricsJsonl } from "../../src/train/logger.js";
import { createRunDir } from "../../src/train/rundir.js";
import { cli } from "../cli/run-cli.js";
import { noTiming, trainStoppedAndResumed, trainUninterrupted } from "./stop-resume.js";
import { TINY } from "./tiny-config.js";

const flags = (o: Record<string, unknown>) => Object.entries(o).flatMap(([k, v]) => [`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, String(v)]);
const root = mkdtempSync(join(tmpdir(), "fathom-offline-"));
const data = join(root, "random.safetensors");

describe("fathom collect", () => {
  test("--policy random writes obs, actions and episode ids in time order, with the env and how it was collected", async () => {
    const r = await cli(["collect", "--policy", "random", "--env", "simple_u_maze-v1", "--steps", "390", "--num-envs", "4", "--episode-length", "40", "--seed", "3", "--threads", "0", "--out", data]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /4 envs × 98 steps = 392 rows/);
    const info = readDatasetInfo(data);
    assert.deepEqual([info.env, info.numEnvs, info.stepsPerEnv, info.obsDim, info.actionDim], ["simple_u_maze-v1", 4, 98, 6, 2]);
    assert.deepEqual(info.collection, { policy: "random", seed: 3, numEnvs: 4, stepsPerEnv: 98, episodeLength: 40 });
    assert.equal(info.stats.episodes, 4 * 3); // 98 steps of 40-step episodes: 3 per env
    const { tensors, metadata } = readSafetensorsFile(data);
    assert.equal(metadata.format, DATASET_FORMAT);
    assert.deepEqual(JSON.parse(metadata.spec).goalIndices, [0, 1]);
    const ids = tensors.get("episode_ids")!.data;
    const obs = tensors.get("obs")!.data;
    for (let e = 0; e < 4; e++) {
      for (let t = 0; t < 98; t++) assert.equal(ids[e * 98 + t], Math.floor(t / 40), `env ${e} step ${t}`);
      // within an episode, consecutive rows are consecutive states: the point moves at most 0.25 m a step
      for (let t = 1; t < 40; t++) assert.ok(Math.abs(obs[(e * 98 + t) * 6] - obs[(e * 98 + t - 1) * 6]) <= 0.26);
    }
    assert.ok(tensors.get("actions")!.data.every((a) => a >= -1 && a <= 1));
    const again = await cli(["collect", "--policy", "random", "--env", "simple_u_maze-v1", "--steps", "10", "--out", data]);
    assert.equal(again.code, 1);
    assert.match(again.err, /refusing to overwrite/);
  });

  test("bad requests say what is wrong", async () => {
    const none = await cli(["collect", "--steps", "10", "--out", join(root, "x.safetensors")]);
    assert.equal(none.code, 2);
    assert.match(none.err, /needs a run directory \(or a checkpoint\) to collect with, or --policy random/);
    const noEnv = await cli(["collect", "--policy", "random", "--steps", "10", "--out", join(root, "x.safetensors")]);
    assert.match(noEnv.err, /--policy random needs --env/);
    const noOut = await cli(["collect", "--policy", "random", "--env", "simple_u_maze-v1", "--steps", "10"]);
    assert.match(noOut.err, /needs --out/);
  });
});

describe("fathom train --offline", () => {
  const offlineFlags = ["--runs-dir", join(root, "runs"), "--backend", "ref", "--threads", "0", "--offline-steps", "6", "--num-evals", "2", "--window-length", "40"];
  const small = flags({ batchSize: 16, sgdBatchesPerStep: 2, numEvalEnvs: 2, episodeLength: 40, actorWidth: 16 });

  test("a dataset from another env is refused, naming both envs", async () => {
    const r = await cli(["train", "--agent", "gcbc", "--offline", data, "--env", "simple_big_maze-v1", ...offlineFlags, ...small]);
    assert.equal(r.code, 1);
    assert.match(r.err, /dataset .* was collected on simple_u_maze-v1, not simple_big_maze-v1: .*give --env simple_u_maze-v1/);
    assert.throws(() => loadDataset(data, "ant_u4_maze-v1"), /collected on simple_u_maze-v1, not ant_u4_maze-v1/);
    const notData = join(root, "not-a-dataset.safetensors");
    writeFileSync(notData, "garbage");
    assert.throws(() => readDatasetInfo(notData), /damaged|not a Fathom dataset|truncated/);
  });

  test("options that do not apply are refused: gcbc without a dataset, TD agents offline, online-only keys", async () => {
    const g = await cli(["train", "--agent", "gcbc", "--env", "simple_u_maze-v1"]);
    assert.equal(g.code, 2);
    assert.match(g.err, /--agent gcbc learns only from a fixed dataset: give --offline <dataset.safetensors>/);
    const s = await cli(["train", "--agent", "sac", "--offline", data, ...offlineFlags, "--batch-size", "16"]);
    assert.equal(s.code, 2);
    assert.match(s.err, /--agent sac does not train offline: --offline is for crl, gcbc/);
    const n = await cli(["train", "--agent", "gcbc", "--offline", data, "--num-envs", "8", ...offlineFlags, ...small]);
    assert.equal(n.code, 2);
    assert.match(n.err, /--num-envs does not apply with --offline/);
    const o = await cli(["train", "--env", "simple_u_maze-v1", "--offline-steps", "5"]);
    assert.equal(o.code, 2);
    assert.match(o.err, /--offline-steps applies only with --offline/);
  });

  test("the env comes from the dataset; no env steps are taken; the run directory and config say offline", async () => {
    const r = await cli(["train", "--agent", "gcbc", "--offline", data, ...offlineFlags, ...small]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /done: 0 env steps, \d+ gradient steps/);
    const dir = readdirSync(join(root, "runs")).find((d) => d.startsWith("simple_u_maze-v1__gcbc__d4__s0__"));
    assert.ok(dir);
    const recs = readMetricsJsonl(join(root, "runs", dir, "metrics.jsonl")).records;
    const evals = recs.filter((x) => typeof x["eval/episode_success"] === "number");
    assert.deepEqual(evals.map((x) => x.step), [3, 6]);
    assert.ok(recs.every((x) => x.envsteps === 0));
    assert.ok(recs.some((x) => typeof x["training/actor_loss"] === "number"));
    // curves of offline runs are drawn against training steps
    const p = await cli(["plot", join(root, "runs", dir), "--out", join(root, "c.svg")]);
    assert.equal(p.code, 2);
    assert.match(p.err, /trained offline and took no env steps: draw their curves against training steps with --x step/);
    const q = await cli(["plot", join(root, "runs", dir), "--out", join(root, "c.svg"), "--x", "step"]);
    assert.equal(q.code, 0, q.err);
  });

  for (const agent of ["crl", "gcbc"] as const) {
    test(`${agent}: interrupted and resumed, an offline run gives the uninterrupted run's metrics bit for bit`, async () => {
      const { reprDim, criticWidth, ...rest } = TINY; // the critic's keys are CRL's only here
      const config = offlineConfig(
        TrainConfigSchema.parse({ ...rest, ...(agent === "crl" ? { reprDim, criticWidth } : {}), agent, offline: data, offlineSteps: 8, numEvals: 2, windowLength: 40, backend: "ref" }),
      );
      assert.equal(config.numEnvs, 4);
      assert.equal(config.maxReplaySize, 98);
      const { full, steps } = await trainUninterrupted(config);
      assert.equal(full.envSteps, 0);
      assert.equal(full.trainingSteps, 8);
      const runDir = createRunDir(join(root, `resume-${agent}`), { env: config.env, agent, depth: 4, seed: 0 });
      const { first, second, parts } = await trainStoppedAndResumed(config, runDir, 3);
      assert.ok(!readdirSync(runDir.checkpointsDir).some((f) => f.endsWith(".replay.safetensors")), "the dataset is not saved again");
      assert.deepEqual(parts, steps);
      assert.deepEqual(noTiming([...first.evals, ...second.evals]), noTiming(full.evals));
    });
  }
});

describe("offline GCBC learns from a trained agent's data (simple_u_maze-v1)", () => {
  /**
   * The data: SAC+HER trained as in learning-td.test.ts (seed 0, 250 k env steps; its own success
   * 0.52), 16 envs × 2000 steps with its exploring policy (17 % of the steps at the goal). GCBC
   * (width 128, 300 training steps of up to 32 updates) measured over its last two evaluations:
   * success 0.69, time at goal 150 of 400 (far goals: 30); trained on uniformly random data of the
   * same size instead: 0.52 and 88 (far goals: 4). A uniformly random policy: 0.02 and 0.1.
   */
  const SUCCESS_BAR = 0.3;
  const TIME_AT_GOAL_BAR = 60;

  test(`reaches the goals (success ≥ ${SUCCESS_BAR}, time at goal ≥ ${TIME_AT_GOAL_BAR} of 400)`, async () => {
    const runs = join(root, "learn");
    const expert = await cli([
      "train",
      "--agent",
      "sac_her",
      "--env",
      "simple_u_maze-v1",
      "--runs-dir",
      runs,
      ...flags({ seed: 0, totalEnvSteps: 250_000, numEvals: 5, episodeLength: 400, windowLength: 400, actorWidth: 64, criticWidth: 64, discounting: 0.99, threads: 0 }),
    ]);
    assert.equal(expert.code, 0, expert.err);
    const [expertDir] = readdirSync(runs);
    const dataset = join(root, "expert.safetensors");
    const c = await cli(["collect", join(runs, expertDir), "--steps", "32000", "--num-envs", "16", "--threads", "0", "--out", dataset]);
    assert.equal(c.code, 0, c.err);
    assert.equal(readDatasetInfo(dataset).collection.agent, "sac_her");
    const g = await cli(["train", "--agent", "gcbc", "--offline", dataset, "--runs-dir", runs, ...flags({ offlineSteps: 300, numEvals: 6, episodeLength: 400, windowLength: 400, threads: 0 })]);
    assert.equal(g.code, 0, g.err);
    const gcbcDir = readdirSync(runs).find((d) => d.includes("__gcbc__"))!;
    const evals = readMetricsJsonl(join(runs, gcbcDir, "metrics.jsonl")).records.filter((x) => typeof x["eval/episode_success"] === "number");
    const last = evals.slice(-2);
    const mean = (k: string) => last.reduce((a, e) => a + (e[k] as number), 0) / last.length;
    const curve = evals.map((e) => `${e.step}: any ${(e["eval/episode_success_any"] as number).toFixed(2)}, at goal ${(e["eval/episode_success"] as number).toFixed(0)}`).join("; ");
    assert.ok(mean("eval/episode_success_any") >= SUCCESS_BAR, `success ${mean("eval/episode_success_any")} (${curve})`);
    assert.ok(mean("eval/episode_success") >= TIME_AT_GOAL_BAR, `time at goal ${mean("eval/episode_success")} (${curve})`);
  });
});
