// Post-hoc evaluations (src/train/posthoc.ts): the results of `fathom eval` in <run>/eval/ read
// back as one evaluation record per periodic checkpoint, and `fathom plot --posthoc <env>` drawing
// and summarising them like a run's own evaluations.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { presetFor, TrainConfigSchema } from "../../src/train/config.js";
import { evalResultBase, posthocRecords, readEvalResults } from "../../src/train/posthoc.js";
import { bootstrapMeanCI } from "../../src/train/stats.js";
import { cli } from "../cli/run-cli.js";

const ENV = "ant_big_maze-v1";

/** Writes what `fathom eval <checkpoint> --env <env>` writes, under the name it gives. */
function evalResult(runDir: string, checkpoint: string, o: { env?: string; seed?: number; episodes?: number; atGoal: number; suffix?: string }): void {
  const env = o.env ?? ENV;
  const seed = o.seed ?? 12345;
  const episodes = o.episodes ?? 128;
  mkdirSync(join(runDir, "eval"), { recursive: true });
  const ckpt = join(runDir, "checkpoints", checkpoint);
  const body = { fathom: "test", checkpoint: ckpt, env, seed, episodes, metrics: { "eval/episode_success": o.atGoal, "eval/mean_dist": 20 - o.atGoal / 10 } };
  writeFileSync(join(runDir, "eval", `${evalResultBase(ckpt, env, seed, episodes)}${o.suffix ?? ""}.json`), JSON.stringify(body));
}

function fakeRun(root: string, depth: number, seed: number): string {
  const dir = join(root, `${ENV}__crl__d${depth}__s${seed}`);
  mkdirSync(dir, { recursive: true });
  const config = TrainConfigSchema.parse({ ...presetFor("cpu", "crl"), env: ENV, seed, actorDepth: depth, criticDepth: depth });
  writeFileSync(join(dir, "config.json"), JSON.stringify({ fathom: "test", config }));
  // the run's own evaluations (the far goals): all 0, so a plot that read these would show 0
  writeFileSync(join(dir, "metrics.jsonl"), [1, 2, 3, 4, 5, 6].map((k) => JSON.stringify({ step: k, envsteps: k * 1000, "eval/episode_success": 0 })).join("\n"));
  return dir;
}

test("evalResultBase is fathom eval's file name: <checkpoint>__<env>__seed<seed>__n<episodes>", () => {
  assert.equal(evalResultBase("/r/checkpoints/step_0000500576.safetensors", ENV, 12345, 128), `step_0000500576__${ENV}__seed12345__n128`);
});

test("posthocRecords: one record per periodic checkpoint in env-step order; other envs, interrupt checkpoints and view's cache left out", () => {
  const dir = fakeRun(mkdtempSync(join(tmpdir(), "fathom-posthoc-")), 4, 0);
  evalResult(dir, "step_0000002000.safetensors", { atGoal: 20 });
  evalResult(dir, "step_0000001000.safetensors", { atGoal: 10 });
  evalResult(dir, "interrupt_0000001500.safetensors", { atGoal: 99 });
  evalResult(dir, "step_0000001000.safetensors", { env: "ant_big_maze_eval-v1", atGoal: 55 });
  mkdirSync(join(dir, "eval", "episodes"));
  const recs = posthocRecords(dir, ENV);
  assert.deepEqual(
    recs.map((r) => [r.envsteps, r["eval/episode_success"]]),
    [
      [1000, 10],
      [2000, 20],
    ],
  );
  assert.deepEqual(posthocRecords(dir, "ant_big_maze_eval-v1"), [{ envsteps: 1000, "eval/episode_success": 55, "eval/mean_dist": 14.5 }]);
  assert.equal(readEvalResults(dir).length, 4);
  assert.deepEqual(posthocRecords(dir, "humanoid-v1"), []);
});

