// TD3 (Fujimoto et al. 2018) with hindsight relabelling (TD3+HER), goal-conditioned, on the
// paper's residual networks: a baseline of its claim that depth does not help the standard
// algorithms (SPEC §7). Read top to bottom:
//   1. config   2. losses (pure functions)   3. networks   4. the update   5. acting   6. state
// The twin critic (Q1, Q2, their targets, the TD regression) is shared with SAC (./td.ts); the
// transitions, sparse rewards and HER goals come from replay/transitions.ts.
//
// Reference: JaxGCRL agents/td3/{td3,losses,networks}.py. Hyperparameters are its defaults
// (lr 3e-4, γ 0.9, τ 0.005, batch 256, policy delay 2, target smoothing noise 0.2 clipped at 0.5,
// exploration noise 0.4 clipped at 0.5, reward scaling 1, HER as its `use_her`). Departures:
//
// | what                      | reference                                   | here                                              |
// |---------------------------|---------------------------------------------|---------------------------------------------------|
// | networks                  | MLPs 2 × 256, ReLU, lecun-uniform init      | the paper's ResNet (SPEC §2), its init; depth and width as CRL's (depth is what the comparison varies) |
// | target policy update      | (1 − τ)·(online policy before the step) + τ·(online after): the target tracks the online policy one step behind | (1 − τ)·target + τ·online, the TD3 paper's Polyak average |
// | stored exploratory action | μ + noise, not clipped (the env clips it)    | clipped to [−1, 1]: the action the env applied     |
// | last step of an episode   | kept, bootstrapped × (1 − done)             | left out of the batches (the buffer has no final observation) |
// | HER reward                | recomputed on s_t                           | on s_{t+1}, the env's success (replay/transitions.ts) |
// | logged actor_loss         | 0 on the steps without a policy update      | the last policy update's loss                     |
// Unchanged: the critic step every update (target a′ = clip(μ′(s′) + clip(0.2·ε, ±0.5), ±1),
// y = r + γ · min(Q1′, Q2′)(s′, a′)); the actor step −mean Q1(s, μ(s)) through the updated critic
// and both targets' Polyak step on every second update (updates 0, 2, 4, …).
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
  polyakUpdate,
  rngFromStateTensor,
  rngStateTensor,
  type SamplerEnv,
  type SamplerLoop,
} from "./agent.js";
import { TwinCritic, tdSampler, twinCriticConfig, twinCriticShapes } from "./td.js";

// ───────────────────────────── 1. config ─────────────────────────────

/** TD3+HER's hyperparameters: JaxGCRL's TD3 defaults. */
export const TD3ConfigSchema = z.object({
  ...ACTOR_NETWORK,
  ...criticNetwork("each of Q1, Q2"),
  batchSize: z.number().int().min(1).max(8192).default(256).describe("Transitions per gradient step (JaxGCRL TD3: 256)"),
  lr: z.number().gt(0).default(3e-4).describe("Adam learning rate of the actor and the critics (JaxGCRL TD3: 3e-4)"),
  discounting: z.number().gt(0).lt(1).default(0.9).describe("TD discount γ (JaxGCRL TD3: 0.9)"),
  tau: z.number().gt(0).max(1).default(0.005).describe("Polyak rate of the target actor and critics (JaxGCRL: 0.005)"),
  policyDelay: z.number().int().min(1).default(2).describe("Update the actor and the targets every N critic updates (JaxGCRL TD3: 2)"),
  smoothingNoise: z.number().min(0).default(0.2).describe("σ of the Gaussian noise on the target action (JaxGCRL TD3: 0.2)"),
  noiseClip: z.number().min(0).default(0.5).describe("Both noises (target smoothing, exploration) are clipped to ±this (JaxGCRL TD3: 0.5)"),
  explorationNoise: z.number().min(0).default(0.4).describe("σ of the Gaussian noise on collected actions (JaxGCRL TD3: 0.4)"),
  ...NETWORK_RUN_OPTIONS,
});

export type TD3Config = z.output<typeof TD3ConfigSchema>;
export const TD3_DEFAULTS: TD3Config = TD3ConfigSchema.parse({});

/** The metrics of one update, in the order they are logged (training/<name>); TD3Metrics is derived from it. */
export const TD3_METRIC_NAMES = [
  "critic_loss",
  // The last policy update's −mean Q1(s, μ(s)).
  "actor_loss",
  "q_mean",
  "target_mean",
  "reward_mean",
  "relabelled",
  // The last policy update's actor gradient norm.
  "grad_norm_actor",
  "grad_norm_critic",
] as const;

