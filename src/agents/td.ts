// The twin critic that SAC (./sac.ts) and TD3 (./td3.ts) share: clipped double Q-learning
// (Fujimoto et al. 2018, as Brax's and JaxGCRL's `make_q_network(n_critics=2)`). Two residual
// networks Q1, Q2 on (s, g, a) ∈ R^{S+G+A} → R, each with a target copy moved by Polyak averaging,
// and the TD regression both algorithms minimise. What differs between SAC and TD3 (the target y,
// the actor loss) lives in their own files.
//
// The critic loss (JaxGCRL agents/td3/losses.py critic_loss; Brax sac/losses.py critic_loss):
//   L = 0.5 · mean_{i, k ∈ {1,2}} (Q_k(s_i, g_i, a_i) − y_i)²,   y held fixed (stop-gradient).
import type { Backend, Precision } from "../engine/backend.js";
import { type CompositeKernels, compositeKernels } from "../engine/composite.js";
import { Adam } from "../nn/adam.js";
import { ResNet } from "../nn/resnet.js";
import type { Tensor } from "../nn/safetensors.js";
import { adamTensors, checkAdamTensors, checkParamTensors, loadAdamTensors, loadParamTensors, paramTensors } from "../nn/serialize.js";
import { type Key, Rng, split } from "../random.js";
import type { ReplayBuffer } from "../replay/buffer.js";
import { type GoalRelabelling, type TransitionBatch, TransitionSampler } from "../replay/transitions.js";
import { type AgentDims, type BatchSource, concat3Rows, type NetworkShape, NonFiniteError, polyakUpdate, type SamplerEnv, type SamplerLoop } from "./agent.js";

/**
 * The twin TD loss L = 0.5 · mean_{i,k}(Q_k,i − y_i)² over B rows and both critics, and its
 * gradient ∂L/∂Q_k,i = (Q_k,i − y_i) / (2B).   q1, q2: [B]; y: [B] → dQ1, dQ2: [B].
 */
export function twinTdLoss(q1: Float32Array, q2: Float32Array, y: Float64Array, B: number, dQ1: Float32Array, dQ2: Float32Array): number {
  let loss = 0;
  const inv = 1 / (2 * B);
  for (let i = 0; i < B; i++) {
    const e1 = q1[i] - y[i];
    const e2 = q2[i] - y[i];
    loss += 0.5 * (e1 * e1 + e2 * e2) * inv;
    dQ1[i] = e1 * inv;
    dQ2[i] = e2 * inv;
  }
  return loss;
}

export interface TwinCriticConfig {
  inDim: number;
  width: number;
  depth: number;
  maxBatch: number;
  recompute: boolean;
  precision: Precision;
  lr: number;
}

/** The twin critic of an agent (SAC, TD3) on (s, g, a) with these critic settings, as its constructor and its footprint build it. */
export function twinCriticConfig(
  dims: AgentDims,
  c: { criticWidth: number; criticDepth: number; batchSize: number; recompute: boolean; precision: Precision; lr: number },
): TwinCriticConfig {
  const { stateDim: S, goalDim: G, actionDim: A } = dims;
  return { inDim: S + G + A, width: c.criticWidth, depth: c.criticDepth, maxBatch: c.batchSize, recompute: c.recompute, precision: c.precision, lr: c.lr };
}

/** The transition sampler of a TD agent: batches of `batchSize` with the sparse reward and the given goal relabelling. */
export function tdSampler(buffer: ReplayBuffer, env: SamplerEnv, loop: SamplerLoop, batchSize: number, relabel: GoalRelabelling): BatchSource<TransitionBatch> {
  return new TransitionSampler(buffer, {
    stateDim: env.stateDim,
    goalIndices: env.goalIndices,
    successThreshold: env.successThreshold,
    batchSize,
    windowLength: loop.windowLength,
    maxBatches: loop.maxBatches,
    relabel,
  });
}

/** The critic's networks as memory estimates count them (two online networks with Adam, two target copies). */
export function twinCriticShapes(c: TwinCriticConfig): { name: string; shape: NetworkShape; copies: number; optimised: boolean }[] {
  const shape = { inDim: c.inDim, width: c.width, depth: c.depth, heads: [1], maxBatch: c.maxBatch, recompute: c.recompute, headNorm: false };
  return [
    { name: "critics Q1, Q2", shape, copies: 2, optimised: true },
    { name: "target critics", shape, copies: 2, optimised: false },
  ];
}

/** Q1, Q2, their targets and optimisers; the critic step of SAC and TD3. */
export class TwinCritic {
  readonly q: readonly [ResNet, ResNet];
  readonly target: readonly [ResNet, ResNet];
  readonly opt: readonly [Adam, Adam];
  readonly kernels: CompositeKernels;
  private readonly dQ1: Float32Array; // [B]
  private readonly dQ2: Float32Array; // [B]
  private readonly dLists: [Float32Array[], Float32Array[]];

