import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { trainSchemaFor } from "../../src/train/config.js";
import { acquireRunLock, sweepRunDirName } from "../../src/train/rundir.js";
import { evalRecords, lastKMeans, readRunSummary, writeRunSummary } from "../../src/train/summary.js";
import { parseFlags } from "../../src/cli/flags.js";
import { SweepCommandSchema } from "../../src/cli/train-args.js";
import { configDiff, moveAside, openSweepRunDir, planSweepPoint, RunTakenError } from "../../src/train/sweep.js";

const cfg = trainSchemaFor("crl").parse({ env: "simple_u_maze-v1", criticDepth: 16, actorDepth: 16, seed: 2, batchSize: 64 });
const now = new Date(2026, 0, 2, 3, 4, 5);

/** A fake run directory: config.json (with `config`), optional summary.json and checkpoints/latest.json. */
function fakeRun(dir: string, opts: { config?: unknown; summary?: unknown; latest?: boolean; rawConfig?: string } = {}): string {
  mkdirSync(join(dir, "checkpoints"), { recursive: true });
  if (opts.rawConfig !== undefined) writeFileSync(join(dir, "config.json"), opts.rawConfig);
  else if (opts.config !== undefined) writeFileSync(join(dir, "config.json"), JSON.stringify({ fathom: "0.1.0", preset: "cpu", config: opts.config }));
  if (opts.summary !== undefined) writeFileSync(join(dir, "summary.json"), JSON.stringify(opts.summary));
  if (opts.latest) writeFileSync(join(dir, "checkpoints", "latest.json"), JSON.stringify({ checkpoint: "step_0000001000.safetensors" }));
  return dir;
}

const summary = (status: string) => ({ status, envSteps: 1000, updates: 5, trainingSteps: 5, wallSeconds: 1, last5: {}, evals: 1, finishedAt: now.toISOString() });

test("sweep run directories have deterministic names", () => {
  assert.equal(sweepRunDirName({ env: "ant-v1", agent: "crl", actorDepth: 64, criticDepth: 64, seed: 3 }), "ant-v1__crl__d64__s3");
  assert.equal(sweepRunDirName({ env: "ant-v1", agent: "crl", actorDepth: 4, criticDepth: 16, seed: 0 }), "ant-v1__crl__a4c16__s0");
  assert.throws(() => sweepRunDirName({ env: "a__b", agent: "crl", actorDepth: 4, criticDepth: 4, seed: 0 }), /"__"/);
  assert.throws(() => sweepRunDirName({ env: "x", agent: "crl", actorDepth: -4, criticDepth: 4, seed: 0 }), /actor depth/);
});

