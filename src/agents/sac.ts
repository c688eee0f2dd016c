// Soft Actor-Critic (Haarnoja et al. 2018), goal-conditioned, and SAC with hindsight relabelling
// (SAC+HER), on the paper's residual networks: the baselines of its claim that depth does not help
// the standard algorithms (SPEC §7). Read top to bottom:
//   1. config   2. losses (pure functions)   3. networks   4. the update   5. acting   6. state
// The twin critic (Q1, Q2, their targets, the TD regression) is shared with TD3 (./td.ts); the
// transitions, sparse rewards and HER goals come from replay/transitions.ts.
//
// Reference: JaxGCRL agents/sac/sac.py (loop, HER) over Brax training/agents/sac (losses,
// networks). Hyperparameters are JaxGCRL's SAC defaults (lr 1e-4, α lr 3e-4, γ 0.9, τ 0.005,
// batch 256, target entropy −0.5·|A|, reward scaling 1). Departures:
//
// | what                      | reference                                   | here                                              |
// |---------------------------|---------------------------------------------|---------------------------------------------------|
// | networks                  | MLPs 2 × 256, ReLU, lecun-uniform init      | the paper's ResNet (SPEC §2: Dense → LayerNorm → Swish, residual blocks of 4), its init; depth and width as CRL's (depth is what the comparison varies) |
// | actor's σ                 | softplus(raw) + 0.001                       | log σ = −5 + 3.5·(tanh(raw) + 1) ∈ [−5, 2], CRL's actor (SPEC §2) and its kernels |
// | tanh term of log π        | exact (Brax's TanhBijector)                 | the same: −log(1 − tanh²x), engine/composite.ts "exact" |
// | α loss                    | its own sample of π(·|s, g)                 | the actor step's sample (same policy, same law: one actor forward fewer) |
// | evaluation                | stochastic (deterministic_eval = False)     | deterministic tanh(μ), as every Fathom agent (train/evaluate.ts) |
// | last step of an episode   | masked at truncation, bootstrapped ×0 at termination | left out of the batches (the buffer has no final observation) |
// | HER reward                | recomputed on s_t                           | on s_{t+1}, the env's success (replay/transitions.ts) |
// Unchanged: the order of one update — α step, critic step with the old α, actor step through the
// *updated* critics with the old α, then the targets (Polyak τ); the twin-critic minimum in the
// target and in the actor loss. Since the actor learns from the updated critics, a NonFiniteError
// in the actor step comes after that update's critic step was applied (a non-finite critic loss or
// gradient is caught before anything is applied).
import { z } from "zod";
import type { Backend } from "../engine/backend.js";
import { type CompositeKernels, compositeKernels } from "../engine/composite.js";
import { Adam } from "../nn/adam.js";
import { ResNet } from "../nn/resnet.js";
import type { Tensor } from "../nn/safetensors.js";
import { adamTensors, checkAdamTensors, checkParamTensors, loadAdamTensors, loadParamTensors, paramTensors } from "../nn/serialize.js";
import { type Key, Rng, split } from "../random.js";
import type { ReplayBuffer } from "../replay/buffer.js";
import type { TransitionBatch } from "../replay/transitions.js";
import {
  ACTOR_NETWORK,
  actChunkRows,
  actInChunks,
  type Agent,
  type AgentDims,
  type AgentFootprint,
  type BatchSource,
  concat3Rows,
  concatRows,
  criticNetwork,
  NETWORK_RUN_OPTIONS,
  NonFiniteError,
  rngFromStateTensor,
  rngStateTensor,
  type SamplerEnv,
  type SamplerLoop,
  ScalarAdam,
  tanhGaussianActions,
  gaussianActorHeads,
} from "./agent.js";
import { TwinCritic, tdSampler, twinCriticConfig, twinCriticShapes } from "./td.js";

// ───────────────────────────── 1. config ─────────────────────────────

