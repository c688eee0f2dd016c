// Goal-conditioned behavioural cloning (GCBC) on the paper's residual actor: the offline baseline
// of its claim that depth helps far less without the agent's own exploration (SPEC §7). It learns
// only from a fixed dataset (`fathom train --offline`, train/dataset.ts): imitate the action taken
// in s, conditioned on a goal the data actually reached later in the same episode. Read top to bottom:
//   1. config   2. the loss (pure function)   3. networks   4. the update   5. acting   6. state
//
// Reference: OGBench impls/agents/gcbc.py (the paper's offline experiments use OGBench). Its
// defaults: lr 3e-4, batch 1024, a Gaussian actor with constant σ = 1 (const_std), actor goals
// uniform over the future states of the same trajectory (actor_p_trajgoal 1, actor_geom_sample
// False), evaluation with the mode clipped to [−1, 1]. Departures:
//
// | what           | OGBench                                   | here                                                    |
// |----------------|-------------------------------------------|---------------------------------------------------------|
// | network        | MLP 3 × 512, GELU, LayerNorm              | the paper's ResNet (SPEC §2), depth and width as CRL's actor (depth is what the comparison varies) |
// | future goal    | uniform over the rest of the trajectory   | uniform over the rest of the episode inside the sampled window (the hindsight sampler, γ = 1; `--discounting` < 1 gives CRL's geometric law) |
// | goal of a row without a future | the row itself (never drawn: p_curgoal 0) | the row itself (Δ = 0, only for an episode's last row in the window) |
import { z } from "zod";
import type { Backend } from "../engine/backend.js";
import { type CompositeKernels, compositeKernels } from "../engine/composite.js";
import { Adam } from "../nn/adam.js";
import { ResNet } from "../nn/resnet.js";
import type { Tensor } from "../nn/safetensors.js";
import { adamTensors, checkAdamTensors, checkParamTensors, loadAdamTensors, loadParamTensors, paramTensors } from "../nn/serialize.js";
import { type Key, Rng, split } from "../random.js";
import type { ReplayBuffer } from "../replay/buffer.js";
import { type HindsightBatch, HindsightSampler } from "../replay/sampler.js";
import {
  ACTOR_NETWORK,
  actChunkRows,
  actInChunks,
  type Agent,
  type AgentDims,
  type AgentFootprint,
  type BatchSource,
  concatRows,
  NETWORK_RUN_OPTIONS,
  NonFiniteError,
  type SamplerEnv,
  type SamplerLoop,
} from "./agent.js";

// ───────────────────────────── 1. config ─────────────────────────────

/** GCBC's hyperparameters: OGBench's defaults on CRL's actor. */
export const GCBCConfigSchema = z.object({
  ...ACTOR_NETWORK,
  batchSize: z.number().int().min(1).max(8192).default(1024).describe("Tuples per gradient step (OGBench GCBC: 1024)"),
  lr: z.number().gt(0).default(3e-4).describe("Adam learning rate (OGBench GCBC: 3e-4)"),
  discounting: z
    .number()
    .gt(0)
    .max(1)
    .default(1)
    .describe("γ of the goal offset law P(Δ) ∝ γ^Δ: 1 = uniform over the episode's future rows (OGBench GCBC), < 1 = CRL's geometric law"),
  ...NETWORK_RUN_OPTIONS,
});

export type GCBCConfig = z.output<typeof GCBCConfigSchema>;
export const GCBC_DEFAULTS: GCBCConfig = GCBCConfigSchema.parse({});

/** The metrics of one update, in the order they are logged (training/<name>); GCBCMetrics is derived from it. */
export const GCBC_METRIC_NAMES = [
  // −mean log N(a; μ(s, g), I).
  "actor_loss",
  // mean over rows and action dims of (μ − a)² (OGBench's `mse`).
  "mse",
  "grad_norm_actor",
] as const;

export type GCBCMetrics = Record<(typeof GCBC_METRIC_NAMES)[number], number>;

