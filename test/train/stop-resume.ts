// What the bit-for-bit resume tests share: one run uninterrupted, and the same run stopped after a
// training step (as Ctrl-C stops it) and resumed from its checkpoint in a run directory.
import assert from "node:assert/strict";
import type { TrainConfig } from "../../src/train/config.js";
import type { RunDir } from "../../src/train/rundir.js";
import { type TrainProgress, type TrainResult, train } from "../../src/train/trainer.js";

/** A training step's record: what must be equal, step by step, with and without the stop. */
export const stepRecord = (p: TrainProgress) => ({ envSteps: p.envSteps, trainingSteps: p.trainingSteps, updates: p.updates, metrics: p.metrics });

/** Evaluation records without their timings. */
export const noTiming = (evals: object[]) => evals.map((e) => Object.fromEntries(Object.entries(e).filter(([k]) => !k.endsWith("/sps"))));

/** `config` trained to the end without a run directory; each training step's record. */
export async function trainUninterrupted(config: TrainConfig): Promise<{ full: TrainResult; steps: unknown[] }> {
  const steps: unknown[] = [];
  const full = await train(config, { runDir: null, onTrainingStep: (p) => steps.push(stepRecord(p)) });
  assert.equal(full.status, "done");
  return { full, steps };
}

/**
 * `config` trained in `runDir`, stopped after training step `at`, then resumed from the checkpoint
 * the stop wrote to the end; both parts' results and their training steps' records, in order.
 */
export async function trainStoppedAndResumed(
  config: TrainConfig,
  runDir: RunDir,
  at: number,
  log?: (line: string) => void,
): Promise<{ first: TrainResult; second: TrainResult; parts: unknown[] }> {
  const ac = new AbortController();
  const parts: unknown[] = [];
  const first = await train(config, {
    runDir,
    signal: ac.signal,
    onTrainingStep: (p) => {
      parts.push(stepRecord(p));
      if (p.trainingSteps === at) ac.abort();
    },
  });
  assert.equal(first.status, "interrupted");
  assert.ok(first.lastCheckpoint);
  const second = await train(config, { runDir, resumeFrom: first.lastCheckpoint, ...(log ? { log } : {}), onTrainingStep: (p) => parts.push(stepRecord(p)) });
  assert.equal(second.status, "done");
  return { first, second, parts };
}