test("--seeds and --depths take lists and ranges", () => {
  const read = (argv: string[]) => SweepCommandSchema.parse(parseFlags(SweepCommandSchema, argv).values);
  assert.deepEqual(read(["--seeds", "0-4"]).seeds, [0, 1, 2, 3, 4]);
  assert.deepEqual(read(["--seeds", "0,1,2", "--depths", "4-4,16"]), { preset: "cpu", seeds: [0, 1, 2], depths: [4, 16], batchSizes: [], jobs: 1, retryNonfinite: false });
  assert.deepEqual(read(["--seeds", "0-2,7"]).seeds, [0, 1, 2, 7]);
  assert.deepEqual(read([]).seeds, [0, 1, 2]);
  assert.throws(() => read(["--seeds", "4-1"]), /range 4-1 runs backwards: write 1-4/);
  assert.throws(() => read(["--seeds", "a"]), /--seeds "a" is invalid; allowed: a comma-separated list of an integer, >= 0 \(ranges a-b too/);
  assert.throws(() => read(["--seeds", "-1"]), /--seeds \[-1\] is invalid: .*>= ?0/);
  assert.throws(() => read(["--batch-sizes", "0,8"]), /--batch-sizes \[0,8\] is invalid: .*allowed: a comma-separated list of an integer, >= 1/);
  assert.throws(() => read(["--jobs", "0"]), /--jobs 0 is invalid: .*allowed: an integer, >= 1, <= 256/);
});

test("configDiff compares validated configs key by key, ignoring runsDir", () => {
  assert.deepEqual(configDiff(cfg, { ...cfg, runsDir: "elsewhere" }), []);
  assert.deepEqual(configDiff(cfg, { ...cfg, batchSize: 32, lr: 1e-3 }), [
    { key: "batchSize", run: 64, sweep: 32 },
    { key: "lr", run: 3e-4, sweep: 1e-3 },
  ]);
  assert.deepEqual(configDiff(cfg, { ...cfg, threads: 1 }), [{ key: "threads", run: undefined, sweep: 1 }]);
  assert.deepEqual(configDiff(cfg, { ...cfg, threads: 1 }, ["runsDir", "threads"]), []);
});

test("planSweepPoint: skip finished, resume interrupted, start new", () => {
  const root = mkdtempSync(join(tmpdir(), "fathom-sweep-"));
  assert.equal(planSweepPoint(join(root, "new"), cfg).action, "fresh");
  const done = planSweepPoint(fakeRun(join(root, "done"), { config: cfg, summary: summary("done"), latest: true }), cfg);
  assert.equal(done.action, "skip");
  // a results folder (no checkpoints at all) that is finished is skipped too
  const results = join(root, "results");
  mkdirSync(results);
  writeFileSync(join(results, "config.json"), JSON.stringify({ config: cfg }));
  writeFileSync(join(results, "summary.json"), JSON.stringify(summary("done")));
  assert.equal(planSweepPoint(results, cfg).action, "skip");
  assert.equal(planSweepPoint(fakeRun(join(root, "int"), { config: cfg, summary: summary("interrupted"), latest: true }), cfg).action, "resume");
  const killed = planSweepPoint(fakeRun(join(root, "killed"), { config: cfg, latest: true }), cfg);
  assert.equal(killed.action, "resume");
  assert.match(killed.reason, /without a summary/);
  // the saved config is validated: keys added to the schema since get their defaults
  const { reprDim: _, ...older } = cfg;
  assert.equal(planSweepPoint(fakeRun(join(root, "older"), { config: older, latest: true }), cfg).action, "resume");
  // runsDir is not compared (a runs folder may be moved)
  assert.equal(planSweepPoint(fakeRun(join(root, "moved"), { config: { ...cfg, runsDir: "/old/place" }, latest: true }), cfg).action, "resume");
});

test("planSweepPoint: non-finite runs are reported, not retried, unless asked", () => {
  const root = mkdtempSync(join(tmpdir(), "fathom-sweep-"));
  const dir = fakeRun(join(root, "nan"), { config: cfg, summary: summary("nonfinite"), latest: true });
  const d = planSweepPoint(dir, cfg);
  assert.equal(d.action, "nonfinite");
  assert.match(d.reason, /--retry-nonfinite/);
  assert.equal(planSweepPoint(dir, cfg, { retryNonfinite: true }).action, "resume");
});

test("planSweepPoint refuses a directory whose config differs, naming keys and both values", () => {
  const root = mkdtempSync(join(tmpdir(), "fathom-sweep-"));
  const dir = fakeRun(join(root, "other"), { config: { ...cfg, batchSize: 128, lr: 0.001 }, summary: summary("done"), latest: true });
  const d = planSweepPoint(dir, cfg);
  assert.equal(d.action, "refuse");
  assert.ok(d.action === "refuse" && d.diffs);
  assert.match(d.reason, new RegExp(`${dir}`));
  assert.match(d.reason, /batchSize: run 128, sweep 64/);
  assert.match(d.reason, /lr: run 0.001, sweep 0.0003/);
  assert.match(d.reason, /neither reused nor overwritten/);
  const bad = planSweepPoint(fakeRun(join(root, "bad"), { rawConfig: "{ not json", latest: true }), cfg);
  assert.equal(bad.action, "refuse");
  assert.match(bad.reason, /no valid training configuration/);
  const invalid = planSweepPoint(fakeRun(join(root, "invalid"), { config: { ...cfg, criticDepth: 6 }, latest: true }), cfg);
  assert.equal(invalid.action, "refuse");
  writeFileSync(join(root, "file"), "x");
  assert.equal(planSweepPoint(join(root, "file"), cfg).action, "refuse");
});

test("planSweepPoint moves a directory without a checkpoint aside, never deleting it", () => {
  const root = mkdtempSync(join(tmpdir(), "fathom-sweep-"));
  const dir = fakeRun(join(root, "early"), { config: cfg });
  writeFileSync(join(dir, "metrics.jsonl"), '{"step":1}\n');
  const d = planSweepPoint(dir, cfg, { now });
  assert.equal(d.action, "move-aside");
  assert.ok(d.action === "move-aside");
  assert.equal(d.to, `${dir}.incomplete-20260102-030405`);
  assert.match(d.reason, /no checkpoint/);
  moveAside(d);
  assert.ok(!existsSync(dir));
  assert.ok(existsSync(join(d.to, "metrics.jsonl")));
  // a second one in the same second gets a suffix
  fakeRun(dir, {});
  const d2 = planSweepPoint(dir, cfg, { now });
  assert.ok(d2.action === "move-aside");
  assert.match(d2.reason, /no config.json/);
  assert.equal(d2.to, `${dir}.incomplete-20260102-030405-2`);
  moveAside(d2);
  assert.deepEqual(readdirSync(root).sort(), ["early.incomplete-20260102-030405", "early.incomplete-20260102-030405-2"]);
});

test("an empty directory is adopted, not moved aside: another sweep may be between its mkdir and its lock", () => {
  const root = mkdtempSync(join(tmpdir(), "fathom-sweep-"));
  const empty = join(root, "empty");
  mkdirSync(empty);
  assert.deepEqual(planSweepPoint(empty, cfg, { now }), { action: "fresh", dir: empty, reason: "new run (empty directory)" });
  writeFileSync(join(empty, "train.lock.tmp-123-1"), "{}"); // a lock being taken (written, not yet linked)
  assert.equal(planSweepPoint(empty, cfg, { now }).action, "fresh");
  writeFileSync(join(empty, "train.log"), "# fathom sweep: start\n"); // a sweep's child log, appended to
  assert.equal(planSweepPoint(empty, cfg, { now }).action, "fresh");
  writeFileSync(join(empty, "notes.txt"), "mine");
  assert.equal(planSweepPoint(empty, cfg, { now }).action, "move-aside", "a file of the user's is kept: moved aside, not adopted");
});

test("moveAside with a lock never moves a directory another live process holds, and leaves no lock in what it moved", () => {
  const root = mkdtempSync(join(tmpdir(), "fathom-sweep-"));
  const lock = (p: string) => acquireRunLock(p);
  const dir = fakeRun(join(root, "early"), { config: cfg });
  const d = planSweepPoint(dir, cfg, { now });
  assert.ok(d.action === "move-aside");
  // another process (our parent, alive) takes the lock between the plan and the move
  const other = { pid: process.ppid, host: hostname(), started: new Date().toISOString(), command: "fathom sweep" };
  writeFileSync(join(dir, "train.lock"), JSON.stringify(other));
  assert.throws(() => moveAside(d, lock), (e: unknown) => e instanceof RunTakenError && /taken by another fathom process before this sweep could move it aside/.test((e as Error).message));
  assert.ok(existsSync(join(dir, "config.json")) && !existsSync(d.to), "left where it was");
  // it got a checkpoint after the decision (another process trained it in between): left too
  rmSync(join(dir, "train.lock"));
  writeFileSync(join(dir, "checkpoints", "latest.json"), "{}");
  assert.throws(() => moveAside(d, lock), (e: unknown) => e instanceof RunTakenError && /got a checkpoint from another fathom process/.test((e as Error).message));
  assert.ok(existsSync(join(dir, "checkpoints", "latest.json")) && !existsSync(join(dir, "train.lock")), "left where it was, unlocked");
  // as planned (no checkpoint, no other lock): moved, and the lock this process took is not left in it
  rmSync(join(dir, "checkpoints", "latest.json"));
  moveAside(d, lock);
  assert.ok(!existsSync(dir));
  assert.deepEqual(readdirSync(d.to).sort(), ["checkpoints", "config.json"]);
});

test("openSweepRunDir makes the directory again when it is moved away between its mkdir and its lock", () => {
  const root = mkdtempSync(join(tmpdir(), "fathom-sweep-"));
  const path = join(root, "runs", "x__crl__d4__s0");
  let calls = 0;
  const racingLock = (p: string) => {
    if (calls++ === 0) renameSync(p, `${p}.incomplete-elsewhere`); // another sweep moves it aside first
    return acquireRunLock(p);
  };
  const a = openSweepRunDir(path, racingLock);
  assert.equal(calls, 2);
  assert.ok(existsSync(join(path, "train.lock")) && existsSync(a.runDir.checkpointsDir));
  a.lock.release();
});

test("openSweepRunDir creates the run directory or adopts one holding only a log, never a run", () => {
  const root = mkdtempSync(join(tmpdir(), "fathom-sweep-"));
  const open = (path: string) => openSweepRunDir(path, (p) => acquireRunLock(p));
  const a = open(join(root, "runs", "x__crl__d4__s0"));
  assert.ok(existsSync(a.runDir.checkpointsDir) && existsSync(a.runDir.evalDir));
  assert.ok(existsSync(join(a.runDir.path, "train.lock")), "the directory is claimed by its lock");
  a.lock.release();
  const b = join(root, "runs", "x__crl__d4__s1");
  mkdirSync(b);
  writeFileSync(join(b, "train.log"), "log\n");
  const ob = open(b);
  assert.equal(ob.runDir.path, b);
  ob.lock.release();
  writeFileSync(join(b, "config.json"), "{}");
  assert.throws(() => open(b), (e: Error) => e instanceof RunTakenError && /already holds a run/.test(e.message));
  assert.ok(!existsSync(join(b, "train.lock")), "the lock is released when the directory holds a run");
});

test("openSweepRunDir: a point another live process has locked is taken (RunTakenError), and left as it was", () => {
  const root = mkdtempSync(join(tmpdir(), "fathom-sweep-"));
  const dir = join(root, "x__crl__d4__s0");
  mkdirSync(dir);
  // the lock of another live process on this host (our parent)
  const other = { pid: process.ppid, host: hostname(), started: now.toISOString(), command: "fathom sweep (the other one)" };
  writeFileSync(join(dir, "train.lock"), JSON.stringify(other));
  assert.throws(
    () => openSweepRunDir(dir, (p) => acquireRunLock(p)),
    (e: Error) => e instanceof RunTakenError && e.message.includes(`pid ${process.ppid}`) && /taken by another fathom process/.test(e.message),
  );
  assert.deepEqual(JSON.parse(readFileSync(join(dir, "train.lock"), "utf8")), other, "the other process's lock is untouched");
  assert.deepEqual(readdirSync(dir), ["train.lock"]);
});

test("summary: last-5 means of every eval metric from metrics.jsonl, later lines winning; wall time accumulates", () => {
  const dir = mkdtempSync(join(tmpdir(), "fathom-summary-"));
  const lines: Record<string, unknown>[] = [];
  for (let i = 1; i <= 7; i++) {
    lines.push({ step: i, envsteps: 100 * i, "training/critic_loss": 1 });
    lines.push({ step: i, envsteps: 100 * i, wall_time: 5, "eval/episode_success": i, "eval_far/episode_success": 10 * i, "eval/sps": 1000 });
  }
  // a resumed run logged the evaluation at 700 again: the later line wins
  lines.push({ step: 7, envsteps: 700, "eval/episode_success": 17, "eval_far/episode_success": 170, "eval/sps": 1000 });
  writeFileSync(join(dir, "metrics.jsonl"), `${lines.map((l) => JSON.stringify(l)).join("\n")}\n`);
  const s1 = writeRunSummary(dir, { status: "interrupted", envSteps: 700, updates: 7, trainingSteps: 7 }, 2.5, now);
  assert.equal(s1.evals, 7);
  assert.deepEqual(s1.last5, { "eval/episode_success": (3 + 4 + 5 + 6 + 17) / 5, "eval/sps": 1000, "eval_far/episode_success": (30 + 40 + 50 + 60 + 170) / 5 });
  const s2 = writeRunSummary(dir, { status: "done", envSteps: 800, updates: 8, trainingSteps: 8 }, 1.5, now);
  assert.equal(s2.wallSeconds, 4);
  assert.deepEqual(readRunSummary(dir), { ...s2 });
  assert.equal(readRunSummary(dir)?.finishedAt, now.toISOString());
  assert.equal(readRunSummary(mkdtempSync(join(tmpdir(), "fathom-summary-"))), null);
  assert.equal(evalRecords([{ step: 1, envsteps: 5, "training/x": 1 }]).length, 0);
  assert.deepEqual(lastKMeans([{ step: 1, envsteps: 5, "eval/a": 2 }, { step: 2, envsteps: 6, "eval/a": 4 }], 5), { "eval/a": 3 });
});

test("a config saved before the actor options existed keeps the paper's actor when read back", async () => {
  const { parseSavedConfig, trainSchemaFor } = await import("../../src/train/config.js");
  const today = trainSchemaFor("crl").parse({ env: "simple_u_maze-v1" });
  const old: Record<string, unknown> = { ...today };
  for (const k of ["actorHeadNorm", "actorHeadInitScale", "tanhLogDet", "actorLrWarmup", "prefillPolicy", "farGoalEval", "allGoalEval"]) delete old[k];
  const r = parseSavedConfig(old);
  assert.ok(r.success && r.data.agent === "crl");
  assert.equal(r.data.actorHeadNorm, false);
  assert.equal(r.data.tanhLogDet, "reference");
  assert.equal(r.data.prefillPolicy, "uniform");
  assert.equal(r.data.allGoalEval, false, "a run saved before eval_all/ existed resumes without it");
  // A config that has the keys is read as written.
  const now = parseSavedConfig(today);
  assert.ok(now.success && now.data.agent === "crl");
  assert.equal(now.data.actorHeadNorm, today.actorHeadNorm);
  assert.equal(now.data.tanhLogDet, today.tanhLogDet);
});