/** SAC's hyperparameters (the same for `--agent sac` and `--agent sac_her`): JaxGCRL's defaults. */
export const SACConfigSchema = z.object({
  ...ACTOR_NETWORK,
  ...criticNetwork("each of Q1, Q2"),
  batchSize: z.number().int().min(1).max(8192).default(256).describe("Transitions per gradient step (JaxGCRL SAC: 256)"),
  lr: z.number().gt(0).default(1e-4).describe("Adam learning rate of the actor and the critics (JaxGCRL SAC: 1e-4)"),
  alphaLr: z.number().gt(0).default(3e-4).describe("Adam learning rate of log α (JaxGCRL SAC: 3e-4)"),
  discounting: z.number().gt(0).lt(1).default(0.9).describe("TD discount γ (JaxGCRL SAC: 0.9)"),
  tau: z.number().gt(0).max(1).default(0.005).describe("Polyak rate of the target critics (JaxGCRL: 0.005)"),
  targetEntropyCoef: z.number().max(0).default(-0.5).describe("Target entropy of the α loss = coef × |A| (Brax SAC: −0.5)"),
  ...NETWORK_RUN_OPTIONS,
});

export type SACConfig = z.output<typeof SACConfigSchema>;
export const SAC_DEFAULTS: SACConfig = SACConfigSchema.parse({});

/** The metrics of one update, in the order they are logged (training/<name>); SACMetrics is derived from it. */
export const SAC_METRIC_NAMES = [
  "critic_loss",
  "actor_loss",
  "alpha_loss",
  "log_alpha",
  // −mean log π of the actor step's sample.
  "entropy",
  // Batch mean of Q1(s, g, a) and of the TD target y.
  "q_mean",
  "target_mean",
  // Fraction of the batch with reward 1, and with a relabelled goal.
  "reward_mean",
  "relabelled",
  "grad_norm_actor",
  "grad_norm_critic",
] as const;

export type SACMetrics = Record<(typeof SAC_METRIC_NAMES)[number], number>;

// ───────────────────────────── 2. losses ─────────────────────────────

/**
 * The soft TD target (Brax sac/losses.py critic_loss), held fixed in the critic loss:
 *   y_i = r_i + γ · (min(Q1′, Q2′)(s′_i, g_i, a′_i) − α · log π(a′_i | s′_i, g_i)),  a′ ~ π(·|s′, g).
 * reward, minNextQ, nextLogp: [B] → out [B].
 */
export function sacTarget(reward: Float32Array, minNextQ: Float64Array, nextLogp: Float64Array, alpha: number, gamma: number, B: number, out: Float64Array): void {
  for (let i = 0; i < B; i++) out[i] = reward[i] + gamma * (minNextQ[i] - alpha * nextLogp[i]);
}

/**
 * The actor loss L = mean_i(α · log π(a_i | s_i, g_i) − min(Q1, Q2)(s_i, g_i, a_i)), a ~ π, and its
 * gradient: ∂L/∂log π_i = α/B; ∂L/∂Q_k,i = −1/B for the critic that is the minimum (Q1 on ties),
 * 0 for the other. logp, q1, q2: [B] → dLogp, dQ1, dQ2: [B].
 */
export function sacActorLoss(
  logp: Float64Array,
  q1: Float32Array,
  q2: Float32Array,
  alpha: number,
  B: number,
  dLogp: Float64Array,
  dQ1: Float32Array,
  dQ2: Float32Array,
): number {
  let loss = 0;
  for (let i = 0; i < B; i++) {
    const first = q1[i] <= q2[i];
    loss += (alpha * logp[i] - (first ? q1[i] : q2[i])) / B;
    dLogp[i] = alpha / B;
    dQ1[i] = first ? -1 / B : 0;
    dQ2[i] = first ? 0 : -1 / B;
  }
  return loss;
}

/**
 * The temperature loss L(log α) = α · mean_i(−log π_i − H̄), the bracket held fixed (Brax
 * alpha_loss; H̄ = target entropy); ∂L/∂log α = L. logp: [B].
 */
export function alphaLoss(logp: Float64Array, B: number, logAlpha: number, targetEntropy: number): { loss: number; grad: number } {
  let m = 0;
  for (let i = 0; i < B; i++) m += (-logp[i] - targetEntropy) / B;
  const loss = Math.exp(logAlpha) * m;
  return { loss, grad: loss };
}

// ───────────────────────────── 3. networks ─────────────────────────────

