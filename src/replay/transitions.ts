// Transition sampler for the TD baselines (SAC, SAC+HER, TD3+HER; agents/sac.ts, agents/td3.ts):
// one call of `sample(rng)` makes the training data of one training step as JaxGCRL's
// `TrajectoryUniformSamplingQueue.sample` + `flatten_batch` + permutation do for its SAC and TD3:
//  1. per env, a random window of `windowLength` consecutive rows (the whole ring if it holds
//     fewer), exactly as the hindsight sampler (./sampler.ts) draws it;
//  2. a tuple per row t whose next row t+1 is in the same episode: (s_t, a_t, s_{t+1}, g);
//  3. the goal g: the commanded goal of row t ("none"), or with hindsight relabelling ("final",
//     the reference's HER) the achieved goal of the last row of t's episode when that episode
//     ends inside the window, the commanded goal otherwise;
//  4. the sparse reward r = 1 when ‖achieved(s_{t+1}) − g‖ < successThreshold, else 0;
//  5. shuffle the tuples and cut them into min(maxBatches, floor(tuples / B)) batches of B.
//
// Where this differs from the reference (and why):
// - A row whose next row belongs to another episode (the episode's last step) is not a tuple: the
//   buffer does not keep the observation an episode ended in (the env auto-resets). The reference
//   keeps such rows but masks their TD error at truncation (Brax SAC: `q_error *= 1 − truncation`)
//   and bootstraps with discount 0 at termination; a terminal transition is therefore left out here.
// - The reference's HER recomputes every reward on the current observation s_t; here the reward is
//   always the env's success of the state the step reached, s_{t+1} (SPEC §1; what the env reports).
// - The reference relabels rows whose episode has a truncation step inside the window; here, rows
//   whose episode is followed by another one inside the window (truncated or terminated).
// Where an episode ends inside the window is where the relabelling ratio comes from: with windows
// as long as episodes (SPEC §4: 1,000) about half the tuples are relabelled, as in the reference.
//
// Pure TypeScript, no allocation in `sample` after construction.
import type { Rng } from "../random.js";
import { checkGoalIndices, drawOrder, drawWindows, positiveInt, type ReplayBuffer, SampledBatches, windowCapacityBatches } from "./buffer.js";

export const GOAL_RELABELLINGS = ["none", "final"] as const;
export type GoalRelabelling = (typeof GOAL_RELABELLINGS)[number];

export interface TransitionSamplerOptions {
  /** Floats of state at the start of each observation row (the rest is the commanded goal). */
  stateDim: number;
  /** Indices into the state that form the achieved goal. */
  goalIndices: readonly number[];
  /** ‖achieved − goal‖ below this earns reward 1 (the env's success threshold). */
  successThreshold: number;
  batchSize: number;
  /** Consecutive rows per env per training step. */
  windowLength: number;
  /** Upper bound on batches per call (the gradient steps per training step). */
  maxBatches: number;
  relabel: GoalRelabelling;
}

/** Views into the sampler's output for one batch (valid until the next `sample`). */
export interface TransitionBatch {
  /** [B, stateDim] s_t */
  readonly state: Float32Array;
  /** [B, goalDim] the goal the tuple is trained for (commanded or relabelled) */
  readonly goal: Float32Array;
  /** [B, actionDim] a_t */
  readonly action: Float32Array;
  /** [B, stateDim] s_{t+1} (same episode) */
  readonly nextState: Float32Array;
  /** [B] 1 where achieved(s_{t+1}) is within successThreshold of the goal, else 0 */
  readonly reward: Float32Array;
  /** [B] 1 where the goal was relabelled */
  readonly relabelled: Uint8Array;
}

