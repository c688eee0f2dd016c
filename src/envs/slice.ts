// The per-thread loop of a VecEnv: steps one EnvCore's contiguous slice of the envs against the
// VecEnv's (shared) buffers, and does the bookkeeping every task shares: action clipping,
// same-step auto-reset, truncation at episodeLength, success and dist, episode ids, and the
// per-episode random streams. Pure TS (no Node imports): it runs in a worker thread, on the
// calling thread (threads = 0), and could run in a browser worker.
import { type Key, Rng, foldIn } from "../random.js";
import type { EnvCore } from "./core.js";
import type { EnvSpec, StepResult, VecEnv } from "./types.js";

/** The VecEnv's full-size buffers (every env, not just this slice). */
export interface VecBuffers {
  obs: Float32Array; // [N, obsDim]
  finalObs: Float32Array; // [N, obsDim]
  actions: Float32Array; // [N, actionDim]
  terminated: Uint8Array; // [N]
  truncated: Uint8Array; // [N]
  success: Uint8Array; // [N]
  dist: Float32Array; // [N]
  episodeId: Int32Array; // [N]
}

/** Bytes of the one buffer that holds all of a VecEnv's arrays (see vecBufferViews). */
export function vecBufferBytes(spec: EnvSpec, numEnvs: number): number {
  return vecBufferLayout(spec, numEnvs).total;
}

function vecBufferLayout(spec: EnvSpec, n: number) {
  // 4-byte arrays first, then the byte arrays, so every view is aligned.
  const obs = 0;
  const finalObs = obs + 4 * n * spec.obsDim;
  const actions = finalObs + 4 * n * spec.obsDim;
  const dist = actions + 4 * n * spec.actionDim;
  const episodeId = dist + 4 * n;
  const terminated = episodeId + 4 * n;
  const truncated = terminated + n;
  const success = truncated + n;
  const total = success + n;
  return { obs, finalObs, actions, dist, episodeId, terminated, truncated, success, total };
}

/** Typed views over one buffer (a SharedArrayBuffer across threads) of vecBufferBytes bytes. */
export function vecBufferViews(spec: EnvSpec, numEnvs: number, buffer: ArrayBufferLike): VecBuffers {
  const n = numEnvs;
  const l = vecBufferLayout(spec, n);
  if (buffer.byteLength < l.total) {
    throw new Error(`VecEnv buffer has ${buffer.byteLength} bytes, needs ${l.total} for ${n} envs of ${spec.id}`);
  }
  return {
    obs: new Float32Array(buffer, l.obs, n * spec.obsDim),
    finalObs: new Float32Array(buffer, l.finalObs, n * spec.obsDim),
    actions: new Float32Array(buffer, l.actions, n * spec.actionDim),
    dist: new Float32Array(buffer, l.dist, n),
    episodeId: new Int32Array(buffer, l.episodeId, n),
    terminated: new Uint8Array(buffer, l.terminated, n),
    truncated: new Uint8Array(buffer, l.truncated, n),
    success: new Uint8Array(buffer, l.success, n),
  };
}

/**
 * What every VecEnv over VecBuffers shares (the threaded one, envs/vec.ts; the viewer's recording
 * one, view/recording-env.ts): the spec's fields, the buffers' views, and the checks a step makes
 * before any env moves.
 */
export abstract class BufferedVecEnv implements VecEnv {
  readonly id: string;
  readonly description: string;
  readonly stateDim: number;
  readonly goalDim: number;
  readonly obsDim: number;
  readonly actionDim: number;
  readonly goalIndices: readonly number[];
  readonly episodeLength: number;
  readonly successThreshold: number;
  readonly evalId?: string;
  readonly frameSkip?: number;
  abstract readonly threads: number;
  readonly actionBuffer: Float32Array;
  protected readonly result: StepResult;
  /** reset (or setState) has run: step may be called. */
  protected isReset = false;
  protected closed = false;

  constructor(
    spec: EnvSpec,
    readonly numEnvs: number,
    protected readonly buffers: VecBuffers,
  ) {
    this.id = spec.id;
    this.description = spec.description;
    this.stateDim = spec.stateDim;
    this.goalDim = spec.goalDim;
    this.obsDim = spec.obsDim;
    this.actionDim = spec.actionDim;
    this.goalIndices = spec.goalIndices;
    this.episodeLength = spec.episodeLength;
    this.successThreshold = spec.successThreshold;
    if (spec.evalId !== undefined) this.evalId = spec.evalId;
    if (spec.frameSkip !== undefined) this.frameSkip = spec.frameSkip;
    this.actionBuffer = buffers.actions;
    const b = buffers;
    this.result = { obs: b.obs, finalObs: b.finalObs, terminated: b.terminated, truncated: b.truncated, success: b.success, dist: b.dist, episodeId: b.episodeId };
  }