export type TD3Metrics = Record<(typeof TD3_METRIC_NAMES)[number], number>;

// ───────────────────────────── 2. losses ─────────────────────────────

/**
 * The target action with smoothing noise (JaxGCRL td3/losses.py critic_loss):
 *   a′ = clip(μ′ + clip(σ·ε, −c, c), −1, 1).   mu, eps: [n] → out [n].
 */
export function smoothedTargetAction(mu: Float32Array, eps: Float32Array, sigma: number, clip: number, n: number, out: Float32Array): void {
  for (let i = 0; i < n; i++) {
    const noise = Math.min(clip, Math.max(-clip, sigma * eps[i]));
    out[i] = Math.min(1, Math.max(-1, mu[i] + noise));
  }
}

/** The TD target y_i = r_i + γ · min(Q1′, Q2′)(s′_i, g_i, a′_i), held fixed in the critic loss.  [B] → out [B]. */
export function td3Target(reward: Float32Array, minNextQ: Float64Array, gamma: number, B: number, out: Float64Array): void {
  for (let i = 0; i < B; i++) out[i] = reward[i] + gamma * minNextQ[i];
}

/** The actor loss L = −mean_i Q1(s_i, g_i, μ(s_i, g_i)) and ∂L/∂Q1_i = −1/B.  q1: [B] → dQ1 [B]. */
export function td3ActorLoss(q1: Float32Array, B: number, dQ1: Float32Array): number {
  let loss = 0;
  for (let i = 0; i < B; i++) {
    loss -= q1[i] / B;
    dQ1[i] = -1 / B;
  }
  return loss;
}

// ───────────────────────────── 3. networks ─────────────────────────────

export class TD3Agent implements Agent<TransitionBatch> {
  readonly name = "td3_her";
  readonly metricNames = TD3_METRIC_NAMES;
  readonly config: TD3Config;
  readonly dims: AgentDims;
  /** μ(s, g) = tanh(head "mean"). */
  readonly actor: ResNet;
  readonly actorTarget: ResNet;
  readonly actorOpt: Adam;
  readonly critic: TwinCritic;
  /** Gradient steps taken (critic updates). */
  updates = 0;
  private rng: Rng;
  private readonly kernels: CompositeKernels;
  private readonly actChunk: number;
  private lastActorLoss = 0;
  private lastActorGradNorm = 0;

  // batch buffers (B = batchSize)
  private readonly actorIn: Float32Array; // [B, S+G]
  private readonly qIn: Float32Array; // [B, S+G+A]
  private readonly eps: Float32Array; // [B, A]
  private readonly acts: Float32Array; // [B, A]
  private readonly y: Float64Array; // [B]
  private readonly dQ1: Float32Array; // [B]
  private readonly dMean: Float32Array; // [B, A]
  private readonly dMeanList: Float32Array[];
  private readonly dQ1List: Float32Array[];
  private readonly actIn: Float32Array; // [actChunk, S+G]

  constructor(backend: Backend, dims: AgentDims, config: Partial<TD3Config>, key: Key, actBatch = 0) {
    this.config = TD3ConfigSchema.parse({ ...TD3_DEFAULTS, ...config });
    this.dims = { ...dims };
    const c = this.config;
    const { stateDim: S, goalDim: G, actionDim: A } = dims;
    const B = c.batchSize;
    this.actChunk = actChunkRows(B, actBatch);
    const [kActor, kCritic, kRng] = split(key, 3);
    const actorNet = (maxBatch: number) =>
      new ResNet(backend, {
        inDim: S + G,
        width: c.actorWidth,
        depth: c.actorDepth,
        heads: [{ name: "mean", dim: A }],
        maxBatch,
        recompute: c.recompute,
        precision: c.precision,
      });
    this.actor = actorNet(this.actChunk);
    this.actor.init(new Rng(kActor));
    this.actorTarget = actorNet(B);
    this.actorTarget.params.data.set(this.actor.params.data);
    this.actorOpt = new Adam(backend, this.actor.params, { lr: c.lr });
    this.critic = new TwinCritic(backend, twinCriticConfig(dims, c), kCritic);
    this.rng = new Rng(kRng);
    this.kernels = compositeKernels(backend);
    this.actorIn = new Float32Array(B * (S + G));
    this.qIn = new Float32Array(B * (S + G + A));
    this.eps = new Float32Array(B * A);
    this.acts = new Float32Array(B * A);
    this.y = new Float64Array(B);
    this.dQ1 = new Float32Array(B);
    this.dMean = new Float32Array(B * A);
    this.dMeanList = [this.dMean];
    this.dQ1List = [this.dQ1];
    this.actIn = new Float32Array(this.actChunk * (S + G));
  }

