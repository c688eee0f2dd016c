// Depth × batch-size sweeps as one `fathom sweep` command (issue 15): run directories carry the
// batch, a rerun skips finished runs, and `fathom plot` keeps batch sizes apart, saying how many
// updates per training step each gets (fewer for the largest batches, SPEC §4).
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { sweepRunDirName } from "../../src/train/rundir.js";
import { cli } from "./run-cli.js";

const root = mkdtempSync(join(tmpdir(), "fathom-batch-sweep-"));
const runsDir = join(root, "runs");
// 2 envs × (window 40 − 1) = 78 tuples per training step: 9 batches of 8, 4 of 16
const tiny = ["--env", "simple_u_maze-v1", "--runs-dir", runsDir, "--backend", "ref", "--threads", "0"];
for (const [k, v] of Object.entries({ numEnvs: 2, unrollLength: 10, sgdBatchesPerStep: 6, numEvalEnvs: 2, episodeLength: 40, minReplaySize: 10, maxReplaySize: 100, windowLength: 40, actorWidth: 8, criticWidth: 8, reprDim: 4, totalEnvSteps: 100, numEvals: 1 })) {
  tiny.push(`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, String(v));
}

test("fathom sweep --batch-sizes: one run per depth, batch and seed; a rerun skips them; plot groups them by batch", async () => {
  const first = await cli(["sweep", "--depths", "4,8", "--batch-sizes", "8,16", "--seeds", "0", ...tiny]);
  assert.equal(first.code, 0, first.err);
  assert.deepEqual(readdirSync(runsDir).sort(), [
    "simple_u_maze-v1__crl__d4__b16__s0",
    "simple_u_maze-v1__crl__d4__b8__s0",
    "simple_u_maze-v1__crl__d8__b16__s0",
    "simple_u_maze-v1__crl__d8__b8__s0",
  ]);
  assert.match(first.out, /\| depth \| batch \| seed \| status/);
  assert.match(first.out, /\| 8 \| 16 \| 0 \| done \|/);
  const again = await cli(["sweep", "--depths", "4,8", "--batch-sizes", "8,16", "--seeds", "0", ...tiny]);
  assert.equal(again.code, 0, again.err);
  assert.match(again.out, /4 finished/);
  const plot = await cli(["plot", runsDir, "--summary", join(root, "s.svg")]);
  assert.equal(plot.code, 0, plot.err);
  assert.match(plot.out, /depth 4, batch 8 \(≤ 6 updates\/step\): 1 run/);
  assert.match(plot.out, /depth 4, batch 16 \(≤ 4 updates\/step\): 1 run/);
});

test("--batch-size with --batch-sizes is refused; names without a swept batch are unchanged", async () => {
  const r = await cli(["sweep", "--depths", "4", "--batch-sizes", "8,16", "--batch-size", "8", "--seeds", "0", ...tiny]);
  assert.equal(r.code, 2);
  assert.match(r.err, /--batch-sizes sets each run's batch size; drop --batch-size/);
  assert.equal(sweepRunDirName({ env: "e", agent: "crl", actorDepth: 4, criticDepth: 4, seed: 1 }), "e__crl__d4__s1");
  assert.equal(sweepRunDirName({ env: "e", agent: "crl", actorDepth: 4, criticDepth: 16, seed: 1, batchSize: 1024 }), "e__crl__a4c16__b1024__s1");
});
