// `fathom sweep` end to end on a tiny point-maze config: resumable sweeps (skip / resume / move
// aside / refuse), child processes with --jobs, `fathom export` and `fathom plot --summary`.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { spawn } from "node:child_process";
import { cli } from "./run-cli.js";


const root = mkdtempSync(join(tmpdir(), "fathom-sweep-cli-"));
const runsDir = join(root, "runs");
const tiny = [
  "--env",
  "simple_u_maze-v1",
  "--total-env-steps",
  "2000",
  "--num-evals",
  "1",
  "--num-envs",
  "2",
  "--sgd-batches-per-step",
  "1",
  "--batch-size",
  "8",
  "--actor-width",
  "8",
  "--critic-width",
  "8",
  "--min-replay-size",
  "10",
  "--max-replay-size",
  "200",
  "--window-length",
  "200",
  "--num-eval-envs",
  "2",
  "--episode-length",
  "50",
  "--runs-dir",
  runsDir,
];
const name = (seed: number) => `simple_u_maze-v1__crl__d4__s${seed}`;
const summaryOf = (seed: number) => JSON.parse(readFileSync(join(runsDir, name(seed), "summary.json"), "utf8"));

/** `fathom sweep <args>` as a process of its own (one thread), with its stdout and stderr together. */
function sweepProcess(args: string[]): Promise<{ code: number | null; out: string }> {
  const bin = join(new URL("../..", import.meta.url).pathname, "src/cli/bin.ts");
  return new Promise((done) => {
    const child = spawn(process.execPath, ["--import", "tsx", bin, "sweep", ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, FATHOM_THREADS: "1" } });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      out += d;
    });
    child.on("close", (code) => done({ code, out }));
  });
}