// ───────────────────────────── 2. the loss ─────────────────────────────

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * The behavioural-cloning loss with a unit-variance Gaussian policy (OGBench const_std):
 *   L = −mean_i log N(a_i; μ_i, I) = mean_i Σ_k [½(a_ik − μ_ik)² + ½ log 2π],
 * and ∂L/∂μ_ik = (μ_ik − a_ik) / B.   mu, a: [B, A] → dMu [B, A]. Returns the loss and the mse.
 */
export function gcbcLoss(mu: Float32Array, a: Float32Array, B: number, A: number, dMu: Float32Array): { loss: number; mse: number } {
  let sq = 0;
  for (let o = 0; o < B * A; o++) {
    const d = mu[o] - a[o];
    sq += d * d;
    dMu[o] = d / B;
  }
  return { loss: (0.5 * sq) / B + A * HALF_LOG_2PI, mse: sq / (B * A) };
}

// ───────────────────────────── 3. networks ─────────────────────────────

export class GCBCAgent implements Agent<HindsightBatch> {
  readonly name = "gcbc";
  readonly metricNames = GCBC_METRIC_NAMES;
  readonly config: GCBCConfig;
  readonly dims: AgentDims;
  /** μ(s, g): one head, the mean action. */
  readonly actor: ResNet;
  readonly actorOpt: Adam;
  updates = 0;
  private readonly kernels: CompositeKernels;
  private readonly actChunk: number;
  private readonly actorIn: Float32Array; // [B, S+G]
  private readonly dMu: Float32Array; // [B, A]
  private readonly dMuList: Float32Array[];
  private readonly actIn: Float32Array; // [actChunk, S+G]

  constructor(backend: Backend, dims: AgentDims, config: Partial<GCBCConfig>, key: Key, actBatch = 0) {
    this.config = GCBCConfigSchema.parse({ ...GCBC_DEFAULTS, ...config });
    this.dims = { ...dims };
    const c = this.config;
    const { stateDim: S, goalDim: G, actionDim: A } = dims;
    const B = c.batchSize;
    this.actChunk = actChunkRows(B, actBatch);
    const [kActor] = split(key, 2);
    this.actor = new ResNet(backend, {
      inDim: S + G,
      width: c.actorWidth,
      depth: c.actorDepth,
      heads: [{ name: "mean", dim: A }],
      maxBatch: this.actChunk,
      recompute: c.recompute,
      precision: c.precision,
    });
    this.actor.init(new Rng(kActor));
    this.actorOpt = new Adam(backend, this.actor.params, { lr: c.lr });
    this.kernels = compositeKernels(backend);
    this.actorIn = new Float32Array(B * (S + G));
    this.dMu = new Float32Array(B * A);
    this.dMuList = [this.dMu];
    this.actIn = new Float32Array(this.actChunk * (S + G));
  }

  /** (s, a, g) with g the achieved goal of a later row of the same episode (uniform by default). */
  makeSampler(buffer: ReplayBuffer, env: SamplerEnv, loop: SamplerLoop): BatchSource<HindsightBatch> {
    return new HindsightSampler(buffer, {
      stateDim: env.stateDim,
      goalIndices: env.goalIndices,
      actionDim: this.dims.actionDim,
      goalDim: this.dims.goalDim,
      batchSize: this.config.batchSize,
      windowLength: loop.windowLength,
      gamma: this.config.discounting,
      maxBatches: loop.maxBatches,
    });
  }

  updateOn(batch: HindsightBatch, out: Float64Array): void {
    const m = this.update(batch);
    for (let k = 0; k < GCBC_METRIC_NAMES.length; k++) out[k] = m[GCBC_METRIC_NAMES[k]];
  }

  // ─────────────────────────── 4. the update ───────────────────────────

