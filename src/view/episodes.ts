// Evaluation episodes for the viewer and `fathom video`, produced by the project's own evaluation
// (train/evaluate.ts: fresh envs, deterministic actor) on a RecordingVecEnv, and cached in the run
// directory as <run>/eval/episodes/<checkpoint>__<env>__seed<seed>__n<episodes>.json (a
// trajectory file, ./trajectories.ts). A cached file is never recomputed; one that cannot be read
// is recomputed and replaced (the cache is the viewer's own). Requests for the same file share one
// computation, and computations run one at a time (each uses every core of the compute backend).
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { backendFromEnv, precisionFromEnv } from "../engine/index.js";
import { primaryEvalId } from "../envs/registry.js";
import { networkSizes, type TrainConfig } from "../train/config.js";
import { type EvalMetrics, evaluate, type Policy, type Trajectories } from "../train/evaluate.js";
import { evalResultBase } from "../train/posthoc.js";
import { type RunDir, writeFileAtomic } from "../train/rundir.js";
import { checkpointPosition, latestCheckpoint, listCheckpoints, loadAgentCheckpoint, makeAgent } from "../train/trainer.js";
import { RecordingVecEnv } from "./recording-env.js";
import { checkEvalEnv, type ViewRun } from "./runs.js";
import { checkTrajectoryFile, type TrajectoryFile, type TrajectoryRun, trajectoryFile, trajectoryJsonChunks } from "./trajectories.js";

/** Episodes recorded per request unless asked otherwise (small: a 1000-step Ant episode is ≈ 0.9 MB, mostly poses). */
export const DEFAULT_VIEW_EPISODES = 8;
/** The evaluation seed unless asked otherwise (fathom eval's default). */
export const DEFAULT_VIEW_SEED = 12345;
/** At most this many episodes per request: 64 Ant episodes are ≈ 60 MB of JSON for the page to load. */
export const MAX_VIEW_EPISODES = 64;

/** What to record: a checkpoint (file name in checkpoints/, default the latest), the env, the seed and the number of episodes. */
export interface EpisodeRequest {
  checkpoint?: string;
  env?: string;
  seed: number;
  episodes: number;
}

export interface RecordOptions {
  /** Fathom's version, written into the file. */
  fathom: string;
  run: RunDir | null;
  config: TrainConfig;
  checkpoint: string;
  envId: string;
  episodes: number;
  seed: number;
}

/** Writes a trajectory file atomically (complete when it appears), in pieces. */
export function writeTrajectoryFile(path: string, file: TrajectoryFile): void {
  const enc = new TextEncoder();
  writeFileAtomic(path, (write) => {
    for (const chunk of trajectoryJsonChunks(file)) write(enc.encode(chunk));
  });
}

/** The run fields of a trajectory file. */
export function trajectoryRun(run: RunDir, c: TrainConfig): TrajectoryRun {
  return {
    dir: run.path,
    name: run.name,
    trainEnv: c.env,
    actorDepth: c.actorDepth,
    criticDepth: networkSizes(c).criticDepth,
    actorWidth: c.actorWidth,
    criticWidth: networkSizes(c).criticWidth,
    seed: c.seed,
  };
}

/** What a trajectory file says of where its episodes come from. */
export interface RecordingMeta {
  fathom: string;
  run: TrajectoryRun | null;
  checkpoint: string;
  seed: number;
}

/** The trajectory file of an evaluation that ran on `env` (evaluate() with recordTrajectories). */
export function recordedTrajectoryFile(env: RecordingVecEnv, result: { metrics: EvalMetrics; trajectories?: Trajectories }, meta: RecordingMeta): TrajectoryFile {
  if (result.trajectories === undefined) throw new Error("the evaluation recorded no trajectories: run evaluate() with recordTrajectories");
  let checkpointEnvSteps: number | null = null;
  try {
    checkpointEnvSteps = checkpointPosition(meta.checkpoint).envSteps;
  } catch {
    checkpointEnvSteps = null;
  }
  return trajectoryFile({
    fathom: meta.fathom,
    run: meta.run,
    checkpoint: meta.checkpoint,
    checkpointEnvSteps,
    seed: meta.seed,
    episodeLength: env.episodeLength,
    successThreshold: env.successThreshold,
    metrics: result.metrics,
    trajectories: result.trajectories,
    start: env.starts(),
    scene: env.scene(),
    frames: env.frames(),
  });
}

