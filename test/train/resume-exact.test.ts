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
import { noTiming, trainStoppedAndResumed, trainUninterrupted } from "./stop-resume.js";
import { TINY } from "./tiny-config.js";

const config = TrainConfigSchema.parse({
  ...TINY,
  episodeLength: 25, // episodes end (and restart) within the run and across the interruption
  windowLength: 20,
  totalEnvSteps: 640,
  numEvals: 3,
});

for (const at of [4, 7]) {
  test(`interrupted after training step ${at} and resumed, a run gives the uninterrupted run's metrics bit for bit`, async () => {
    const { full, steps } = await trainUninterrupted(config);
    const root = mkdtempSync(join(tmpdir(), "fathom-exact-"));
    const runDir = createRunDir(root, { env: config.env, agent: "crl", depth: 4, seed: 0 });
    const lines: string[] = [];
    const { first, second, parts } = await trainStoppedAndResumed(config, runDir, at, (l) => lines.push(l));
    assert.match(lines.join("\n"), /replay buffer restored/);
    assert.match(lines.join("\n"), /env state restored/);
    assert.deepEqual(parts, steps);
    assert.deepEqual(noTiming([...first.evals, ...second.evals]), noTiming(full.evals));
    assert.equal(full.evals.length, 3);
    assert.equal(second.updates, full.updates);
  });
}
