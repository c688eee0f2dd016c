// What the training loop (train/trainer.ts) needs of an algorithm, and the pieces every algorithm
// file shares. Each algorithm is one readable file (STYLE: the CleanRL habit): crl.ts, sac.ts
// (SAC and SAC+HER), td3.ts (TD3+HER; td.ts is the twin critic it shares with SAC), gcbc.ts;
// ./registry.ts maps `--agent` names to them.
//
// An agent owns its networks, optimisers and randomness, and says which batches it learns from:
// `makeSampler` builds, over the replay buffer (or an offline dataset loaded into one), the
// sampler whose batches `updateOn` takes. The loop only collects, samples, updates, evaluates and
// saves; it never looks inside a batch or a network.
import { z } from "zod";
import { PRECISIONS } from "../engine/backend.js";
import { logStdFromRaw } from "../engine/composite.js";
import type { HeadSpec } from "../nn/resnet.js";
import type { Tensor } from "../nn/safetensors.js";
import { Rng } from "../random.js";
import type { ReplayBuffer } from "../replay/buffer.js";

export const AGENT_NAMES = ["crl", "sac", "sac_her", "td3_her", "gcbc"] as const;
export type AgentName = (typeof AGENT_NAMES)[number];

/** Dimensions of the env an agent acts in (observation row = state ++ commanded goal). */
export interface AgentDims {
  stateDim: number;
  goalDim: number;
  actionDim: number;
}

/**
 * Rows an agent's acting network is built for: the batch, or the loop's acting batch up to 4096
 * when that is larger (act() runs in chunks of this many rows).
 */
export function actChunkRows(batchSize: number, actBatch = 0): number {
  return Math.max(batchSize, Math.min(Math.max(actBatch, 1), 4096));
}

/**
 * The heads of a tanh-Gaussian actor over A action dims (CRL, SAC): the mean and the raw log-std
 * (logStdFromRaw), named as their tensors are in checkpoints; `initScale` scales both heads' init.
 */
export function gaussianActorHeads(A: number, initScale?: number): HeadSpec[] {
  const scale = initScale === undefined ? {} : { initScale };
  return [
    { name: "mean", dim: A, ...scale },
    { name: "log_std", dim: A, ...scale },
  ];
}

/**
 * act()'s loop over n observation rows obs [n, rowLen] (state ++ commanded goal) in chunks of at
 * most `chunk` rows: each chunk is copied into input [chunk, rowLen], then `run(m, start)` writes
 * the actions of its m rows (rows start … start + m − 1). Stochastic acting needs an rng.
 */
export function actInChunks(
  obs: Float32Array,
  n: number,
  rowLen: number,
  chunk: number,
  input: Float32Array,
  deterministic: boolean,
  rng: Rng | undefined,
  run: (m: number, start: number) => void,
): void {
  if (!deterministic && !rng) throw new Error("stochastic act() needs an rng");
  for (let start = 0; start < n; start += chunk) {
    const m = Math.min(chunk, n - start);
    input.set(obs.subarray(start * rowLen, (start + m) * rowLen));
    run(m, start);
  }
}

/**
 * The tanh-Gaussian policy's actions for n values: out[outAt + i] = tanh(μ_i) (deterministic), else
 * tanh(μ_i + σ_i·ε_i) with σ_i = exp(logStdFromRaw(raw[rawAt + i])) and ε_i ~ N(0, 1) from rng in order.
 */
export function tanhGaussianActions(mean: Float32Array, raw: Float32Array, rawAt: number, n: number, deterministic: boolean, rng: Rng | undefined, out: Float32Array, outAt: number): void {
  for (let i = 0; i < n; i++) {
    let x = mean[i];
    if (!deterministic) x += Math.exp(logStdFromRaw(raw[rawAt + i])) * rng!.normal();
    out[outAt + i] = Math.tanh(x);
  }
}

