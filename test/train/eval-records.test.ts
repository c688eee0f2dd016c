// The evaluations of a run as the summary, fathom plot's final performance and the viewer read
// them: an offline run takes no env steps, so its evaluations (all at envsteps 0) are told apart by
// their training step; a resumed run's repeated evaluation (same env and training step) counts once.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { MetricsRecord } from "../../src/train/logger.js";
import { evalRecords, finalPerformance, lastKMeans } from "../../src/train/summary.js";

test("an offline run's evaluations all count: they share envsteps 0 and differ in the training step", () => {
  const values = [0, 263, 114, 219, 199, 222, 492, 113, 38, 83];
  const records: MetricsRecord[] = values.flatMap((v, i): MetricsRecord[] => [
    { step: 25 * (i + 1), envsteps: 0, "training/critic_loss": 1 },
    { step: 25 * (i + 1), envsteps: 0, "eval/episode_success": v },
  ]);
  const evals = evalRecords(records);
  assert.deepEqual(
    evals.map((r) => r["eval/episode_success"]),
    values,
  );
  assert.equal(finalPerformance(records, "eval/episode_success", 5), (222 + 492 + 113 + 38 + 83) / 5);
  assert.deepEqual(lastKMeans(evals, 5), { "eval/episode_success": (222 + 492 + 113 + 38 + 83) / 5 });
});

test("a resumed run's evaluation logged twice (same env and training step) counts once, the later line, in order", () => {
  const records: MetricsRecord[] = [
    { step: 1, envsteps: 100, "eval/episode_success": 1 },
    { step: 2, envsteps: 200, "eval/episode_success": 2 },
    { step: 2, envsteps: 200, "eval/episode_success": 20 },
    { step: 3, envsteps: 300, "eval/episode_success": 3 },
  ];
  assert.deepEqual(
    evalRecords(records).map((r) => r["eval/episode_success"]),
    [1, 20, 3],
  );
});
