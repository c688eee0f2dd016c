// Reading runs back (src/train/run.ts): one loader for eval, plot, the sweep and the viewer.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runDepth, TrainConfigSchema } from "../../src/train/config.js";
import { loadRun, loadRuns, readRunConfigFile } from "../../src/train/run.js";
import { TINY } from "./tiny-config.js";

function fakeRun(root: string, name: string, over: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  const dir = join(root, name);
  mkdirSync(join(dir, "checkpoints"), { recursive: true });
  const config = TrainConfigSchema.parse({ ...TINY, ...over });
  writeFileSync(join(dir, "config.json"), JSON.stringify({ config, ...extra }));
  return dir;
}

test("loadRuns expands folders in env, depth, seed order, skips runs a sweep moved aside, and refuses duplicates and checkpoints where not allowed", () => {
  const root = mkdtempSync(join(tmpdir(), "fathom-run-"));
  fakeRun(root, "b", { seed: 1, criticDepth: 8, actorDepth: 8 });
  fakeRun(root, "a", { seed: 2, criticDepth: 4, actorDepth: 4 });
  fakeRun(root, "c", { seed: 0, criticDepth: 8, actorDepth: 8 });
  fakeRun(root, "d.incomplete-20261205-010203", { seed: 9 });
  const runs = loadRuns([root]);
  assert.deepEqual(
    runs.map((r) => [r.run.name, runDepth(r.config), r.config.seed]),
    [
      ["a", 4, 2],
      ["c", 8, 0],
      ["b", 8, 1],
    ],
  );
  assert.deepEqual(runs[0].records(), [], "a run that logged nothing has no records");
  assert.equal(runs[0].summary(), null, "a run that has not ended has no summary");
  assert.throws(() => loadRuns([root, join(root, "a")]), /named twice/);
  assert.throws(() => loadRuns([join(root, "missing")]), /does not exist/);
  const ckpt = join(root, "a", "checkpoints", "step_0000000100.safetensors");
  writeFileSync(ckpt, "");
  assert.throws(() => loadRuns([ckpt]), /is a checkpoint file: name its run directory instead/);
  assert.equal(loadRuns([ckpt], { allowCheckpoints: true })[0].checkpoint, ckpt);
  const empty = join(root, "empty");
  mkdirSync(empty);
  assert.throws(() => loadRuns([empty]), /neither a run directory .* nor a folder of run directories/);
});

test("a run's config.json: extended runs are told apart; a damaged or invalid file says what to do", () => {
  const root = mkdtempSync(join(tmpdir(), "fathom-run-"));
  const ext = fakeRun(root, "ext", {}, { extended: [{ at: "2026-12-05" }] });
  assert.equal(readRunConfigFile(join(ext, "config.json")).extended, true);
  assert.equal(readRunConfigFile(join(fakeRun(root, "plain", {}), "config.json")).extended, false);
  const bad = join(root, "bad");
  mkdirSync(bad);
  writeFileSync(join(bad, "config.json"), "{not json");
  assert.throws(() => loadRun(bad), /config.json is damaged: it is not valid JSON .*restore/);
  writeFileSync(join(bad, "config.json"), JSON.stringify({ config: { env: "simple_u_maze-v1", batchSize: -3 } }));
  assert.throws(() => loadRun(bad), /does not hold a valid training configuration: .*\(config\.batchSize\)/);
});