/** What a sampler needs to know of the env beyond the buffer's shapes. */
export interface SamplerEnv {
  stateDim: number;
  /** Indices into the state that form the achieved goal. */
  goalIndices: readonly number[];
  /** ‖achieved − goal‖ below this is success (the sparse reward of the TD baselines). */
  successThreshold: number;
}

/** The loop's sampling settings: rows per env window, batches per training step. */
export interface SamplerLoop {
  windowLength: number;
  maxBatches: number;
}

/** Batches of one training step: `sample` draws them (returns how many), `batch(i)` views one. */
export interface BatchSource<B> {
  sample(rng: Rng): number;
  batch(i: number): B;
}

/** A learning algorithm as the training loop, evaluation and checkpoints use it. */
export interface Agent<B = unknown> {
  readonly name: AgentName;
  /** The metrics `updateOn` reports, in order; logged as `training/<name>`. */
  readonly metricNames: readonly string[];
  /** Gradient steps taken. */
  readonly updates: number;
  /**
   * Actions for n observations (state ++ commanded goal rows, [n, S+G]) into out [n, A]:
   * deterministic for evaluation, else the exploration policy with noise from `rng`.
   */
  act(obs: Float32Array, n: number, out: Float32Array, deterministic: boolean, rng?: Rng): void;
  /** The sampler of this agent's training batches over `buffer`. */
  makeSampler(buffer: ReplayBuffer, env: SamplerEnv, loop: SamplerLoop): BatchSource<B>;
  /**
   * One gradient step on `batch`; writes the metrics into out [metricNames.length]. A non-finite
   * loss or gradient throws NonFiniteError before the step that would apply it.
   */
  updateOn(batch: B, out: Float64Array): void;
  /** All learnable state (networks, optimisers, temperatures, update count, rng) as named tensors. */
  stateTensors(): Map<string, Tensor>;
  /** Restores stateTensors(); validates everything before changing anything. */
  loadStateTensors(t: ReadonlyMap<string, Tensor>, what?: string): void;
  /** Where and how it runs, when that is worth a line in the run's log (optional). */
  describe?(): string;
}

/** A loss or gradient that is not finite; the step that would have applied it was not taken. */
export class NonFiniteError extends Error {
  constructor(
    readonly network: string,
    readonly loss: string,
    readonly value: number,
  ) {
    super(`non-finite ${loss} (${value}) in the ${network} update`);
    this.name = "NonFiniteError";
  }
}

/** One residual network an agent builds (nn/resnet.ts), for memory estimates (train/limits.ts). */
export interface NetworkShape {
  inDim: number;
  width: number;
  depth: number;
  /** Output dimension of each head. */
  heads: number[];
  maxBatch: number;
  recompute: boolean;
  headNorm: boolean;
}

/** What an agent allocates, counted from its shapes (train/limits.ts checks it against the machine). */
export interface AgentFootprint {
  /** Every residual network, with how many copies (target networks) and whether it has Adam state. */
  networks: { name: string; shape: NetworkShape; copies: number; optimised: boolean }[];
  /** Floats of the agent's own batch buffers. */
  scratchFloats: number;
  /** Floats per tuple of one training step's sampled batches (the sampler's output). */
  samplerTupleFloats: number;
}

// ───────────────────────── config pieces every agent schema uses ─────────────────────────

/** A residual-network depth: Dense layers inside residual blocks of 4 (SPEC §2). */
export const networkDepth = (who: string) =>
  z
    .number()
    .int()
    .min(0)
    .refine((d) => d % 4 === 0, { message: "must be a multiple of 4 (Dense layers inside residual blocks of 4)" })
    .describe(`${who} depth: Dense layers inside residual blocks (multiple of 4; SPEC §2)`);

/** The actor network's size: every agent has one. */
export const ACTOR_NETWORK = {
  actorDepth: networkDepth("Actor").default(4),
  actorWidth: z.number().int().min(1).default(256).describe("Actor width"),
};

/** The critic networks' size; `each` names what one critic is (e.g. "each encoder"). */
export const criticNetwork = (each: string) => ({
  criticDepth: networkDepth(`Critic (${each})`).default(4),
  criticWidth: z.number().int().min(1).default(256).describe(`Critic width (${each})`),
});