/** SAC (relabel "none": trained for the commanded goals) or SAC+HER (relabel "final"). */
export class SACAgent implements Agent<TransitionBatch> {
  readonly name: "sac" | "sac_her";
  readonly metricNames = SAC_METRIC_NAMES;
  readonly config: SACConfig;
  readonly dims: AgentDims;
  /** π(a | s, g): heads mean and raw log-std (CRL's actor). */
  readonly actor: ResNet;
  readonly actorOpt: Adam;
  /** Q1, Q2 on (s, g, a) and their targets. */
  readonly critic: TwinCritic;
  logAlpha = 0;
  private readonly alphaOpt: ScalarAdam;
  /** Gradient steps taken. */
  updates = 0;
  readonly targetEntropy: number;
  private rng: Rng;
  private readonly kernels: CompositeKernels;
  private readonly actChunk: number;

  // batch buffers (B = batchSize; S, G, A = state, goal, action dims)
  private readonly actorIn: Float32Array; // [B, S+G]
  private readonly qIn: Float32Array; // [B, S+G+A]
  private readonly eps: Float32Array; // [B, A]
  private readonly xs: Float32Array; // [B, A] pre-tanh sample
  private readonly acts: Float32Array; // [B, A]
  private readonly logp: Float64Array; // [B]
  private readonly y: Float64Array; // [B] min target Q, then the TD target
  private readonly dLogp: Float64Array; // [B]
  private readonly dQ1: Float32Array; // [B]
  private readonly dQ2: Float32Array; // [B]
  private readonly dA: Float32Array; // [B, A]
  private readonly dMean: Float32Array; // [B, A]
  private readonly dRaw: Float32Array; // [B, A]
  private readonly dActorList: Float32Array[];
  private readonly dQ1List: Float32Array[];
  private readonly dQ2List: Float32Array[];
  private readonly actIn: Float32Array; // [actChunk, S+G]

  constructor(backend: Backend, dims: AgentDims, config: Partial<SACConfig>, key: Key, actBatch = 0, her = false) {
    this.name = her ? "sac_her" : "sac";
    this.config = SACConfigSchema.parse({ ...SAC_DEFAULTS, ...config });
    this.dims = { ...dims };
    const c = this.config;
    const { stateDim: S, goalDim: G, actionDim: A } = dims;
    const B = c.batchSize;
    this.targetEntropy = c.targetEntropyCoef * A;
    this.actChunk = actChunkRows(B, actBatch);
    const [kActor, kCritic, kRng] = split(key, 3);
    this.actor = new ResNet(backend, {
      inDim: S + G,
      width: c.actorWidth,
      depth: c.actorDepth,
      heads: gaussianActorHeads(A),
      maxBatch: this.actChunk,
      recompute: c.recompute,
      precision: c.precision,
    });
    this.actor.init(new Rng(kActor));
    this.actorOpt = new Adam(backend, this.actor.params, { lr: c.lr });
    this.critic = new TwinCritic(backend, twinCriticConfig(dims, c), kCritic);
    this.alphaOpt = new ScalarAdam(c.alphaLr);
    this.rng = new Rng(kRng);
    this.kernels = compositeKernels(backend);
    this.actorIn = new Float32Array(B * (S + G));
    this.qIn = new Float32Array(B * (S + G + A));
    this.eps = new Float32Array(B * A);
    this.xs = new Float32Array(B * A);
    this.acts = new Float32Array(B * A);
    this.logp = new Float64Array(B);
    this.y = new Float64Array(B);
    this.dLogp = new Float64Array(B);
    this.dQ1 = new Float32Array(B);
    this.dQ2 = new Float32Array(B);
    this.dA = new Float32Array(B * A);
    this.dMean = new Float32Array(B * A);
    this.dRaw = new Float32Array(B * A);
    this.dActorList = [this.dMean, this.dRaw];
    this.dQ1List = [this.dQ1];
    this.dQ2List = [this.dQ2];
    this.actIn = new Float32Array(this.actChunk * (S + G));
  }

  get alpha(): number {
    return Math.exp(this.logAlpha);
  }

  /** Transitions with the sparse reward; SAC+HER relabels goals with the episode's final achieved goal (the reference's HER). */
  makeSampler(buffer: ReplayBuffer, env: SamplerEnv, loop: SamplerLoop): BatchSource<TransitionBatch> {
    return tdSampler(buffer, env, loop, this.config.batchSize, this.name === "sac_her" ? "final" : "none");
  }

  updateOn(batch: TransitionBatch, out: Float64Array): void {
    const m = this.update(batch);
    for (let k = 0; k < SAC_METRIC_NAMES.length; k++) out[k] = m[SAC_METRIC_NAMES[k]];
  }

