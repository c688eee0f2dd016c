// The paper's residual network (nn/resnet.ts) with its parameters, gradients and activations
// resident on a WebGPU device. Same architecture, parameter names and flat layout as ResNet
// (ParamStore declaration order), so a CPU network's parameters upload as one array. forward and
// backward only record kernels (engine/webgpu/kernels.ts); nothing is read back. Float32 only.
import { type GpuBuf, type GpuView, gview, type LimitCheck, sub, type WebGpuContext } from "../engine/webgpu/context.js";
import { SUMSQ_PARTIALS, WebGpuKernels } from "../engine/webgpu/kernels.js";
import { ParamStore, type TensorInfo } from "./params.js";
import { LAYER_NORM_EPS, type ResNetConfig, validateResNetConfig } from "./resnet.js";

interface Unit {
  w: TensorInfo;
  b: TensorInfo;
  scale: TensorInfo;
  bias: TensorInfo;
  inDim: number;
}

interface UnitCache {
  z: GpuView; // [maxBatch, W]
  mean: GpuView; // [maxBatch]
  rstd: GpuView; // [maxBatch]
}

/**
 * Declares ResNet's parameters in ResNet's order (nn/resnet.ts); a test pins the two together.
 * hostArrays false: the layout only (no host copies of the values).
 */
export function declareResNetParams(
  config: ResNetConfig,
  hostArrays = true,
): {
  params: ParamStore;
  input: Unit;
  blocks: Unit[][];
  headNorm: { scale: TensorInfo; bias: TensorInfo } | null;
  heads: { w: TensorInfo; b: TensorInfo; dim: number }[];
} {
  const P = new ParamStore();
  const W = config.width;
  const unit = (prefix: string, norm: string, inDim: number): Unit => ({
    w: P.declare(`${prefix}.weight`, [inDim, W]),
    b: P.declare(`${prefix}.bias`, [W]),
    scale: P.declare(`${norm}.scale`, [W]),
    bias: P.declare(`${norm}.bias`, [W]),
    inDim,
  });
  const input = unit("input.dense", "input.norm", config.inDim);
  const blocks: Unit[][] = [];
  for (let b = 0; b < config.depth / 4; b++) {
    const units: Unit[] = [];
    for (let l = 0; l < 4; l++) units.push(unit(`blocks.${b}.dense.${l}`, `blocks.${b}.norm.${l}`, W));
    blocks.push(units);
  }
  const headNorm = config.headNorm ? { scale: P.declare("head_norm.scale", [W]), bias: P.declare("head_norm.bias", [W]) } : null;
  const heads = config.heads.map((h) => ({ w: P.declare(`head.${h.name}.weight`, [W, h.dim]), b: P.declare(`head.${h.name}.bias`, [h.dim]), dim: h.dim }));
  P.finalize(hostArrays);
  return { params: P, input, blocks, headNorm, heads };
}

/**
 * Stops, before anything is allocated, a network too large for the adapter's buffer limits, with
 * an error naming the limit, the size needed and what to change. The parameters, gradients and
 * Adam moments are one buffer each (≤ maxBufferSize; element-wise work over them is split into
 * bindings the device allows, kernels.ts); a kernel binds at most one layer's weight and one
 * layer's activations [maxBatch, width] at once (≤ maxStorageBufferBindingSize).
 */
export function checkResNetFits(check: LimitCheck, config: ResNetConfig, numel = declareResNetParams(config, false).params.numel): void {
  const W = config.width;
  const B = config.maxBatch;
  const shape = `width ${W}, depth ${config.depth}`;
  check("maxBufferSize", `a network's parameters (${shape}: ${numel} floats, one buffer; as much again for its gradient and each Adam moment)`, 4 * numel, "use a smaller depth or width");
  // the widest weight: the input layer's [inDim, W], a block's [W, W], a head's [W, dim]
  const widest = Math.max(config.inDim, config.depth > 0 ? W : 0, ...config.heads.map((h) => h.dim));
  check("maxStorageBufferBindingSize", `one layer's weight ([${widest}, ${W}] floats)`, 4 * widest * W, "use a smaller width");
  check(
    "maxStorageBufferBindingSize",
    `one layer's activations ([${B}, ${W}] and its LayerNorm statistics, ${B} rows = the batch size or acting batch)`,
    4 * B * (Math.max(config.inDim, W) + 2),
    "use a smaller batch size (--batch-size, or fewer --num-envs / --num-eval-envs when acting) or width",
  );
}

