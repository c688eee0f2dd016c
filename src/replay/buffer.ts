// Replay buffer (SPEC §4, DESIGN §5): one ring per env holding the last `capacity` rows; a row is
// (observation = state ++ commanded goal, action, episode id). All envs insert in lockstep (one
// row each per env step), so a single head and size serve every ring and row t of env e lives at
// slot (oldest + t) % capacity in all three arrays.
//
// What to insert at each env step: the observation the action was taken in, that action, and the
// episode id of that observation (VecEnv's `episodeId` from the step that returned it). The
// sampler treats a run of equal ids as one episode, so the first row after an auto-reset must
// carry the new id.
//
// Pure TypeScript (no Node imports): the buffer must also run in a browser.
import type { Rng } from "../random.js";

export interface ReplayBufferOptions {
  numEnvs: number;
  /** Floats per observation row (state ++ commanded goal). */
  obsDim: number;
  actionDim: number;
  /** Rows kept per env; the oldest are overwritten (SPEC §4: 10,000). */
  capacity?: number;
  /** Rows per env needed before training may start (SPEC §4: 1,000). */
  minFill?: number;
}

/** Everything needed to rebuild a buffer exactly (checkpoints). Arrays are the live storage. */
export interface ReplayBufferState {
  numEnvs: number;
  capacity: number;
  obsDim: number;
  actionDim: number;
  /** Slot the next insert writes to, in [0, capacity). */
  head: number;
  /** Rows per env currently stored, in [0, capacity]. */
  size: number;
  /** [numEnvs, capacity, obsDim] */
  obs: Float32Array;
  /** [numEnvs, capacity, actionDim] */
  actions: Float32Array;
  /** [numEnvs, capacity] */
  episodeIds: Int32Array;
}

export const DEFAULT_REPLAY_CAPACITY = 10_000;
export const DEFAULT_MIN_REPLAY_SIZE = 1_000;

