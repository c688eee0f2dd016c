// summary.json of a run directory: written by `fathom train` when train() returns (done,
// interrupted or non-finite). A run is FINISHED only when its summary says status "done"; the
// sweep skips such runs and `fathom export` copies only them.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type MetricsRecord, readMetricsJsonl } from "./logger.js";
import { writeJsonAtomic } from "./rundir.js";

export const SUMMARY_FILE = "summary.json";

export type RunStatus = "done" | "interrupted" | "nonfinite";

export interface RunSummary {
  status: RunStatus;
  envSteps: number;
  updates: number;
  trainingSteps: number;
  /** Wall-clock seconds of training, summed over the run's invocations (resumes). */
  wallSeconds: number;
  /** Mean of the last (up to) five evaluations, per evaluation metric. */
  last5: Record<string, number>;
  /** Number of evaluations the run logged (distinct env-step counts). */
  evals: number;
  /** ISO time this summary was written. */
  finishedAt: string;
}

/** Keys of a metrics record that are axes, not metrics. */
const AXES = new Set(["step", "envsteps", "wall_time"]);

/** An evaluation record: one with a key starting with "eval" ("eval/…", "eval_far/…"). */
export function isEvalRecord(rec: MetricsRecord): boolean {
  return Object.keys(rec).some((k) => k.startsWith("eval") && !AXES.has(k));
}

/**
 * The evaluation records of a run in (env step, training step) order. A resumed run may log an
 * evaluation twice (before a crash and after the restart from the last checkpoint, at the same env
 * and training step); the later line wins. An offline run takes no env steps: its evaluations
 * all have envsteps 0 and differ in the training step.
 */
export function evalRecords(records: readonly MetricsRecord[]): MetricsRecord[] {
  const byStep = new Map<string, { x: number; s: number; r: MetricsRecord }>();
  for (const r of records) {
    if (!isEvalRecord(r)) continue;
    const x = typeof r.envsteps === "number" ? r.envsteps : r.step;
    if (typeof x !== "number" || Number.isNaN(x)) continue;
    const s = typeof r.step === "number" && !Number.isNaN(r.step) ? r.step : 0;
    const key = `${x}/${s}`;
    byStep.delete(key); // re-insert so a later line also takes the later position
    byStep.set(key, { x, s, r });
  }
  return [...byStep.values()].sort((a, b) => a.x - b.x || a.s - b.s).map((e) => e.r);
}

/** Per metric key (every numeric key but the axes), the mean over the last `k` records having it. */
export function lastKMeans(evals: readonly MetricsRecord[], k = 5): Record<string, number> {
  const keys: string[] = [];
  for (const r of evals) for (const key of Object.keys(r)) if (!AXES.has(key) && !keys.includes(key)) keys.push(key);
  const out: Record<string, number> = {};
  for (const key of keys.sort()) {
    const vals = evals.map((r) => r[key]).filter((v): v is number => typeof v === "number" && Number.isFinite(v));
    const last = vals.slice(-k);
    if (last.length > 0) out[key] = last.reduce((a, b) => a + b, 0) / last.length;
  }
  return out;
}

/** Mean of the last `k` evaluations of `metric` in a run's metrics.jsonl, or null when it has none. */
export function finalPerformance(records: readonly MetricsRecord[], metric: string, k = 5): number | null {
  const vals = evalRecords(records)
    .map((r) => r[metric])
    .filter((v): v is number => typeof v === "number" && Number.isFinite(v));
  if (vals.length === 0) return null;
  const last = vals.slice(-k);
  return last.reduce((a, b) => a + b, 0) / last.length;
}

/** The run's summary.json, or null when it has none. Throws on a damaged file. */
export function readRunSummary(runDir: string): RunSummary | null {
  const p = join(runDir, SUMMARY_FILE);
  if (!existsSync(p)) return null;
  let s: Partial<RunSummary>;
  try {
    s = JSON.parse(readFileSync(p, "utf8")) as Partial<RunSummary>;
  } catch (e) {
    throw new Error(`${p} is damaged (${(e as Error).message}); move it away to let the run be resumed`);
  }
  if (s === null || typeof s !== "object" || typeof s.status !== "string") throw new Error(`${p} is damaged: it has no status`);
  return s as RunSummary;
}

/** True when the run directory holds a summary with status "done". */
export function isFinishedRun(runDir: string): boolean {
  return readRunSummary(runDir)?.status === "done";
}

/**
 * Writes `<runDir>/summary.json` atomically after train() returned. The evaluation means come
 * from metrics.jsonl (all of the run's invocations); wall seconds are added to the previous
 * summary's, if any.
 */
export function writeRunSummary(
  runDir: string,
  res: { status: RunStatus; envSteps: number; updates: number; trainingSteps: number },
  wallSeconds: number,
  now = new Date(),
): RunSummary {
  let previous: RunSummary | null = null;
  try {
    previous = readRunSummary(runDir);
  } catch {
    previous = null; // a damaged summary is replaced
  }
  const metricsPath = join(runDir, "metrics.jsonl");
  const evals = existsSync(metricsPath) ? evalRecords(readMetricsJsonl(metricsPath).records) : [];
  const summary: RunSummary = {
    status: res.status,
    envSteps: res.envSteps,
    updates: res.updates,
    trainingSteps: res.trainingSteps,
    wallSeconds: (typeof previous?.wallSeconds === "number" ? previous.wallSeconds : 0) + wallSeconds,
    last5: lastKMeans(evals, 5),
    evals: evals.length,
    finishedAt: now.toISOString(),
  };
  writeJsonAtomic(join(runDir, SUMMARY_FILE), summary);
  return summary;
}