export class GpuResNet {
  readonly config: ResNetConfig;
  /** Names, shapes and offsets of the parameters (host arrays unused: the values live on the device). */
  readonly layout: ParamStore;
  readonly numBlocks: number;
  /** [numel] parameters, [numel] gradients (ResNet's flat layout). */
  readonly params: GpuView;
  readonly grad: GpuView;
  /** Per head: the output [maxBatch, dim_k]. */
  readonly outputs: GpuView[];
  /** ∂L/∂x [maxBatch, inDim] written by backward(…, wantInputGrad). */
  readonly dInput: GpuView;
  private readonly K: WebGpuKernels;
  private readonly W: number;
  private readonly input: Unit;
  private readonly blocks: Unit[][];
  private readonly headNormP: { scale: TensorInfo; bias: TensorInfo } | null;
  private readonly heads: { w: TensorInfo; b: TensorInfo; dim: number }[];
  private readonly bufs: GpuBuf[] = [];
  private readonly xIn: GpuView;
  private readonly inputCache: UnitCache;
  private readonly blockIn: GpuView[];
  private readonly caches: UnitCache[][];
  private readonly ys: GpuView[][];
  private readonly recompute: boolean;
  private readonly headIn: GpuView | null;
  private readonly headNormMean: GpuView | null;
  private readonly headNormRstd: GpuView | null;
  private readonly gA: GpuView;
  private readonly gB: GpuView;
  private readonly gTrunk: GpuView;
  private lastBatch = 0;

  constructor(
    readonly ctx: WebGpuContext,
    config: ResNetConfig,
  ) {
    validateResNetConfig(config);
    if ((config.precision ?? "fp32") !== "fp32") throw new Error(`GpuResNet runs fp32 only (${WebGpuKernels.bf16Unavailable()})`);
    this.config = { ...config, heads: config.heads.map((h) => ({ ...h })) };
    this.K = new WebGpuKernels(ctx);
    this.W = config.width;
    this.numBlocks = config.depth / 4;
    const d = declareResNetParams(config, false);
    this.layout = d.params;
    this.input = d.input;
    this.blocks = d.blocks;
    this.headNormP = d.headNorm;
    this.heads = d.heads;
    this.recompute = config.recompute === true;
    const B = config.maxBatch;
    const W = this.W;
    checkResNetFits((...a) => ctx.requireLimit(...a), config, this.layout.numel);
    const buf = (n: number, label: string): GpuView => {
      const b = ctx.createBuffer(n, label);
      this.bufs.push(b);
      return gview(b, 0, n);
    };
    const numel = this.layout.numel;
    this.params = buf(numel, "resnet params");
    this.grad = buf(numel, "resnet grad");
    const mkCache = (label: string): UnitCache => {
      // one buffer per unit: z [B, W], then mean [B], rstd [B]
      const v = buf(B * W + 2 * B, label);
      return { z: sub(v, 0, B * W), mean: sub(v, B * W, B), rstd: sub(v, B * W + B, B) };
    };
    this.xIn = buf(B * config.inDim, "resnet input");
    this.inputCache = mkCache("resnet input cache");
    this.blockIn = [];
    for (let b = 0; b <= this.numBlocks; b++) this.blockIn.push(buf(B * W, `resnet block ${b} input`));
    this.caches = [];
    this.ys = [];
    const cacheSets = this.recompute ? Math.min(1, this.numBlocks) : this.numBlocks;
    for (let b = 0; b < cacheSets; b++) {
      this.caches.push([0, 1, 2, 3].map((l) => mkCache(`resnet cache ${b}.${l}`)));
      this.ys.push([0, 1, 2].map((l) => buf(B * W, `resnet y ${b}.${l}`)));
    }
    this.outputs = config.heads.map((h) => buf(B * h.dim, `resnet head ${h.name}`));
    this.headIn = config.headNorm ? buf(B * W, "resnet head norm out") : null;
    const hn = config.headNorm ? buf(2 * B, "resnet head norm stats") : null;
    this.headNormMean = hn ? sub(hn, 0, B) : null;
    this.headNormRstd = hn ? sub(hn, B, B) : null;
    this.gA = buf(B * W, "resnet grad A");
    this.gB = buf(B * W, "resnet grad B");
    this.gTrunk = buf(B * W, "resnet grad trunk");
    this.dInput = buf(B * config.inDim, "resnet input grad");
  }

