// A fixed-seed tiny run on the ref backend (pure TypeScript: the same bits on every machine), with
// every metric it logs, checkpoint and resume included: the reference the trainer's refactors
// must reproduce bit for bit (issue 13). `node --import tsx test/train/golden-run.mts --write`
// rewrites test/train/golden/tiny-run.json; do that only for a change meant to alter what a run
// computes, and say so in the commit.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TrainConfigSchema } from "../../src/train/config.js";
import type { MetricsLogger } from "../../src/train/logger.js";
import { createRunDir } from "../../src/train/rundir.js";
import { train } from "../../src/train/trainer.js";
import { TINY } from "./tiny-config.js";

export const GOLDEN_PATH = new URL("./golden/tiny-run.json", import.meta.url).pathname;

/** Fields that measure time, not computation. */
const TIMING = new Set(["training/sps", "training/updates_per_s", "eval/sps", "eval_far/sps"]);

/** The records a run logs, timing fields removed. */
export async function goldenRun(): Promise<Record<string, number>[]> {
  const rows: Record<string, number>[] = [];
  const logger = {
    log: (r: Record<string, number>) => rows.push(Object.fromEntries(Object.entries(r).filter(([k]) => !TIMING.has(k)))),
    truncateAfter: () => ({ jsonlRows: 0, csvRows: 0, tensorboardRecords: 0 }),
  } as unknown as MetricsLogger;
  const root = mkdtempSync(join(tmpdir(), "fathom-golden-"));
  const runDir = createRunDir(root, { env: "simple_u_maze-v1", agent: "crl", depth: 4, seed: 3 });
  const base = { ...TINY, seed: 3, backend: "ref" as const, totalEnvSteps: 1600, numEvals: 4, runsDir: root };
  // Half the budget, then resumed from its checkpoint to the full budget: restore is part of it.
  const half = await train(TrainConfigSchema.parse({ ...base, totalEnvSteps: 800, numEvals: 2 }), { runDir, logger });
  if (half.status !== "done" || half.lastCheckpoint === null) throw new Error(`the first half ended ${half.status}`);
  const full = await train(TrainConfigSchema.parse(base), { runDir, logger, resumeFrom: half.lastCheckpoint });
  if (full.status !== "done") throw new Error(`the resumed half ended ${full.status}`);
  rows.push({ updates: full.updates, envsteps_final: full.envSteps, training_steps_final: full.trainingSteps });
  return rows;
}

if (process.argv.includes("--write")) {
  const rows = await goldenRun();
  writeFileSync(GOLDEN_PATH, `${JSON.stringify(rows, null, 1)}\n`);
  console.log(`wrote ${rows.length} records to ${GOLDEN_PATH}`);
}