/** Runs the evaluation of `agent` on `episodes` fresh envs of `envId` under `seed`, recording its episodes. */
export async function evaluateRecorded(agent: Policy, o: RecordingMeta & { config: TrainConfig; envId: string; episodes: number }): Promise<TrajectoryFile> {
  const env = await RecordingVecEnv.create(o.envId, { numEnvs: o.episodes, episodeLength: o.config.episodeLength, frameSkip: o.config.frameSkip });
  try {
    const result = await evaluate(agent, env, { seed: o.seed, recordTrajectories: true });
    return recordedTrajectoryFile(env, result, o);
  } finally {
    await env.close();
  }
}

/** Builds the run's agent from `checkpoint` and records its episodes (see evaluateRecorded). */
export async function recordEpisodes(o: RecordOptions): Promise<TrajectoryFile> {
  checkEvalEnv(o.config, o.envId);
  const config: TrainConfig = { ...o.config, backend: backendFromEnv() ?? o.config.backend, precision: precisionFromEnv() ?? o.config.precision };
  const agent = makeAgent(config, o.episodes);
  loadAgentCheckpoint(o.checkpoint, agent);
  return evaluateRecorded(agent, { ...o, config, run: o.run === null ? null : trajectoryRun(o.run, config) });
}

/** The checkpoint a request names (a file name in the run's checkpoints/), or the run's latest. */
export function resolveCheckpoint(run: RunDir, name: string | undefined, warn: (line: string) => void): string {
  if (name === undefined || name === "" || name === "latest") return latestCheckpoint(run.checkpointsDir, warn);
  const all = listCheckpoints(run.checkpointsDir);
  const hit = all.find((c) => c.name === name);
  if (hit === undefined) {
    throw new Error(`run ${run.name} has no checkpoint ${JSON.stringify(name)}; it has ${all.length === 0 ? "none" : all.map((c) => c.name).join(", ")}`);
  }
  return hit.path;
}

/** Checks a request's numbers; returns the env id it evaluates on. */
export function checkRequest(v: ViewRun, req: EpisodeRequest): string {
  if (!Number.isSafeInteger(req.seed) || req.seed < 0) throw new Error(`seed must be an integer ≥ 0, got ${req.seed}`);
  if (!Number.isInteger(req.episodes) || req.episodes < 1 || req.episodes > MAX_VIEW_EPISODES) {
    throw new Error(`episodes must be an integer in [1, ${MAX_VIEW_EPISODES}], got ${req.episodes}`);
  }
  const envId = req.env === undefined || req.env === "" ? primaryEvalId(v.config.env) : req.env;
  checkEvalEnv(v.config, envId);
  return envId;
}

/** Where a request's episodes are cached. */
export function episodesPath(run: RunDir, checkpoint: string, envId: string, seed: number, episodes: number): string {
  return join(run.evalDir, "episodes", `${evalResultBase(checkpoint, envId, seed, episodes)}.json`);
}

export interface CachedEpisodes {
  path: string;
  /** The file's JSON text, as cached. */
  text: string;
  /** True when it was already there. */
  cached: boolean;
}

const inflight = new Map<string, Promise<CachedEpisodes>>();
let queue: Promise<unknown> = Promise.resolve();

/** The episodes of a request: from the cache, or recorded now and cached (see the file header). */
export async function cachedEpisodes(v: ViewRun, req: EpisodeRequest, o: { fathom: string; log: (line: string) => void }): Promise<CachedEpisodes> {
  const envId = checkRequest(v, req);
  const checkpoint = resolveCheckpoint(v.run, req.checkpoint, (l) => o.log(`warning: ${l}`));
  const path = episodesPath(v.run, checkpoint, envId, req.seed, req.episodes);
  const running = inflight.get(path);
  if (running !== undefined) return running;
  const job = (async (): Promise<CachedEpisodes> => {
    if (existsSync(path)) {
      try {
        const text = readFileSync(path, "utf8");
        checkTrajectoryFile(JSON.parse(text), path);
        return { path, text, cached: true };
      } catch (e) {
        o.log(`warning: cached episodes ${path} cannot be read (${(e as Error).message}); recording them again`);
      }
    }
    // one recording at a time; a failed one does not block the next
    const turn = queue.then(async () => {
      o.log(`recording ${req.episodes} episode(s) of ${v.run.name} (${basename(checkpoint)}) on ${envId}, seed ${req.seed} …`);
      const t0 = performance.now();
      const file = await recordEpisodes({ fathom: o.fathom, run: v.run, config: v.config, checkpoint, envId, episodes: req.episodes, seed: req.seed });
      mkdirSync(join(v.run.evalDir, "episodes"), { recursive: true });
      writeTrajectoryFile(path, file);
      o.log(`  done in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${path}`);
      return { path, text: readFileSync(path, "utf8"), cached: false };
    });
    queue = turn.catch(() => undefined);
    return turn;
  })();
  inflight.set(path, job);
  job.then(
    () => inflight.delete(path),
    () => inflight.delete(path),
  );
  return job;
}
