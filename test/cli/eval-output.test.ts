// `fathom eval` keeps its result in <run>/eval/ (never overwriting one) and refuses an existing
// --trajectories file before it evaluates, not after (issue 10).
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { posthocRecords } from "../../src/train/posthoc.js";
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