  /** One behavioural-cloning step: state [B, S], action [B, A], goal [B, G]. */
  update(batch: HindsightBatch): GCBCMetrics {
    const g = this.gradients(batch.state, batch.action, batch.goal);
    this.actorOpt.update();
    this.updates++;
    return { actor_loss: g.loss, mse: g.mse, grad_norm_actor: Math.sqrt(g.gradSq) };
  }

  /** The loss and its gradient into actor.params.grad, checked; applies nothing. */
  gradients(state: Float32Array, action: Float32Array, goal: Float32Array): { loss: number; mse: number; gradSq: number } {
    const { stateDim: S, goalDim: G, actionDim: A } = this.dims;
    const B = this.config.batchSize;
    concatRows(state, S, goal, G, B, this.actorIn);
    const mu = this.actor.forward(this.actorIn, B)[0];
    const { loss, mse } = gcbcLoss(mu, action, B, A, this.dMu);
    if (!Number.isFinite(loss)) throw new NonFiniteError("actor", "actor_loss", loss);
    this.actor.backward(this.dMuList, false, true, true); // overwrite: no zeroGrad pass
    const gradSq = this.kernels.sumSquares(this.actor.params.grad, this.actor.params.numel);
    if (!Number.isFinite(gradSq)) throw new NonFiniteError("actor", "actor gradient", gradSq);
    return { loss, mse, gradSq };
  }

  // ─────────────────────────── 5. acting ───────────────────────────

  /** deterministic: clip(μ, −1, 1) (evaluation); otherwise clip(μ + ε, −1, 1), ε ~ N(0, I) from `rng` (the policy's σ = 1). */
  act(obs: Float32Array, n: number, out: Float32Array, deterministic: boolean, rng?: Rng): void {
    const { stateDim: S, goalDim: G, actionDim: A } = this.dims;
    actInChunks(obs, n, S + G, this.actChunk, this.actIn, deterministic, rng, (m, start) => {
      const [mu] = this.actor.forward(this.actIn, m);
      for (let i = 0; i < m * A; i++) {
        const a = deterministic ? mu[i] : mu[i] + rng!.normal();
        out[start * A + i] = Math.min(1, Math.max(-1, a));
      }
    });
  }

  // ─────────────────────────── 6. state ───────────────────────────

  stateTensors(): Map<string, Tensor> {
    const t = new Map<string, Tensor>();
    for (const [n, v] of paramTensors(this.actor.params, "actor.")) t.set(n, v);
    for (const [n, v] of adamTensors(this.actorOpt, "optim.actor.")) t.set(n, v);
    t.set("gcbc.state", { dtype: "F64", shape: [1], data: new Float64Array([this.updates]) });
    return t;
  }

  loadStateTensors(t: ReadonlyMap<string, Tensor>, what = "checkpoint"): void {
    checkParamTensors(this.actor.params, t, "actor.", what);
    checkAdamTensors(this.actorOpt, t, "optim.actor.", what);
    const s = t.get("gcbc.state");
    if (!s || s.data.length !== 1) throw new Error(`${what} lacks "gcbc.state" (the update count)`);
    loadParamTensors(this.actor.params, t, "actor.", what);
    loadAdamTensors(this.actorOpt, t, "optim.actor.", what);
    this.updates = s.data[0];
  }
}

/** What a GCBCAgent built with this config allocates (train/limits.ts). */
export function gcbcFootprint(dims: AgentDims, c: GCBCConfig, actBatch: number): AgentFootprint {
  const { stateDim: S, goalDim: G, actionDim: A } = dims;
  const B = c.batchSize;
  const actChunk = actChunkRows(B, actBatch);
  return {
    networks: [
      {
        name: "actor",
        shape: { inDim: S + G, width: c.actorWidth, depth: c.actorDepth, heads: [A], maxBatch: actChunk, recompute: c.recompute, headNorm: false },
        copies: 1,
        optimised: true,
      },
    ],
    scratchFloats: B * (S + G) + B * A + actChunk * (S + G),
    samplerTupleFloats: S + A + G + 3,
  };
}
