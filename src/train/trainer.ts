// The training loop of the paper (SPEC §4–5): prefill with the initial actor, then per training
// step collect `unrollLength` steps from every env, sample the agent's batches (hindsight tuples
// for CRL) and run up to `sgdBatchesPerStep` updates; evaluate every epoch with the deterministic
// actor; checkpoint. The agent (`--agent`, agents/registry.ts) is behind the Agent interface
// (agents/agent.ts): the loop never looks inside its batches or networks. An offline run
// (`offline`: a dataset from `fathom collect`, train/dataset.ts) has no training envs: the dataset
// is its replay buffer, each training step only samples and updates, and `offlineSteps` training
// steps are spread over the evaluations.
//
// train() reads as that loop (TrainingRun.run); each part is one method of TrainingRun: open
// (agent, replay, sampler, envs; restore from a checkpoint), prefill, collect, trainStep, evaluate,
// save. The checkpoint files and their formats live in ./checkpoint.ts.
import { type Agent, type BatchSource, NonFiniteError } from "../agents/agent.js";
import { agentDefinition } from "../agents/registry.js";
import { getBackend, resolvePrecision } from "../engine/index.js";
import { type ExtraEval, extraEvals, getEnvSpec, makeVecEnv, primaryEvalId } from "../envs/registry.js";
import type { EnvSpec, VecEnv, VecEnvState } from "../envs/types.js";
import { foldIn, type Key, keyFromSeed, Rng, split } from "../random.js";
import { ReplayBuffer } from "../replay/buffer.js";
import { type LoopState, readTrainingCheckpoint, restoreReplay, writeTrainingCheckpoint } from "./checkpoint.js";
import { loadDataset } from "./dataset.js";
import type { TrainConfig } from "./config.js";
import { type EvalMetrics, evaluate } from "./evaluate.js";
import type { MetricsLogger } from "./logger.js";
import type { RunDir } from "./rundir.js";

export { checkpointPosition, latestCheckpoint, listCheckpoints } from "./checkpoint.js";
export { readRunConfig } from "./run.js";

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
  /** The last update's metrics (by the agent's metric names), null when the step had none. */
  metrics: Record<string, number> | null;
}

/**
 * One evaluation: the primary env's metrics (eval/…), the far goals' (eval_far/…) or the training
 * env's own goals' (eval_all/…) when evaluated (see extraEvals).
 */
export type EvalRecord = EvalMetrics & { envsteps: number; step: number } & { [far: `eval_far/${string}`]: number } & {
  [all: `eval_all/${string}`]: number;
};

export interface TrainResult {
  status: "done" | "interrupted" | "nonfinite";
  envSteps: number;
  trainingSteps: number;
  updates: number;
  evals: EvalRecord[];
  lastCheckpoint: string | null;
  /** Set when status is "nonfinite". */
  error?: string;
  agent: Agent;
}

function seedFromKey(k: Key): number {
  return k[0] & 0x7fffffff;
}

/**
 * Builds the agent a config describes (also used by `fathom eval`), its config derived from the
 * training config by the agent's schema (agents/registry.ts). A precision the backend cannot run
 * (bf16 without AVX512_BF16) falls back to fp32 with one line to `log` saying why.
 */
export function makeAgent(config: TrainConfig, actBatch: number, log: (line: string) => void = (l) => console.error(`warning: ${l}`)): Agent {
  const spec = getEnvSpec(config.env);
  const [kAgent] = split(keyFromSeed(config.seed), 4);
  const backend = getBackend(config.backend);
  const { precision, note } = resolvePrecision(backend, config.precision);
  if (note !== null) log(note);
  const dims = { stateDim: spec.stateDim, goalDim: spec.goalDim, actionDim: spec.actionDim };
  return agentDefinition(config.agent).create(backend, dims, { ...config, precision }, kAgent, actBatch);
}

/** Loads an agent checkpoint into `agent` (refusing another algorithm's); returns the checkpoint's metadata. */
export function loadAgentCheckpoint(path: string, agent: Agent): Record<string, string> {
  const c = readTrainingCheckpoint(path);
  checkCheckpointAgent(path, c.metadata, agent);
  agent.loadStateTensors(c.tensors, `checkpoint ${path}`);
  return c.metadata;
}

/** A checkpoint saved by another algorithm cannot be loaded: say which. */
function checkCheckpointAgent(path: string, metadata: Record<string, string>, agent: Agent): void {
  const saved = metadata.agent ?? "crl";
  if (saved !== agent.name) throw new Error(`checkpoint ${path} holds a ${saved} agent, not ${agent.name}: load it into a run of --agent ${saved}`);
}

