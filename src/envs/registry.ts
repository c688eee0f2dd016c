// Env registry: versioned ids (Gymnasium style, e.g. "simple_u_maze-v1") → EnvSpec + the core
// factory a worker loads by module URL and export name. Dynamics never change under an existing
// id; a change gets a new version.
import { ANT_ENV_SPECS } from "./mujoco/ant.js";
import { ARM_ENV_SPECS } from "./mujoco/arm.js";
import { HUMANOID_ENV_SPECS } from "./mujoco/humanoid.js";
import { POINT_ENV_SPECS } from "./point/point.js";
import type { EnvSpec, MakeEnvOptions, VecEnv } from "./types.js";
import { type CoreFactoryRef, checkFrameSkip, createVecEnv } from "./vec.js";

// `.ts` under tsx, `.js` when compiled to dist/ (workers import these URLs themselves).
const EXT = import.meta.url.endsWith(".ts") ? ".ts" : ".js";

interface Entry {
  readonly spec: EnvSpec;
  readonly factory: CoreFactoryRef;
}

const REGISTRY = new Map<string, Entry>();

function register(specs: readonly EnvSpec[], modulePath: string, exportName: string): void {
  const factory: CoreFactoryRef = { module: new URL(`${modulePath}${EXT}`, import.meta.url).href, export: exportName };
  for (const spec of specs) {
    if (REGISTRY.has(spec.id)) throw new Error(`env id ${spec.id} is registered twice`);
    REGISTRY.set(spec.id, { spec, factory });
  }
}

register(POINT_ENV_SPECS, "./point/point", "createPointCore");
register(ANT_ENV_SPECS, "./mujoco/ant", "createAntCore");
register(HUMANOID_ENV_SPECS, "./mujoco/humanoid", "createHumanoidCore");
register(ARM_ENV_SPECS, "./mujoco/arm", "createArmCore");

function entry(id: string): Entry {
  const e = REGISTRY.get(id);
  if (e === undefined) {
    throw new Error(`unknown env id "${id}": known ids are ${[...REGISTRY.keys()].join(", ")} (see \`fathom envs\`)`);
  }
  return e;
}

/** Every registered id, in registration order. */
export function listEnvs(): string[] {
  return [...REGISTRY.keys()];
}

/** The spec of a registered id. */
export function getEnvSpec(id: string): EnvSpec {
  return entry(id).spec;
}

/**
 * Tasks whose primary evaluation, as in the paper's runs, uses the far-goal layout: the reference
 * (scaling-crl train.py) evaluates on the training env unless its run script passes
 * `--eval_env_id`, which its job.slurm does for the big maze (`ant_big_maze_eval`). The point
 * and Humanoid big mazes follow the Ant's.
 */
const FAR_GOAL_PRIMARY_EVAL = new Set(["ant_big_maze-v1", "humanoid_big_maze-v1", "simple_big_maze-v1"]);

/** The env the paper's protocol evaluates `id` on (its `_eval` layout for the big mazes, else itself). */
export function primaryEvalId(id: string): string {
  const s = getEnvSpec(id);
  return FAR_GOAL_PRIMARY_EVAL.has(id) && s.evalId !== undefined ? s.evalId : id;
}

/** The far-goal layout to evaluate on as an extra metric, when it differs from primaryEvalId. */
export function farGoalEvalId(id: string): string | undefined {
  const s = getEnvSpec(id);
  return s.evalId !== undefined && s.evalId !== primaryEvalId(id) ? s.evalId : undefined;
}

/**
 * The training env's own goals (every 'G' cell) as an extra evaluation, where the primary
 * evaluation uses only the far goals (the big mazes): there the primary metric stays 0 until the
 * far cells are reached, and this one shows the progress before that.
 */
export function allGoalEvalId(id: string): string | undefined {
  return primaryEvalId(id) !== id ? id : undefined;
}

/** An extra evaluation logged beside the primary one (eval/…): its metrics' prefix, env id and what it evaluates. */
export interface ExtraEval {
  prefix: "eval_far" | "eval_all";
  id: string;
  /** "far goals" or "all goals", for log lines and tables. */
  label: string;
}

/**
 * The extra evaluations of task `id`, in logging order: the far goals (eval_far/…) where they
 * are not the primary evaluation, the training env's own goals (eval_all/…) where the primary
 * evaluation uses only the far goals. `which` selects them (the config's farGoalEval and
 * allGoalEval); at most one of the two exists for a task.
 */
export function extraEvals(id: string, which: { far: boolean; all: boolean } = { far: true, all: true }): ExtraEval[] {
  const out: ExtraEval[] = [];
  const far = which.far ? farGoalEvalId(id) : undefined;
  if (far !== undefined) out.push({ prefix: "eval_far", id: far, label: "far goals" });
  const all = which.all ? allGoalEvalId(id) : undefined;
  if (all !== undefined) out.push({ prefix: "eval_all", id: all, label: "all goals" });
  return out;
}

/** The core factory of a registered id (module URL + export name), for tools that host cores themselves. */
export function getCoreFactory(id: string): CoreFactoryRef {
  return entry(id).factory;
}

/** Throws a clear error unless `frameSkip` is a valid physics frame skip for env `id` (MuJoCo envs). */
export function validateFrameSkip(id: string, frameSkip: number): void {
  checkFrameSkip(entry(id).spec, frameSkip);
}

/** Builds `options.numEnvs` envs of `id` on worker threads (see MakeEnvOptions). Close it when done. */
export async function makeVecEnv(id: string, options: MakeEnvOptions): Promise<VecEnv> {
  const e = entry(id);
  return createVecEnv(e.spec, e.factory, options);
}

/** The table `fathom envs` prints: one row per id. */
export function formatEnvTable(): string {
  const head = ["id", "state", "goal", "action", "episode", "threshold", "frame skip", "eval id", "description"];
  const rows = [...REGISTRY.values()].map(({ spec: s }) => [
    s.id,
    String(s.stateDim),
    String(s.goalDim),
    String(s.actionDim),
    String(s.episodeLength),
    String(s.successThreshold),
    s.frameSkip === undefined ? "-" : String(s.frameSkip),
    s.evalId ?? "-",
    s.description,
  ]);
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (r: string[]) =>
    r
      .map((x, c) => (c === r.length - 1 ? x : x.padEnd(widths[c])))
      .join("  ")
      .trimEnd();
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
