// Hindsight goal sampler for Contrastive RL (SPEC §4, DESIGN §5).
//
// One call of `sample(rng)` makes the training data of one training step, as JaxGCRL's
// `TrajectoryUniformSamplingQueue.sample` + `flatten_crl_fn` + permutation do in scaling-crl:
//  1. per env, a random window of `windowLength` consecutive rows (the whole ring if it holds fewer);
//  2. per row t, a future row t+Δ of the same episode inside the window, P(Δ) ∝ γ^Δ for
//     Δ = 1..L where L = rows of that episode after t in the window; Δ = 0 when L = 0;
//  3. the hindsight goal = achieved-goal slice (`goalIndices`) of row t+Δ's state;
//  4. shuffle the N·(T−1) tuples and cut them into min(maxBatches, floor(N·(T−1)/B)) batches of B.
//     The last row of each window is not a tuple: like the reference (`goal_index[:-1]`, "the
//     last goal_index cannot be considered as there is no future"), which is where SPEC §4's
//     batch counts come from (512 envs × 999 rows: B = 1024 → 499, B = 2048 → 249).
//
// Δ is drawn directly from the truncated geometric law by inverse CDF,
//   Δ = 1 + floor(log(1 − u·(1 − γ^L)) / log γ),  u ~ U[0, 1),
// since P(Δ ≤ d) = (1 − γ^d) / (1 − γ^L) = Σ_{k≤d} γ^k / Σ_{k≤L} γ^k. The reference instead builds
// a T×T matrix `is_future_mask · γ^Δ · same_episode + 1e-5·I` per env and draws a categorical
// from it: the same law except that it keeps a 1e-5 weight on Δ = 0 even when a future row
// exists. We follow SPEC: Δ = 0 only when no later row of the episode is in the window.
// An episode is a maximal run of equal episode ids (ids change at every reset, so within a
// window equal ids are contiguous, which makes this the reference's same-id mask).
//
// Windows start uniformly among all size − T + 1 positions (the reference's `randint` upper bound
// is exclusive, so it never draws the window that ends at the newest row; we do).
// Only the tuples that land in the used batches are drawn and gathered: a partial Fisher–Yates
// shuffle picks the first numBatches·B entries of a uniform random permutation of all tuples,
// which has the same law as shuffling everything and keeping a prefix.
//
// Pure TypeScript, no allocation in `sample` after construction.
import type { Rng } from "../random.js";
import { checkGoalIndices, drawOrder, drawWindows, positiveInt, type ReplayBuffer, SampledBatches, windowCapacityBatches } from "./buffer.js";

export interface HindsightSamplerOptions {
  /** Floats of state at the start of each observation row (the rest is the commanded goal). */
  stateDim: number;
  /** Indices into the state that form the achieved goal (e.g. torso x, y). */
  goalIndices: readonly number[];
  /** Checked against the buffer's actionDim when given. */
  actionDim?: number;
  /** Checked against goalIndices.length when given. */
  goalDim?: number;
  /** Tuples per batch B (SPEC §5: 256 in code, 512 in the paper's runs). */
  batchSize: number;
  /** Consecutive rows per env per training step (SPEC §4: 1,000, the episode length). */
  windowLength?: number;
  /** Discount of the future offset law P(Δ) ∝ γ^Δ (SPEC §5: 0.99). */
  gamma?: number;
  /** Upper bound on batches per call: the gradient steps per training step (SPEC §4: 800). */
  maxBatches?: number;
}

/** Views into the sampler's output for one batch (valid until the next `sample`). */
export interface HindsightBatch {
  /** [B, stateDim] */
  readonly state: Float32Array;
  /** [B, actionDim] */
  readonly action: Float32Array;
  /** [B, goalDim] hindsight goal: achieved goal of the sampled future row. */
  readonly goal: Float32Array;
}