  abstract reset(seed: number): Promise<Float32Array>;
  abstract step(actions: Float32Array): Promise<StepResult>;
  abstract close(): Promise<void>;

  protected checkOpen(): void {
    if (this.closed) throw new Error(`${this.id}: the VecEnv is closed`);
  }

  /**
   * step()'s checks, made before any env moves so that a bad call leaves every env as it was (a
   * reset first, one action per env and dimension, no NaN), then the actions copied into the
   * action buffer (unless they are it).
   */
  protected takeActions(actions: Float32Array): void {
    if (!this.isReset) throw new Error(`${this.id}: step called before reset; call reset(seed) first`);
    const a = this.buffers.actions;
    const given: unknown = actions;
    if (!(given instanceof Float32Array || given instanceof Float64Array || Array.isArray(given))) {
      const got = given === null || given === undefined ? String(given) : typeof given === "object" ? (given.constructor?.name ?? "an object") : `a ${typeof given}`;
      throw new TypeError(`${this.id}: step needs a Float32Array of ${this.numEnvs}×${this.actionDim} = ${a.length} actions in [-1, 1], got ${got}`);
    }
    if (actions.length !== a.length) {
      throw new Error(`${this.id}: step needs ${this.numEnvs}×${this.actionDim} = ${a.length} actions, got ${actions.length}`);
    }
    for (let k = 0; k < a.length; k++) {
      if (Number.isNaN(actions[k])) {
        const env = Math.floor(k / this.actionDim);
        throw new Error(`${this.id}: action ${k % this.actionDim} of env ${env} is NaN; actions must be numbers in [-1, 1] (values outside are clipped)`);
      }
    }
    if (actions !== a) a.set(actions);
  }
}

/** The random stream of global env g's episode e: foldIn(foldIn(seedKey, g), e). */
export function episodeKey(seedKey: Key, globalIndex: number, episode: number): Key {
  return foldIn(foldIn(seedKey, globalIndex), episode);
}

export class SliceRunner {
  private readonly obsDim: number;
  private readonly stateDim: number;
  private readonly actionDim: number;
  private readonly goalIdx: Int32Array; // [goalDim]
  private readonly episodeLength: number;
  private readonly threshold: number;
  private readonly obsRows: Float32Array[]; // count views of [obsDim] into buffers.obs
  private readonly finalRows: Float32Array[]; // count views of [obsDim] into buffers.finalObs
  private readonly action: Float32Array; // [actionDim] clipped action handed to the core
  private readonly elapsed: Int32Array; // [count] steps into the current episode
  private readonly rngs: Rng[]; // [count] the current episode's stream of each env
  private seedKey: Key | null = null;

  /**
   * @param core steps slice-local envs 0..count-1, which are global envs offset..offset+count-1.
   * @param referenceResetBug every reset reuses episode 0's stream, so each env restarts from its
   *   first start state and goal forever (JaxGCRL issue #53, SPEC §4). Off in normal use.
   */
  constructor(
    private readonly core: EnvCore,
    spec: EnvSpec,
    private readonly offset: number,
    private readonly buffers: VecBuffers,
    private readonly referenceResetBug = false,
  ) {
    const count = core.count;
    this.obsDim = spec.obsDim;
    this.stateDim = spec.stateDim;
    this.actionDim = spec.actionDim;
    this.goalIdx = Int32Array.from(spec.goalIndices);
    this.episodeLength = spec.episodeLength;
    this.threshold = spec.successThreshold;
    this.obsRows = [];
    this.finalRows = [];
    for (let i = 0; i < count; i++) {
      const a = (offset + i) * spec.obsDim;
      this.obsRows.push(buffers.obs.subarray(a, a + spec.obsDim));
      this.finalRows.push(buffers.finalObs.subarray(a, a + spec.obsDim));
    }
    this.action = new Float32Array(spec.actionDim);
    this.elapsed = new Int32Array(count);
    this.rngs = new Array<Rng>(count);
  }

  /** Starts episode 0 of every env in the slice under seedKey. */
  reset(seedKey: Key): void {
    this.seedKey = seedKey;
    const b = this.buffers;
    for (let i = 0; i < this.core.count; i++) {
      const g = this.offset + i;
      b.episodeId[g] = 0;
      b.terminated[g] = 0;
      b.truncated[g] = 0;
      this.startEpisode(i, 0);
      const obs = this.obsRows[i];
      this.finalRows[i].set(obs);
      this.measure(g, obs);
    }
  }

  private startEpisode(i: number, episode: number): void {
    // Allocates a key and an Rng: once per episode, not per step.
    const key = episodeKey(this.seedKey!, this.offset + i, this.referenceResetBug ? 0 : episode);
    const rng = new Rng(key);
    this.rngs[i] = rng;
    this.elapsed[i] = 0;
    this.core.reset(i, rng, this.obsRows[i]);
  }

