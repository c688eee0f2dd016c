// Contrastive RL (CRL) with deep residual networks — SPEC §2–3, read top to bottom:
//   1. config   2. networks (φ(s,a), ψ(g), π(a|s,g))   3. the update (actor + α, then critic)
//   4. acting   5. state for checkpoints
// The losses are pure functions in ./losses.ts; this file wires them to the networks. The B × B
// block of the critic loss, the tanh-Gaussian and the gradient norms run as backend kernels
// (engine/composite.ts), and the update allocates no buffers: every one is made here, once.
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
  criticNetwork,
  NETWORK_RUN_OPTIONS,
  NonFiniteError,
  type SamplerEnv,
  type SamplerLoop,
  tanhGaussianActions,
  gaussianActorHeads,
} from "./agent.js";
import { CONTRASTIVE_LOSSES, ENERGY_FNS, EnergyScratch, LossScratch, logStdFromRaw, rowEnergy, rowEnergyGradPhi, TANH_LOG_DETS } from "./losses.js";

export { NonFiniteError } from "./agent.js";

// ───────────────────────────── 1. config ─────────────────────────────

/**
 * CRL's hyperparameters: the one source of their names, defaults and help (`fathom train --agent
 * crl --help`); train/config.ts adds the loop's keys. Defaults are the paper's (SPEC §3, §5) except
 * the three deep-actor departures marked below (README "Three departures"; `--preset paper`
 * restores the reference's actor).
 */
export const CRLConfigSchema = z.object({
  ...ACTOR_NETWORK,
  ...criticNetwork("each encoder"),
  reprDim: z.number().int().min(1).default(64).describe("Representation dimension of φ(s,a) and ψ(g)"),
  batchSize: z
    .number()
    .int()
    .min(2)
    .max(8192)
    .default(512)
    .describe("Tuples per gradient step, also the contrastive negatives (SPEC §5: 512 in the paper's runs, 256 in its code)"),
  lr: z.number().gt(0).default(3e-4).describe("Adam learning rate of actor, critic and α"),
  discounting: z.number().gt(0).lt(1).default(0.99).describe("γ of the hindsight goal offset law P(Δ) ∝ γ^Δ (SPEC §4)"),
  energyFn: z.enum(ENERGY_FNS).default("norm").describe("Critic energy: norm = −‖φ−ψ‖ (paper), l2 = −‖φ−ψ‖², dot, cosine"),
  contrastiveLoss: z.enum(CONTRASTIVE_LOSSES).default("fwd_infonce").describe("Critic loss"),
  logsumexpPenalty: z.number().min(0).default(0.1).describe("Coefficient of mean(logsumexp²) in the critic loss"),
  targetEntropyCoef: z.number().max(0).default(-0.5).describe("Target entropy of the α loss = coef × |A| (SPEC §3: −0.5)"),
  ...NETWORK_RUN_OPTIONS,
  // ── deep-actor stability (not in the paper; the defaults depart, `--preset paper` does not) ──
  actorHeadNorm: z
    .boolean()
    .default(true)
    .describe("LayerNorm of the actor's residual stream before its heads (not in the paper; keeps deep actors' log-std trainable)"),
  actorHeadInitScale: z
    .number()
    .min(0)
    .default(0.01)
    .describe("Multiplies the init range of the actor's mean and log-std head kernels (1 = paper; 0.01 keeps wide deep actors' log-std trainable)"),
  tanhLogDet: z
    .enum(TANH_LOG_DETS)
    .default("exact")
    .describe("tanh term of log π: reference = −log(1 − a² + 1e-6) (paper's code), exact = −log(1 − tanh² x) (never loses its gradient)"),
  actorLrWarmup: z.number().int().min(0).default(0).describe("Actor learning rate rises linearly over the first N gradient steps (0 = none, paper)"),
  /**
   * Restoring penalty on the raw log-std beyond ±RAW_LOG_STD_BOUND (3, where tanh already gives
   * 99.5 % of the log-std range): c · mean_i Σ_k max(0, |raw_ik| − 3)², added to the actor loss.
   * Gives a saturated log-std dimension a gradient back (tanh′ is ~0 there); 0 = off (paper).
   */
  logStdRawPenalty: z
    .number()
    .min(0)
    .default(0)
    .describe("Restoring penalty c·max(0, |raw log-std| − 3)² on the actor (recovers a saturated log-std; 0 = off, paper)"),
});