describe("fathom sweep", () => {
  test("a finished run is skipped on the second sweep; one with a checkpoint but no summary is resumed", async () => {
    const first = await cli(["sweep", ...tiny, "--depths", "4", "--seeds", "0"]);
    assert.equal(first.code, 0, first.err);
    assert.deepEqual(readdirSync(runsDir), [name(0)]);
    const s = summaryOf(0);
    assert.equal(s.status, "done");
    assert.equal(s.evals, 1);
    assert.equal(typeof s.last5["eval/episode_success"], "number");
    assert.ok(s.wallSeconds > 0 && s.envSteps >= 2000);
    assert.match(first.out, /\| depth \| seed \| status \| time at goal \(last 5\) \|/);
    assert.match(first.out, /\| 4 \| 0 \| done \| [\d.]+ \|/);
    const metrics = readFileSync(join(runsDir, name(0), "metrics.jsonl"), "utf8");

    const second = await cli(["sweep", ...tiny, "--depths", "4", "--seeds", "0"]);
    assert.equal(second.code, 0, second.err);
    assert.match(second.out, /skip depth 4 seed 0: finished/);
    assert.match(second.out, /\| 4 \| 0 \| done \(skipped\) \|/);
    assert.doesNotMatch(second.out, /=== start/);
    assert.equal(readFileSync(join(runsDir, name(0), "metrics.jsonl"), "utf8"), metrics);
    assert.deepEqual(summaryOf(0), s);

    // killed after its checkpoint but before its summary: resumed as `fathom train --resume` does,
    // with the env threads this sweep asks for (speed only: not compared, not saved)
    rmSync(join(runsDir, name(0), "summary.json"));
    const third = await cli(["sweep", ...tiny, "--depths", "4", "--seeds", "0", "--threads", "0"]);
    assert.equal(third.code, 0, third.err);
    assert.match(third.out, /=== resume depth 4 seed 0/);
    assert.equal(JSON.parse(readFileSync(join(runsDir, name(0), "config.json"), "utf8")).config.threads, undefined);
    assert.match(third.out, /finished depth 4 seed 0: done \(resumed\)/);
    assert.equal(summaryOf(0).status, "done");
    assert.equal(summaryOf(0).updates, s.updates);
    assert.deepEqual(readdirSync(runsDir), [name(0)]);
  });

  test("a run directory with another configuration is refused, naming the keys", async () => {
    const r = await cli(["sweep", ...tiny.map((a, i) => (tiny[i - 1] === "--batch-size" ? "16" : a)), "--depths", "4", "--seeds", "0"]);
    assert.equal(r.code, 1);
    assert.match(r.err, /simple_u_maze-v1__crl__d4__s0 holds a run with a different configuration \(batchSize: run 8, sweep 16\)/);
    assert.match(r.err, /to go on with it, give the sweep the run's values: --batch-size 8$/m);
    assert.match(r.err, /sweep not started/);
    const bad = await cli(["sweep", ...tiny, "--seed", "3"]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--seeds/);
  });

  test("a directory without a checkpoint is moved aside and the run started afresh", async () => {
    const dir = join(runsDir, name(1));
    mkdirSync(join(dir, "checkpoints"), { recursive: true });
    const cfg = JSON.parse(readFileSync(join(runsDir, name(0), "config.json"), "utf8"));
    writeFileSync(join(dir, "config.json"), JSON.stringify({ ...cfg, config: { ...cfg.config, seed: 1 } }));
    writeFileSync(join(dir, "metrics.jsonl"), "");
    const r = await cli(["sweep", ...tiny, "--depths", "4", "--seeds", "0-1"]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /skip depth 4 seed 0/);
    assert.match(r.out, /moved .*__s1 aside to simple_u_maze-v1__crl__d4__s1\.incomplete-\d{8}-\d{6} \(it has no checkpoint/);
    assert.equal(summaryOf(1).status, "done");
    assert.equal(readdirSync(runsDir).filter((n) => n.includes(".incomplete-")).length, 1);
  });

  test("--jobs 2 runs child processes with their output in train.log; thread settings it chose do not block a later sweep", async () => {
    const r = await cli(["sweep", ...tiny, "--depths", "4", "--seeds", "2-3", "--jobs", "2"]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /2 at a time \(FATHOM_THREADS=\d+, --threads 1/);
    for (const seed of [2, 3]) {
      assert.match(r.out, new RegExp(`start depth 4 seed ${seed}: `));
      assert.match(r.out, new RegExp(`finished depth 4 seed ${seed}: done, \\d+ env steps; time at goal`));
      const log = readFileSync(join(runsDir, name(seed), "train.log"), "utf8");
      assert.match(log, /fathom sweep: start: fathom train --preset cpu/);
      assert.match(log, /done: \d+ env steps/);
      assert.equal(summaryOf(seed).status, "done");
      assert.equal(JSON.parse(readFileSync(join(runsDir, name(seed), "config.json"), "utf8")).config.threads, 1);
    }
    const again = await cli(["sweep", ...tiny, "--depths", "4", "--seeds", "0-3"]);
    assert.equal(again.code, 0, again.err);
    assert.equal((again.out.match(/done \(skipped\)/g) ?? []).length, 4);
  });

  test("two sweeps over the same points at once: each run is trained once, by one of them, and neither stops with an error", async () => {
    const shared = join(root, "shared-runs");
    const args = [...tiny.slice(0, -2), "--runs-dir", shared, "--depths", "4", "--seeds", "0-2"];
    const [a, b] = await Promise.all([sweepProcess(args), sweepProcess(args)]);
    for (const r of [a, b]) {
      assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.out}`); // 1: a point was still another's
      assert.doesNotMatch(r.out, /error:/, r.out);
    }
    assert.deepEqual(readdirSync(shared).sort(), [0, 1, 2].map(name), "no directory moved aside");
    for (const seed of [0, 1, 2]) {
      const dir = join(shared, name(seed));
      assert.equal(JSON.parse(readFileSync(join(dir, "summary.json"), "utf8")).status, "done");
      const trainedBy = [a, b].filter((r) => new RegExp(`finished depth 4 seed ${seed}: done, `).test(r.out)).length;
      assert.equal(trainedBy, 1, `seed ${seed} finished by ${trainedBy} sweeps:\n${a.out}\n---\n${b.out}`);
      const evals = readFileSync(join(dir, "metrics.jsonl"), "utf8")
        .trim()
        .split("\n")
        .filter((l) => "eval/episode_success" in JSON.parse(l));
      assert.equal(evals.length, 1, "one evaluation: the run was trained once");
    }
  });

  test("two sweeps resuming the same interrupted points at once: each is resumed by one of them, and neither fails or stops with an error", async () => {
    const dir = join(root, "resume-race");
    const at = (total: number, evals: number) => {
      const a = [...tiny.slice(0, -2), "--runs-dir", dir, "--depths", "4", "--seeds", "0-2"];
      a[a.indexOf("--total-env-steps") + 1] = String(total);
      a[a.indexOf("--num-evals") + 1] = String(evals);
      return a;
    };
    const first = await cli(["sweep", ...at(2000, 1)]);
    assert.equal(first.code, 0, first.err);
    // Each run as if interrupted at its checkpoint of 2000 env steps out of 16000 (its config says
    // 16000 and 8 evaluations, one every 2000 steps as before; no summary): 14000 steps to resume.
    for (const seed of [0, 1, 2]) {
      const run = join(dir, name(seed));
      rmSync(join(run, "summary.json"));
      const cfg = JSON.parse(readFileSync(join(run, "config.json"), "utf8"));
      cfg.config.totalEnvSteps = 16000;
      cfg.config.numEvals = 8;
      writeFileSync(join(run, "config.json"), JSON.stringify(cfg, null, 2));
    }
    // one in this process, one with --jobs 2 (its resumes are child processes)
    const [a, b] = await Promise.all([sweepProcess(at(16000, 8)), sweepProcess([...at(16000, 8), "--jobs", "2"])]);
    for (const r of [a, b]) {
      assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.out}`); // 1: a point was still another's
      assert.doesNotMatch(r.out, /error:|failed|stopped/, r.out);
    }
    for (const seed of [0, 1, 2]) {
      const run = join(dir, name(seed));
      const summary = JSON.parse(readFileSync(join(run, "summary.json"), "utf8"));
      assert.equal(summary.status, "done");
      assert.ok(summary.envSteps >= 16000, `${summary.envSteps} env steps`);
      const resumedBy = [a, b].filter((r) => new RegExp(`finished depth 4 seed ${seed}: done \\(resumed\\)`).test(r.out)).length;
      assert.equal(resumedBy, 1, `seed ${seed} resumed by ${resumedBy} sweeps:\n${a.out}\n---\n${b.out}`);
      const evals = readFileSync(join(run, "metrics.jsonl"), "utf8")
        .trim()
        .split("\n")
        .filter((l) => "eval/episode_success" in JSON.parse(l));
      assert.equal(evals.length, 8, "eight evaluations: the first run's and the seven of its one resume");
    }
  });

  test("export copies finished runs for committing; plot draws curves and the depth summary from them", async () => {
    const results = join(root, "results", "study");
    const e = await cli(["export", runsDir, "--out", results]);
    assert.equal(e.code, 0, e.err);
    assert.match(e.out, /exported 4 finished run\(s\)/);
    assert.deepEqual(readdirSync(results).sort(), [0, 1, 2, 3].map(name));
    for (const n of readdirSync(results)) assert.deepEqual(readdirSync(join(results, n)).sort(), ["config.json", "metrics.jsonl", "summary.json"]);
    const again = await cli(["export", runsDir, "--out", results]);
    assert.equal(again.code, 0, again.err);
    assert.match(again.out, /0 file\(s\) copied, 0 replaced, 12 unchanged/);
    writeFileSync(join(results, name(0), "metrics.jsonl"), "changed\n");
    const conflict = await cli(["export", runsDir, "--out", results]);
    assert.equal(conflict.code, 1);
    assert.match(conflict.err, /would be overwritten/);

    writeFileSync(join(results, name(0), "metrics.jsonl"), readFileSync(join(runsDir, name(0), "metrics.jsonl")));
    const curves = join(root, "curves.svg");
    const summary = join(root, "summary.svg");
    const p = await cli(["plot", results, "--out", curves, "--summary", summary]);
    assert.equal(p.code, 0, p.err);
    assert.match(readFileSync(curves, "utf8"), /<polygon class="ci-band"/);
    assert.match(readFileSync(curves, "utf8"), /depth 4 \(4 runs\)/);
    const svg = readFileSync(summary, "utf8");
    assert.equal((svg.match(/<circle class="seed"/g) ?? []).length, 4);
    assert.match(svg, /<line class="ci"/);
    assert.match(p.out, /\| depth \| n runs \| mean \| 95 % CI \| per-seed values \|/);
    assert.match(p.out, /\| 4 \| 4 \| [\d.]+ \| [\d.]+–[\d.]+ \| s0: [\d.]+, s1: [\d.]+, s2: [\d.]+, s3: [\d.]+ \|/);
    const refuse = await cli(["plot", results, "--summary", summary]);
    assert.equal(refuse.code, 1);
    assert.match(refuse.err, /refusing to overwrite .*--force/);
    const forced = await cli(["plot", results, "--summary", summary, "--force"]);
    assert.equal(forced.code, 0, forced.err);
    assert.ok(existsSync(summary));
  });
});