test("posthocRecords: a repeated identical evaluation counts once; different ones need the seed or episode count to choose", () => {
  const dir = fakeRun(mkdtempSync(join(tmpdir(), "fathom-posthoc-")), 4, 0);
  evalResult(dir, "step_0000001000.safetensors", { atGoal: 10 });
  evalResult(dir, "step_0000001000.safetensors", { atGoal: 10, suffix: "-2" });
  assert.deepEqual(
    posthocRecords(dir, ENV).map((r) => r.envsteps),
    [1000],
  );
  evalResult(dir, "step_0000001000.safetensors", { atGoal: 30, seed: 7 });
  assert.throws(() => posthocRecords(dir, ENV), /3 different evaluations of the checkpoint at 1000 env steps on ant_big_maze-v1: .*seed 7, 128 episodes.*choose one by its evaluation seed/);
  assert.equal(posthocRecords(dir, ENV, { seed: 7 })[0]["eval/episode_success"], 30);
  assert.equal(posthocRecords(dir, ENV, { seed: 12345 })[0]["eval/episode_success"], 10);
  evalResult(dir, "step_0000001000.safetensors", { atGoal: 12, episodes: 256 });
  assert.throws(() => posthocRecords(dir, ENV, { seed: 12345 }), /different evaluations/);
  assert.equal(posthocRecords(dir, ENV, { seed: 12345, episodes: 256 })[0]["eval/episode_success"], 12);
});

test("readEvalResults: a file in eval/ that is not a fathom eval result is an error naming it", () => {
  const dir = fakeRun(mkdtempSync(join(tmpdir(), "fathom-posthoc-")), 4, 0);
  mkdirSync(join(dir, "eval"));
  writeFileSync(join(dir, "eval", "notes.json"), "{ half");
  assert.throws(() => readEvalResults(dir), /notes\.json is not a readable fathom eval result/);
  writeFileSync(join(dir, "eval", "notes.json"), JSON.stringify({ checkpoint: "best.safetensors", env: ENV, seed: 1, episodes: 1, metrics: {} }));
  assert.throws(() => readEvalResults(dir), /notes\.json is not a fathom eval result of an agent checkpoint/);
});

test("fathom plot --posthoc: curves and the depth summary from the post-hoc evaluations, not metrics.jsonl", async () => {
  const root = mkdtempSync(join(tmpdir(), "fathom-posthoc-plot-"));
  const runs = join(root, "runs");
  // per run: 6 checkpoints; the last five's mean is the run's final value
  const values: Record<string, number[]> = {
    "4/0": [0, 10, 20, 30, 40, 50],
    "4/1": [0, 20, 20, 20, 20, 20],
    "8/0": [5, 60, 60, 70, 80, 80],
    "8/1": [5, 50, 50, 50, 50, 50],
  };
  for (const [key, vs] of Object.entries(values)) {
    const [depth, seed] = key.split("/").map(Number);
    const dir = fakeRun(runs, depth, seed);
    for (const [i, v] of vs.entries()) evalResult(dir, `step_${String((i + 1) * 1000).padStart(10, "0")}.safetensors`, { atGoal: v });
  }
  const curves = join(root, "curves.svg");
  const summary = join(root, "summary.svg");
  const r = await cli(["plot", runs, "--posthoc", ENV, "--out", curves, "--summary", summary]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /post-hoc evaluations on ant_big_maze-v1/);
  const ci4 = bootstrapMeanCI([30, 20]);
  const row4 = r.out.split("\n").find((l) => l.startsWith("| 4 |"));
  assert.ok(row4, r.out);
  assert.match(row4, /^\| 4 \| 2 \| 25 \|/);
  assert.ok(row4.includes(`${+ci4.lo.toFixed(2)}–${+ci4.hi.toFixed(2)}`), row4);
  assert.match(r.out.split("\n").find((l) => l.startsWith("| 8 |")) ?? "", /^\| 8 \| 2 \| 60 \|/);
  assert.match(readFileSync(curves, "utf8"), /post-hoc on/);
  assert.match(readFileSync(summary, "utf8"), /data-group="8" data-n="2" data-mean="60"/);

  // without --posthoc the same runs plot their own (far-goal) evaluations: all 0
  const own = await cli(["plot", runs, "--summary", join(root, "own.svg")]);
  assert.equal(own.code, 0, own.err);
  assert.match(own.out, /^\| 8 \| 2 \| 0 \|/m);

  const bad = await cli(["plot", runs, "--posthoc", ENV, "--x", "step", "--out", join(root, "x.svg")]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--posthoc draws against env steps only/);
});