export type CRLConfig = z.output<typeof CRLConfigSchema>;

/** Every key at its default (what `fathom train --agent crl` uses unless told otherwise). */
export const CRL_DEFAULTS: CRLConfig = CRLConfigSchema.parse({});

/** The reference's actor (SPEC §2–3): `--preset paper` sets these over CRL_DEFAULTS. */
export const CRL_PAPER_ACTOR = { actorHeadNorm: false, actorHeadInitScale: 1, tanhLogDet: "reference", actorLrWarmup: 0, logStdRawPenalty: 0 } as const;

/** The raw log-std beyond which logStdRawPenalty acts. */
export const RAW_LOG_STD_BOUND = 3;

export type CRLDims = AgentDims;

/** The metrics of one update, in the order they are logged (training/<name>); CRLMetrics is derived from it. */
export const CRL_METRIC_NAMES = [
  "critic_loss",
  "actor_loss",
  "alpha_loss",
  "log_alpha",
  "logsumexp",
  "categorical_accuracy",
  "logits_pos",
  "logits_neg",
  "entropy",
  // smallest and largest over action dims of the batch-mean log σ (SPEC §2 range [−5, 2])
  "log_std_min",
  "log_std_max",
  // action dims whose raw log-std is beyond ±4 (tanh′ < 1.4e-3) for ≥ 90 % of the batch: stuck
  "log_std_stuck_dims",
  // largest |pre-tanh mean| over the batch (≫ 3 means saturated actions)
  "mean_abs_max",
  // L2 norms of each network's gradient in this update
  "grad_norm_actor",
  "grad_norm_sa_encoder",
  "grad_norm_goal_encoder",
] as const;

export type CRLMetrics = Record<(typeof CRL_METRIC_NAMES)[number], number>;

/** Raw log-std beyond this is "saturated" (tanh′(4) = 1.3e-3). */
export const RAW_LOG_STD_STUCK = 4;

/** Options of the agent object that are not part of its configuration (nothing here changes results beyond rounding). */
export interface CRLAgentOptions {
  /**
   * Where the composite kernels (gradient norms, the contrastive B × B block, the tanh-Gaussian)
   * run: "backend" = the backend's own where it has them (default), "typescript" = the shared
   * TypeScript implementations (engine/composite.ts), as the update ran before they became
   * kernels; bench -- crl times both.
   */
  compositeKernels?: "backend" | "typescript";
}

export class CRLAgent implements Agent<HindsightBatch> {
  readonly name = "crl";
  readonly metricNames = CRL_METRIC_NAMES;
  readonly config: CRLConfig;
  readonly dims: CRLDims;
  // ─────────────────────────── 2. networks ───────────────────────────
  /** φ(s, a) ∈ R^reprDim. */
  readonly saEncoder: ResNet;
  /** ψ(g) ∈ R^reprDim. */
  readonly goalEncoder: ResNet;
  /** π(a | s, g): heads mean and raw log-std. */
  readonly actor: ResNet;
  readonly actorOpt: Adam;
  readonly saOpt: Adam;
  readonly goalOpt: Adam;
  /** log α and its Adam state (a scalar, updated in plain TS). */
  logAlpha = 0;
  private alphaM = 0;
  private alphaV = 0;
  alphaStep = 0;
  /** Gradient steps taken. */
  updates = 0;
  private rng: Rng;
  /** The composite kernels the update calls (the backend's, or the shared TypeScript ones). */
  readonly kernels: CompositeKernels;
  readonly targetEntropy: number;