  /** a = tanh(μ + σ·eps) ~ π(·|s, g) for the B rows of actorIn: writes xs, acts, logp; returns the heads (mean, raw). */
  private samplePolicy(eps: Float32Array, B: number): Float32Array[] {
    const A = this.dims.actionDim;
    const heads = this.actor.forward(this.actorIn, B);
    this.kernels.tanhGaussianSample(heads[0], heads[1], eps, B, A, this.xs, this.acts, this.logp, "exact");
    return heads;
  }

  // ─────────────────────────── 4. the update ───────────────────────────

  /** One SAC gradient step on a batch of transitions (see the file header for the order). */
  update(batch: TransitionBatch): SACMetrics {
    const { stateDim: S, goalDim: G, actionDim: A } = this.dims;
    const c = this.config;
    const B = c.batchSize;
    const alpha = this.alpha; // the old α for the critic and the actor (the reference's order)

    // ── critic: 0.5 · mean_{i,k}(Q_k(s, g, a) − y)²,  y = r + γ(min Q′(s′, g, a′) − α log π(a′|s′, g)) ──
    concatRows(batch.nextState, S, batch.goal, G, B, this.actorIn);
    this.rng.fillNormal(this.eps, B * A);
    this.samplePolicy(this.eps, B);
    concat3Rows(batch.nextState, S, batch.goal, G, this.acts, A, B, this.qIn);
    this.critic.targetMin(this.qIn, B, this.y);
    sacTarget(batch.reward, this.y, this.logp, alpha, c.discounting, B, this.y);
    const critic = this.critic.step(batch, this.dims, this.y, this.qIn, B);

    // ── actor: mean(α log π(a|s, g) − min(Q1, Q2)(s, g, a)), a ~ π, through the updated critics ──
    this.rng.fillNormal(this.eps, B * A);
    const actor = this.actorGradients(batch.state, batch.goal, this.eps, alpha);

    // ── α: α · mean(−log π − H̄) on the actor step's sample ──
    const a = alphaLoss(this.logp, B, this.logAlpha, this.targetEntropy);
    if (!Number.isFinite(a.grad)) throw new NonFiniteError("alpha", "alpha gradient", a.grad);
    let entropy = 0;
    for (let i = 0; i < B; i++) entropy -= this.logp[i] / B;

    this.actorOpt.update();
    this.logAlpha = this.alphaOpt.apply(this.logAlpha, a.grad);
    this.critic.updateTargets(c.tau);
    this.updates++;
    return {
      critic_loss: critic.loss,
      actor_loss: actor.loss,
      alpha_loss: a.loss,
      log_alpha: this.logAlpha,
      entropy,
      q_mean: critic.qMean,
      target_mean: critic.targetMean,
      reward_mean: critic.rewardMean,
      relabelled: critic.relabelled,
      grad_norm_actor: Math.sqrt(actor.gradSq),
      grad_norm_critic: Math.sqrt(critic.gradSq),
    };
  }

  /**
   * The actor loss mean(α log π(a|s, g) − min(Q1, Q2)(s, g, a)) with a = tanh(μ + σ·eps), and its
   * gradient into actor.params.grad (through each critic's input; the critics' own gradients are left
   * unspecified: the next critic step zeroes them); leaves log π of the sample in this.logp. Checked;
   * applies nothing.
   * state [B, S], goal [B, G], eps [B, A].
   */
  actorGradients(state: Float32Array, goal: Float32Array, eps: Float32Array, alpha = this.alpha): { loss: number; gradSq: number } {
    const { stateDim: S, goalDim: G, actionDim: A } = this.dims;
    const B = this.config.batchSize;
    const k = this.kernels;
    concatRows(state, S, goal, G, B, this.actorIn);
    const [, raw] = this.samplePolicy(eps, B);
    concat3Rows(state, S, goal, G, this.acts, A, B, this.qIn);
    const q1 = this.critic.q[0].forward(this.qIn, B)[0];
    const q2 = this.critic.q[1].forward(this.qIn, B)[0];
    const loss = sacActorLoss(this.logp, q1, q2, alpha, B, this.dLogp, this.dQ1, this.dQ2);
    if (!Number.isFinite(loss)) throw new NonFiniteError("actor", "actor_loss", loss);
    const W = S + G + A;
    const dx1 = this.critic.q[0].backward(this.dQ1List, true, false)!;
    for (let i = 0; i < B; i++) for (let j = 0; j < A; j++) this.dA[i * A + j] = dx1[i * W + S + G + j];
    const dx2 = this.critic.q[1].backward(this.dQ2List, true, false)!;
    for (let i = 0; i < B; i++) for (let j = 0; j < A; j++) this.dA[i * A + j] += dx2[i * W + S + G + j];
    k.tanhGaussianBackward(raw, eps, this.acts, this.dLogp, this.dA, B, A, this.dMean, this.dRaw, "exact", this.xs);
    this.actor.backward(this.dActorList, false, true, true); // overwrite: no zeroGrad pass
    const gradSq = k.sumSquares(this.actor.params.grad, this.actor.params.numel);
    if (!Number.isFinite(gradSq)) throw new NonFiniteError("actor", "actor gradient", gradSq);
    return { loss, gradSq };
  }

