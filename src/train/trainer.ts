// The training loop of the paper (SPEC §4–5): prefill with the initial actor, then per training
// step collect `unrollLength` steps from every env, sample hindsight batches and run up to
// `sgdBatchesPerStep` CRL updates; evaluate every epoch with the deterministic actor; checkpoint.
import { existsSync, readdirSync, readFileSync, statSync, unlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { CRLAgent, type CRLMetrics, NonFiniteError } from "../agents/crl.js";
import { getBackend, resolvePrecision } from "../engine/index.js";
import { farGoalEvalId, getEnvSpec, makeVecEnv, primaryEvalId } from "../envs/registry.js";
import type { VecEnv, VecEnvState } from "../envs/types.js";
import type { Tensor } from "../nn/safetensors.js";
import { foldIn, type Key, keyFromSeed, Rng, split } from "../random.js";
import { ReplayBuffer } from "../replay/buffer.js";
import { HindsightSampler } from "../replay/sampler.js";
import { CHECKPOINT_FORMAT, readSafetensorsFile, readSafetensorsHeader, writeSafetensorsFile } from "./checkpoint.js";
import { parseSavedConfig, type TrainConfig } from "./config.js";
import { type EvalMetrics, evaluate } from "./evaluate.js";
import type { MetricsLogger } from "./logger.js";
import { type RunDir, writeJsonAtomic } from "./rundir.js";

export interface TrainOptions {
  /** Where config, metrics and checkpoints go; null = nothing written (tests, benchmarks). */
  runDir: RunDir | null;
  logger?: MetricsLogger | null;
  /** Aborting stops the run at the next gradient step, saving a checkpoint with the replay buffer. */
  signal?: AbortSignal;
  /** Human-readable progress lines. */
  log?: (line: string) => void;
  /** Called after every training step (for progress bars). */
  onTrainingStep?: (s: TrainProgress) => void;
  /** Called after every evaluation. */
  onEval?: (m: EvalRecord) => void;
  /** Resume from this checkpoint file (written by a run with the same config). */
  resumeFrom?: string;
}

export interface TrainProgress {
  envSteps: number;
  totalEnvSteps: number;
  trainingSteps: number;
  updates: number;
  sps: number;
  metrics: CRLMetrics | null;
}

/** One evaluation: the primary env's metrics (eval/…), the far goals' (eval_far/…) when evaluated. */
export type EvalRecord = EvalMetrics & { envsteps: number; step: number } & { [far: `eval_far/${string}`]: number };

export interface TrainResult {
  status: "done" | "interrupted" | "nonfinite";
  envSteps: number;
  trainingSteps: number;
  updates: number;
  evals: EvalRecord[];
  lastCheckpoint: string | null;
  /** Set when status is "nonfinite". */
  error?: string;
  agent: CRLAgent;
}

interface LoopState {
  envSteps: number;
  trainingSteps: number;
  evalIndex: number;
  resumes: number;
}

const METRIC_NAMES: (keyof CRLMetrics)[] = [
  "critic_loss",
  "actor_loss",
  "alpha_loss",
  "log_alpha",
  "logsumexp",
  "categorical_accuracy",
  "logits_pos",
  "logits_neg",
  "entropy",
  "log_std_min",
  "log_std_max",
  "log_std_stuck_dims",
  "mean_abs_max",
  "grad_norm_actor",
  "grad_norm_sa_encoder",
  "grad_norm_goal_encoder",
];

function seedFromKey(k: Key): number {
  return k[0] & 0x7fffffff;
}

/**
 * Builds the agent a config describes (also used by `fathom eval`). A precision the backend
 * cannot run (bf16 without AVX512_BF16) falls back to fp32 with one line to `log` saying why.
 */
export function makeAgent(config: TrainConfig, actBatch: number, log: (line: string) => void = (l) => console.error(`warning: ${l}`)): CRLAgent {
  const spec = getEnvSpec(config.env);
  const [kAgent] = split(keyFromSeed(config.seed), 4);
  const backend = getBackend(config.backend);
  const { precision, note } = resolvePrecision(backend, config.precision);
  if (note !== null) log(note);
  return new CRLAgent(
    backend,
    { stateDim: spec.stateDim, goalDim: spec.goalDim, actionDim: spec.actionDim },
    {
      actorDepth: config.actorDepth,
      actorWidth: config.actorWidth,
      criticDepth: config.criticDepth,
      criticWidth: config.criticWidth,
      reprDim: config.reprDim,
      batchSize: config.batchSize,
      lr: config.lr,
      energyFn: config.energyFn,
      contrastiveLoss: config.contrastiveLoss,
      logsumexpPenalty: config.logsumexpPenalty,
      recompute: config.recompute,
      precision,
      actorHeadNorm: config.actorHeadNorm,
      actorHeadInitScale: config.actorHeadInitScale,
      tanhLogDet: config.tanhLogDet,
      actorLrWarmup: config.actorLrWarmup,
      logStdRawPenalty: config.logStdRawPenalty,
    },
    kAgent,
    actBatch,
  );
}

/** Loads an agent checkpoint into `agent`; returns the checkpoint's metadata. */
export function loadAgentCheckpoint(path: string, agent: CRLAgent): Record<string, string> {
  return readAgentCheckpoint(path, agent).metadata;
}

/** Loads an agent checkpoint into `agent`; returns its metadata and all its tensors (env state too). */
function readAgentCheckpoint(path: string, agent: CRLAgent): { metadata: Record<string, string>; tensors: Map<string, Tensor> } {
  const { tensors, metadata } = readSafetensorsFile(path);
  if (metadata.format !== CHECKPOINT_FORMAT) {
    throw new Error(`${path} is not a Fathom agent checkpoint (format ${JSON.stringify(metadata.format)}, expected ${CHECKPOINT_FORMAT})`);
  }
  agent.loadStateTensors(tensors, `checkpoint ${path}`);
  return { metadata, tensors };
}

/** Tensor names and metadata key of the training envs' state in a checkpoint. */
const ENV_STATE = "env.state";
const ENV_EPISODE_ID = "env.episode_id";
const ENV_STATE_META = "env_state";

/** The training envs' state as checkpoint tensors + metadata. */
function envStateTensors(s: VecEnvState, tensors: Map<string, Tensor>, meta: Record<string, string>): void {
  tensors.set(ENV_STATE, { dtype: "F64", shape: [s.numEnvs, s.stride], data: s.data });
  tensors.set(ENV_EPISODE_ID, { dtype: "I32", shape: [s.numEnvs], data: s.episodeId });
  meta[ENV_STATE_META] = JSON.stringify({ id: s.id, numEnvs: s.numEnvs, seedKey: s.seedKey, stride: s.stride });
}

/** The training envs' state saved in a checkpoint, or why there is none. */
function envStateFrom(tensors: ReadonlyMap<string, Tensor>, meta: Record<string, string>): VecEnvState | string {
  const text = meta[ENV_STATE_META];
  const data = tensors.get(ENV_STATE);
  const ids = tensors.get(ENV_EPISODE_ID);
  if (text === undefined || !data || !ids) return "the checkpoint has none (saved by an older version, or the env cannot save its state)";
  try {
    const h = JSON.parse(text) as { id: string; numEnvs: number; seedKey: [number, number]; stride: number };
    if (data.dtype !== "F64" || ids.dtype !== "I32") return "its tensors have the wrong types";
    return { id: h.id, numEnvs: h.numEnvs, seedKey: h.seedKey, stride: h.stride, data: data.data as Float64Array, episodeId: ids.data as Int32Array };
  } catch (e) {
    return `its description cannot be read (${(e as Error).message})`;
  }
}

const REPLAY_FORMAT = "fathom-replay-v1";
const REPLAY_SUFFIX = ".replay.safetensors";

/** The replay file saved with checkpoint `name`. */
function replayFileName(checkpointName: string): string {
  return checkpointName.replace(/\.safetensors$/, REPLAY_SUFFIX);
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // gone already, or not ours to remove: retention is best effort
  }
}