export class HindsightSampler extends SampledBatches<HindsightBatch> {
  readonly buffer: ReplayBuffer;
  readonly stateDim: number;
  readonly goalDim: number;
  readonly actionDim: number;
  readonly batchSize: number;
  readonly windowLength: number;
  readonly gamma: number;
  readonly maxBatches: number;
  /** Most batches one call can return with this buffer (outputs are sized for it). */
  readonly capacityBatches: number;
  /** [capacityBatches · B, stateDim] */
  readonly state: Float32Array;
  /** [capacityBatches · B, actionDim] */
  readonly action: Float32Array;
  /** [capacityBatches · B, goalDim] */
  readonly goal: Float32Array;
  /** [capacityBatches · B] the Δ drawn for each output tuple (0 = no future row in its episode). */
  readonly delta: Int32Array;
  /** [capacityBatches · B] env each output tuple came from. */
  readonly sourceEnv: Int32Array;
  /** [capacityBatches · B] time index (0 = oldest row in the buffer) of each output tuple's row t. */
  readonly sourceTime: Int32Array;
  /** [numEnvs] time index (0 = oldest row) where each env's window of the last call starts. */
  readonly windowOffset: Int32Array;
  private readonly goalIdx: Int32Array; // [goalDim]
  private readonly gammaPow: Float64Array; // [windowLength + 1] γ^L
  private readonly logGamma: number;
  private readonly windowStart: Int32Array; // [numEnvs] ring slot of each env's window row 0
  private readonly runEnd: Int32Array; // [numEnvs · windowLength] window index of the last row of each row's episode
  private readonly perm: Int32Array; // [numEnvs · (windowLength − 1)] tuple ids e·(T − 1) + t, shuffled
  private readonly outPos: Int32Array; // [numEnvs · (windowLength − 1)] output row of each tuple, −1 if unused

  constructor(buffer: ReplayBuffer, opts: HindsightSamplerOptions) {
    super();
    this.buffer = buffer;
    this.stateDim = positiveInt("HindsightSampler", "stateDim", opts.stateDim);
    if (this.stateDim > buffer.obsDim) {
      throw new Error(`HindsightSampler: stateDim ${this.stateDim} exceeds the buffer's obsDim ${buffer.obsDim}`);
    }
    if (opts.goalIndices.length === 0) throw new Error("HindsightSampler: goalIndices must not be empty");
    checkGoalIndices("HindsightSampler", opts.goalIndices, this.stateDim);
    this.goalDim = opts.goalIndices.length;
    if (opts.goalDim !== undefined && opts.goalDim !== this.goalDim) {
      throw new Error(`HindsightSampler: goalDim ${opts.goalDim} differs from goalIndices.length ${this.goalDim}`);
    }
    this.actionDim = buffer.actionDim;
    if (opts.actionDim !== undefined && opts.actionDim !== this.actionDim) {
      throw new Error(`HindsightSampler: actionDim ${opts.actionDim} differs from the buffer's actionDim ${this.actionDim}`);
    }
    this.batchSize = positiveInt("HindsightSampler", "batchSize", opts.batchSize);
    this.windowLength = positiveInt("HindsightSampler", "windowLength", opts.windowLength ?? 1000);
    this.maxBatches = positiveInt("HindsightSampler", "maxBatches", opts.maxBatches ?? 800);
    this.gamma = opts.gamma ?? 0.99;
    if (!(this.gamma > 0 && this.gamma <= 1)) {
      throw new Error(`HindsightSampler: gamma must be in (0, 1], got ${this.gamma}`);
    }

    const n = buffer.numEnvs;
    const maxT = Math.min(this.windowLength, buffer.capacity);
    this.capacityBatches = windowCapacityBatches("HindsightSampler", "tuples", buffer, this.windowLength, this.maxBatches, this.batchSize);
    const rows = this.capacityBatches * this.batchSize;
    this.state = new Float32Array(rows * this.stateDim);
    this.action = new Float32Array(rows * this.actionDim);
    this.goal = new Float32Array(rows * this.goalDim);
    this.delta = new Int32Array(rows);
    this.sourceEnv = new Int32Array(rows);
    this.sourceTime = new Int32Array(rows);
    this.goalIdx = Int32Array.from(opts.goalIndices);
    this.gammaPow = new Float64Array(this.windowLength + 1);
    for (let l = 0; l <= this.windowLength; l++) this.gammaPow[l] = this.gamma ** l;
    this.logGamma = Math.log(this.gamma);
    this.windowStart = new Int32Array(n);
    this.windowOffset = new Int32Array(n);
    this.runEnd = new Int32Array(n * maxT);
    this.perm = new Int32Array(n * (maxT - 1));
    this.outPos = new Int32Array(n * (maxT - 1));
    const B = this.batchSize;
    for (let b = 0; b < this.capacityBatches; b++) {
      this.batches.push({
        state: this.state.subarray(b * B * this.stateDim, (b + 1) * B * this.stateDim),
        action: this.action.subarray(b * B * this.actionDim, (b + 1) * B * this.actionDim),
        goal: this.goal.subarray(b * B * this.goalDim, (b + 1) * B * this.goalDim),
      });
    }
  }