/** Trains an agent as `config` says, in `options.runDir` (or nowhere); see the file header. */
export async function train(config: TrainConfig, options: TrainOptions): Promise<TrainResult> {
  const run = await TrainingRun.open(config, options);
  try {
    return await run.run();
  } finally {
    await run.close();
  }
}

/** Why the loop stopped early, if it did. */
type Stop = { status: "interrupted" } | { status: "nonfinite"; error: string } | null;

/** One training run: its agent, replay buffer, envs and loop state. */
class TrainingRun {
  private readonly log: (line: string) => void;
  private readonly spec: EnvSpec;
  private readonly agent: Agent;
  private readonly buffer: ReplayBuffer;
  private readonly sampler: BatchSource<unknown>;
  private readonly kEval: Key;
  private loopRng: Rng;
  private readonly st: LoopState = { envSteps: 0, trainingSteps: 0, evalIndex: 0, resumes: 0 };
  private readonly evals: EvalRecord[] = [];
  private lastCheckpoint: string | null = null;
  private env: VecEnv | null = null;
  private evalEnv: VecEnv | null = null;
  private extraEnvs: { extra: ExtraEval; env: VecEnv }[] = [];
  /** [N, obsDim] the envs' current observations; [N, A] the actions to apply; [N] their episodes. */
  private obs = new Float32Array(0);
  private readonly actions: Float32Array;
  private readonly episodeId: Int32Array;
  /** One update's metrics and their sums over a training step's updates, [metricNames.length]. */
  private readonly metrics: Float64Array;
  private readonly sums: Float64Array;

  private constructor(
    private readonly config: TrainConfig,
    private readonly options: TrainOptions,
  ) {
    this.log = options.log ?? (() => {});
    this.spec = getEnvSpec(config.env);
    const N = config.numEnvs;
    const { obsDim, actionDim, stateDim } = this.spec;
    this.agent = makeAgent(config, Math.max(N, config.numEvalEnvs), options.log);
    const how = this.agent.describe?.();
    if (how) this.log(how);
    const [, , kEval, kLoop] = split(keyFromSeed(config.seed), 4);
    this.kEval = kEval;
    this.loopRng = new Rng(kLoop);
    if (config.offline !== undefined) {
      const { buffer, info } = loadDataset(config.offline, config.env);
      if (info.numEnvs !== N || info.stepsPerEnv !== config.maxReplaySize) {
        throw new Error(
          `the config of an offline run must take numEnvs and maxReplaySize from its dataset (${info.numEnvs} envs × ${info.stepsPerEnv} rows), ` +
            `not ${N} × ${config.maxReplaySize}: pass the config through offlineConfig() (train/dataset.ts)`,
        );
      }
      this.buffer = buffer;
    } else {
      this.buffer = new ReplayBuffer({ numEnvs: N, obsDim, actionDim, capacity: config.maxReplaySize, minFill: config.minReplaySize });
    }
    this.sampler = this.agent.makeSampler(
      this.buffer,
      { stateDim, goalIndices: this.spec.goalIndices, successThreshold: this.spec.successThreshold },
      { windowLength: config.windowLength, maxBatches: config.sgdBatchesPerStep },
    );
    this.metrics = new Float64Array(this.agent.metricNames.length);
    this.sums = new Float64Array(this.agent.metricNames.length);
    this.actions = new Float32Array(N * actionDim);
    this.episodeId = new Int32Array(N);
  }

  /** Builds the run: agent, replay, sampler; restores a checkpoint if asked; starts the envs. */
  static async open(config: TrainConfig, options: TrainOptions): Promise<TrainingRun> {
    const run = new TrainingRun(config, options);
    const savedEnv = options.resumeFrom ? run.restore(options.resumeFrom) : null;
    try {
      await run.startEnvs(savedEnv);
    } catch (e) {
      await run.close();
      throw e;
    }
    return run;
  }