/**
 * Restores the replay buffer saved with checkpoint `checkpointPath` (its metadata names the file).
 * A missing or unreadable file is not an error: the run goes on with an empty buffer, and the
 * reason is returned for the log.
 */
function restoreReplay(
  checkpointPath: string,
  replayName: string | undefined,
  buffer: ReplayBuffer,
  shape: { numEnvs: number; capacity: number; obsDim: number; actionDim: number },
): { restored: true; path: string } | { restored: false; reason: string } {
  if (!replayName) return { restored: false, reason: "the checkpoint was saved without one" };
  const path = join(dirname(checkpointPath), replayName);
  if (!existsSync(path)) return { restored: false, reason: `${replayName} is gone: only the newest checkpoint's replay buffer is kept` };
  try {
    const r = readSafetensorsFile(path);
    if (r.metadata.format !== REPLAY_FORMAT) throw new Error(`format ${JSON.stringify(r.metadata.format)}, expected ${REPLAY_FORMAT}`);
    const g = (k: string) => {
      const t = r.tensors.get(k);
      if (!t) throw new Error(`it lacks "${k}"`);
      return t.data;
    };
    const hs = g("head_size");
    buffer.restore({
      ...shape,
      head: hs[0],
      size: hs[1],
      obs: g("obs") as Float32Array,
      actions: g("actions") as Float32Array,
      episodeIds: g("episode_ids") as Int32Array,
    });
    return { restored: true, path };
  } catch (e) {
    return { restored: false, reason: `${path} cannot be used: ${(e as Error).message}` };
  }
}

