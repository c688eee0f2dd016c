// `fathom train --resume <run> --total-env-steps N` extends a run, finished or not (issue 10):
// evaluations keep their spacing, config.json gets the new length (the old one is kept), and the
// run ends with one continuous metrics log, the same as a run started with that length.
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { cli } from "./run-cli.js";
import { TrainConfigSchema } from "../../src/train/config.js";
import { applyExtension, planExtension } from "../../src/train/extend.js";
import { type MetricsRecord, readMetricsJsonl } from "../../src/train/logger.js";
import { runDirAt } from "../../src/train/rundir.js";
import { readRunSummary } from "../../src/train/summary.js";
import { planSweepPoint } from "../../src/train/sweep.js";
import { readRunConfig } from "../../src/train/trainer.js";


// prefill 40 env steps, then 40 per training step
const tiny = (totalEnvSteps: number, numEvals: number, runsDir: string) => [
  ...["--env", "simple_u_maze-v1", "--num-envs", "4", "--unroll-length", "10", "--batch-size", "16", "--sgd-batches-per-step", "2"],
  ...["--total-env-steps", String(totalEnvSteps), "--num-evals", String(numEvals), "--num-eval-envs", "2", "--episode-length", "20"],
  ...["--min-replay-size", "10", "--max-replay-size", "100", "--window-length", "20", "--actor-width", "16", "--critic-width", "16"],
  ...["--repr-dim", "8", "--threads", "0", "--runs-dir", runsDir],
];

/** A logged row without what depends on timing. */
function strip(r: MetricsRecord): MetricsRecord {
  return Object.fromEntries(Object.entries(r).filter(([k]) => k !== "wall_time" && !k.endsWith("/sps") && !k.endsWith("/updates_per_s")));
}

test("a finished run is extended with --total-env-steps: same spacing of evaluations, one continuous log, as if started that long", async () => {
  const runsDir = mkdtempSync(join(tmpdir(), "fathom-extend-"));
  const t = await cli(["train", ...tiny(400, 2, runsDir)]);
  assert.equal(t.code, 0, t.err);
  const dir = join(runsDir, readdirSync(runsDir)[0]);
  const configBefore = readFileSync(join(dir, "config.json"), "utf8");
  assert.equal(readRunSummary(dir)?.status, "done");

  // what may not be done: other options, fewer env steps than taken, a length that moves the evaluations
  const other = await cli(["train", "--resume", dir, "--total-env-steps", "800", "--batch-size", "8"]);
  assert.equal(other.code, 2);
  assert.match(other.err, /only --total-env-steps N and --num-evals M \(to extend the run\) and --threads N may be given with it, not --batch-size$/m);
  const less = await cli(["train", "--resume", dir, "--total-env-steps", "300"]);
  assert.equal(less.code, 2);
  assert.match(less.err, /--total-env-steps 300 is less than the 400 env steps the run has already taken/);
  const uneven = await cli(["train", "--resume", dir, "--total-env-steps", "700"]);
  assert.equal(uneven.code, 2);
  assert.match(uneven.err, /spacing of evaluations \(every 200 env steps: 2 over 400\): give a multiple of 200 \(e\.g\. 600 or 800\), or choose .* --num-evals/);
  const fewer = await cli(["train", "--resume", dir, "--num-evals", "1"]);
  assert.equal(fewer.code, 2);
  assert.match(fewer.err, /--num-evals 1 is less than the 2 evaluations the run has already done/);
  assert.equal(readFileSync(join(dir, "config.json"), "utf8"), configBefore, "a refused extension changes nothing");
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith("config.")), ["config.json"]);

  const ext = await cli(["train", "--resume", dir, "--total-env-steps", "800"]);
  assert.equal(ext.code, 0, ext.err);
  assert.match(ext.out, /totalEnvSteps 400 → 800, numEvals 2 → 4 \(an evaluation every 200 env steps\); the previous config\.json is kept as config\.\d{8}-\d{6}\.json/);
  assert.match(ext.out, /done: 800 env steps/);
  const cfg = readRunConfig(join(dir, "config.json"));
  assert.equal(cfg.totalEnvSteps, 800);
  assert.equal(cfg.numEvals, 4);
  const kept = readdirSync(dir).filter((f) => /^config\.\d{8}-\d{6}\.json$/.test(f));
  assert.equal(kept.length, 1);
  assert.equal(readFileSync(join(dir, kept[0]), "utf8"), configBefore, "the previous config is kept as it was");
  const raw = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
  assert.deepEqual(raw.extended.map((e: { from: unknown; to: unknown; previousConfig: string }) => [e.from, e.to, e.previousConfig]), [
    [{ totalEnvSteps: 400, numEvals: 2 }, { totalEnvSteps: 800, numEvals: 4 }, kept[0]],
  ]);
  const summary = readRunSummary(dir)!;
  assert.equal(summary.status, "done");
  assert.equal(summary.envSteps, 800);
  assert.equal(summary.evals, 4);

  // one continuous log: every training step once, evaluations every 200 env steps
  const records = readMetricsJsonl(join(dir, "metrics.jsonl")).records;
  assert.deepEqual(
    records.filter((r) => !("eval/episode_success" in r)).map((r) => r.step),
    Array.from({ length: 19 }, (_, i) => i + 1),
  );
  assert.deepEqual(
    records.filter((r) => "eval/episode_success" in r).map((r) => r.envsteps),
    [200, 400, 600, 800],
  );
  // ... and the same numbers as a run started with 800 env steps and 4 evaluations
  const freshDir = mkdtempSync(join(tmpdir(), "fathom-extend-fresh-"));
  const fresh = await cli(["train", ...tiny(800, 4, freshDir)]);
  assert.equal(fresh.code, 0, fresh.err);
  const freshRecords = readMetricsJsonl(join(freshDir, readdirSync(freshDir)[0], "metrics.jsonl")).records;
  assert.deepEqual(records.map(strip), freshRecords.map(strip));

  // extended again (here without training): summary.json says interrupted until the run gets there,
  // and a sweep that would run the old length says how to go on
  const plan = planExtension(cfg, { envSteps: 800, evalIndex: 4 }, { totalEnvSteps: 1000, numEvals: 5 });
  applyExtension(runDirAt(dir), cfg, plan, { envSteps: 800, evalIndex: 4 });
  assert.equal(readRunSummary(dir)?.status, "interrupted");
  assert.equal(readRunConfig(join(dir, "config.json")).totalEnvSteps, 1000);
  assert.equal(readdirSync(dir).filter((f) => /^config\.\d{8}-\d{6}(-\d+)?\.json$/.test(f)).length, 2);
  const d = planSweepPoint(dir, { ...cfg, totalEnvSteps: 800, numEvals: 4 });
  assert.equal(d.action, "refuse");
  assert.match(d.reason, /another length \(totalEnvSteps: run 1000, sweep 800; numEvals: run 5, sweep 4\); it was extended/);
  assert.match(d.reason, /give the sweep the run's length \(--total-env-steps 1000 --num-evals 5\)/);
  assert.match(d.reason, /fathom train --resume .* --total-env-steps 800 --num-evals 4/);
  assert.ok(existsSync(join(dir, "checkpoints", "latest.json")));
});