  /**
   * Loads checkpoint `path`: the agent, the loop state and rng, the replay buffer (or says why
   * not). Returns the training envs' saved state, or why there is none usable.
   */
  private restore(path: string): VecEnvState | string {
    const { config, st, buffer, log } = this;
    const c = readTrainingCheckpoint(path);
    checkCheckpointAgent(path, c.metadata, this.agent);
    this.agent.loadStateTensors(c.tensors, `checkpoint ${path}`);
    const loop = c.loop;
    st.envSteps = loop.envSteps;
    st.trainingSteps = loop.trainingSteps;
    st.evalIndex = loop.evalIndex;
    st.resumes = loop.resumes + 1;
    this.loopRng = Rng.fromState(loop.rng);
    // Rows logged after the checkpoint (the run was killed before its next one) are logged again
    // from here: drop them, so every step appears once and TensorBoard's step never goes back.
    const cut = this.options.logger?.truncateAfter({ step: loop.trainingSteps, envsteps: loop.envSteps });
    if (cut && (cut.jsonlRows > 0 || cut.csvRows > 0 || cut.tensorboardRecords > 0)) {
      log(
        `dropped ${cut.jsonlRows} metric rows logged after the checkpoint (training step ${loop.trainingSteps}, ${loop.envSteps} env steps)` +
          ` from metrics.jsonl${cut.csvRows !== cut.jsonlRows ? ` (${cut.csvRows} from metrics.csv)` : " and metrics.csv"}` +
          ` and ${cut.tensorboardRecords} TensorBoard scalars; they are logged again as training goes on`,
      );
    }
    if (config.offline !== undefined) {
      log(`resumed from ${path}; the replay buffer is the dataset ${config.offline}`);
      this.lastCheckpoint = path;
      return "an offline run has no training envs";
    }
    const { obsDim, actionDim } = this.spec;
    const replay = restoreReplay(path, c.replayName, buffer, { numEnvs: config.numEnvs, capacity: config.maxReplaySize, obsDim, actionDim });
    if (replay.restored) log(`resumed from ${path}; replay buffer restored from ${replay.path} (${buffer.size} rows per env)`);
    else {
      const refill = config.prefillPolicy === "actor" ? "the loaded actor" : "uniform random actions";
      log(
        `resumed from ${path}; replay buffer NOT restored (${replay.reason}): ` +
          `refilling it with ${refill} (${config.minReplaySize} steps per env) before training goes on`,
      );
    }
    this.lastCheckpoint = path;
    return c.envState;
  }

  /**
   * Builds the training and evaluation envs. A resumed run continues every env's episode exactly
   * where the checkpoint left it (physics, goal, step count, random stream), so it goes on as the
   * uninterrupted run would have; otherwise (or when that state cannot be restored) they reset.
   */
  private async startEnvs(savedEnv: VecEnvState | string | null): Promise<void> {
    const { config, log } = this;
    if (config.offline !== undefined) {
      await this.startEvalEnvs();
      return;
    }
    // Env seeds: a fresh stream per (run, resume) so a resumed run that cannot restore its envs'
    // state does not replay old episodes.
    const [, kEnv] = split(keyFromSeed(config.seed), 4);
    const envSeed = seedFromKey(foldIn(kEnv, this.st.resumes));
    const env = await makeVecEnv(config.env, {
      numEnvs: config.numEnvs,
      threads: config.threads,
      episodeLength: config.episodeLength,
      frameSkip: config.frameSkip,
      referenceResetBug: config.referenceResetBug,
    });
    this.env = env;
    this.log(`training envs: ${env.numEnvs} ${env.threads === 0 ? "stepped on the main thread" : `on ${env.threads} worker thread${env.threads === 1 ? "" : "s"}`}`);
    await this.startEvalEnvs();
    let first: Float32Array | null = null;
    if (savedEnv !== null) {
      let why = typeof savedEnv === "string" ? savedEnv : null;
      if (typeof savedEnv !== "string") {
        if (!env.setState) why = `${config.env} cannot restore env state`;
        else {
          try {
            first = await env.setState(savedEnv);
            this.episodeId.set(savedEnv.episodeId);
          } catch (e) {
            why = (e as Error).message;
          }
        }
      }
      if (first !== null) log("env state restored: every env continues its episode where the checkpoint left it");
      else log(`env state NOT restored (${why}): the envs start new episodes`);
    }
    this.obs = Float32Array.from(first ?? (await env.reset(envSeed)));
  }

  /** The evaluation envs: the primary evaluation env, and the extra ones the config asks for (extraEvals). */
  private async startEvalEnvs(): Promise<void> {
    const { config } = this;
    const evalOptions = { numEnvs: config.numEvalEnvs, threads: config.threads, episodeLength: config.episodeLength, frameSkip: config.frameSkip };
    this.evalEnv = await makeVecEnv(primaryEvalId(config.env), evalOptions);
    for (const extra of extraEvals(config.env, { far: config.farGoalEval, all: config.allGoalEval })) {
      this.extraEnvs.push({ extra, env: await makeVecEnv(extra.id, evalOptions) });
    }
  }