  /** Multiply–adds per row of one forward pass (as ResNet.macsPerRow). */
  get macsPerRow(): number {
    let m = this.config.inDim * this.W + this.config.depth * this.W * this.W;
    for (const h of this.config.heads) m += this.W * h.dim;
    return m;
  }

  /** View of one parameter tensor (or its gradient) on the device. */
  pview(t: TensorInfo): GpuView {
    return sub(this.params, t.offset, t.size);
  }
  gview(t: TensorInfo): GpuView {
    return sub(this.grad, t.offset, t.size);
  }

  /** Uploads parameters in ResNet's flat layout (e.g. a CPU ResNet's params.data). */
  setParams(data: Float32Array): void {
    if (data.length !== this.layout.numel) throw new Error(`expected ${this.layout.numel} parameters, got ${data.length}`);
    this.ctx.write(this.params, data);
  }

  /** Records grad = 0. */
  zeroGrad(): void {
    this.K.fill(this.grad, this.layout.numel, 0);
  }

  /** Records out[0] = ‖grad‖² (scratch: ≥ SUMSQ_PARTIALS floats). */
  gradSumsq(scratch: GpuView, out: GpuView): void {
    this.K.sumsq(this.grad, this.layout.numel, scratch, out);
  }

  static readonly SUMSQ_SCRATCH = SUMSQ_PARTIALS;

  private unitForward(u: Unit, x: GpuView, c: UnitCache, y: GpuView, batch: number): void {
    this.K.denseLnSwishForward(x, this.pview(u.w), this.pview(u.b), this.pview(u.scale), this.pview(u.bias), c.z, c.mean, c.rstd, y, batch, u.inDim, this.W, LAYER_NORM_EPS);
  }

  private unitBackward(u: Unit, dy: GpuView, x: GpuView, c: UnitCache, dx: GpuView | null, batch: number, paramGrads: boolean): void {
    this.K.denseLnSwishBackward(
      dy,
      x,
      this.pview(u.w),
      this.pview(u.scale),
      this.pview(u.bias),
      c.z,
      c.mean,
      c.rstd,
      dx,
      paramGrads ? this.gview(u.w) : null,
      this.gview(u.b),
      this.gview(u.scale),
      this.gview(u.bias),
      batch,
      u.inDim,
      this.W,
    );
  }

  private blockForward(b: number, cs: UnitCache[], ys: GpuView[], batch: number): void {
    const units = this.blocks[b];
    const xb = this.blockIn[b];
    const out = this.blockIn[b + 1];
    this.unitForward(units[0], xb, cs[0], ys[0], batch);
    this.unitForward(units[1], ys[0], cs[1], ys[1], batch);
    this.unitForward(units[2], ys[1], cs[2], ys[2], batch);
    this.unitForward(units[3], ys[2], cs[3], out, batch);
    this.K.add(out, xb, out, batch * this.W);
  }