  constructor(
    backend: Backend,
    readonly config: TwinCriticConfig,
    key: Key,
  ) {
    const net = () =>
      new ResNet(backend, {
        inDim: config.inDim,
        width: config.width,
        depth: config.depth,
        heads: [{ name: "q", dim: 1 }],
        maxBatch: config.maxBatch,
        recompute: config.recompute,
        precision: config.precision,
      });
    const [k1, k2] = split(key, 2);
    this.q = [net(), net()];
    this.q[0].init(new Rng(k1));
    this.q[1].init(new Rng(k2));
    this.target = [net(), net()];
    this.target[0].params.data.set(this.q[0].params.data);
    this.target[1].params.data.set(this.q[1].params.data);
    this.opt = [new Adam(backend, this.q[0].params, { lr: config.lr }), new Adam(backend, this.q[1].params, { lr: config.lr })];
    this.kernels = compositeKernels(backend);
    const B = config.maxBatch;
    this.dQ1 = new Float32Array(B);
    this.dQ2 = new Float32Array(B);
    this.dLists = [[this.dQ1], [this.dQ2]];
  }

  /** min(Q1′, Q2′) of the target critics on x [B, inDim] into out [B]. */
  targetMin(x: Float32Array, B: number, out: Float64Array): void {
    const a = this.target[0].forward(x, B)[0];
    for (let i = 0; i < B; i++) out[i] = a[i];
    const b = this.target[1].forward(x, B)[0];
    for (let i = 0; i < B; i++) out[i] = Math.min(out[i], b[i]);
  }

  /**
   * The TD regression step towards y [B] on x [B, inDim]: forward, loss, backward into both
   * critics' gradients, checked; nothing is applied (apply() does). Returns the loss, the batch
   * mean of Q1 and the squared gradient norm of both critics.
   */
  gradients(x: Float32Array, y: Float64Array, B: number): { loss: number; qMean: number; gradSq: number } {
    // Each network keeps its own forward cache, so both forwards come first, then both backwards.
    const q1 = this.q[0].forward(x, B)[0];
    const q2 = this.q[1].forward(x, B)[0];
    const loss = twinTdLoss(q1, q2, y, B, this.dQ1, this.dQ2);
    if (!Number.isFinite(loss)) throw new NonFiniteError("critic", "critic_loss", loss);
    let qMean = 0;
    for (let i = 0; i < B; i++) qMean += q1[i] / B;
    this.q[0].backward(this.dLists[0], false, true, true); // overwrite: no zeroGrad pass
    this.q[1].backward(this.dLists[1], false, true, true);
    const gradSq = this.kernels.sumSquares(this.q[0].params.grad, this.q[0].params.numel) + this.kernels.sumSquares(this.q[1].params.grad, this.q[1].params.numel);
    if (!Number.isFinite(gradSq)) throw new NonFiniteError("critic", "critic gradient", gradSq);
    return { loss, qMean, gradSq };
  }

  /**
   * The critic step of SAC and TD3 once the TD target is in y [B]: the batch means of y, of the
   * reward and of the relabelled flag; then gradients() on (s, g, a) of the batch, concatenated
   * into qIn [B, S+G+A], and apply().
   */
  step(batch: TransitionBatch, dims: AgentDims, y: Float64Array, qIn: Float32Array, B: number) {
    const { stateDim: S, goalDim: G, actionDim: A } = dims;
    let targetMean = 0;
    let rewardMean = 0;
    let relabelled = 0;
    for (let i = 0; i < B; i++) {
      targetMean += y[i] / B;
      rewardMean += batch.reward[i] / B;
      relabelled += batch.relabelled[i] / B;
    }
    concat3Rows(batch.state, S, batch.goal, G, batch.action, A, B, qIn);
    const g = this.gradients(qIn, y, B);
    this.apply();
    return { ...g, targetMean, rewardMean, relabelled };
  }

  /** Adam on both critics with the gradients of the last gradients() call. */
  apply(): void {
    this.opt[0].update();
    this.opt[1].update();
  }

  /** Target ← (1 − τ)·target + τ·online for both critics. */
  updateTargets(tau: number): void {
    for (let k = 0; k < 2; k++) polyakUpdate(this.target[k].params.data, this.q[k].params.data, tau, this.q[k].params.numel);
  }

  stateTensors(into: Map<string, Tensor>): void {
    for (let k = 0; k < 2; k++) {
      for (const [n, t] of paramTensors(this.q[k].params, `q${k + 1}.`)) into.set(n, t);
      for (const [n, t] of paramTensors(this.target[k].params, `q${k + 1}_target.`)) into.set(n, t);
      for (const [n, t] of adamTensors(this.opt[k], `optim.q${k + 1}.`)) into.set(n, t);
    }
  }

  checkStateTensors(t: ReadonlyMap<string, Tensor>, what: string): void {
    for (let k = 0; k < 2; k++) {
      checkParamTensors(this.q[k].params, t, `q${k + 1}.`, what);
      checkParamTensors(this.target[k].params, t, `q${k + 1}_target.`, what);
      checkAdamTensors(this.opt[k], t, `optim.q${k + 1}.`, what);
    }
  }

  /** After checkStateTensors. */
  loadStateTensors(t: ReadonlyMap<string, Tensor>, what: string): void {
    for (let k = 0; k < 2; k++) {
      loadParamTensors(this.q[k].params, t, `q${k + 1}.`, what);
      loadParamTensors(this.target[k].params, t, `q${k + 1}_target.`, what);
      loadAdamTensors(this.opt[k], t, `optim.q${k + 1}.`, what);
    }
  }
}
