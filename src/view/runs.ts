// The runs a viewer shows: what the user named on the command line (run directories, or folders
// of run directories as `fathom plot` takes them), each read once for its configuration, and its
// curves and checkpoints read afresh on every request (a run may still be training).
import { existsSync } from "node:fs";
import { basename } from "node:path";
import { farGoalEvalId, getEnvSpec, primaryEvalId } from "../envs/registry.js";
import { networkSizes, type TrainConfig } from "../train/config.js";
import { type MetricsRecord, readMetricsJsonl } from "../train/logger.js";
import type { RunCurves, RunInfo } from "./api.js";
import type { RunDir } from "../train/rundir.js";
import { loadRuns } from "../train/run.js";
import { evalRecords, readRunSummary } from "../train/summary.js";
import { depthLabel } from "../train/sweep.js";
import { listCheckpoints } from "../train/trainer.js";

export interface ViewRun {
  /** Index in the viewer's list (the API's `run` parameter). */
  index: number;
  run: RunDir;
  config: TrainConfig;
  /** The checkpoint the user named (a checkpoint file instead of a run directory), if any. */
  checkpoint?: string;
}

/**
 * The runs named by `paths`: each a run directory, a checkpoint file in one (that checkpoint is
 * then the run's default), or a folder holding run directories (all of them, by env, depth, seed).
 * Throws on a path that is none of these, and on a run named twice.
 */
export function resolveRuns(paths: readonly string[]): ViewRun[] {
  return loadRuns(paths, { allowCheckpoints: true }).map((r, index) => ({
    index,
    run: r.run,
    config: r.config,
    ...(r.checkpoint === undefined ? {} : { checkpoint: r.checkpoint }),
  }));
}

export function runInfo(v: ViewRun): RunInfo {
  const c = v.config;
  let status = "running or interrupted";
  try {
    status = readRunSummary(v.run.path)?.status ?? status;
  } catch {
    status = "summary.json damaged";
  }
  const n = networkSizes(c);
  const widths = n.criticWidth === null || c.actorWidth === n.criticWidth ? `w${c.actorWidth}` : `w${c.actorWidth}/${n.criticWidth}`;
  return {
    index: v.index,
    name: v.run.name,
    dir: v.run.path,
    env: c.env,
    evalEnv: primaryEvalId(c.env),
    farEnv: farGoalEvalId(c.env) ?? null,
    agent: c.agent,
    actorDepth: c.actorDepth,
    criticDepth: n.criticDepth,
    actorWidth: c.actorWidth,
    criticWidth: n.criticWidth,
    seed: c.seed,
    episodeLength: c.episodeLength,
    group: `${c.env} ${c.agent} depth ${depthLabel(c.actorDepth, n.criticDepth ?? c.actorDepth)} ${widths}`,
    status,
    checkpoints: listCheckpoints(v.run.checkpointsDir).map(({ name, envSteps }) => ({ name, envSteps })),
    defaultCheckpoint: v.checkpoint === undefined ? null : basename(v.checkpoint),
  };
}

/** The metrics the curve tabs plot, by tab. α is logged as training/log_alpha and shown as exp. */
export const CURVE_KEYS = {
  eval: [
    "eval/time_at_goal",
    "eval/success_rate",
    "eval/mean_dist",
    "eval_far/time_at_goal",
    "eval_far/success_rate",
    "eval_far/mean_dist",
    "eval_all/time_at_goal",
    "eval_all/success_rate",
    "eval_all/mean_dist",
    "eval/avg_episode_length",
  ],
  training: [
    "training/entropy",
    "training/log_alpha",
    "training/critic_loss",
    "training/actor_loss",
    "training/alpha_loss",
    "training/categorical_accuracy",
    "training/logsumexp",
    "training/log_std_min",
    "training/log_std_max",
  ],
} as const;

/** Runs logged before eval/time_at_goal and eval/success_rate existed carry the same numbers under the reference's names. */
const OLDER_NAMES: Record<string, string> = {
  "eval/time_at_goal": "eval/episode_success",
  "eval/success_rate": "eval/episode_success_any",
  "eval_far/time_at_goal": "eval_far/episode_success",
  "eval_far/success_rate": "eval_far/episode_success_any",
};

function pick(r: MetricsRecord, keys: readonly string[]): MetricsRecord {
  const out: MetricsRecord = { envsteps: r.envsteps };
  for (const k of keys) {
    const v = typeof r[k] === "number" ? r[k] : r[OLDER_NAMES[k] ?? ""];
    if (typeof v === "number") out[k] = v;
  }
  return out;
}

/** The run's curves, read now from its metrics.jsonl (none yet: empty). */
export function runCurves(v: ViewRun): RunCurves {
  if (!existsSync(v.run.metricsJsonlPath)) return { eval: [], training: [], skipped: 0 };
  const { records, skipped } = readMetricsJsonl(v.run.metricsJsonlPath);
  const training = records.filter((r) => typeof r.envsteps === "number" && typeof r["training/critic_loss"] === "number");
  return {
    eval: evalRecords(records).map((r) => pick(r, CURVE_KEYS.eval)),
    training: training.map((r) => pick(r, CURVE_KEYS.training)),
    skipped,
  };
}

/** Throws unless the agent of `config` can act in env `envId` (same state, goal and action sizes). */
export function checkEvalEnv(config: TrainConfig, envId: string): void {
  const spec = getEnvSpec(config.env);
  const e = getEnvSpec(envId);
  if (e.stateDim !== spec.stateDim || e.goalDim !== spec.goalDim || e.actionDim !== spec.actionDim) {
    throw new Error(`env ${envId} has different dimensions from ${config.env}, which the agent was trained on`);
  }
}
