// `fathom train` checks what it can before it starts (issue 10): limits and budgets are refused
// with the numbers, before a run directory exists; FATHOM_BACKEND and FATHOM_THREADS are honoured
// or rejected by name; the end of a run compares the agent with a random policy.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { toArgv } from "../../src/cli/flags.js";
import { TRAIN_SCHEMAS } from "../../src/train/config.js";
import { TINY } from "../train/tiny-config.js";
import { cli } from "./run-cli.js";

const root = new URL("../..", import.meta.url).pathname;


/** The CLI as a child process (backend choices are cached per process). */
function child(args: string[], env: Record<string, string>): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(root, "src/cli/bin.ts"), ...args], {
    cwd: root,
    env: { ...process.env, FATHOM_BACKEND: "", ...env },
    encoding: "utf8",
    timeout: 120_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

// the tiny training config of the loop tests, as a command line
const tiny = (runsDir: string) => [
  "train",
  ...toArgv(TRAIN_SCHEMAS.crl, { ...TINY, totalEnvSteps: 200, numEvals: 2, numEvalEnvs: 3, episodeLength: 30, maxReplaySize: 100, windowLength: 30, runsDir }),
];

const runDirsIn = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);

describe("fathom train refuses what cannot run, before making a run directory", () => {
  test("a network that cannot fit in memory: how much it needs, how much there is", async () => {
    const runs = join(mkdtempSync(join(tmpdir(), "fathom-pre-")), "runs");
    const r = await cli(["train", "--env", "simple_u_maze-v1", "--critic-depth", "4000000", "--critic-width", "4096", "--runs-dir", runs]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /needs about [\d.]+ [PTE]iB of memory, but this machine has [\d.]+ [GT]iB/);
    assert.match(r.err, /lower --actor-depth\/--critic-depth/);
    assert.deepEqual(runDirsIn(runs), []);
  });

  test("--max-replay-size 1e8 errors and leaves no run directory behind", async () => {
    const runs = join(mkdtempSync(join(tmpdir(), "fathom-pre-")), "runs");
    const r = await cli(["train", "--env", "simple_u_maze-v1", "--max-replay-size", "1e8", "--runs-dir", runs]);
    assert.notEqual(r.code, 0);
    assert.deepEqual(runDirsIn(runs), []);
    assert.match(r.err, /replay buffer/);
  });

  test("budgets that cannot cover the prefill plus one training step per evaluation give the minimum", async () => {
    const runs = join(mkdtempSync(join(tmpdir(), "fathom-pre-")), "runs");
    const small = await cli(["train", "--env", "simple_u_maze-v1", "--total-env-steps", "10", "--runs-dir", runs]);
    assert.equal(small.code, 2);
    assert.match(small.err, /--total-env-steps 10 is invalid: totalEnvSteps must be at least 11520: the replay prefill/);
    assert.doesNotMatch(small.err, /allowed: an integer/, "the key's own range would mislead");
    const wide = await cli(["train", "--env", "simple_u_maze-v1", "--num-envs", "65536", "--total-env-steps", "1e5", "--runs-dir", runs]);
    assert.equal(wide.code, 2);
    assert.match(wide.err, /at least 47185920/);
    assert.deepEqual(runDirsIn(runs), []);
  });

  test("--window-length above --max-replay-size, and a flag given twice, are errors", async () => {
    const runs = join(mkdtempSync(join(tmpdir(), "fathom-pre-")), "runs");
    const w = await cli(["train", "--env", "simple_u_maze-v1", "--window-length", "5000", "--runs-dir", runs]);
    assert.equal(w.code, 2);
    assert.match(w.err, /--window-length 5000 is invalid: windowLength \(5000\) must not exceed maxReplaySize \(4000\)/);
    const twice = await cli(["train", "--env", "simple_u_maze-v1", "--batch-size", "64", "--batch-size", "128", "--runs-dir", runs]);
    assert.equal(twice.code, 2);
    assert.match(twice.err, /--batch-size given twice/);
    const preset = await cli(["train", "--env", "simple_u_maze-v1", "--preset", "cpu", "--preset=paper", "--runs-dir", runs]);
    assert.equal(preset.code, 2);
    assert.match(preset.err, /--preset given twice/);
    assert.deepEqual(runDirsIn(runs), []);
  });
});