export class TransitionSampler extends SampledBatches<TransitionBatch> {
  readonly buffer: ReplayBuffer;
  readonly stateDim: number;
  readonly goalDim: number;
  readonly actionDim: number;
  readonly batchSize: number;
  readonly windowLength: number;
  readonly maxBatches: number;
  readonly relabel: GoalRelabelling;
  readonly successThreshold: number;
  /** Most batches one call can return with this buffer (outputs are sized for it). */
  readonly capacityBatches: number;
  readonly state: Float32Array; // [capacityBatches · B, S]
  readonly goal: Float32Array; // [capacityBatches · B, G]
  readonly action: Float32Array; // [capacityBatches · B, A]
  readonly nextState: Float32Array; // [capacityBatches · B, S]
  readonly reward: Float32Array; // [capacityBatches · B]
  readonly relabelled: Uint8Array; // [capacityBatches · B]
  /** [capacityBatches · B] env and time index (0 = oldest row) of each output tuple's row t. */
  readonly sourceEnv: Int32Array;
  readonly sourceTime: Int32Array;
  private readonly goalIdx: Int32Array; // [G]
  private readonly windowStart: Int32Array; // [N] ring slot of each env's window row 0
  /** [numEnvs] time index (0 = oldest row) where each env's window of the last call starts. */
  readonly windowOffset: Int32Array;
  private readonly runEnd: Int32Array; // [N · windowLength] window index of the last row of each row's episode
  private readonly tuples: Int32Array; // [N · (windowLength − 1)] ids e·(T − 1) + t of the valid tuples, then shuffled
  private readonly outPos: Int32Array; // [N · (windowLength − 1)] output row of each tuple id, −1 if unused
  private _tuples = 0;

  constructor(buffer: ReplayBuffer, o: TransitionSamplerOptions) {
    super();
    this.buffer = buffer;
    this.stateDim = positiveInt("TransitionSampler", "stateDim", o.stateDim);
    if (this.stateDim > buffer.obsDim) throw new Error(`TransitionSampler: stateDim ${this.stateDim} exceeds the buffer's obsDim ${buffer.obsDim}`);
    this.goalDim = o.goalIndices.length;
    if (this.goalDim === 0 || this.stateDim + this.goalDim !== buffer.obsDim) {
      throw new Error(`TransitionSampler: stateDim ${this.stateDim} + goal dim ${this.goalDim} must equal the buffer's obsDim ${buffer.obsDim} (rows are state ++ commanded goal)`);
    }
    checkGoalIndices("TransitionSampler", o.goalIndices, this.stateDim);
    if (!(o.successThreshold > 0)) throw new Error(`TransitionSampler: successThreshold must be > 0, got ${o.successThreshold}`);
    if (!(GOAL_RELABELLINGS as readonly string[]).includes(o.relabel)) {
      throw new Error(`TransitionSampler: relabel must be one of ${GOAL_RELABELLINGS.join(", ")}, got ${JSON.stringify(o.relabel)}`);
    }
    this.actionDim = buffer.actionDim;
    this.batchSize = positiveInt("TransitionSampler", "batchSize", o.batchSize);
    this.windowLength = positiveInt("TransitionSampler", "windowLength", o.windowLength);
    this.maxBatches = positiveInt("TransitionSampler", "maxBatches", o.maxBatches);
    this.relabel = o.relabel;
    this.successThreshold = o.successThreshold;
    const n = buffer.numEnvs;
    const maxT = Math.min(this.windowLength, buffer.capacity);
    this.capacityBatches = windowCapacityBatches("TransitionSampler", "transitions", buffer, this.windowLength, this.maxBatches, this.batchSize);
    const B = this.batchSize;
    const rows = this.capacityBatches * B;
    const { stateDim: S, goalDim: G, actionDim: A } = this;
    this.state = new Float32Array(rows * S);
    this.goal = new Float32Array(rows * G);
    this.action = new Float32Array(rows * A);
    this.nextState = new Float32Array(rows * S);
    this.reward = new Float32Array(rows);
    this.relabelled = new Uint8Array(rows);
    this.sourceEnv = new Int32Array(rows);
    this.sourceTime = new Int32Array(rows);
    this.goalIdx = Int32Array.from(o.goalIndices);
    this.windowStart = new Int32Array(n);
    this.windowOffset = new Int32Array(n);
    this.runEnd = new Int32Array(n * maxT);
    this.tuples = new Int32Array(n * (maxT - 1));
    this.outPos = new Int32Array(n * (maxT - 1));
    for (let b = 0; b < this.capacityBatches; b++) {
      const r = (k: number) => [b * B * k, (b + 1) * B * k] as const;
      this.batches.push({
        state: this.state.subarray(...r(S)),
        goal: this.goal.subarray(...r(G)),
        action: this.action.subarray(...r(A)),
        nextState: this.nextState.subarray(...r(S)),
        reward: this.reward.subarray(...r(1)),
        relabelled: this.relabelled.subarray(...r(1)),
      });
    }
  }