  // batch buffers (B = batchSize, S/G/A = state/goal/action dims, R = reprDim)
  private readonly actorIn: Float32Array; // [B, S+G]
  private readonly saIn: Float32Array; // [B, S+A]
  private readonly eps: Float32Array; // [B, A]
  private readonly xs: Float32Array; // [B, A] pre-tanh sample
  private readonly acts: Float32Array; // [B, A]
  private readonly logp: Float64Array; // [B]
  private readonly qf: Float64Array; // [B]
  private readonly dLogp: Float64Array; // [B]
  private readonly dPhi: Float32Array; // [B, R]
  private readonly dPsi: Float32Array; // [B, R]
  private readonly dA: Float32Array; // [B, A]
  private readonly dMean: Float32Array; // [B, A]
  private readonly dRaw: Float32Array; // [B, A]
  private readonly logits: Float32Array; // [B, B]
  private readonly dLogits: Float32Array; // [B, B] ∂loss/∂logits
  private readonly phiCopy: Float32Array; // [B, R]
  private readonly energyScratch: EnergyScratch;
  private readonly lossScratch: LossScratch;
  // Head-gradient lists for ResNet.backward (made once: the update allocates no arrays).
  private readonly dPhiList: Float32Array[];
  private readonly dPsiList: Float32Array[];
  private readonly dActorList: Float32Array[];
  /** actorDiagnostics' results (see CRLMetrics). */
  private readonly diag = { log_std_min: 0, log_std_max: 0, log_std_stuck_dims: 0, mean_abs_max: 0 };
  /** Rows per actor forward when acting (maxBatch of the actor network). */
  private readonly actChunk: number;
  private readonly actIn: Float32Array; // [actChunk, S+G]

  constructor(backend: Backend, dims: CRLDims, config: Partial<CRLConfig>, key: Key, actBatch = 0, options: CRLAgentOptions = {}) {
    this.config = { ...CRL_DEFAULTS, ...config };
    this.dims = { ...dims };
    const c = this.config;
    const { stateDim: S, goalDim: G, actionDim: A } = dims;
    const B = c.batchSize;
    const R = c.reprDim;
    if (!Number.isInteger(B) || B < 2) throw new Error(`batchSize must be an integer >= 2 (contrastive negatives come from the batch), got ${B}`);
    const where = options.compositeKernels ?? "backend";
    if (where !== "backend" && where !== "typescript") throw new Error(`compositeKernels must be "backend" or "typescript", got ${JSON.stringify(where)}`);
    this.kernels = compositeKernels(backend, where === "backend");
    this.targetEntropy = c.targetEntropyCoef * A;
    this.actChunk = actChunkRows(B, actBatch);
    const [kSa, kG, kActor, kRng] = split(key, 4);
    // the two encoders: the same shape over different inputs
    const encoder = { width: c.criticWidth, depth: c.criticDepth, heads: [{ name: "repr", dim: R }], maxBatch: B, recompute: c.recompute, precision: c.precision };
    this.saEncoder = new ResNet(backend, { inDim: S + A, ...encoder });
    this.goalEncoder = new ResNet(backend, { inDim: G, ...encoder });
    this.actor = new ResNet(backend, {
      inDim: S + G,
      width: c.actorWidth,
      depth: c.actorDepth,
      heads: gaussianActorHeads(A, c.actorHeadInitScale),
      maxBatch: this.actChunk,
      recompute: c.recompute,
      precision: c.precision,
      headNorm: c.actorHeadNorm,
    });
    this.saEncoder.init(new Rng(kSa));
    this.goalEncoder.init(new Rng(kG));
    this.actor.init(new Rng(kActor));
    this.rng = new Rng(kRng);
    const adam = { lr: c.lr };
    this.actorOpt = new Adam(backend, this.actor.params, adam);
    this.saOpt = new Adam(backend, this.saEncoder.params, adam);
    this.goalOpt = new Adam(backend, this.goalEncoder.params, adam);

    this.actorIn = new Float32Array(B * (S + G));
    this.saIn = new Float32Array(B * (S + A));
    this.eps = new Float32Array(B * A);
    this.xs = new Float32Array(B * A);
    this.acts = new Float32Array(B * A);
    this.logp = new Float64Array(B);
    this.qf = new Float64Array(B);
    this.dLogp = new Float64Array(B);
    this.dPhi = new Float32Array(B * R);
    this.dPsi = new Float32Array(B * R);
    this.dA = new Float32Array(B * A);
    this.dMean = new Float32Array(B * A);
    this.dRaw = new Float32Array(B * A);
    this.logits = new Float32Array(B * B);
    this.dLogits = new Float32Array(B * B);
    this.phiCopy = new Float32Array(B * R);
    this.energyScratch = new EnergyScratch(B, R);
    this.lossScratch = new LossScratch(B);
    this.dPhiList = [this.dPhi];
    this.dPsiList = [this.dPsi];
    this.dActorList = [this.dMean, this.dRaw];
    this.actIn = new Float32Array(this.actChunk * (S + G));
  }