/** `v` if it is a positive integer; otherwise an error naming `owner` and `name` (shared with the sampler). */
export function positiveInt(owner: string, name: string, v: number): number {
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${owner}: ${name} must be a positive integer, got ${v}`);
  return v;
}

/** An error naming `owner` for a goal index that is not an integer index into a state of stateDim floats. */
export function checkGoalIndices(owner: string, goalIndices: readonly number[], stateDim: number): void {
  for (const g of goalIndices) {
    if (!Number.isInteger(g) || g < 0 || g >= stateDim) throw new Error(`${owner}: goal index ${g} is outside the state [0, ${stateDim})`);
  }
}

/**
 * The most batches of B a sampler call can return with this buffer (its outputs are sized for
 * them): min(maxBatches, floor(numEnvs · (min(windowLength, capacity) − 1) / B)); an error naming
 * `owner` and what it draws (`items`) when that is 0.
 */
export function windowCapacityBatches(owner: string, items: string, buf: ReplayBuffer, windowLength: number, maxBatches: number, batchSize: number): number {
  const n = buf.numEnvs;
  const maxT = Math.min(windowLength, buf.capacity);
  const batches = Math.min(maxBatches, Math.floor((n * (maxT - 1)) / batchSize));
  if (batches === 0) {
    throw new Error(
      `${owner}: batchSize ${batchSize} exceeds the ${items} one call can draw ` +
        `(numEnvs ${n} × (min(windowLength ${windowLength}, capacity ${buf.capacity}) − 1) = ${n * (maxT - 1)}); ` +
        "lower batchSize, or raise numEnvs or windowLength.",
    );
  }
  return batches;
}

/**
 * The draw of both samplers. A partial Fisher–Yates shuffle (one rng.uniform() per drawn place):
 * ids[0, used) becomes a uniform random ordered draw of the `total` ids in ids[0, total); then its
 * inverse, outPos[id] = the place id was drawn at, −1 for an id not drawn, over ids 0 … idCount − 1.
 */
export function drawOrder(ids: Int32Array, total: number, used: number, rng: Rng, outPos: Int32Array, idCount: number): void {
  for (let i = 0; i < used; i++) {
    const j = i + Math.floor(rng.uniform() * (total - i));
    const tmp = ids[i];
    ids[i] = ids[j];
    ids[j] = tmp;
  }
  outPos.fill(-1, 0, idCount);
  for (let i = 0; i < used; i++) outPos[ids[i]] = i;
}

/**
 * What both samplers hand out the same way: the batches of their last `sample` call, as views
 * cached at construction (`batches`, one per batch their outputs have room for), and the size of
 * that call's windows. A sampler sets `_numBatches` and `_windowRows` in each `sample`.
 */
export abstract class SampledBatches<T> {
  protected readonly batches: T[] = [];
  protected _numBatches = 0;
  protected _windowRows = 0;

  /** Batches produced by the last `sample` call. */
  get numBatches(): number {
    return this._numBatches;
  }

  /** Rows per env window T of the last `sample` call. */
  get windowRows(): number {
    return this._windowRows;
  }

  /** Batch i of the last `sample` call, as views (no copy). */
  batch(i: number): T {
    if (!Number.isInteger(i) || i < 0 || i >= this._numBatches) {
      throw new Error(`${this.constructor.name}.batch: index must be an integer in [0, ${this._numBatches}), got ${i}`);
    }
    return this.batches[i];
  }
}

/**
 * The windows both samplers draw: per env (in env order, one rng.uniform() each) T consecutive
 * rows starting at a uniform offset among the buffer's size − T + 1 starts, into windowOffset
 * (rows after the oldest) and windowStart (ring slot); and the episode runs in each window:
 * runEnd[e·T + t] = the window index of the last row of row t's episode.
 */
export function drawWindows(buf: ReplayBuffer, T: number, rng: Rng, windowStart: Int32Array, windowOffset: Int32Array, runEnd: Int32Array): void {
  const cap = buf.capacity;
  const ids = buf.episodeIds; // [N, cap]
  const oldest = buf.oldestSlot;
  const span = buf.size - T + 1;
  for (let e = 0; e < buf.numEnvs; e++) {
    const off = span === 1 ? 0 : Math.floor(rng.uniform() * span);
    windowOffset[e] = off;
    let ws = oldest + off;
    if (ws >= cap) ws -= cap;
    windowStart[e] = ws;
    const base = e * cap;
    const out = e * T;
    let slot = ws + T - 1;
    if (slot >= cap) slot -= cap;
    let nextId = ids[base + slot];
    runEnd[out + T - 1] = T - 1;
    for (let t = T - 2; t >= 0; t--) {
      slot = slot === 0 ? cap - 1 : slot - 1;
      const id = ids[base + slot];
      runEnd[out + t] = id === nextId ? runEnd[out + t + 1] : t;
      nextId = id;
    }
  }
}

export class ReplayBuffer {
  readonly numEnvs: number;
  readonly obsDim: number;
  readonly actionDim: number;
  readonly capacity: number;
  readonly minFill: number;
  /** [numEnvs, capacity, obsDim] */
  readonly obs: Float32Array;
  /** [numEnvs, capacity, actionDim] */
  readonly actions: Float32Array;
  /** [numEnvs, capacity] */
  readonly episodeIds: Int32Array;
  private _head = 0;
  private _size = 0;

  constructor(opts: ReplayBufferOptions) {
    this.numEnvs = positiveInt("ReplayBuffer", "numEnvs", opts.numEnvs);
    this.obsDim = positiveInt("ReplayBuffer", "obsDim", opts.obsDim);
    this.actionDim = positiveInt("ReplayBuffer", "actionDim", opts.actionDim);
    this.capacity = positiveInt("ReplayBuffer", "capacity", opts.capacity ?? DEFAULT_REPLAY_CAPACITY);
    this.minFill = positiveInt("ReplayBuffer", "minFill", opts.minFill ?? DEFAULT_MIN_REPLAY_SIZE);
    if (this.minFill > this.capacity) {
      throw new Error(
        `ReplayBuffer: minFill (${this.minFill}) exceeds capacity (${this.capacity}); the buffer could never be ready. ` +
          "Lower minFill or raise capacity.",
      );
    }
    const rows = this.numEnvs * this.capacity;
    const maxLen = 2 ** 31 - 1;
    if (rows * this.obsDim > maxLen || rows * this.actionDim > maxLen) {
      throw new Error(
        `ReplayBuffer: ${this.numEnvs} envs × ${this.capacity} rows × ${Math.max(this.obsDim, this.actionDim)} floats ` +
          "exceeds the 2^31 − 1 elements allowed per field; lower numEnvs or capacity.",
      );
    }
    this.obs = new Float32Array(rows * this.obsDim);
    this.actions = new Float32Array(rows * this.actionDim);
    this.episodeIds = new Int32Array(rows);
  }

  /** Slot the next insert writes to. */
  get head(): number {
    return this._head;
  }

  /** Rows per env currently stored. */
  get size(): number {
    return this._size;
  }

  /** Rows stored over all envs (the reference's `training/buffer_size`). */
  get transitions(): number {
    return this._size * this.numEnvs;
  }

  /** True once every env holds at least `minFill` rows (training may start). */
  get ready(): boolean {
    return this._size >= this.minFill;
  }

  /** Slot of the oldest stored row (time index 0). */
  get oldestSlot(): number {
    return (this._head - this._size + this.capacity) % this.capacity;
  }

  /** Slot of the row with time index t (0 = oldest, size − 1 = newest). */
  slotOf(t: number): number {
    if (!Number.isInteger(t) || t < 0 || t >= this._size) {
      throw new Error(`ReplayBuffer.slotOf: time index must be an integer in [0, ${this._size}), got ${t}`);
    }
    return (this.oldestSlot + t) % this.capacity;
  }

  /**
   * Append one row per env (one step of all envs), overwriting the oldest rows when full.
   * obs [N, obsDim], actions [N, actionDim], episodeId [N].
   */
  insert(obs: Float32Array, actions: Float32Array, episodeId: Int32Array): void {
    const n = this.numEnvs;
    const od = this.obsDim;
    const ad = this.actionDim;
    if (obs.length !== n * od) {
      throw new Error(`ReplayBuffer.insert: obs has ${obs.length} floats, expected numEnvs × obsDim = ${n} × ${od} = ${n * od}`);
    }
    if (actions.length !== n * ad) {
      throw new Error(
        `ReplayBuffer.insert: actions has ${actions.length} floats, expected numEnvs × actionDim = ${n} × ${ad} = ${n * ad}`,
      );
    }
    if (episodeId.length !== n) {
      throw new Error(`ReplayBuffer.insert: episodeId has ${episodeId.length} entries, expected numEnvs = ${n}`);
    }
    const cap = this.capacity;
    const slot = this._head;
    const dstObs = this.obs;
    const dstActions = this.actions;
    for (let e = 0; e < n; e++) {
      const row = e * cap + slot;
      // subarray would allocate a view per env; plain loops keep insert allocation-free.
      const oDst = row * od;
      const oSrc = e * od;
      for (let j = 0; j < od; j++) dstObs[oDst + j] = obs[oSrc + j];
      const aDst = row * ad;
      const aSrc = e * ad;
      for (let j = 0; j < ad; j++) dstActions[aDst + j] = actions[aSrc + j];
      this.episodeIds[row] = episodeId[e];
    }
    this._head = slot + 1 === cap ? 0 : slot + 1;
    if (this._size < cap) this._size++;
  }

  /** Forget all rows (storage is kept). */
  clear(): void {
    this._head = 0;
    this._size = 0;
  }

  /** The exact state for a checkpoint. The arrays are the live storage, not copies. */
  state(): ReplayBufferState {
    return {
      numEnvs: this.numEnvs,
      capacity: this.capacity,
      obsDim: this.obsDim,
      actionDim: this.actionDim,
      head: this._head,
      size: this._size,
      obs: this.obs,
      actions: this.actions,
      episodeIds: this.episodeIds,
    };
  }

  /** Restore a state saved by `state()` (copied in); shapes must match this buffer's. */
  restore(s: ReplayBufferState): void {
    const want = `numEnvs ${this.numEnvs}, capacity ${this.capacity}, obsDim ${this.obsDim}, actionDim ${this.actionDim}`;
    if (
      s.numEnvs !== this.numEnvs ||
      s.capacity !== this.capacity ||
      s.obsDim !== this.obsDim ||
      s.actionDim !== this.actionDim
    ) {
      throw new Error(
        `ReplayBuffer.restore: saved buffer has numEnvs ${s.numEnvs}, capacity ${s.capacity}, obsDim ${s.obsDim}, ` +
          `actionDim ${s.actionDim}, but this buffer has ${want}; resume with the same env and replay settings.`,
      );
    }
    if (!(s.obs instanceof Float32Array) || s.obs.length !== this.obs.length) {
      throw new Error(
        `ReplayBuffer.restore: obs must be a Float32Array of ${this.obs.length} floats [numEnvs, capacity, obsDim], ` +
          `got ${s.obs?.constructor?.name} of length ${s.obs?.length}`,
      );
    }
    if (!(s.actions instanceof Float32Array) || s.actions.length !== this.actions.length) {
      throw new Error(
        `ReplayBuffer.restore: actions must be a Float32Array of ${this.actions.length} floats [numEnvs, capacity, actionDim], ` +
          `got ${s.actions?.constructor?.name} of length ${s.actions?.length}`,
      );
    }
    if (!(s.episodeIds instanceof Int32Array) || s.episodeIds.length !== this.episodeIds.length) {
      throw new Error(
        `ReplayBuffer.restore: episodeIds must be an Int32Array of ${this.episodeIds.length} entries [numEnvs, capacity], ` +
          `got ${s.episodeIds?.constructor?.name} of length ${s.episodeIds?.length}`,
      );
    }
    if (!Number.isInteger(s.size) || s.size < 0 || s.size > this.capacity) {
      throw new Error(`ReplayBuffer.restore: size must be an integer in [0, ${this.capacity}], got ${s.size}`);
    }
    if (!Number.isInteger(s.head) || s.head < 0 || s.head >= this.capacity) {
      throw new Error(`ReplayBuffer.restore: head must be an integer in [0, ${this.capacity}), got ${s.head}`);
    }
    // Lockstep inserts from empty fill slots 0, 1, ... in order, so a partly full ring has head = size.
    if (s.size < this.capacity && s.head !== s.size) {
      throw new Error(
        `ReplayBuffer.restore: a partly full ring (size ${s.size} < capacity ${this.capacity}) must have head = size, got head ${s.head}`,
      );
    }
    if (s.obs !== this.obs) this.obs.set(s.obs);
    if (s.actions !== this.actions) this.actions.set(s.actions);
    if (s.episodeIds !== this.episodeIds) this.episodeIds.set(s.episodeIds);
    this._head = s.head;
    this._size = s.size;
  }
}