  /** Transitions with the sparse reward, goals relabelled with the episode's final achieved goal (the reference's HER). */
  makeSampler(buffer: ReplayBuffer, env: SamplerEnv, loop: SamplerLoop): BatchSource<TransitionBatch> {
    return tdSampler(buffer, env, loop, this.config.batchSize, "final");
  }

  updateOn(batch: TransitionBatch, out: Float64Array): void {
    const m = this.update(batch);
    for (let k = 0; k < TD3_METRIC_NAMES.length; k++) out[k] = m[TD3_METRIC_NAMES[k]];
  }

  // ─────────────────────────── 4. the update ───────────────────────────

  /** One TD3 gradient step: the critic's every time, the actor's and the targets' every policyDelay-th. */
  update(batch: TransitionBatch): TD3Metrics {
    const { stateDim: S, goalDim: G, actionDim: A } = this.dims;
    const c = this.config;
    const B = c.batchSize;

    // ── critic: 0.5 · mean_{i,k}(Q_k(s, g, a) − y)²,  y = r + γ · min Q′(s′, g, a′),  a′ smoothed μ′(s′, g) ──
    concatRows(batch.nextState, S, batch.goal, G, B, this.actorIn);
    const mu = this.actorTarget.forward(this.actorIn, B)[0];
    for (let i = 0; i < B * A; i++) this.acts[i] = Math.tanh(mu[i]);
    this.rng.fillNormal(this.eps, B * A);
    smoothedTargetAction(this.acts, this.eps, c.smoothingNoise, c.noiseClip, B * A, this.acts);
    concat3Rows(batch.nextState, S, batch.goal, G, this.acts, A, B, this.qIn);
    this.critic.targetMin(this.qIn, B, this.y);
    td3Target(batch.reward, this.y, c.discounting, B, this.y);
    const critic = this.critic.step(batch, this.dims, this.y, this.qIn, B);

    // ── actor (every policyDelay updates): −mean Q1(s, g, μ(s, g)) through the updated Q1, then the targets ──
    if (this.updates % c.policyDelay === 0) {
      const actor = this.actorGradients(batch.state, batch.goal);
      this.actorOpt.update();
      polyakUpdate(this.actorTarget.params.data, this.actor.params.data, c.tau, this.actor.params.numel);
      this.critic.updateTargets(c.tau);
      this.lastActorLoss = actor.loss;
      this.lastActorGradNorm = Math.sqrt(actor.gradSq);
    }
    this.updates++;
    return {
      critic_loss: critic.loss,
      actor_loss: this.lastActorLoss,
      q_mean: critic.qMean,
      target_mean: critic.targetMean,
      reward_mean: critic.rewardMean,
      relabelled: critic.relabelled,
      grad_norm_actor: this.lastActorGradNorm,
      grad_norm_critic: Math.sqrt(critic.gradSq),
    };
  }

  /**
   * The actor loss −mean Q1(s, g, tanh(μ(s, g))) and its gradient into actor.params.grad (through
   * Q1's input; Q1's own gradient is left unspecified: the next critic step zeroes it). Checked;
   * applies nothing. state [B, S], goal [B, G].
   */
  actorGradients(state: Float32Array, goal: Float32Array): { loss: number; gradSq: number } {
    const { stateDim: S, goalDim: G, actionDim: A } = this.dims;
    const B = this.config.batchSize;
    concatRows(state, S, goal, G, B, this.actorIn);
    const pre = this.actor.forward(this.actorIn, B)[0];
    for (let i = 0; i < B * A; i++) this.acts[i] = Math.tanh(pre[i]);
    concat3Rows(state, S, goal, G, this.acts, A, B, this.qIn);
    const q1 = this.critic.q[0].forward(this.qIn, B)[0];
    const loss = td3ActorLoss(q1, B, this.dQ1);
    if (!Number.isFinite(loss)) throw new NonFiniteError("actor", "actor_loss", loss);
    const dx = this.critic.q[0].backward(this.dQ1List, true, false)!;
    const W = S + G + A;
    for (let i = 0; i < B; i++) {
      for (let j = 0; j < A; j++) {
        const a = this.acts[i * A + j];
        this.dMean[i * A + j] = dx[i * W + S + G + j] * (1 - a * a); // through a = tanh(pre)
      }
    }
    this.actor.backward(this.dMeanList, false, true, true); // overwrite: no zeroGrad pass
    const gradSq = this.kernels.sumSquares(this.actor.params.grad, this.actor.params.numel);
    if (!Number.isFinite(gradSq)) throw new NonFiniteError("actor", "actor gradient", gradSq);
    return { loss, gradSq };
  }