  get alpha(): number {
    return Math.exp(this.logAlpha);
  }

  /** Multiply–adds of one update per batch row, for FLOP counts (forward+backward ≈ 3 × fwd). */
  get macsPerUpdateRow(): number {
    // actor step: actor fwd+bwd, φ fwd+bwd (input grad), ψ fwd; critic step: φ, ψ fwd+bwd.
    return 3 * this.actor.macsPerRow + 3 * this.saEncoder.macsPerRow + this.goalEncoder.macsPerRow + 3 * (this.saEncoder.macsPerRow + this.goalEncoder.macsPerRow);
  }

  // ─────────────────────────── 3. the update ───────────────────────────

  /** Hindsight batches (SPEC §4): each tuple's goal is the achieved goal of a future row of its episode, P(Δ) ∝ γ^Δ. */
  makeSampler(buffer: ReplayBuffer, env: SamplerEnv, loop: SamplerLoop): BatchSource<HindsightBatch> {
    return crlSampler(buffer, env, loop, this.dims, this.config);
  }

  /** update() on a sampler batch, its metrics written into out in CRL_METRIC_NAMES order. */
  updateOn(batch: HindsightBatch, out: Float64Array): void {
    const m = this.update(batch.state, batch.action, batch.goal);
    for (let k = 0; k < CRL_METRIC_NAMES.length; k++) out[k] = m[CRL_METRIC_NAMES[k]];
  }