export async function train(config: TrainConfig, options: TrainOptions): Promise<TrainResult> {
  const log = options.log ?? (() => {});
  const spec = getEnvSpec(config.env);
  const evalId = primaryEvalId(config.env);
  const farId = config.farGoalEval ? farGoalEvalId(config.env) : undefined;
  const N = config.numEnvs;
  const { obsDim, actionDim, stateDim } = spec;
  const agent = makeAgent(config, Math.max(N, config.numEvalEnvs), options.log);
  const [, kEnv, kEval, kLoop] = split(keyFromSeed(config.seed), 4);
  let loopRng = new Rng(kLoop);
  const buffer = new ReplayBuffer({ numEnvs: N, obsDim, actionDim, capacity: config.maxReplaySize, minFill: config.minReplaySize });
  const sampler = new HindsightSampler(buffer, {
    stateDim,
    goalIndices: spec.goalIndices,
    actionDim,
    goalDim: spec.goalDim,
    batchSize: config.batchSize,
    windowLength: config.windowLength,
    gamma: config.discounting,
    maxBatches: config.sgdBatchesPerStep,
  });
  const st: LoopState = { envSteps: 0, trainingSteps: 0, evalIndex: 0, resumes: 0 };
  const evals: EvalRecord[] = [];
  let lastCheckpoint: string | null = null;
  /** The training envs' state to continue from (resume), or why it cannot be. */
  let savedEnv: VecEnvState | string | null = null;

  if (options.resumeFrom) {
    const { metadata: meta, tensors } = readAgentCheckpoint(options.resumeFrom, agent);
    savedEnv = envStateFrom(tensors, meta);
    const loop = JSON.parse(meta.loop ?? "null") as (LoopState & { rng: ReturnType<Rng["state"]> }) | null;
    if (!loop) throw new Error(`checkpoint ${options.resumeFrom} has no training-loop state; it cannot be resumed`);
    st.envSteps = loop.envSteps;
    st.trainingSteps = loop.trainingSteps;
    st.evalIndex = loop.evalIndex;
    st.resumes = loop.resumes + 1;
    loopRng = Rng.fromState(loop.rng);
    // Rows logged after the checkpoint (the run was killed before its next one) are logged again
    // from here: drop them, so every step appears once and TensorBoard's step never goes back.
    const cut = options.logger?.truncateAfter({ step: loop.trainingSteps, envsteps: loop.envSteps });
    if (cut && (cut.jsonlRows > 0 || cut.csvRows > 0 || cut.tensorboardRecords > 0)) {
      log(
        `dropped ${cut.jsonlRows} metric rows logged after the checkpoint (training step ${loop.trainingSteps}, ${loop.envSteps} env steps)` +
          ` from metrics.jsonl${cut.csvRows !== cut.jsonlRows ? ` (${cut.csvRows} from metrics.csv)` : " and metrics.csv"}` +
          ` and ${cut.tensorboardRecords} TensorBoard scalars; they are logged again as training goes on`,
      );
    }
    const replay = restoreReplay(options.resumeFrom, meta.replay, buffer, { numEnvs: N, capacity: config.maxReplaySize, obsDim, actionDim });
    if (replay.restored) log(`resumed from ${options.resumeFrom}; replay buffer restored from ${replay.path} (${buffer.size} rows per env)`);
    else {
      const refill = config.prefillPolicy === "actor" ? "the loaded actor" : "uniform random actions";
      log(
        `resumed from ${options.resumeFrom}; replay buffer NOT restored (${replay.reason}): ` +
          `refilling it with ${refill} (${config.minReplaySize} steps per env) before training goes on`,
      );
    }
    lastCheckpoint = options.resumeFrom;
  }

  // Env seeds: a fresh stream per (run, resume) so a resumed run that cannot restore its envs'
  // state (see below) does not replay old episodes.
  const envSeed = seedFromKey(foldIn(kEnv, st.resumes));
  const env: VecEnv = await makeVecEnv(config.env, {
    numEnvs: N,
    threads: config.threads,
    episodeLength: config.episodeLength,
    frameSkip: config.frameSkip,
    referenceResetBug: config.referenceResetBug,
  });
  let evalEnv: VecEnv | null = null;
  let farEnv: VecEnv | null = null;
  try {
    const evalOptions = { numEnvs: config.numEvalEnvs, threads: config.threads, episodeLength: config.episodeLength, frameSkip: config.frameSkip };
    evalEnv = await makeVecEnv(evalId, evalOptions);
    if (farId) farEnv = await makeVecEnv(farId, evalOptions);
    // A resumed run continues every env's episode exactly where the checkpoint left it (physics,
    // goal, step count, random stream), so it goes on as the uninterrupted run would have.
    let first: Float32Array | null = null;
    const episodeId = new Int32Array(N); // [N] episode of each row of `obs`
    if (savedEnv !== null) {
      let why = typeof savedEnv === "string" ? savedEnv : null;
      if (typeof savedEnv !== "string") {
        if (!env.setState) why = `${config.env} cannot restore env state`;
        else {
          try {
            first = await env.setState(savedEnv);
            episodeId.set(savedEnv.episodeId);
          } catch (e) {
            why = (e as Error).message;
          }
        }
      }
      if (first !== null) log("env state restored: every env continues its episode where the checkpoint left it");
      else log(`env state NOT restored (${why}): the envs start new episodes`);
    }
    const obs = Float32Array.from(first ?? (await env.reset(envSeed))); // [N, obsDim]
    const actions = new Float32Array(N * actionDim); // [N, A]

    const stepEnvs = async () => {
      buffer.insert(obs, actions, episodeId);
      const r = await env.step(actions);
      obs.set(r.obs);
      episodeId.set(r.episodeId);
      st.envSteps += N;
    };

    // Prefill (SPEC §4: minimum rows before training): with the initialised stochastic actor as
    // the reference does (prefill_replay_buffer → actor_step), or uniform random actions.
    if (!buffer.ready) {
      const t0 = performance.now();
      while (!buffer.ready) {
        if (config.prefillPolicy === "actor") agent.act(obs, N, actions, false, loopRng);
        else for (let i = 0; i < actions.length; i++) actions[i] = 2 * loopRng.uniform() - 1;
        await stepEnvs();
      }
      log(`prefilled the replay buffer: ${buffer.size} rows per env (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    }

    const envStepsPerEval = config.totalEnvSteps / config.numEvals;
    const sums = new Float64Array(METRIC_NAMES.length);
    let status: TrainResult["status"] = "done";
    let error: string | undefined;

    // A checkpoint: the agent (networks, optimizers, updates) with the loop state in its metadata,
    // and the replay buffer in <name>.replay.safetensors next to it. Only the newest replay file is
    // kept (they are large); periodic checkpoints beyond keepCheckpoints are deleted. A failed
    // write (e.g. a full disk) leaves the previous checkpoint, its replay file and latest.json as
    // they were, and stops the run with an error naming the file.
    const saveCheckpoint = async (tag: string): Promise<string | null> => {
      if (!options.runDir) return null;
      const dir = options.runDir.checkpointsDir;
      const base = `${tag}_${String(st.envSteps).padStart(10, "0")}`;
      // A save at an env step that already has checkpoints gets the next suffix after the highest
      // one in use (step_…, step_…-2, -3, …): never a name that retention freed, which would make
      // the newest checkpoint look like the oldest.
      let highest = 0;
      for (const f of readdirSync(dir)) {
        if (!f.startsWith(base)) continue;
        const m = /^(?:-(\d+))?(?:\.replay)?\.safetensors$/.exec(f.slice(base.length));
        if (m) highest = Math.max(highest, m[1] === undefined ? 1 : Number(m[1]));
      }
      const name = highest === 0 ? `${base}.safetensors` : `${base}-${highest + 1}.safetensors`;
      const replayName = replayFileName(name);
      const meta: Record<string, string> = {
        format: CHECKPOINT_FORMAT,
        agent: "crl",
        config: JSON.stringify(config),
        loop: JSON.stringify({ ...st, rng: loopRng.state() }),
        replay: replayName,
      };
      const path = join(dir, name);
      const agentTensors = agent.stateTensors();
      const envState = env.getState ? await env.getState() : null;
      if (envState) envStateTensors(envState, agentTensors, meta);
      const written: string[] = [];
      try {
        const rs = buffer.state();
        const t = new Map<string, Tensor>([
          ["obs", { dtype: "F32", shape: [rs.numEnvs, rs.capacity, rs.obsDim], data: rs.obs }],
          ["actions", { dtype: "F32", shape: [rs.numEnvs, rs.capacity, rs.actionDim], data: rs.actions }],
          ["episode_ids", { dtype: "I32", shape: [rs.numEnvs, rs.capacity], data: rs.episodeIds }],
          ["head_size", { dtype: "I32", shape: [2], data: Int32Array.from([rs.head, rs.size]) }],
        ]);
        writeSafetensorsFile(join(dir, replayName), t, { format: REPLAY_FORMAT });
        written.push(join(dir, replayName));
        writeSafetensorsFile(path, agentTensors, meta);
        written.push(path);
        writeJsonAtomic(join(dir, "latest.json"), { checkpoint: name, envsteps: st.envSteps, step: st.trainingSteps });
      } catch (e) {
        for (const f of written) {
          try {
            unlinkSync(f);
          } catch {
            // already gone
          }
        }
        const prev = lastCheckpoint ? `the last checkpoint, ${lastCheckpoint}, is intact` : "no earlier checkpoint exists";
        throw new Error(
          `checkpoint at ${st.envSteps} env steps not saved: ${(e as Error).message}. Training stopped; ${prev}` +
            (lastCheckpoint && options.runDir ? ` (resume with: fathom train --resume ${options.runDir.path})` : ""),
          { cause: e },
        );
      }
      lastCheckpoint = path;
      const files = readdirSync(dir);
      if (tag === "step") {
        // Retention: keep the newest `keepCheckpoints` periodic checkpoints of this run.
        // Oldest first by env step, then by the -k suffix a later save at the same step gets
        // (a plain string sort would put "step_…-2" before "step_…" and delete the newer one).
        const order = (f: string): [number, number] => {
          const m = /^step_(\d{10})(?:-(\d+))?\.safetensors$/.exec(f)!;
          return [Number(m[1]), m[2] === undefined ? 1 : Number(m[2])];
        };
        const periodic = files
          .filter((f) => /^step_\d{10}(-\d+)?\.safetensors$/.test(f))
          .sort((a, b) => {
            const [sa, ka] = order(a);
            const [sb, kb] = order(b);
            return sa - sb || ka - kb;
          });
        for (const f of periodic.slice(0, Math.max(0, periodic.length - config.keepCheckpoints))) removeQuietly(join(dir, f));
      }
      // Only the newest replay buffer is kept.
      for (const f of files) if (f.endsWith(REPLAY_SUFFIX) && f !== replayName) removeQuietly(join(dir, f));
      return path;
    };

    outer: while (st.evalIndex < config.numEvals) {
      const evalAt = Math.round((st.evalIndex + 1) * envStepsPerEval);
      while (st.envSteps < evalAt) {
        if (options.signal?.aborted) {
          status = "interrupted";
          break outer;
        }
        const t0 = performance.now();
        for (let u = 0; u < config.unrollLength; u++) {
          agent.act(obs, N, actions, false, loopRng);
          await stepEnvs();
        }
        st.trainingSteps++;
        // Let the event loop run once per training step (Ctrl-C handlers, progress output): env
        // steps wait synchronously on their workers and never yield by themselves.
        await new Promise((r) => setImmediate(r));
        sums.fill(0);
        let n = 0;
        let last: CRLMetrics | null = null;
        if (buffer.ready) {
          const batches = sampler.sample(loopRng);
          for (let b = 0; b < batches; b++) {
            if (options.signal?.aborted) break;
            const batch = sampler.batch(b);
            try {
              last = agent.update(batch.state, batch.action, batch.goal);
            } catch (e) {
              if (!(e instanceof NonFiniteError)) throw e;
              status = "nonfinite";
              error =
                `training stopped at training step ${st.trainingSteps} (env step ${st.envSteps}, gradient step ${agent.updates + 1}): ` +
                `${e.message}. Parameters were not updated with it. ` +
                (lastCheckpoint ? `The last good checkpoint is ${lastCheckpoint}.` : "No checkpoint was saved before it.") +
                " Deep actors can diverge (the paper saw the actor loss explode at 1024 layers): try a lower --lr or a shallower --actor-depth.";
              break outer;
            }
            for (let k = 0; k < METRIC_NAMES.length; k++) sums[k] += last[METRIC_NAMES[k]];
            n++;
          }
        }
        const secs = (performance.now() - t0) / 1000;
        const sps = (N * config.unrollLength) / secs;
        const rec: Record<string, number> = { step: st.trainingSteps, envsteps: st.envSteps };
        if (n > 0) for (let k = 0; k < METRIC_NAMES.length; k++) rec[`training/${METRIC_NAMES[k]}`] = sums[k] / n;
        rec["training/sps"] = sps;
        rec["training/updates_per_s"] = n / secs;
        rec["training/envsteps"] = st.envSteps;
        rec["training/buffer_size"] = buffer.size * N;
        options.logger?.log(rec);
        options.onTrainingStep?.({
          envSteps: st.envSteps,
          totalEnvSteps: config.totalEnvSteps,
          trainingSteps: st.trainingSteps,
          updates: agent.updates,
          sps,
          metrics: last,
        });
      }
      st.evalIndex++;
      const evalSeed = seedFromKey(foldIn(kEval, st.evalIndex));
      const ev = await evaluate(agent, evalEnv, { seed: evalSeed });
      const record: EvalRecord = { ...ev.metrics, envsteps: st.envSteps, step: st.trainingSteps };
      if (farEnv) {
        // The far goals only (the `_eval` layout), as an extra metric: eval_far/….
        const far = await evaluate(agent, farEnv, { seed: evalSeed });
        for (const [k, v] of Object.entries(far.metrics)) record[`eval_far/${k.replace(/^eval\//, "")}`] = v;
      }
      evals.push(record);
      options.logger?.log({ ...record });
      options.onEval?.(record);
      log(
        `eval ${st.evalIndex}/${config.numEvals} at ${st.envSteps} env steps: time at goal ${record["eval/episode_success"].toFixed(1)}, ` +
          `success any ${record["eval/episode_success_any"].toFixed(2)}, mean dist ${record["eval/mean_dist"].toFixed(2)}` +
          (farEnv ? `; far goals: time at goal ${record["eval_far/episode_success"].toFixed(1)}` : ""),
      );
      if (st.evalIndex % config.checkpointEvery === 0 || st.evalIndex === config.numEvals) await saveCheckpoint("step");
    }
    if (status === "interrupted") {
      const p = await saveCheckpoint("interrupt");
      if (p) log(`interrupted: saved ${p} (resume with: fathom train --resume ${options.runDir?.path})`);
    }
    return { status, envSteps: st.envSteps, trainingSteps: st.trainingSteps, updates: agent.updates, evals, lastCheckpoint, error, agent };
  } finally {
    await env.close();
    if (evalEnv) await evalEnv.close();
    if (farEnv) await farEnv.close();
  }
}

/** File names of agent checkpoints: `step_<env steps>[-k].safetensors`, `interrupt_…` (not replay files). */
const CHECKPOINT_NAME = /^(step|interrupt)_(\d{10})(-(\d+))?\.safetensors$/;

/** Agent checkpoints in `checkpointsDir`, newest first (by env steps in the name, then modification time). */
export function listCheckpoints(checkpointsDir: string): { name: string; path: string; envSteps: number }[] {
  let names: string[];
  try {
    names = readdirSync(checkpointsDir);
  } catch {
    return [];
  }
  const out: { name: string; path: string; envSteps: number; mtime: number }[] = [];
  for (const name of names) {
    const m = CHECKPOINT_NAME.exec(name);
    if (!m) continue;
    const path = join(checkpointsDir, name);
    let mtime = 0;
    try {
      mtime = statSync(path).mtimeMs;
    } catch {
      continue;
    }
    out.push({ name, path, envSteps: Number(m[2]), mtime });
  }
  out.sort((a, b) => b.envSteps - a.envSteps || b.mtime - a.mtime || (a.name < b.name ? 1 : -1));
  return out.map(({ name, path, envSteps }) => ({ name, path, envSteps }));
}

/**
 * The checkpoint `latest.json` of a run directory points to. When latest.json is missing, damaged
 * or names a file that is gone, the newest readable agent checkpoint in the folder (by the env-step
 * number in its name) is used instead, and `warn` says so.
 */
export function latestCheckpoint(checkpointsDir: string, warn: (line: string) => void = (l) => console.error(`warning: ${l}`)): string {
  const p = join(checkpointsDir, "latest.json");
  let problem: string;
  if (!existsSync(p)) problem = `${p} is missing`;
  else {
    let j: { checkpoint?: unknown } | null = null;
    try {
      j = JSON.parse(readFileSync(p, "utf8"));
    } catch (e) {
      j = null;
      problem = `${p} is damaged (${(e as Error).message})`;
    }
    if (j !== null) {
      const name = typeof j === "object" ? j.checkpoint : undefined;
      if (typeof name !== "string" || name === "" || /[\\/]/.test(name)) problem = `${p} is damaged: it names no checkpoint`;
      else if (!existsSync(join(checkpointsDir, name))) problem = `${p} names ${name}, which does not exist`;
      else return join(checkpointsDir, name);
    }
  }
  const unreadable: string[] = [];
  for (const c of listCheckpoints(checkpointsDir)) {
    try {
      const h = readSafetensorsHeader(c.path);
      if (h.metadata.format !== CHECKPOINT_FORMAT || !h.metadata.loop) throw new Error("not a training checkpoint");
    } catch {
      unreadable.push(c.name);
      continue;
    }
    warn(
      `${problem!}; using the newest readable checkpoint instead: ${c.name} (${c.envSteps} env steps)` +
        (unreadable.length ? `, skipping unreadable ${unreadable.join(", ")}` : ""),
    );
    return c.path;
  }
  if (!existsSync(p) && unreadable.length === 0) {
    throw new Error(`no checkpoint in ${checkpointsDir} (no latest.json): the run saved none before it stopped`);
  }
  throw new Error(
    `${problem!}, and ${checkpointsDir} holds no readable checkpoint${unreadable.length ? ` (unreadable: ${unreadable.join(", ")})` : ""}: ` +
      "the run cannot be continued; start a new run",
  );
}

/** Where the run of checkpoint `path` stands (its training-loop state), read from its header only. */
export function checkpointPosition(path: string): { envSteps: number; trainingSteps: number; evalIndex: number } {
  const meta = readSafetensorsHeader(path).metadata;
  if (meta.format !== CHECKPOINT_FORMAT) throw new Error(`${path} is not a Fathom agent checkpoint (format ${JSON.stringify(meta.format)})`);
  const loop = JSON.parse(meta.loop ?? "null") as Partial<LoopState> | null;
  if (!loop || typeof loop.envSteps !== "number" || typeof loop.evalIndex !== "number" || typeof loop.trainingSteps !== "number") {
    throw new Error(`checkpoint ${path} has no training-loop state; it cannot be resumed`);
  }
  return { envSteps: loop.envSteps, trainingSteps: loop.trainingSteps, evalIndex: loop.evalIndex };
}

/**
 * The training configuration in a run's config.json; a missing, damaged or invalid file is an
 * error that names it and says what to do.
 */
export function readRunConfig(configPath: string): TrainConfig {
  const fix =
    "every checkpoint of the run also stores its configuration (safetensors metadata \"config\"): " +
    `restore ${configPath} as {"config": <that JSON>} from a backup or a checkpoint, or start a new run`;
  let saved: { config?: unknown };
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
  return parsed.data;
}
