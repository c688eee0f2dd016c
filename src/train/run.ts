// Reading a run directory back, in one place (issue 13): its configuration (config.json), its
// summary, its metrics and where its checkpoints are. `fathom eval`, `fathom plot`, the sweep and
// the viewer all read runs through here.
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { parseSavedConfig, runDepth, type TrainConfig } from "./config.js";
import { type MetricsRecord, readMetricsJsonl } from "./logger.js";
import { findRunDir, listRunDirs, RUN_FILES, type RunDir } from "./rundir.js";
import { type RunSummary, readRunSummary } from "./summary.js";

/** Run directories a sweep moved aside (`<name>.incomplete-<time>`): never a run to read back. */
export const INCOMPLETE_DIR = /\.incomplete-\d{8}-\d{6}(-\d+)?$/;

/** What a run's config.json holds: the training configuration, and whether the run was extended. */
export interface SavedRunConfig {
  config: TrainConfig;
  /** The run was extended (fathom train --resume --total-env-steps) at least once. */
  extended: boolean;
}

/**
 * Reads a run's config.json; a missing, damaged or invalid file is an error that names it and says
 * what to do. Configurations saved before a key existed read back with the value they ran with.
 */
export function readRunConfigFile(configPath: string): SavedRunConfig {
  const fix =
    "every checkpoint of the run also stores its configuration (safetensors metadata \"config\"): " +
    `restore ${configPath} as {"config": <that JSON>} from a backup or a checkpoint, or start a new run`;
  let saved: { config?: unknown; extended?: unknown };
  try {
    saved = JSON.parse(readFileSync(configPath, "utf8"));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === "ENOENT") throw new Error(`${configPath} does not exist; ${fix}`);
    if (err.code) throw new Error(`cannot read ${configPath}: ${err.message}`);
    throw new Error(`${configPath} is damaged: it is not valid JSON (${err.message}); ${fix}`);
  }
  const parsed = parseSavedConfig(saved?.config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path?.length ? ` (config.${issue.path.join(".")})` : "";
    throw new Error(`${configPath} does not hold a valid training configuration: ${issue?.message}${where}; ${fix}`);
  }
  return { config: parsed.data, extended: Array.isArray(saved?.extended) && saved.extended.length > 0 };
}

/** The training configuration in a run's config.json (see readRunConfigFile). */
export function readRunConfig(configPath: string): TrainConfig {
  return readRunConfigFile(configPath).config;
}

/** A run directory read back: its paths and configuration; summary and metrics read on demand. */
export interface LoadedRun {
  run: RunDir;
  config: TrainConfig;
  /** The checkpoint the user named (a checkpoint file instead of a run directory), if any. */
  checkpoint?: string;
  /** summary.json (null while the run has not ended); throws when it is damaged. */
  summary(): RunSummary | null;
  /** The records of metrics.jsonl (none when the run logged nothing yet). */
  records(): MetricsRecord[];
}

/**
 * Reads the run of `pathOrCheckpoint`: a run directory, a checkpoint file in one, or a run name
 * under `options.runsDir` (see findRunDir). Its config.json must be valid.
 */
export function loadRun(pathOrCheckpoint: string, options: { runsDir?: string } = {}): LoadedRun {
  const found = findRunDir(pathOrCheckpoint, options);
  const run = found.run;
  const config = readRunConfig(run.configPath);
  const metricsPath = join(run.path, RUN_FILES.metricsJsonl);
  return {
    run,
    config,
    ...(found.checkpoint === undefined ? {} : { checkpoint: found.checkpoint }),
    summary: () => readRunSummary(run.path),
    records: () => (existsSync(metricsPath) ? readMetricsJsonl(metricsPath).records : []),
  };
}

/**
 * The runs named by `paths`, as `fathom plot` and `fathom view` take them: each a run directory, a
 * checkpoint file in one (with `allowCheckpoints`), or a folder of run directories (all of them,
 * ordered by env, depth and seed; a sweep's names carry no time to sort by; runs a sweep moved
 * aside are left out). Throws on a path that is none of these, and on a run named twice.
 */
export function loadRuns(paths: readonly string[], options: { allowCheckpoints?: boolean } = {}): LoadedRun[] {
  if (paths.length === 0) throw new Error("name at least one run directory (or a folder of run directories)");
  const runs: LoadedRun[] = [];
  for (const p of paths) {
    if (!existsSync(p)) throw new Error(`${p} does not exist`);
    const isFolder = statSync(p).isDirectory() && !existsSync(join(p, RUN_FILES.config)) && basename(p) !== RUN_FILES.checkpoints;
    if (isFolder) {
      const inside = listRunDirs(p).filter((n) => !INCOMPLETE_DIR.test(n));
      if (inside.length === 0) throw new Error(`${p} is neither a run directory (it has no config.json) nor a folder of run directories`);
      const loaded = inside.map((n, i) => ({ r: loadRun(join(p, n)), i }));
      loaded.sort(
        (a, b) =>
          (a.r.config.env < b.r.config.env ? -1 : a.r.config.env > b.r.config.env ? 1 : 0) ||
          runDepth(a.r.config) - runDepth(b.r.config) ||
          a.r.config.actorDepth - b.r.config.actorDepth ||
          a.r.config.seed - b.r.config.seed ||
          a.i - b.i,
      );
      runs.push(...loaded.map(({ r }) => r));
    } else {
      const r = loadRun(p);
      if (r.checkpoint !== undefined && !options.allowCheckpoints) throw new Error(`${p} is a checkpoint file: name its run directory instead`);
      runs.push(r);
    }
  }
  const seen = new Set<string>();
  for (const r of runs) {
    if (seen.has(r.run.path)) throw new Error(`run ${r.run.path} is named twice`);
    seen.add(r.run.path);
  }
  return runs;
}