/** Options of how the networks run (not what they compute): every agent has them. */
export const NETWORK_RUN_OPTIONS = {
  recompute: z.boolean().default(false).describe("Activation checkpointing per residual block (less memory, ~1.3× compute)"),
  precision: z
    .enum(PRECISIONS)
    .default("fp32")
    .describe(
      "GEMM operands of the networks' residual blocks: fp32, or bf16 with fp32 accumulation (AVX512_BF16 CPUs; elsewhere it runs fp32 and says why); without this flag, FATHOM_PRECISION applies when set",
    ),
};

// ───────────────────────── small helpers the algorithm files share ─────────────────────────

/** out[i] = a[i] ++ b[i] for `rows` rows (a: [rows, aDim], b: [rows, bDim], out: [rows, aDim + bDim]). */
export function concatRows(a: Float32Array, aDim: number, b: Float32Array, bDim: number, rows: number, out: Float32Array): void {
  const w = aDim + bDim;
  for (let i = 0; i < rows; i++) {
    const o = i * w;
    for (let k = 0; k < aDim; k++) out[o + k] = a[i * aDim + k];
    for (let k = 0; k < bDim; k++) out[o + aDim + k] = b[i * bDim + k];
  }
}

/** out[i] = a[i] ++ b[i] ++ c[i] for `rows` rows. */
export function concat3Rows(
  a: Float32Array,
  aDim: number,
  b: Float32Array,
  bDim: number,
  c: Float32Array,
  cDim: number,
  rows: number,
  out: Float32Array,
): void {
  const w = aDim + bDim + cDim;
  for (let i = 0; i < rows; i++) {
    const o = i * w;
    for (let k = 0; k < aDim; k++) out[o + k] = a[i * aDim + k];
    for (let k = 0; k < bDim; k++) out[o + aDim + k] = b[i * bDim + k];
    for (let k = 0; k < cDim; k++) out[o + aDim + bDim + k] = c[i * cDim + k];
  }
}

/** Target ← (1 − τ)·target + τ·online, elementwise over n parameters (Polyak averaging). */
export function polyakUpdate(target: Float32Array, online: Float32Array, tau: number, n: number): void {
  const keep = 1 - tau;
  for (let i = 0; i < n; i++) target[i] = keep * target[i] + tau * online[i];
}

/** Adam (β = 0.9, 0.999; ε = 1e-8) on one scalar, e.g. log α; its state is four numbers. */
export class ScalarAdam {
  m = 0;
  v = 0;
  step = 0;
  constructor(readonly lr: number) {}

  /** The updated value of `x` after one step with gradient g. */
  apply(x: number, g: number): number {
    const b1 = 0.9;
    const b2 = 0.999;
    this.step++;
    this.m = b1 * this.m + (1 - b1) * g;
    this.v = b2 * this.v + (1 - b2) * g * g;
    const mh = this.m / (1 - b1 ** this.step);
    const vh = this.v / (1 - b2 ** this.step);
    return x - (this.lr * mh) / (Math.sqrt(vh) + 1e-8);
  }
}

/** An rng's exact state as a checkpoint tensor ("rng.state": key, counter, spare, spare word, normal spare). */
export function rngStateTensor(rng: Rng): Tensor {
  const s = rng.state();
  return { dtype: "F64", shape: [6], data: new Float64Array([s.key[0], s.key[1], s.counter, s.spare, s.spareWord, s.normalSpare]) };
}

/** The rng rngStateTensor saved; a missing or malformed tensor is an error naming `what`. */
export function rngFromStateTensor(t: Tensor | undefined, what: string): Rng {
  if (!t || t.dtype !== "F64" || t.data.length !== 6) throw new Error(`${what} lacks "rng.state"`);
  const d = t.data;
  return Rng.fromState({ key: [d[0], d[1]], counter: d[2], spare: d[3], spareWord: d[4], normalSpare: d[5] });
}