  /**
   * One CRL gradient step on a batch of hindsight tuples (SPEC §3): actor + α first, then the
   * critic, on the same minibatch. state [B, S], action [B, A], goal [B, G] (achieved-goal slice of a
   * future state of the same episode). Every gradient (actor, α, both encoders) is computed and
   * checked before any optimiser applies one, so a NonFiniteError (a non-finite loss or gradient)
   * leaves every parameter, optimiser state and α as they were. (Computing the critic's gradient
   * before the actor's step is applied changes nothing: the actor loss moves only the actor and α,
   * and the critic loss reads neither.)
   */
  update(state: Float32Array, action: Float32Array, goal: Float32Array): CRLMetrics {
    const { stateDim: S, goalDim: G, actionDim: A } = this.dims;
    const B = this.config.batchSize;
    const R = this.config.reprDim;
    const energy = this.config.energyFn;
    const k = this.kernels;

    // ── actor loss: mean(α·log π(a|s,g) − f(s, a, g)), a ~ π, gradients through φ into a ──
    concatRows(state, S, goal, G, B, this.actorIn);
    const heads = this.actor.forward(this.actorIn, B);
    const mean = heads[0];
    const raw = heads[1];
    this.rng.fillNormal(this.eps, B * A);
    const logDet = this.config.tanhLogDet;
    k.tanhGaussianSample(mean, raw, this.eps, B, A, this.xs, this.acts, this.logp, logDet);
    this.actorDiagnostics(mean, raw, B, A);
    concatRows(state, S, this.acts, A, B, this.saIn);
    this.phiCopy.set(this.saEncoder.forward(this.saIn, B)[0]);
    const psi = this.goalEncoder.forward(goal, B)[0];
    rowEnergy(energy, this.phiCopy, psi, B, R, this.qf);
    const alpha = this.alpha;
    let actorLoss = 0;
    let meanLogp = 0;
    for (let i = 0; i < B; i++) {
      actorLoss += (alpha * this.logp[i] - this.qf[i]) / B;
      meanLogp += this.logp[i] / B;
    }
    // ∂loss/∂qf_i = −1/B → ∂loss/∂φ_i, then through φ to its input (only the action part is used).
    rowEnergyGradPhi(energy, this.phiCopy, psi, B, R, -1 / B, this.dPhi);
    // Only ∂/∂action is wanted from φ here (the actor loss does not update the critic).
    const dSaIn = this.saEncoder.backward(this.dPhiList, true, false)!;
    for (let i = 0; i < B; i++) for (let j = 0; j < A; j++) this.dA[i * A + j] = dSaIn[i * (S + A) + S + j];
    this.dLogp.fill(alpha / B);
    k.tanhGaussianBackward(raw, this.eps, this.acts, this.dLogp, this.dA, B, A, this.dMean, this.dRaw, logDet, this.xs);
    const pen = this.config.logStdRawPenalty;
    if (pen > 0) {
      for (let o = 0; o < B * A; o++) {
        const r = raw[o];
        const over = Math.abs(r) - RAW_LOG_STD_BOUND;
        if (over > 0) {
          actorLoss += (pen * over * over) / B;
          this.dRaw[o] += (2 * pen * over * Math.sign(r)) / B;
        }
      }
    }
    if (!Number.isFinite(actorLoss)) throw new NonFiniteError("actor", "actor_loss", actorLoss);
    this.actor.backward(this.dActorList, false, true, true); // overwrite: no zeroGrad pass
    const actorSq = k.sumSquares(this.actor.params.grad, this.actor.params.numel);

    // ── α loss: α · mean(stopgrad(−log π − target_entropy)); d/d log α = α · mean(...) ──
    const alphaTerm = -meanLogp - this.targetEntropy;
    const alphaLoss = alpha * alphaTerm;
    const alphaGrad = alpha * alphaTerm;

    // ── critic loss: InfoNCE over the B×B logits + logsumexp penalty ──
    concatRows(state, S, action, A, B, this.saIn);
    const phiC = this.saEncoder.forward(this.saIn, B)[0];
    // ψ(g) is unchanged (no parameter has moved yet): reuse its output and cache.
    const psiC = psi;
    k.pairwiseEnergy(energy, phiC, psiC, B, R, this.energyScratch, this.logits);
    const stats = k.contrastiveLoss(this.config.contrastiveLoss, this.logits, B, this.config.logsumexpPenalty, this.lossScratch, this.dLogits);
    if (!Number.isFinite(stats.criticLoss)) throw new NonFiniteError("critic", "critic_loss", stats.criticLoss);
    k.pairwiseEnergyBackward(energy, phiC, psiC, this.dLogits, B, R, this.energyScratch, this.dPhi, this.dPsi);
    // overwrite: every gradient entry is written (also those the actor step's pass through φ left)
    this.saEncoder.backward(this.dPhiList, false, true, true);
    this.goalEncoder.backward(this.dPsiList, false, true, true);
    const saSq = k.sumSquares(this.saEncoder.params.grad, this.saEncoder.params.numel);
    const goalSq = k.sumSquares(this.goalEncoder.params.grad, this.goalEncoder.params.numel);

    // ── every gradient is known: check them all, then apply (SPEC §3: Adam on each) ──
    if (!Number.isFinite(actorSq)) throw new NonFiniteError("actor", "actor gradient", actorSq);
    if (!Number.isFinite(alphaGrad)) throw new NonFiniteError("alpha", "alpha gradient", alphaGrad);
    if (!Number.isFinite(saSq)) throw new NonFiniteError("critic (sa_encoder)", "critic gradient", saSq);
    if (!Number.isFinite(goalSq)) throw new NonFiniteError("critic (goal_encoder)", "critic gradient", goalSq);
    const warm = this.config.actorLrWarmup;
    this.actorOpt.update(warm > 0 ? (this.config.lr * Math.min(warm, this.actorOpt.step + 1)) / warm : this.config.lr);
    this.alphaAdam(alphaGrad);
    this.saOpt.update();
    this.goalOpt.update();
    this.updates++;

    const d = this.diag;
    return {
      critic_loss: stats.criticLoss,
      actor_loss: actorLoss,
      alpha_loss: alphaLoss,
      log_alpha: this.logAlpha,
      logsumexp: stats.logsumexp,
      categorical_accuracy: stats.categoricalAccuracy,
      logits_pos: stats.logitsPos,
      logits_neg: stats.logitsNeg,
      entropy: -meanLogp,
      log_std_min: d.log_std_min,
      log_std_max: d.log_std_max,
      log_std_stuck_dims: d.log_std_stuck_dims,
      mean_abs_max: d.mean_abs_max,
      grad_norm_actor: Math.sqrt(actorSq),
      grad_norm_sa_encoder: Math.sqrt(saSq),
      grad_norm_goal_encoder: Math.sqrt(goalSq),
    };
  }