  /**
   * Draw windows, future offsets and a shuffle; fill the output buffers. Returns the number of
   * batches, min(maxBatches, floor(numEnvs·(T − 1) / B)) with T = min(windowLength, buffer.size).
   */
  sample(rng: Rng): number {
    const buf = this.buffer;
    const n = buf.numEnvs;
    const cap = buf.capacity;
    const size = buf.size;
    const T = Math.min(this.windowLength, size);
    const perEnv = T > 0 ? T - 1 : 0; // tuples per env: the window's last row has no future
    const total = n * perEnv;
    const B = this.batchSize;
    const numBatches = Math.min(this.maxBatches, Math.floor(total / B));
    this._numBatches = numBatches;
    this._windowRows = T;
    if (numBatches === 0) return 0;
    const used = numBatches * B;

    // 1. Windows and episode runs. runEnd[e·T + t] = window index of the last row of row t's episode.
    const windowStart = this.windowStart;
    const runEnd = this.runEnd;
    const windowOffset = this.windowOffset;
    drawWindows(buf, T, rng, windowStart, windowOffset, runEnd);

    // 2. Partial Fisher–Yates: perm[0, used) becomes a uniform random ordered draw of tuples;
    // 3. its inverse (outPos[tuple] = output row, or −1). Then visit tuples in memory order,
    // so the ring (hundreds of MB at the paper's size) is read sequentially, window by window;
    // only the much smaller output is written at random. Δ is drawn in this order too.
    const perm = this.perm;
    for (let i = 0; i < total; i++) perm[i] = i;
    const outPos = this.outPos;
    drawOrder(perm, total, used, rng, outPos, total);
    const obs = buf.obs; // [N, cap, obsDim]
    const act = buf.actions; // [N, cap, actionDim]
    const od = buf.obsDim;
    const sd = this.stateDim;
    const ad = this.actionDim;
    const gd = this.goalDim;
    const goalIdx = this.goalIdx;
    const gammaPow = this.gammaPow;
    const logGamma = this.logGamma;
    const uniformLaw = this.gamma === 1;
    const outState = this.state;
    const outAction = this.action;
    const outGoal = this.goal;
    const outDelta = this.delta;
    const outEnv = this.sourceEnv;
    const outTime = this.sourceTime;
    for (let e = 0; e < n; e++) {
      const ws = windowStart[e];
      const off = windowOffset[e];
      const base = e * cap;
      for (let t = 0; t < perEnv; t++) {
        const i = outPos[e * perEnv + t];
        if (i < 0) continue;
        const L = runEnd[e * T + t] - t;
        let d = 0;
        if (L > 0) {
          const u = rng.uniform();
          d = uniformLaw ? 1 + Math.floor(u * L) : 1 + Math.floor(Math.log(1 - u * (1 - gammaPow[L])) / logGamma);
          if (d > L) d = L; // float rounding when u is within 2^-32 of 1
        }
        let slot = ws + t;
        if (slot >= cap) slot -= cap;
        let fslot = slot + d;
        if (fslot >= cap) fslot -= cap;
        const row = (base + slot) * od;
        const frow = (base + fslot) * od;
        const arow = (base + slot) * ad;
        const so = i * sd;
        for (let j = 0; j < sd; j++) outState[so + j] = obs[row + j];
        const ao = i * ad;
        for (let j = 0; j < ad; j++) outAction[ao + j] = act[arow + j];
        const go = i * gd;
        for (let j = 0; j < gd; j++) outGoal[go + j] = obs[frow + goalIdx[j]];
        outDelta[i] = d;
        outEnv[i] = e;
        outTime[i] = off + t;
      }
    }
    return numBatches;
  }
}