describe("--frame-skip", () => {
  test("is refused on an env without physics (before a run directory exists) and recorded on a MuJoCo env", async () => {
    const runs = join(mkdtempSync(join(tmpdir(), "fathom-pre-")), "runs");
    const point = await cli(["train", "--env", "simple_u_maze-v1", "--frame-skip", "3", "--runs-dir", runs]);
    assert.notEqual(point.code, 0);
    assert.match(point.err, /simple_u_maze-v1 has no physics frame skip to set/);
    assert.deepEqual(runDirsIn(runs), []);
    const zero = await cli(["train", "--env", "ant-v1", "--frame-skip", "0", "--runs-dir", runs]);
    assert.equal(zero.code, 2);
    assert.match(zero.err, /--frame-skip 0 is invalid/);
    const args = tiny(runs).map((a) => (a === "simple_u_maze-v1" ? "arm_push_easy-v1" : a));
    const r = await cli([...args, "--frame-skip", "2"]);
    assert.equal(r.code, 0, r.err);
    const [dir] = runDirsIn(runs);
    const config = JSON.parse(readFileSync(join(runs, dir, "config.json"), "utf8"));
    assert.equal(config.config.frameSkip, 2);
  });
});

describe("environment variables", () => {
  test("FATHOM_BACKEND applies when --backend is not given; --backend beats it; a bogus value names the allowed ones", async () => {
    const runs = mkdtempSync(join(tmpdir(), "fathom-env-"));
    const r = await cli(tiny(runs), { FATHOM_BACKEND: "ref" });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^backend: ref/m);
    const dir = join(runs, readdirSync(runs)[0]);
    assert.equal(JSON.parse(readFileSync(join(dir, "config.json"), "utf8")).config.backend, "ref");
    const flag = await cli([...tiny(runs), "--backend", "auto"], { FATHOM_BACKEND: "ref" });
    assert.equal(flag.code, 0, flag.err);
    const second = readdirSync(runs).find((n) => join(runs, n) !== dir);
    assert.ok(second);
    assert.equal(JSON.parse(readFileSync(join(runs, second, "config.json"), "utf8")).config.backend, "auto");
    const bogus = await cli(tiny(join(runs, "none")), { FATHOM_BACKEND: "bogus" });
    assert.notEqual(bogus.code, 0);
    assert.match(bogus.err, /FATHOM_BACKEND="bogus" is not allowed: use one of auto, native, ref/);
    assert.deepEqual(runDirsIn(join(runs, "none")), []);
  });

  test("FATHOM_THREADS=0 or abc is an error naming the variable and the range, not a fallback to ref", () => {
    const runs = mkdtempSync(join(tmpdir(), "fathom-thr-"));
    for (const v of ["0", "abc", "2.5"]) {
      const r = child(tiny(runs), { FATHOM_THREADS: v });
      assert.notEqual(r.code, 0, `FATHOM_THREADS=${v}: ${r.out}`);
      assert.match(r.err, new RegExp(`FATHOM_THREADS="${v.replace(".", "\\.")}" is not allowed: use an integer from 1 to \\d+`));
      assert.doesNotMatch(r.out + r.err, /build:native/);
    }
    assert.deepEqual(readdirSync(runs), []);
  });

  test("FATHOM_THREADS above the core count: a warning, and the pool capped to the cores", () => {
    const runs = mkdtempSync(join(tmpdir(), "fathom-thr-"));
    const r = child(tiny(runs), { FATHOM_THREADS: "999" });
    assert.equal(r.code, 0, r.err);
    if (/^backend: native/m.test(r.out)) {
      assert.match(r.err, /warning: FATHOM_THREADS=999 is more than the (\d+) cores of this machine: using \1 threads/);
      assert.doesNotMatch(r.out, /999 threads/);
    }
  });
});

describe("the end of a run", () => {
  test("says how the agent did next to a random policy on the same env; metric names unchanged", async () => {
    const runs = mkdtempSync(join(tmpdir(), "fathom-end-"));
    const r = await cli(tiny(runs));
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /result of the last evaluation \(\d+ env steps, 3 episodes\), next to a uniformly random policy \(32 episodes, fixed seed\):/);
    assert.match(r.out, /^simple_u_maze-v1 \(goals\):$/m);
    assert.match(r.out, /^simple_u_maze_eval-v1 \(far goals only\):$/m);
    assert.match(r.out, /success rate \(episodes that reached the goal\) +\d+\.\d % +\d+\.\d %/);
    assert.match(r.out, /time at goal \(steps of 30\) +\d+\.\d +\d+\.\d/);
    assert.match(r.out, /mean distance to the goal +\d+\.\d\d +\d+\.\d\d/);
    const dir = join(runs, readdirSync(runs)[0]);
    const evals = readFileSync(join(dir, "metrics.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((l) => "eval/episode_success" in l);
    for (const k of ["eval/episode_success", "eval/episode_success_any", "eval/mean_dist", "eval/episode_dist", "eval_far/episode_success", "eval_far/mean_dist"]) {
      assert.equal(typeof evals[0][k], "number", k);
    }
  });
});