  /**
   * Records a forward pass. x: [batch, inDim] on the device (copied into the network's input
   * buffer, as ResNet copies it). Head outputs land in `outputs`.
   */
  forward(x: GpuView, batch: number): void {
    if (!Number.isInteger(batch) || batch < 1 || batch > this.config.maxBatch) {
      throw new Error(`batch size must be an integer in [1, ${this.config.maxBatch}] (the network's maxBatch), got ${batch}`);
    }
    const inDim = this.config.inDim;
    this.lastBatch = batch;
    this.K.copy2d(x, inDim, this.xIn, inDim, batch, inDim);
    this.unitForward(this.input, this.xIn, this.inputCache, this.blockIn[0], batch);
    for (let b = 0; b < this.numBlocks; b++) {
      const k = this.recompute ? 0 : b;
      this.blockForward(b, this.caches[k], this.ys[k], batch);
    }
    let trunk = this.blockIn[this.numBlocks];
    if (this.headNormP && this.headIn && this.headNormMean && this.headNormRstd) {
      const hn = this.headNormP;
      this.K.layerNormForward(trunk, this.pview(hn.scale), this.pview(hn.bias), this.headIn, this.headNormMean, this.headNormRstd, batch, this.W, LAYER_NORM_EPS);
      trunk = this.headIn;
    }
    this.heads.forEach((h, k) => {
      this.K.gemm(false, false, batch, h.dim, this.W, 1, trunk, this.pview(h.w), 0, this.outputs[k], "fp32", this.pview(h.b));
    });
  }

  /**
   * Records the backward pass of the last forward (ResNet.backward's contract): dOut[k] =
   * ∂L/∂output_k [batch, dim_k] on the device, or null; parameter gradients accumulate into
   * `grad`; ∂L/∂x goes to dInput when wantInputGrad.
   */
  backward(dOut: readonly (GpuView | null)[], wantInputGrad = false, paramGrads = true): void {
    const batch = this.lastBatch;
    if (batch === 0) throw new Error("GpuResNet.backward called before forward");
    if (dOut.length !== this.heads.length) throw new Error(`backward needs one gradient per head (${this.heads.length}), got ${dOut.length}`);
    const W = this.W;
    const K = this.K;
    const trunk = this.headIn ?? this.blockIn[this.numBlocks];
    const gT = this.gTrunk;
    let first = true;
    this.heads.forEach((h, k) => {
      const d = dOut[k];
      if (!d) return;
      if (paramGrads) {
        K.biasBackward(d, this.gview(h.b), batch, h.dim);
        K.gemm(true, false, W, h.dim, batch, 1, trunk, d, 1, this.gview(h.w));
      }
      K.gemm(false, true, batch, W, h.dim, 1, d, this.pview(h.w), first ? 0 : 1, gT);
      first = false;
    });
    if (first) K.fill(gT, batch * W, 0);
    if (this.headNormP && this.headNormMean && this.headNormRstd) {
      const hn = this.headNormP;
      K.layerNormBackward(gT, this.blockIn[this.numBlocks], this.headNormMean, this.headNormRstd, this.pview(hn.scale), gT, this.gview(hn.scale), this.gview(hn.bias), batch, W);
    }
    const n = batch * W;
    for (let b = this.numBlocks - 1; b >= 0; b--) {
      const k = this.recompute ? 0 : b;
      if (this.recompute) this.blockForward(b, this.caches[0], this.ys[0], batch);
      const cs = this.caches[k];
      const ys = this.ys[k];
      const units = this.blocks[b];
      K.copy2d(gT, n, this.gA, n, 1, n);
      this.unitBackward(units[3], this.gA, ys[2], cs[3], this.gB, batch, paramGrads);
      this.unitBackward(units[2], this.gB, ys[1], cs[2], this.gA, batch, paramGrads);
      this.unitBackward(units[1], this.gA, ys[0], cs[1], this.gB, batch, paramGrads);
      this.unitBackward(units[0], this.gB, this.blockIn[b], cs[0], this.gA, batch, paramGrads);
      K.add(gT, this.gA, gT, n);
    }
    this.unitBackward(this.input, gT, this.xIn, this.inputCache, wantInputGrad ? this.dInput : null, batch, paramGrads);
  }

  /** Frees the device buffers. */
  destroy(): void {
    for (const b of this.bufs) b.destroy();
  }
}