  /** The actor's log-std and mean health over a batch (see CRLMetrics), into this.diag. */
  private actorDiagnostics(mean: Float32Array, raw: Float32Array, B: number, A: number): void {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    let stuck = 0;
    let meanAbsMax = 0;
    for (let k = 0; k < A; k++) {
      let s = 0;
      let nStuck = 0;
      for (let i = 0; i < B; i++) {
        const r = raw[i * A + k];
        s += logStdFromRaw(r);
        if (Math.abs(r) > RAW_LOG_STD_STUCK) nStuck++;
        meanAbsMax = Math.max(meanAbsMax, Math.abs(mean[i * A + k]));
      }
      lo = Math.min(lo, s / B);
      hi = Math.max(hi, s / B);
      if (nStuck >= 0.9 * B) stuck++;
    }
    const d = this.diag;
    d.log_std_min = lo;
    d.log_std_max = hi;
    d.log_std_stuck_dims = stuck;
    d.mean_abs_max = meanAbsMax;
  }

  /** Adam on the scalar log α (same hyperparameters as the networks). */
  private alphaAdam(g: number): void {
    const b1 = 0.9;
    const b2 = 0.999;
    this.alphaStep++;
    this.alphaM = b1 * this.alphaM + (1 - b1) * g;
    this.alphaV = b2 * this.alphaV + (1 - b2) * g * g;
    const mh = this.alphaM / (1 - b1 ** this.alphaStep);
    const vh = this.alphaV / (1 - b2 ** this.alphaStep);
    this.logAlpha -= (this.config.lr * mh) / (Math.sqrt(vh) + 1e-8);
  }

  // ─────────────────────────── 4. acting ───────────────────────────

  /**
   * Actions for N observations (state ++ commanded goal rows, [N, S+G]) into out [N, A].
   * deterministic: tanh(μ) (evaluation); otherwise a ~ tanh(μ + σ·ε) with ε from `rng`.
   */
  act(obs: Float32Array, n: number, out: Float32Array, deterministic: boolean, rng?: Rng): void {
    const { stateDim: S, goalDim: G, actionDim: A } = this.dims;
    actInChunks(obs, n, S + G, this.actChunk, this.actIn, deterministic, rng, (m, start) => {
      const [mean, raw] = this.actor.forward(this.actIn, m);
      tanhGaussianActions(mean, raw, 0, m * A, deterministic, rng, out, start * A);
    });
  }

  // ─────────────────────────── 5. state ───────────────────────────

  /** All learnable state as named tensors (views): networks, optimizers, α, update count, rng. */
  stateTensors(): Map<string, Tensor> {
    const t = new Map<string, Tensor>();
    const add = (m: Map<string, Tensor>) => {
      for (const [k, v] of m) t.set(k, v);
    };
    add(paramTensors(this.actor.params, "actor."));
    add(paramTensors(this.saEncoder.params, "sa_encoder."));
    add(paramTensors(this.goalEncoder.params, "goal_encoder."));
    add(adamTensors(this.actorOpt, "optim.actor."));
    add(adamTensors(this.saOpt, "optim.sa_encoder."));
    add(adamTensors(this.goalOpt, "optim.goal_encoder."));
    const rs = this.rng.state();
    t.set("alpha.state", { dtype: "F64", shape: [5], data: new Float64Array([this.logAlpha, this.alphaM, this.alphaV, this.alphaStep, this.updates]) });
    t.set("rng.state", {
      dtype: "F64",
      shape: [6],
      data: new Float64Array([rs.key[0], rs.key[1], rs.counter, rs.spare, rs.spareWord, Number.isNaN(rs.normalSpare) ? Number.NaN : rs.normalSpare]),
    });
    return t;
  }

