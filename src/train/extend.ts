// Extending a run (`fathom train --resume <run> --total-env-steps N [--num-evals M]`): a finished
// or stopped run gets a larger env-step budget and goes on from its latest checkpoint.
//
// The trainer evaluates once envSteps ≥ round((k + 1) × totalEnvSteps / numEvals) (trainer.ts),
// so changing totalEnvSteps alone would move every remaining evaluation. By default the spacing
// totalEnvSteps / numEvals is kept: numEvals becomes N × numEvals / totalEnvSteps, which needs N
// to be a multiple of totalEnvSteps / gcd(totalEnvSteps, numEvals); the extended run then
// evaluates exactly where a run started with N and that many evaluations would. --num-evals M
// sets the new total count (spacing N / M) instead.
import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { crossKeyIssues, parseSavedConfig, type TrainConfig } from "./config.js";
import { formatRunTimestamp, type RunDir, writeJsonAtomic, writeJsonUnique } from "./rundir.js";
import { readRunSummary, SUMMARY_FILE } from "./summary.js";

/** Where the run stands: its checkpoint's loop state. */
export interface RunPosition {
  envSteps: number;
  evalIndex: number;
}

export interface ExtensionPlan {
  totalEnvSteps: number;
  numEvals: number;
  /** False when the new values equal the run's (nothing to write). */
  changed: boolean;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * The new totalEnvSteps and numEvals of an extended run, or an Error saying why they cannot be and
 * what would do. `want` holds what the user gave (either may be missing).
 */
export function planExtension(config: TrainConfig, at: RunPosition, want: { totalEnvSteps?: number; numEvals?: number }): ExtensionPlan {
  const total = want.totalEnvSteps ?? config.totalEnvSteps;
  if (total < at.envSteps) {
    throw new Error(`--total-env-steps ${total} is less than the ${at.envSteps} env steps the run has already taken: give at least ${at.envSteps}`);
  }
  let numEvals: number;
  if (want.numEvals !== undefined) numEvals = want.numEvals;
  else if (total === config.totalEnvSteps) numEvals = config.numEvals;
  else {
    // keep the spacing: total / numEvals = config.totalEnvSteps / config.numEvals exactly
    const g = gcd(config.totalEnvSteps, config.numEvals);
    const unit = config.totalEnvSteps / g;
    if (total % unit !== 0) {
      const spacing = config.totalEnvSteps / config.numEvals;
      const lower = Math.floor(total / unit) * unit;
      const upper = lower + unit;
      const near = [lower, upper].filter((v) => v >= at.envSteps && v > 0);
      throw new Error(
        `--total-env-steps ${total} would change the spacing of evaluations (every ${+spacing.toFixed(2)} env steps: ${config.numEvals} over ${config.totalEnvSteps}): ` +
          `give a multiple of ${unit}${near.length > 0 ? ` (e.g. ${near.join(" or ")})` : ""}, or choose the new number of evaluations with --num-evals`,
      );
    }
    numEvals = (total / unit) * (config.numEvals / g);
  }
  if (numEvals < at.evalIndex) {
    throw new Error(`--num-evals ${numEvals} is less than the ${at.evalIndex} evaluations the run has already done`);
  }
  if (total > at.envSteps && numEvals === at.evalIndex) {
    throw new Error(
      `with --num-evals ${numEvals} the run, which has done ${at.evalIndex} evaluations, would not train any further: give --num-evals above ${at.evalIndex}`,
    );
  }
  if (numEvals > at.evalIndex) {
    const next = Math.round(((at.evalIndex + 1) * total) / numEvals);
    if (next <= at.envSteps) {
      throw new Error(
        `with --total-env-steps ${total} and --num-evals ${numEvals}, evaluation ${at.evalIndex + 1} would fall at ${next} env steps, ` +
          `not after the ${at.envSteps} the run has taken: give fewer evaluations or more env steps`,
      );
    }
  }
  const parsed = parseSavedConfig({ ...config, totalEnvSteps: total, numEvals });
  if (!parsed.success) throw new Error(`the extended configuration is invalid: ${parsed.error.issues.map((i) => i.message).join("; ")}`);
  const budget = crossKeyIssues(parsed.data).find((i) => i.key === "totalEnvSteps");
  if (budget) throw new Error(budget.message);
  return { totalEnvSteps: total, numEvals, changed: total !== config.totalEnvSteps || numEvals !== config.numEvals };
}

/**
 * Writes an extension to the run directory: summary.json's status "done" goes back to
 * "interrupted" (the run is unfinished until it reaches the new budget), the previous config.json
 * is kept as config.<time>.json (never overwritten), and config.json gets the new values and an
 * `extended` entry, atomically. Returns the name of the kept copy.
 */
export function applyExtension(run: RunDir, config: TrainConfig, plan: ExtensionPlan, at: RunPosition, now = new Date()): string {
  // first the summary: a crash after it leaves an unfinished run that resumes, never a finished one with a longer budget
  const summary = readRunSummary(run.path);
  if (summary?.status === "done") writeJsonAtomic(join(run.path, SUMMARY_FILE), { ...summary, status: "interrupted" });
  const raw = JSON.parse(readFileSync(run.configPath, "utf8")) as Record<string, unknown> & { config: Record<string, unknown>; extended?: unknown };
  const kept = writeJsonUnique(run.path, `config.${formatRunTimestamp(now)}`, raw);
  const history = Array.isArray(raw.extended) ? raw.extended : [];
  writeJsonAtomic(run.configPath, {
    ...raw,
    config: { ...raw.config, totalEnvSteps: plan.totalEnvSteps, numEvals: plan.numEvals },
    extended: [
      ...history,
      {
        time: now.toISOString(),
        atEnvSteps: at.envSteps,
        from: { totalEnvSteps: config.totalEnvSteps, numEvals: config.numEvals },
        to: { totalEnvSteps: plan.totalEnvSteps, numEvals: plan.numEvals },
        previousConfig: basename(kept),
      },
    ],
  });
  return kept;
}