test("planExtension: spacing kept by default, --num-evals sets it, evaluations never fall at or before the checkpoint", () => {
  const c = TrainConfigSchema.parse({ env: "simple_u_maze-v1", numEnvs: 4, unrollLength: 10, minReplaySize: 10, totalEnvSteps: 1000, numEvals: 3 });
  // spacing 333.33…: multiples of 1000 keep it
  assert.deepEqual(planExtension(c, { envSteps: 1000, evalIndex: 3 }, { totalEnvSteps: 2000 }), { totalEnvSteps: 2000, numEvals: 6, changed: true });
  assert.throws(() => planExtension(c, { envSteps: 1000, evalIndex: 3 }, { totalEnvSteps: 1500 }), /give a multiple of 1000 \(e\.g\. 1000 or 2000\)/);
  assert.deepEqual(planExtension(c, { envSteps: 1000, evalIndex: 3 }, { totalEnvSteps: 1500, numEvals: 4 }), { totalEnvSteps: 1500, numEvals: 4, changed: true });
  // an interrupted run (2 evaluations, 700 env steps) given the same length: nothing changes
  assert.deepEqual(planExtension(c, { envSteps: 700, evalIndex: 2 }, { totalEnvSteps: 1000 }), { totalEnvSteps: 1000, numEvals: 3, changed: false });
  // 1200 / 12 = every 100: evaluation 3 would come at 300, before the 700 env steps taken
  assert.throws(() => planExtension(c, { envSteps: 700, evalIndex: 2 }, { totalEnvSteps: 1200, numEvals: 12 }), /evaluation 3 would fall at 300 env steps, not after the 700/);
  assert.throws(() => planExtension(c, { envSteps: 1000, evalIndex: 3 }, { totalEnvSteps: 2000, numEvals: 3 }), /would not train any further/);
});

test("--resume --threads N changes the env threads of the rest of the run, not its results, and is not saved", async () => {
  const runsDir = mkdtempSync(join(tmpdir(), "fathom-threads-"));
  const t = await cli(["train", ...tiny(400, 2, runsDir)]); // --threads 0: the envs on the main thread
  assert.equal(t.code, 0, t.err);
  const a = join(runsDir, readdirSync(runsDir)[0]);
  const b = `${a}-copy`;
  cpSync(a, b, { recursive: true });
  const configBefore = readFileSync(join(b, "config.json"), "utf8");
  const same = await cli(["train", "--resume", a, "--total-env-steps", "800"]);
  assert.equal(same.code, 0, same.err);
  const two = await cli(["train", "--resume", b, "--total-env-steps", "800", "--threads", "2"]);
  assert.equal(two.code, 0, two.err);
  const rows = (dir: string) => readMetricsJsonl(join(dir, "metrics.jsonl")).records.map(strip);
  assert.equal(rows(b).filter((r) => "eval/episode_success" in r).length, 4);
  assert.deepEqual(rows(b), rows(a), "two env worker threads give the run the main thread gave it");
  // the saved configuration still says what the run was started with
  assert.equal(readRunConfig(join(b, "config.json")).threads, 0);
  assert.equal(JSON.parse(configBefore).config.threads, 0);
  const bad = await cli(["train", "--resume", b, "--threads", "-1"]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--threads/);
});