  /**
   * The paper's loop: prefill, then train and evaluate until the budget's last evaluation, one
   * every totalEnvSteps / numEvals env steps. Offline: no prefill and no collection, an evaluation
   * every offlineSteps / numEvals training steps.
   */
  async run(): Promise<TrainResult> {
    const { config, st } = this;
    const offline = config.offline !== undefined;
    if (!offline) await this.prefill();
    const perEval = offline ? config.offlineSteps / config.numEvals : config.totalEnvSteps / config.numEvals;
    let stop: Stop = null;
    outer: while (st.evalIndex < config.numEvals) {
      const evalAt = Math.round((st.evalIndex + 1) * perEval);
      while ((offline ? st.trainingSteps : st.envSteps) < evalAt) {
        if (this.options.signal?.aborted) {
          stop = { status: "interrupted" };
          break outer;
        }
        const t0 = performance.now();
        if (!offline) await this.collect();
        st.trainingSteps++;
        // Let the event loop run once per training step (Ctrl-C handlers, progress output): env
        // steps wait synchronously on their workers and never yield by themselves.
        await new Promise((r) => setImmediate(r));
        stop = this.trainStep(t0);
        if (stop !== null) break outer;
      }
      st.evalIndex++;
      await this.evaluate();
      if (st.evalIndex % config.checkpointEvery === 0 || st.evalIndex === config.numEvals) await this.save("step");
    }
    if (stop?.status === "interrupted") {
      const p = await this.save("interrupt");
      if (p) this.log(`interrupted: saved ${p} (resume with: fathom train --resume ${this.options.runDir?.path})`);
    }
    return {
      status: stop?.status ?? "done",
      envSteps: st.envSteps,
      trainingSteps: st.trainingSteps,
      updates: this.agent.updates,
      evals: this.evals,
      lastCheckpoint: this.lastCheckpoint,
      error: stop?.status === "nonfinite" ? stop.error : undefined,
      agent: this.agent,
    };
  }

  /** One env step of every env with `actions`; the transition goes into the replay buffer first. */
  private async stepEnvs(): Promise<void> {
    this.buffer.insert(this.obs, this.actions, this.episodeId);
    const r = await this.env!.step(this.actions);
    this.obs.set(r.obs);
    this.episodeId.set(r.episodeId);
    this.st.envSteps += this.config.numEnvs;
  }