  // ─────────────────────────── 5. acting ───────────────────────────

  /** deterministic: μ(s, g) (evaluation); otherwise clip(μ + clip(σ·ε, ±noiseClip), ±1) with ε from `rng` (collection). */
  act(obs: Float32Array, n: number, out: Float32Array, deterministic: boolean, rng?: Rng): void {
    const { stateDim: S, goalDim: G, actionDim: A } = this.dims;
    const { explorationNoise: sigma, noiseClip: clip } = this.config;
    actInChunks(obs, n, S + G, this.actChunk, this.actIn, deterministic, rng, (m, start) => {
      const [pre] = this.actor.forward(this.actIn, m);
      for (let i = 0; i < m * A; i++) {
        let a = Math.tanh(pre[i]);
        if (!deterministic) a = Math.min(1, Math.max(-1, a + Math.min(clip, Math.max(-clip, sigma * rng!.normal()))));
        out[start * A + i] = a;
      }
    });
  }

  // ─────────────────────────── 6. state ───────────────────────────

  /** Actor and its target, critics and their targets, optimisers, update count, the last actor metrics, rng. */
  stateTensors(): Map<string, Tensor> {
    const t = new Map<string, Tensor>();
    for (const [n, v] of paramTensors(this.actor.params, "actor.")) t.set(n, v);
    for (const [n, v] of paramTensors(this.actorTarget.params, "actor_target.")) t.set(n, v);
    for (const [n, v] of adamTensors(this.actorOpt, "optim.actor.")) t.set(n, v);
    this.critic.stateTensors(t);
    t.set("td3.state", { dtype: "F64", shape: [3], data: new Float64Array([this.updates, this.lastActorLoss, this.lastActorGradNorm]) });
    t.set("rng.state", rngStateTensor(this.rng));
    return t;
  }

  loadStateTensors(t: ReadonlyMap<string, Tensor>, what = "checkpoint"): void {
    checkParamTensors(this.actor.params, t, "actor.", what);
    checkParamTensors(this.actorTarget.params, t, "actor_target.", what);
    checkAdamTensors(this.actorOpt, t, "optim.actor.", what);
    this.critic.checkStateTensors(t, what);
    const s = t.get("td3.state");
    if (!s || s.data.length !== 3) throw new Error(`${what} lacks "td3.state" (update count and the last actor metrics)`);
    const rng = rngFromStateTensor(t.get("rng.state"), what);
    loadParamTensors(this.actor.params, t, "actor.", what);
    loadParamTensors(this.actorTarget.params, t, "actor_target.", what);
    loadAdamTensors(this.actorOpt, t, "optim.actor.", what);
    this.critic.loadStateTensors(t, what);
    [this.updates, this.lastActorLoss, this.lastActorGradNorm] = Array.from(s.data);
    this.rng = rng;
  }
}

/** What a TD3Agent built with this config allocates (train/limits.ts). */
export function td3Footprint(dims: AgentDims, c: TD3Config, actBatch: number): AgentFootprint {
  const { stateDim: S, goalDim: G, actionDim: A } = dims;
  const B = c.batchSize;
  const actChunk = actChunkRows(B, actBatch);
  const actor = { inDim: S + G, width: c.actorWidth, depth: c.actorDepth, heads: [A], recompute: c.recompute, headNorm: false };
  return {
    networks: [
      { name: "actor", shape: { ...actor, maxBatch: actChunk }, copies: 1, optimised: true },
      { name: "target actor", shape: { ...actor, maxBatch: B }, copies: 1, optimised: false },
      ...twinCriticShapes(twinCriticConfig(dims, c)),
    ],
    // actorIn, qIn, eps/acts/dMean, y (Float64: two floats), dQ1, the acting input
    scratchFloats: B * (S + G) + B * (S + G + A) + 3 * B * A + 2 * B + B + actChunk * (S + G),
    samplerTupleFloats: 2 * S + G + A + 4,
  };
}