  /** Writes dist and success of global env g from its observation row. */
  private measure(g: number, row: Float32Array): void {
    const gi = this.goalIdx;
    const s = this.stateDim;
    let d2 = 0;
    for (let k = 0; k < gi.length; k++) {
      const d = row[gi[k]] - row[s + k];
      d2 += d * d;
    }
    const d = Math.sqrt(d2);
    this.buffers.dist[g] = d;
    this.buffers.success[g] = d < this.threshold ? 1 : 0;
  }

  /** One control step of every env in the slice with buffers.actions (NaN-free: checked by the VecEnv). */
  step(): void {
    if (this.seedKey === null) throw new Error("VecEnv.step called before reset: call reset(seed) first");
    const b = this.buffers;
    const act = b.actions;
    const a = this.action;
    const ad = this.actionDim;
    const core = this.core;
    const len = this.episodeLength;
    for (let i = 0; i < core.count; i++) {
      const g = this.offset + i;
      const base = g * ad;
      for (let k = 0; k < ad; k++) {
        const v = act[base + k];
        a[k] = v > 1 ? 1 : v < -1 ? -1 : v;
      }
      const fin = this.finalRows[i];
      const term = core.step(i, a, this.rngs[i], fin);
      const steps = ++this.elapsed[i];
      this.measure(g, fin);
      // Brax's EpisodeWrapper convention: a step that terminates is not also a truncation.
      const trunc = !term && steps >= len;
      b.terminated[g] = term ? 1 : 0;
      b.truncated[g] = trunc ? 1 : 0;
      if (term || trunc) {
        const e = b.episodeId[g] + 1;
        b.episodeId[g] = e;
        this.startEpisode(i, e);
      } else {
        // A plain loop: TypedArray.set costs more than the copy itself for rows this short.
        const o = this.obsRows[i];
        for (let k = 0; k < fin.length; k++) o[k] = fin[k];
      }
    }
  }

  /**
   * Values per env in getState's rows: steps into the episode, the episode's random stream (6),
   * the observation row (obsDim), then the core's state; null when the core cannot save state.
   */
  get stateStride(): number | null {
    const n = this.core.stateSize;
    if (n === undefined || !this.core.getEnvState || !this.core.setEnvState) return null;
    return RUNNER_STATE_FIELDS + this.obsDim + n;
  }

  /** Writes the slice's envs' states into out [count, stateStride] (episode ids live in the shared buffer). */
  getState(out: Float64Array): void {
    const stride = this.requireStride();
    if (this.seedKey === null) throw new Error("VecEnv.getState called before reset: there is no state yet");
    for (let i = 0; i < this.core.count; i++) {
      const row = out.subarray(i * stride, (i + 1) * stride);
      const r = this.rngs[i].state();
      row[0] = this.elapsed[i];
      row[1] = r.key[0];
      row[2] = r.key[1];
      row[3] = r.counter;
      row[4] = r.spare;
      row[5] = r.spareWord;
      row[6] = r.normalSpare;
      const o = this.obsRows[i];
      for (let k = 0; k < this.obsDim; k++) row[RUNNER_STATE_FIELDS + k] = o[k];
      this.core.getEnvState!(i, row.subarray(RUNNER_STATE_FIELDS + this.obsDim));
    }
  }

  /**
   * Restores the slice's envs from rows written by getState under `seedKey` (episode ids must be
   * restored in the shared buffer by the caller). The observation rows are restored as saved.
   */
  setState(seedKey: Key, src: Float64Array): void {
    const stride = this.requireStride();
    if (src.length !== this.core.count * stride) throw new Error(`VecEnv.setState: ${src.length} values for ${this.core.count} envs × ${stride}`);
    this.seedKey = seedKey;
    const b = this.buffers;
    for (let i = 0; i < this.core.count; i++) {
      const row = src.subarray(i * stride, (i + 1) * stride);
      this.elapsed[i] = row[0];
      this.rngs[i] = Rng.fromState({ key: [row[1], row[2]], counter: row[3], spare: row[4], spareWord: row[5], normalSpare: row[6] });
      this.core.setEnvState!(i, row.subarray(RUNNER_STATE_FIELDS + this.obsDim));
      const o = this.obsRows[i];
      for (let k = 0; k < this.obsDim; k++) o[k] = row[RUNNER_STATE_FIELDS + k];
      const g = this.offset + i;
      this.finalRows[i].set(o);
      b.terminated[g] = 0;
      b.truncated[g] = 0;
      this.measure(g, o);
    }
  }

  private requireStride(): number {
    const s = this.stateStride;
    if (s === null) throw new Error(`${this.core.spec.id}: its env core cannot save or restore env state`);
    return s;
  }

  dispose(): void {
    this.core.dispose();
  }
}

/** Values of the runner's own per-env state before the observation in a state row. */
export const RUNNER_STATE_FIELDS = 7;