  // ─────────────────────────── 5. acting ───────────────────────────

  /** deterministic: tanh(μ) (evaluation); otherwise a ~ tanh(μ + σ·ε) with ε from `rng` (collection). */
  act(obs: Float32Array, n: number, out: Float32Array, deterministic: boolean, rng?: Rng): void {
    const { stateDim: S, goalDim: G, actionDim: A } = this.dims;
    actInChunks(obs, n, S + G, this.actChunk, this.actIn, deterministic, rng, (m, start) => {
      const [mean, raw] = this.actor.forward(this.actIn, m);
      tanhGaussianActions(mean, raw, 0, m * A, deterministic, rng, out, start * A);
    });
  }

  // ─────────────────────────── 6. state ───────────────────────────

  /** Actor, critics and their targets, optimisers, log α and its Adam state, update count, rng. */
  stateTensors(): Map<string, Tensor> {
    const t = new Map<string, Tensor>();
    for (const [n, v] of paramTensors(this.actor.params, "actor.")) t.set(n, v);
    for (const [n, v] of adamTensors(this.actorOpt, "optim.actor.")) t.set(n, v);
    this.critic.stateTensors(t);
    const o = this.alphaOpt;
    t.set("alpha.state", { dtype: "F64", shape: [5], data: new Float64Array([this.logAlpha, o.m, o.v, o.step, this.updates]) });
    t.set("rng.state", rngStateTensor(this.rng));
    return t;
  }

  loadStateTensors(t: ReadonlyMap<string, Tensor>, what = "checkpoint"): void {
    checkParamTensors(this.actor.params, t, "actor.", what);
    checkAdamTensors(this.actorOpt, t, "optim.actor.", what);
    this.critic.checkStateTensors(t, what);
    const a = t.get("alpha.state");
    if (!a || a.data.length !== 5) throw new Error(`${what} lacks "alpha.state" (log α and its optimizer)`);
    const rng = rngFromStateTensor(t.get("rng.state"), what);
    loadParamTensors(this.actor.params, t, "actor.", what);
    loadAdamTensors(this.actorOpt, t, "optim.actor.", what);
    this.critic.loadStateTensors(t, what);
    [this.logAlpha, this.alphaOpt.m, this.alphaOpt.v, this.alphaOpt.step, this.updates] = Array.from(a.data);
    this.rng = rng;
  }
}

/** What a SACAgent built with this config allocates (train/limits.ts). */
export function sacFootprint(dims: AgentDims, c: SACConfig, actBatch: number): AgentFootprint {
  const { stateDim: S, goalDim: G, actionDim: A } = dims;
  const B = c.batchSize;
  const actChunk = actChunkRows(B, actBatch);
  return {
    networks: [
      {
        name: "actor",
        shape: { inDim: S + G, width: c.actorWidth, depth: c.actorDepth, heads: [A, A], maxBatch: actChunk, recompute: c.recompute, headNorm: false },
        copies: 1,
        optimised: true,
      },
      ...twinCriticShapes(twinCriticConfig(dims, c)),
    ],
    // actorIn, qIn, eps/xs/acts/dA/dMean/dRaw, logp/y/dLogp (Float64: two floats each), dQ1/dQ2, the acting input
    scratchFloats: B * (S + G) + B * (S + G + A) + 6 * B * A + 2 * 3 * B + 4 * B + actChunk * (S + G),
    samplerTupleFloats: 2 * S + G + A + 4,
  };
}