  /** Valid transitions (same-episode row pairs) in the windows of the last `sample` call. */
  get transitions(): number {
    return this._tuples;
  }

  /** Draws windows and a shuffle, fills the outputs; returns the number of batches. */
  sample(rng: Rng): number {
    const buf = this.buffer;
    const n = buf.numEnvs;
    const cap = buf.capacity;
    const size = buf.size;
    const T = Math.min(this.windowLength, size);
    this._numBatches = 0;
    this._tuples = 0;
    this._windowRows = T;
    if (T < 2) return 0;
    const perEnv = T - 1;
    const windowStart = this.windowStart;
    const runEnd = this.runEnd;
    const tuples = this.tuples;

    // 1. Windows and episode runs (runEnd[e·T + t] = window index of the last row of t's episode);
    // 2. the valid tuples: rows whose next row is in the same episode.
    const windowOffset = this.windowOffset;
    drawWindows(buf, T, rng, windowStart, windowOffset, runEnd);
    let total = 0;
    for (let e = 0; e < n; e++) {
      for (let t = 0; t < perEnv; t++) if (runEnd[e * T + t] > t) tuples[total++] = e * perEnv + t;
    }
    this._tuples = total;
    const B = this.batchSize;
    const numBatches = Math.min(this.maxBatches, Math.floor(total / B));
    this._numBatches = numBatches;
    if (numBatches === 0) return 0;
    const used = numBatches * B;

    // 3. Partial Fisher–Yates: tuples[0, used) becomes a uniform random ordered draw; outPos its inverse.
    const outPos = this.outPos;
    drawOrder(tuples, total, used, rng, outPos, n * perEnv);

    // 4. Gather in memory order (the ring is read window by window; the output is written at random).
    const obs = buf.obs; // [N, cap, obsDim]
    const act = buf.actions; // [N, cap, A]
    const od = buf.obsDim;
    const { stateDim: S, goalDim: G, actionDim: A } = this;
    const goalIdx = this.goalIdx;
    const final = this.relabel === "final";
    const thr2 = this.successThreshold * this.successThreshold;
    for (let e = 0; e < n; e++) {
      const ws = windowStart[e];
      const base = e * cap;
      for (let t = 0; t < perEnv; t++) {
        const i = outPos[e * perEnv + t];
        if (i < 0) continue;
        let slot = ws + t;
        if (slot >= cap) slot -= cap;
        const nslot = slot + 1 >= cap ? slot + 1 - cap : slot + 1;
        const row = (base + slot) * od;
        const nrow = (base + nslot) * od;
        for (let j = 0; j < S; j++) {
          this.state[i * S + j] = obs[row + j];
          this.nextState[i * S + j] = obs[nrow + j];
        }
        const arow = (base + slot) * A;
        for (let j = 0; j < A; j++) this.action[i * A + j] = act[arow + j];
        const last = runEnd[e * T + t];
        const relabel = final && last < T - 1; // t's episode ends inside the window
        if (relabel) {
          let fslot = ws + last;
          if (fslot >= cap) fslot -= cap;
          const frow = (base + fslot) * od;
          for (let j = 0; j < G; j++) this.goal[i * G + j] = obs[frow + goalIdx[j]];
        } else {
          for (let j = 0; j < G; j++) this.goal[i * G + j] = obs[row + S + j];
        }
        let d2 = 0;
        for (let j = 0; j < G; j++) {
          const d = obs[nrow + goalIdx[j]] - this.goal[i * G + j];
          d2 += d * d;
        }
        this.reward[i] = d2 < thr2 ? 1 : 0;
        this.relabelled[i] = relabel ? 1 : 0;
        this.sourceEnv[i] = e;
        this.sourceTime[i] = windowOffset[e] + t;
      }
    }
    return numBatches;
  }
}