  /** Restores stateTensors(); validates everything before changing anything. */
  loadStateTensors(t: ReadonlyMap<string, Tensor>, what = "checkpoint"): void {
    checkParamTensors(this.actor.params, t, "actor.", what);
    checkParamTensors(this.saEncoder.params, t, "sa_encoder.", what);
    checkParamTensors(this.goalEncoder.params, t, "goal_encoder.", what);
    checkAdamTensors(this.actorOpt, t, "optim.actor.", what);
    checkAdamTensors(this.saOpt, t, "optim.sa_encoder.", what);
    checkAdamTensors(this.goalOpt, t, "optim.goal_encoder.", what);
    const a = t.get("alpha.state");
    const r = t.get("rng.state");
    if (!a || a.data.length !== 5) throw new Error(`${what} lacks "alpha.state" (log α and its optimizer)`);
    if (!r || r.data.length !== 6) throw new Error(`${what} lacks "rng.state"`);
    loadParamTensors(this.actor.params, t, "actor.", what);
    loadParamTensors(this.saEncoder.params, t, "sa_encoder.", what);
    loadParamTensors(this.goalEncoder.params, t, "goal_encoder.", what);
    loadAdamTensors(this.actorOpt, t, "optim.actor.", what);
    loadAdamTensors(this.saOpt, t, "optim.sa_encoder.", what);
    loadAdamTensors(this.goalOpt, t, "optim.goal_encoder.", what);
    [this.logAlpha, this.alphaM, this.alphaV, this.alphaStep, this.updates] = Array.from(a.data);
    const d = r.data;
    this.rng = Rng.fromState({ key: [d[0], d[1]], counter: d[2], spare: d[3], spareWord: d[4], normalSpare: d[5] });
  }
}

/** CRL's training batches over `buffer` (CRLAgent.makeSampler; also the WebGPU agent's, crl-webgpu-agent.ts). */
export function crlSampler(buffer: ReplayBuffer, env: SamplerEnv, loop: SamplerLoop, dims: CRLDims, config: CRLConfig): HindsightSampler {
  return new HindsightSampler(buffer, {
    stateDim: env.stateDim,
    goalIndices: env.goalIndices,
    actionDim: dims.actionDim,
    goalDim: dims.goalDim,
    batchSize: config.batchSize,
    windowLength: loop.windowLength,
    gamma: config.discounting,
    maxBatches: loop.maxBatches,
  });
}

/** What a CRLAgent built with this config allocates (train/limits.ts; test/train/limits.test.ts checks it). */
export function crlFootprint(dims: AgentDims, c: CRLConfig, actBatch: number): AgentFootprint {
  const { stateDim: S, goalDim: G, actionDim: A } = dims;
  const B = c.batchSize;
  const R = c.reprDim;
  const actChunk = actChunkRows(B, actBatch); // as the constructor
  const critic = { width: c.criticWidth, depth: c.criticDepth, heads: [R], maxBatch: B, recompute: c.recompute, headNorm: false };
  // batch buffers (a Float64 counts as two floats), EnergyScratch (four B × B arrays) and LossScratch, the acting input
  const buffers = B * (S + G) + B * (S + A) + 6 * B * A + 2 * 3 * B + 3 * B * R + 2 * B * B + actChunk * (S + G);
  return {
    networks: [
      {
        name: "actor",
        shape: { inDim: S + G, width: c.actorWidth, depth: c.actorDepth, heads: [A, A], maxBatch: actChunk, recompute: c.recompute, headNorm: c.actorHeadNorm },
        copies: 1,
        optimised: true,
      },
      { name: "sa encoder", shape: { inDim: S + A, ...critic }, copies: 1, optimised: true },
      { name: "goal encoder", shape: { inDim: G, ...critic }, copies: 1, optimised: true },
    ],
    scratchFloats: buffers + (4 * B * B + 2 * 2 * B + 2 * B * R) + 2 * 2 * B,
    samplerTupleFloats: S + A + G + 3,
  };
}
