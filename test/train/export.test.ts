import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { exportRuns, planExport } from "../../src/train/export.js";

function run(root: string, name: string, status: string | null, finishedAt = "2026-01-01T00:00:00.000Z"): string {
  const dir = join(root, name);
  mkdirSync(join(dir, "checkpoints"), { recursive: true });
  writeFileSync(join(dir, "config.json"), JSON.stringify({ config: { env: "simple_u_maze-v1", seed: 0 } }));
  writeFileSync(join(dir, "metrics.jsonl"), '{"step":1,"envsteps":10,"eval/episode_success":3}\n');
  writeFileSync(join(dir, "metrics.csv"), "step,envsteps\n1,10\n");
  writeFileSync(join(dir, "events.out.tfevents.1.host"), "tb");
  writeFileSync(join(dir, "checkpoints", "step_0000000010.safetensors"), "weights");
  writeFileSync(join(dir, "checkpoints", "latest.json"), "{}");
  if (status) writeFileSync(join(dir, "summary.json"), JSON.stringify({ status, envSteps: 10, finishedAt }));
  return dir;
}

test("export copies only config.json, metrics.jsonl, eval/*.json and summary.json of finished runs", () => {
  const root = mkdtempSync(join(tmpdir(), "fathom-export-"));
  const runs = join(root, "runs");
  run(runs, "a__crl__d4__s0", "done");
  run(runs, "a__crl__d4__s1", "interrupted");
  run(runs, "a__crl__d4__s2", null);
  const out = join(root, "results", "study");
  const plan = exportRuns(runs, out);
  assert.deepEqual(plan.finished, ["a__crl__d4__s0"]);
  assert.deepEqual(
    plan.unfinished.map((u) => `${u.run}:${u.status}`),
    ["a__crl__d4__s1:interrupted", "a__crl__d4__s2:no summary"],
  );
  assert.deepEqual(readdirSync(out), ["a__crl__d4__s0"]);
  assert.deepEqual(readdirSync(join(out, "a__crl__d4__s0")).sort(), ["config.json", "metrics.jsonl", "summary.json"]);
  assert.equal(readFileSync(join(out, "a__crl__d4__s0", "metrics.jsonl"), "utf8"), readFileSync(join(runs, "a__crl__d4__s0", "metrics.jsonl"), "utf8"));

  // again: identical files are skipped
  const again = exportRuns(runs, out);
  assert.deepEqual(
    again.files.map((f) => f.action),
    ["same", "same", "same"],
  );

  // a fathom eval result made after the export (e.g. a checkpoint evaluated on other goals) is
  // exported with the run, before its summary; nothing else of eval/ is
  const src = join(runs, "a__crl__d4__s0");
  mkdirSync(join(src, "eval"));
  const result = '{"env":"simple_u_maze-v1","metrics":{"eval/time_at_goal":12.5}}\n';
  writeFileSync(join(src, "eval", "step_0000000010__simple_u_maze-v1__seed12345__n128.json"), result);
  writeFileSync(join(src, "eval", "notes.txt"), "not a result");
  const withEval = exportRuns(runs, out);
  assert.deepEqual(
    withEval.files.filter((f) => f.run === "a__crl__d4__s0").map((f) => `${f.file}:${f.action}`),
    ["config.json:same", "metrics.jsonl:same", `${join("eval", "step_0000000010__simple_u_maze-v1__seed12345__n128.json")}:copy`, "summary.json:same"],
  );
  assert.deepEqual(readdirSync(join(out, "a__crl__d4__s0", "eval")), ["step_0000000010__simple_u_maze-v1__seed12345__n128.json"]);
  assert.equal(readFileSync(join(out, "a__crl__d4__s0", "eval", "step_0000000010__simple_u_maze-v1__seed12345__n128.json"), "utf8"), result);
});

test("export refuses to overwrite a differing file, writing nothing; --update replaces runs with a newer summary", () => {
  const root = mkdtempSync(join(tmpdir(), "fathom-export-"));
  const runs = join(root, "runs");
  run(runs, "a__crl__d4__s0", "done", "2026-01-01T00:00:00.000Z");
  const out = join(root, "results");
  exportRuns(runs, out);
  // the run changes (e.g. re-run) but its summary is not newer: an error even with --update
  writeFileSync(join(runs, "a__crl__d4__s0", "metrics.jsonl"), '{"step":1,"envsteps":10,"eval/episode_success":4}\n');
  run(runs, "a__crl__d4__s1", "done");
  assert.throws(() => exportRuns(runs, out), /nothing was written; 1 file\(s\) would be overwritten:[\s\S]*metrics.jsonl differs[\s\S]*--update/);
  assert.ok(!existsSync(join(out, "a__crl__d4__s1")), "a conflict writes nothing, not even the other runs");
  assert.throws(() => exportRuns(runs, out, { update: true }), /summary is not newer/);
  // with a newer summary, --update replaces the run's files
  writeFileSync(join(runs, "a__crl__d4__s0", "summary.json"), JSON.stringify({ status: "done", envSteps: 10, finishedAt: "2026-02-01T00:00:00.000Z" }));
  const plan = exportRuns(runs, out, { update: true });
  assert.deepEqual(
    plan.files.filter((f) => f.run === "a__crl__d4__s0").map((f) => f.action),
    ["same", "replace", "replace"],
  );
  assert.match(readFileSync(join(out, "a__crl__d4__s0", "metrics.jsonl"), "utf8"), /"eval\/episode_success":4/);
  assert.ok(existsSync(join(out, "a__crl__d4__s1", "summary.json")));
  assert.equal(planExport(runs, out).conflicts.length, 0);
  assert.throws(() => exportRuns(runs, runs), /same folder/);
});
