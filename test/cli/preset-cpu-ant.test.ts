// The cpu-ant preset is the Ant big-maze study's setting: the sweep command in the README gives,
// run by run, the configs committed in results/ant_big_maze_10m (made with the cpu preset and
// explicit flags before the preset existed).
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parseSweepArgs } from "../../src/cli/train-args.js";
import { parseSavedConfig } from "../../src/train/config.js";

const RESULTS = new URL("../../results/ant_big_maze_10m", import.meta.url).pathname;

test("fathom sweep --preset cpu-ant gives the Ant study's configs exactly", () => {
  const runs = readdirSync(RESULTS).filter((n) => n.startsWith("ant_big_maze-v1__crl__"));
  assert.ok(runs.length >= 4, `runs in ${RESULTS}: ${runs}`);
  for (const name of runs) {
    // as fathom reads a saved config back (seed 0's predates two keys: parseSavedConfig fills them)
    const parsed = parseSavedConfig(JSON.parse(readFileSync(join(RESULTS, name, "config.json"), "utf8")).config);
    assert.ok(parsed.success, name);
    const saved = JSON.parse(JSON.stringify(parsed.data));
    const argv = ["--env", "ant_big_maze-v1", "--preset", "cpu-ant", "--depths", "4,8", "--seeds", "0-4", "--no-all-goal-eval", "--threads", "0", "--runs-dir", saved.runsDir];
    const r = parseSweepArgs(argv);
    assert.equal(r.kind, "sweep");
    if (r.kind !== "sweep") return;
    const { config } = r.plan.run({ depth: saved.criticDepth, seed: saved.seed });
    // env threads change no trajectory and a sweep does not compare them (seed 0 was started with worker threads)
    const { threads: _a, ...made } = JSON.parse(JSON.stringify(config));
    const { threads: _b, ...ran } = saved;
    assert.deepEqual(made, ran, name);
  }
  // and the cpu preset alone does not (the study's overrides are what cpu-ant adds)
  const saved = JSON.parse(readFileSync(join(RESULTS, runs[0], "config.json"), "utf8")).config;
  const cpu = parseSweepArgs(["--env", "ant_big_maze-v1", "--depths", "4", "--seeds", "0", "--no-all-goal-eval", "--threads", "0", "--runs-dir", saved.runsDir]);
  assert.equal(cpu.kind, "sweep");
  if (cpu.kind === "sweep") assert.notDeepEqual(JSON.parse(JSON.stringify(cpu.plan.run({ depth: saved.criticDepth, seed: saved.seed }).config)), saved);
});
