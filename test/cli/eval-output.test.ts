// `fathom eval` keeps its result in <run>/eval/ (never overwriting one) and refuses an existing
// --trajectories file before it evaluates, not after (issue 10).
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { test } from "node:test";
import { posthocRecords, readEvalResults } from "../../src/train/posthoc.js";
import { cli } from "./run-cli.js";


const tiny = ["--env", "simple_u_maze-v1", "--num-envs", "4", "--unroll-length", "10", "--batch-size", "16", "--sgd-batches-per-step", "2",
  "--total-env-steps", "200", "--num-evals", "1", "--num-eval-envs", "2", "--episode-length", "20", "--min-replay-size", "10",
  "--max-replay-size", "100", "--window-length", "20", "--actor-width", "16", "--critic-width", "16", "--repr-dim", "8", "--threads", "0"];

test("fathom eval writes <run>/eval/<checkpoint>__<env>__seed<seed>__n<episodes>.json, never overwriting; --trajectories to an existing file is refused before evaluating", async () => {
  const runsDir = mkdtempSync(join(tmpdir(), "fathom-eval-out-"));
  const t = await cli(["train", ...tiny, "--runs-dir", runsDir]);
  assert.equal(t.code, 0, t.err);
  const dir = join(runsDir, readdirSync(runsDir)[0]);
  const latest = JSON.parse(readFileSync(join(dir, "checkpoints", "latest.json"), "utf8")).checkpoint as string;
  const base = `${latest.replace(/\.safetensors$/, "")}__simple_u_maze-v1__seed7__n3`;

  const e = await cli(["eval", dir, "--episodes", "3", "--seed", "7", "--threads", "0"]);
  assert.equal(e.code, 0, e.err);
  const path = join(dir, "eval", `${base}.json`);
  assert.match(e.out, new RegExp(`result written to ${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
  const saved = JSON.parse(readFileSync(path, "utf8"));
  assert.equal(saved.env, "simple_u_maze-v1");
  assert.equal(saved.seed, 7);
  assert.equal(saved.episodes, 3);
  assert.equal(saved.checkpoint, join(dir, "checkpoints", latest));
  assert.equal(typeof saved.metrics["eval/episode_success"], "number");
  assert.match(e.out, new RegExp(`time at goal: +${saved.metrics["eval/episode_success"].toFixed(1)} of 20 steps`));

  // the same evaluation again: a second file, the first untouched
  const before = readFileSync(path, "utf8");
  const again = await cli(["eval", dir, "--episodes", "3", "--seed", "7", "--threads", "0"]);
  assert.equal(again.code, 0, again.err);
  assert.ok(existsSync(join(dir, "eval", `${base}-2.json`)));
  assert.equal(readFileSync(path, "utf8"), before);

  // --no-save: printed only
  const quiet = await cli(["eval", dir, "--episodes", "3", "--seed", "7", "--threads", "0", "--no-save"]);
  assert.equal(quiet.code, 0, quiet.err);
  assert.doesNotMatch(quiet.out, /result written/);
  assert.deepEqual(readdirSync(join(dir, "eval")).sort(), [`${base}-2.json`, `${base}.json`]);

  // an existing --trajectories file: refused before anything is evaluated or written
  const traj = join(runsDir, "traj.json");
  writeFileSync(traj, "mine\n");
  const refused = await cli(["eval", dir, "--episodes", "3", "--seed", "7", "--threads", "0", "--trajectories", traj]);
  assert.equal(refused.code, 1);
  assert.match(refused.err, /refusing to overwrite .*traj\.json/);
  assert.doesNotMatch(refused.out, /time at goal/, "the evaluation did not run");
  assert.equal(readdirSync(join(dir, "eval")).length, 2);
  assert.equal(readFileSync(traj, "utf8"), "mine\n");
  // a new file is written where the user says, next to the result in eval/
  const traj2 = join(runsDir, "traj2.json");
  const ok = await cli(["eval", dir, "--episodes", "3", "--seed", "7", "--threads", "0", "--trajectories", traj2]);
  assert.equal(ok.code, 0, ok.err);
  assert.equal(JSON.parse(readFileSync(traj2, "utf8")).achieved.length, 3);
  assert.ok(existsSync(join(dir, "eval", `${base}-3.json`)));

  // read back as a post-hoc series (fathom plot --posthoc): the three identical results of one
  // periodic checkpoint are one record at its env steps
  assert.match(latest, /^step_\d{10}\.safetensors$/);
  const recs = posthocRecords(dir, "simple_u_maze-v1");
  assert.equal(recs.length, 1);
  const { "eval/sps": _speed, ...result } = saved.metrics; // the speed differs between the three
  assert.deepEqual({ ...recs[0], "eval/sps": 0 }, { envsteps: Number(latest.slice(5, 15)), ...result, "eval/sps": 0 });
});

test("fathom eval --every-checkpoint: every periodic checkpoint of every run once, the same results as one evaluation each; a rerun skips them", async () => {
  const runsDir = mkdtempSync(join(tmpdir(), "fathom-eval-every-"));
  const args = [...tiny.filter((_, i) => i < tiny.indexOf("--total-env-steps") || i > tiny.indexOf("--num-evals") + 1), "--total-env-steps", "600", "--num-evals", "3"];
  for (const seed of ["0", "1"]) {
    const t = await cli(["train", ...args, "--seed", seed, "--runs-dir", runsDir]);
    assert.equal(t.code, 0, t.err);
  }
  const dirs = readdirSync(runsDir).map((n) => join(runsDir, n));
  const periodic = (dir: string) => readdirSync(join(dir, "checkpoints")).filter((f) => /^step_\d{10}\.safetensors$/.test(f)).sort();
  assert.ok(periodic(dirs[0]).length >= 2, `checkpoints: ${periodic(dirs[0])}`);

  // one checkpoint already evaluated the usual way: it is skipped
  const first = join(dirs[0], "checkpoints", periodic(dirs[0])[0]);
  const one = await cli(["eval", first, "--episodes", "3", "--seed", "7", "--threads", "0"]);
  assert.equal(one.code, 0, one.err);
  const all = await cli(["eval", runsDir, "--every-checkpoint", "--episodes", "3", "--seed", "7", "--threads", "0"]);
  assert.equal(all.code, 0, all.err);
  const total = dirs.reduce((a, d) => a + periodic(d).length, 0);
  assert.match(all.out, new RegExp(`${total - 1} checkpoints evaluated, 1 already had a result`));
  for (const d of dirs) assert.deepEqual(readEvalResults(d).map((e) => e.checkpoint).sort(), periodic(d));

  // the same as evaluating each checkpoint in a process of its own (fresh agent and env)
  const last = join(dirs[1], "checkpoints", periodic(dirs[1]).at(-1)!);
  const alone = await cli(["eval", last, "--episodes", "3", "--seed", "7", "--threads", "0", "--no-save"]);
  assert.equal(alone.code, 0, alone.err);
  const fromAll = readEvalResults(dirs[1]).find((e) => e.checkpoint === basename(last))!;
  assert.match(alone.out, new RegExp(`mean distance: +${fromAll.metrics["eval/mean_dist"].toFixed(3)} `));
  assert.ok(posthocRecords(dirs[1], "simple_u_maze-v1").length === periodic(dirs[1]).length);

  const again = await cli(["eval", runsDir, "--every-checkpoint", "--episodes", "3", "--seed", "7", "--threads", "0"]);
  assert.equal(again.code, 0, again.err);
  assert.match(again.out, new RegExp(`0 checkpoints evaluated, ${total} already had a result`));
  // another seed is another series
  const other = await cli(["eval", dirs[0], "--every-checkpoint", "--episodes", "3", "--seed", "8", "--threads", "0"]);
  assert.match(other.out, new RegExp(`${periodic(dirs[0]).length} checkpoints evaluated, 0 already`));

  const noSave = await cli(["eval", runsDir, "--every-checkpoint", "--no-save"]);
  assert.equal(noSave.code, 2);
  assert.match(noSave.err, /leave out --no-save/);
  const traj = await cli(["eval", runsDir, "--every-checkpoint", "--trajectories", join(runsDir, "t.json")]);
  assert.equal(traj.code, 2);
  assert.match(traj.err, /not trajectories/);
});