  /**
   * Prefill (SPEC §4: minimum rows before training): with the initialised stochastic actor as the
   * reference does (prefill_replay_buffer → actor_step), or uniform random actions.
   */
  private async prefill(): Promise<void> {
    const { config, buffer, actions } = this;
    if (buffer.ready) return;
    const t0 = performance.now();
    while (!buffer.ready) {
      if (config.prefillPolicy === "actor") this.agent.act(this.obs, config.numEnvs, actions, false, this.loopRng);
      else for (let i = 0; i < actions.length; i++) actions[i] = 2 * this.loopRng.uniform() - 1;
      await this.stepEnvs();
    }
    this.log(`prefilled the replay buffer: ${buffer.size} rows per env (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }

  /** Collects `unrollLength` steps from every env with the stochastic actor. */
  private async collect(): Promise<void> {
    for (let u = 0; u < this.config.unrollLength; u++) {
      this.agent.act(this.obs, this.config.numEnvs, this.actions, false, this.loopRng);
      await this.stepEnvs();
    }
  }

  /**
   * Samples the agent's batches and runs its updates of one training step; logs the step's mean
   * metrics (t0: when the step's collection began). A non-finite loss or gradient stops the run.
   */
  private trainStep(t0: number): Stop {
    const { config, st, agent } = this;
    const sums = this.sums;
    const metrics = this.metrics;
    const names = agent.metricNames;
    sums.fill(0);
    let n = 0;
    if (this.buffer.ready) {
      const batches = this.sampler.sample(this.loopRng);
      for (let b = 0; b < batches; b++) {
        if (this.options.signal?.aborted) break;
        try {
          agent.updateOn(this.sampler.batch(b), metrics);
        } catch (e) {
          if (!(e instanceof NonFiniteError)) throw e;
          const error =
            `training stopped at training step ${st.trainingSteps} (env step ${st.envSteps}, gradient step ${agent.updates + 1}): ` +
            `${e.message}. Parameters were not updated with it. ` +
            (this.lastCheckpoint ? `The last good checkpoint is ${this.lastCheckpoint}.` : "No checkpoint was saved before it.") +
            " Deep actors can diverge (the paper saw the actor loss explode at 1024 layers): try a lower --lr or a shallower --actor-depth.";
          return { status: "nonfinite", error };
        }
        for (let k = 0; k < names.length; k++) sums[k] += metrics[k];
        n++;
      }
    }
    const secs = (performance.now() - t0) / 1000;
    const sps = config.offline !== undefined ? 0 : (config.numEnvs * config.unrollLength) / secs; // env steps per second
    const rec: Record<string, number> = { step: st.trainingSteps, envsteps: st.envSteps };
    if (n > 0) for (let k = 0; k < names.length; k++) rec[`training/${names[k]}`] = sums[k] / n;
    if (config.offline === undefined) rec["training/sps"] = sps;
    rec["training/updates_per_s"] = n / secs;
    rec["training/envsteps"] = st.envSteps;
    rec["training/buffer_size"] = this.buffer.size * config.numEnvs;
    this.options.logger?.log(rec);
    this.options.onTrainingStep?.({
      envSteps: st.envSteps,
      totalEnvSteps: config.totalEnvSteps,
      trainingSteps: st.trainingSteps,
      updates: agent.updates,
      sps,
      metrics: n > 0 ? Object.fromEntries(names.map((name, k) => [name, metrics[k]])) : null,
    });
    return null;
  }

  /** Evaluates the deterministic actor (on the extra layouts too, as eval_far/… or eval_all/…, see extraEvals). */
  private async evaluate(): Promise<void> {
    const { config, st } = this;
    const evalSeed = seedFromKey(foldIn(this.kEval, st.evalIndex));
    const ev = await evaluate(this.agent, this.evalEnv!, { seed: evalSeed });
    const record: EvalRecord = { ...ev.metrics, envsteps: st.envSteps, step: st.trainingSteps };
    let extraLog = "";
    for (const { extra, env } of this.extraEnvs) {
      const m = (await evaluate(this.agent, env, { seed: evalSeed })).metrics;
      for (const [k, v] of Object.entries(m)) record[`${extra.prefix}/${k.replace(/^eval\//, "")}`] = v;
      extraLog += `; ${extra.label}: time at goal ${m["eval/episode_success"].toFixed(1)}`;
    }
    this.evals.push(record);
    this.options.logger?.log({ ...record });
    this.options.onEval?.(record);
    this.log(
      `eval ${st.evalIndex}/${config.numEvals} at ${st.envSteps} env steps: time at goal ${record["eval/episode_success"].toFixed(1)}, ` +
        `success any ${record["eval/episode_success_any"].toFixed(2)}, mean dist ${record["eval/mean_dist"].toFixed(2)}` +
        extraLog,
    );
  }

  /**
   * Saves a checkpoint (see ./checkpoint.ts) and returns its path (null without a run dir). A
   * failed write stops the run with an error naming the file; the previous checkpoint stays.
   */
  private async save(tag: "step" | "interrupt"): Promise<string | null> {
    const { options, st } = this;
    if (!options.runDir) return null;
    const envState = this.env?.getState ? await this.env.getState() : null;
    let path: string;
    try {
      path = writeTrainingCheckpoint(
        options.runDir.checkpointsDir,
        tag,
        {
          agentTensors: this.agent.stateTensors(),
          agent: this.agent.name,
          config: this.config,
          loop: { ...st, rng: this.loopRng.state() },
          replay: this.config.offline !== undefined ? null : this.buffer.state(), // offline: the dataset is the buffer
          envState,
        },
        this.config.keepCheckpoints,
      );
    } catch (e) {
      const prev = this.lastCheckpoint ? `the last checkpoint, ${this.lastCheckpoint}, is intact` : "no earlier checkpoint exists";
      throw new Error(
        `checkpoint at ${st.envSteps} env steps not saved: ${(e as Error).message}. Training stopped; ${prev}` +
          (this.lastCheckpoint && options.runDir ? ` (resume with: fathom train --resume ${options.runDir.path})` : ""),
        { cause: e },
      );
    }
    this.lastCheckpoint = path;
    return path;
  }

  async close(): Promise<void> {
    if (this.env) await this.env.close();
    if (this.evalEnv) await this.evalEnv.close();
    for (const { env } of this.extraEnvs) await env.close();
  }
}
