// A resumed run continues exactly as the uninterrupted one (issue 10): the checkpoint holds the
// agent, the loop state and its random stream, the replay buffer and the training envs' state
// (physics, goals, step counts, random streams), so interrupt + resume changes no number.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { TrainConfigSchema } from "../../src/train/config.js";
import { createRunDir } from "../../src/train/rundir.js";
import { type TrainProgress, train } from "../../src/train/trainer.js";
import { TINY } from "./tiny-config.js";

const config = TrainConfigSchema.parse({
  ...TINY,
  episodeLength: 25, // episodes end (and restart) within the run and across the interruption
  windowLength: 20,
  totalEnvSteps: 640,
  numEvals: 3,
});

/** What must not change: per training step, its counters and training metrics (not its timing). */
function record(p: TrainProgress): unknown {
  return { envSteps: p.envSteps, trainingSteps: p.trainingSteps, updates: p.updates, metrics: p.metrics };
}

for (const at of [4, 7]) {
  test(`interrupted after training step ${at} and resumed, a run gives the uninterrupted run's metrics bit for bit`, async () => {
    const steps: unknown[] = [];
    const full = await train(config, { runDir: null, onTrainingStep: (p) => steps.push(record(p)) });
    assert.equal(full.status, "done");

    const root = mkdtempSync(join(tmpdir(), "fathom-exact-"));
    const runDir = createRunDir(root, { env: config.env, agent: "crl", depth: 4, seed: 0 });
    const ac = new AbortController();
    const parts: unknown[] = [];
    const first = await train(config, {
      runDir,
      signal: ac.signal,
      onTrainingStep: (p) => {
        parts.push(record(p));
        if (p.trainingSteps === at) ac.abort();
      },
    });
    assert.equal(first.status, "interrupted");
    assert.ok(first.lastCheckpoint);
    const lines: string[] = [];
    const second = await train(config, {
      runDir,
      resumeFrom: first.lastCheckpoint!,
      log: (l) => lines.push(l),
      onTrainingStep: (p) => parts.push(record(p)),
    });
    assert.equal(second.status, "done");
    assert.match(lines.join("\n"), /replay buffer restored/);
    assert.match(lines.join("\n"), /env state restored/);
    assert.deepEqual(parts, steps);
    const noTiming = (evals: object[]) => evals.map((e) => Object.fromEntries(Object.entries(e).filter(([k]) => !k.endsWith("/sps"))));
    assert.deepEqual(noTiming([...first.evals, ...second.evals]), noTiming(full.evals));
    assert.equal(full.evals.length, 3);
    assert.equal(second.updates, full.updates);
  });
}
