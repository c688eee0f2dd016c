// Post-hoc evaluations: what `fathom eval` wrote about a run's checkpoints,
// <run>/eval/<checkpoint>__<env>__seed<seed>__n<episodes>.json, read back as a series of
// evaluation records against env steps, so that `fathom plot --posthoc <env>` and the study
// scripts treat them like the evaluations a run logs itself. A study evaluates every periodic
// checkpoint of every run on the same env, seed and episode count (docs/results.md, the Ant big
// maze); each result then stands at its checkpoint's env steps.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { parseCheckpointName } from "./checkpoint.js";
import type { MetricsRecord } from "./logger.js";

/** The name (without .json) `fathom eval` gives its result for `checkpoint` evaluated on `envId`. */
export function evalResultBase(checkpoint: string, envId: string, seed: number, episodes: number): string {
  return `${basename(checkpoint).replace(/\.safetensors$/, "")}__${envId}__seed${seed}__n${episodes}`;
}

/** One `fathom eval` result of a run's checkpoint. */
export interface EvalResult {
  /** The result file, relative to the run directory (eval/…). */
  file: string;
  /** The checkpoint's file name. */
  checkpoint: string;
  /** Periodic (step_…) or written on a stop (interrupt_…). */
  kind: "step" | "interrupt";
  envSteps: number;
  env: string;
  seed: number;
  episodes: number;
  metrics: Record<string, number>;
}

/**
 * Every `fathom eval` result in <runDir>/eval/ (none when the folder is missing), in file-name
 * order. Throws, naming the file, on one that is not a result of an agent checkpoint.
 */
export function readEvalResults(runDir: string): EvalResult[] {
  const dir = join(runDir, "eval");
  if (!existsSync(dir)) return [];
  const out: EvalResult[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (!name.endsWith(".json") || !statSync(path).isFile()) continue; // eval/episodes/ is fathom view's cache
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`${path} is not a readable fathom eval result (${(e as Error).message}); move it out of ${dir}`);
    }
    const ckpt = typeof r.checkpoint === "string" ? parseCheckpointName(basename(r.checkpoint)) : null;
    const metrics = r.metrics as Record<string, unknown> | undefined;
    const valid =
      ckpt !== null &&
      typeof r.env === "string" &&
      Number.isInteger(r.seed) &&
      Number.isInteger(r.episodes) &&
      typeof metrics === "object" &&
      metrics !== null &&
      Object.values(metrics).every((v) => typeof v === "number");
    if (!valid) {
      throw new Error(
        `${path} is not a fathom eval result of an agent checkpoint (it needs checkpoint step_… or interrupt_…, env, seed, episodes and numeric metrics); move it out of ${dir}`,
      );
    }
    out.push({
      file: join("eval", name),
      checkpoint: basename(r.checkpoint as string),
      kind: ckpt.kind,
      envSteps: ckpt.envSteps,
      env: r.env as string,
      seed: r.seed as number,
      episodes: r.episodes as number,
      metrics: metrics as Record<string, number>,
    });
  }
  return out;
}

/** An evaluation's results without its speed (eval/sps differs between two runs of the same evaluation). */
function outcome(r: EvalResult): string {
  return JSON.stringify(Object.entries(r.metrics).filter(([k]) => !k.endsWith("/sps")));
}

export interface PosthocFilter {
  /** Only results of this evaluation seed. */
  seed?: number;
  /** Only results of this many episodes. */
  episodes?: number;
}

/**
 * A run's post-hoc evaluations on `env` as evaluation records ({envsteps, …metrics}), one per
 * periodic checkpoint (step_…), in env-step order. Checkpoints written on a stop (interrupt_…)
 * fall between the periodic ones and are left out, so that "the last five" are the same
 * checkpoints in every run. A checkpoint evaluated again with the same seed and episode count and
 * the same result (its speed, eval/sps, aside) (fathom eval writes -2, -3, … beside the first) counts once; results that differ,
 * or that `filter` does not tell apart (another seed or episode count), are an error: a series
 * takes one result per checkpoint.
 */
export function posthocRecords(runDir: string, env: string, filter: PosthocFilter = {}): MetricsRecord[] {
  const byStep = new Map<number, EvalResult[]>();
  for (const r of readEvalResults(runDir)) {
    if (r.env !== env || r.kind !== "step") continue;
    if (filter.seed !== undefined && r.seed !== filter.seed) continue;
    if (filter.episodes !== undefined && r.episodes !== filter.episodes) continue;
    byStep.set(r.envSteps, [...(byStep.get(r.envSteps) ?? []), r]);
  }
  const out: MetricsRecord[] = [];
  for (const [envsteps, rs] of [...byStep].sort((a, b) => a[0] - b[0])) {
    const first = rs[0];
    const same = (r: EvalResult) => r.seed === first.seed && r.episodes === first.episodes && outcome(r) === outcome(first);
    if (!rs.every(same)) {
      const which = rs.map((r) => `${r.file} (seed ${r.seed}, ${r.episodes} episodes)`).join(", ");
      throw new Error(
        `${runDir}: ${rs.length} different evaluations of the checkpoint at ${envsteps} env steps on ${env}: ${which}; ` +
          "choose one by its evaluation seed and episode count, or move the others out of eval/",
      );
    }
    out.push({ envsteps, ...first.metrics });
  }
  return out;
}
