// The residual network of the paper (SPEC §2):
//   input Dense(W) → LayerNorm → Swish,
//   depth/4 residual blocks: h = x; 4 × [h = Swish(LayerNorm(Dense_W(h)))]; out = x + h,
//   [optional: LayerNorm of the stream (`headNorm`, not in the paper)],
//   linear head(s) Dense(out_k).
// Depth counts the Dense layers inside residual blocks (depth 4 = one block).
//
// Forward caches exactly what backward needs (llm.c style); every buffer is allocated once for
// `maxBatch` rows. With `recompute`, only each block's input is kept and the block's activations
// are recomputed during backward (activation checkpointing: ~1.33× compute, ~1/8 the memory).
//
// With precision "bf16" the Dense layers inside residual blocks (W×W: all the compute at depth)
// run their GEMMs on bf16 operands with float32 accumulation; parameters, gradients, LayerNorm,
// Swish and the skip additions stay float32. The input layer and the heads stay float32: they
// cost ~(inDim + Σ head dims)/(depth·W) of a pass, and the input layer reads raw observations,
// whose positions bf16 would round to 2^-8 of their size. On a backend with bf16Activations the
// activations between the units of a block (the outputs of units 0–2, read only by the next
// unit's GEMM and by its weight-gradient GEMM, which round them to bf16 anyway) are kept as bf16
// rows: the same values, half the memory and memory traffic. The block outputs (the residual
// stream) stay float32.
import { allocFloat32 } from "../engine/alloc.js";
import { type Backend, type Bf16Rows, bf16RowLength, type Precision } from "../engine/backend.js";
import type { Rng } from "../random.js";
import { ParamStore, type TensorInfo } from "./params.js";

export const LAYER_NORM_EPS = 1e-6;

export interface HeadSpec {
  /** Name used in parameter names: `head.<name>.weight`. */
  readonly name: string;
  readonly dim: number;
  /** Multiplies the head kernel's init range (default 1 = SPEC §2; 0 = zero-initialised head). */
  readonly initScale?: number;
}

export interface ResNetConfig {
  readonly inDim: number;
  /** Width W of every hidden layer. */
  readonly width: number;
  /** Dense layers inside residual blocks; a multiple of 4 (0 = no blocks). */
  readonly depth: number;
  readonly heads: readonly HeadSpec[];
  /** Largest batch forward/backward will be called with (buffers are sized for it). */
  readonly maxBatch: number;
  /** Activation checkpointing per residual block. */
  readonly recompute?: boolean;
  /**
   * LayerNorm (scale, bias; no activation) on the residual stream before the heads:
   * `head_norm.scale`, `head_norm.bias`. Not in the paper: its stream is unnormalised and grows
   * with depth, so the heads' inputs (and how far one Adam step moves their outputs) grow with it.
   */
  readonly headNorm?: boolean;
  /** GEMM operand precision of the residual blocks' Dense layers (default fp32; see the top). */
  readonly precision?: Precision;
}

/** Checks a ResNet configuration; throws an error that says what is allowed. */
export function validateResNetConfig(c: ResNetConfig): void {
  const int = (v: number) => Number.isInteger(v);
  if (!int(c.depth) || c.depth < 0 || c.depth % 4 !== 0) {
    const lo = Math.max(4, Math.floor(c.depth / 4) * 4);
    throw new Error(
      `depth must be a non-negative multiple of 4 (depth counts the Dense layers inside residual blocks of 4 layers), got ${c.depth}; try ${lo} or ${lo + 4}`,
    );
  }
  if (!int(c.width) || c.width < 1) throw new Error(`width must be an integer >= 1, got ${c.width}`);
  if (!int(c.inDim) || c.inDim < 1) throw new Error(`input dimension must be an integer >= 1, got ${c.inDim}`);
  if (!int(c.maxBatch) || c.maxBatch < 1) throw new Error(`maxBatch must be an integer >= 1, got ${c.maxBatch}`);
  if (c.heads.length === 0) throw new Error("a ResNet needs at least one head");
  if (c.precision !== undefined && c.precision !== "fp32" && c.precision !== "bf16") {
    throw new Error(`precision must be fp32 or bf16, got ${JSON.stringify(c.precision)}`);
  }
  const names = new Set<string>();
  for (const h of c.heads) {
    if (!int(h.dim) || h.dim < 1) throw new Error(`head "${h.name}" dimension must be an integer >= 1, got ${h.dim}`);
    if (h.initScale !== undefined && !(Number.isFinite(h.initScale) && h.initScale >= 0)) {
      throw new Error(`head "${h.name}" initScale must be a finite number >= 0, got ${h.initScale}`);
    }
    if (names.has(h.name)) throw new Error(`duplicate head name "${h.name}"`);
    names.add(h.name);
  }
}

/** A tensor's values and its gradient: views into the ParamStore, taken once after finalize(). */
interface ParamViews {
  v: Float32Array;
  g: Float32Array;
}

/** Parameters of one Dense → LayerNorm → Swish unit. */
interface DlsParams {
  w: TensorInfo; // [in, W]
  b: TensorInfo; // [W]
  scale: TensorInfo; // [W]
  bias: TensorInfo; // [W]
  inDim: number;
  precision: Precision; // of this unit's GEMMs
  /** Views of w, b, scale, bias (set after finalize; the kernels need no per-call subarray). */
  views: { w: ParamViews; b: ParamViews; scale: ParamViews; bias: ParamViews } | null;
}

interface HeadParams {
  w: TensorInfo; // [W, dim]
  b: TensorInfo; // [dim]
  dim: number;
  views: { w: ParamViews; b: ParamViews } | null;
}

/** Views sized for one batch size (cached: forward and backward allocate nothing in steady state). */
interface BatchViews {
  outputs: Float32Array[]; // per head [batch, dim_k]
  gTrunk: Float32Array; // [batch, W]
  dInput: Float32Array; // [batch, inDim]
}
/** Batch sizes whose views are kept (training uses one or two: the update's and the acting chunk's). */
const BATCH_VIEW_CACHE = 8;

/** A layer's input or output: float32 rows, or (inside blocks, with bf16 activations) bf16 rows. */
type Activation = Float32Array | Bf16Rows;

/** Per-unit forward cache. */
interface UnitCache {
  z: Float32Array; // [maxBatch, W] pre-LayerNorm
  mean: Float32Array; // [maxBatch]
  rstd: Float32Array; // [maxBatch]
}

export class ResNet {
  readonly config: ResNetConfig;
  readonly params = new ParamStore();
  readonly numBlocks: number;
  private readonly be: Backend;
  private readonly W: number;

  private readonly inputUnit: DlsParams;
  private readonly blockUnits: DlsParams[][]; // [numBlocks][4]
  private readonly headParams: HeadParams[];
  private readonly headNormParams: { scale: TensorInfo; bias: TensorInfo } | null;
  private readonly headNormViews: { scale: ParamViews; bias: ParamViews } | null;
  private readonly batchViews = new Map<number, BatchViews>();

  // ---- forward caches (allocated once) ----
  private readonly xIn: Float32Array; // [maxBatch, inDim] copy of the input (backward needs it)
  private readonly inputCache: UnitCache;
  /** blockIn[b]: input of block b; blockIn[numBlocks] = trunk output. Each [maxBatch, W]. */
  private readonly blockIn: Float32Array[];
  /** Without recompute: caches[b][l] for every unit; y[b][l] for l = 0..2 (inputs of units 1..3: bf16 rows with bf16 activations). */
  private readonly caches: UnitCache[][];
  private readonly ys: Activation[][];
  /** With recompute: one block's worth of caches, reused. */
  private readonly scratchCaches: UnitCache[] | null;
  private readonly scratchYs: Activation[] | null;
  readonly outputs: Float32Array[]; // [maxBatch, dim_k] per head
  /** With headNorm: the normalised stream the heads read [maxBatch, W], and its LayerNorm cache. */
  private readonly headIn: Float32Array | null;
  private readonly headNormMean: Float32Array | null;
  private readonly headNormRstd: Float32Array | null;

  // ---- backward scratch ----
  private readonly gA: Float32Array; // [maxBatch, W]
  private readonly gB: Float32Array; // [maxBatch, W]
  private readonly gTrunk: Float32Array; // [maxBatch, W] gradient w.r.t. the current block output
  private readonly dInput: Float32Array; // [maxBatch, inDim]

  private lastBatch = 0;

  constructor(backend: Backend, config: ResNetConfig) {
    validateResNetConfig(config);
    const precision = config.precision ?? "fp32";
    const noBf16 = precision === "bf16" ? backend.bf16Unavailable() : null;
    if (noBf16 !== null) {
      // resolvePrecision (engine/index.ts) falls back to fp32 with a note before networks are built
      throw new Error(`precision bf16 needs a backend that runs bf16 GEMMs; ${backend.describe()} cannot (${noBf16}): use precision fp32`);
    }
    this.config = { ...config, heads: config.heads.map((h) => ({ ...h })) };
    this.be = backend;
    const W = config.width;
    this.W = W;
    this.numBlocks = config.depth / 4;
    const P = this.params;
    const unit = (prefix: string, norm: string, inDim: number, unitPrecision: Precision): DlsParams => ({
      w: P.declare(`${prefix}.weight`, [inDim, W]),
      b: P.declare(`${prefix}.bias`, [W]),
      scale: P.declare(`${norm}.scale`, [W]),
      bias: P.declare(`${norm}.bias`, [W]),
      inDim,
      precision: unitPrecision,
      views: null,
    });
    this.inputUnit = unit("input.dense", "input.norm", config.inDim, "fp32");
    this.blockUnits = [];
    for (let b = 0; b < this.numBlocks; b++) {
      const units: DlsParams[] = [];
      for (let l = 0; l < 4; l++) units.push(unit(`blocks.${b}.dense.${l}`, `blocks.${b}.norm.${l}`, W, precision));
      this.blockUnits.push(units);
    }
    this.headNormParams = config.headNorm ? { scale: P.declare("head_norm.scale", [W]), bias: P.declare("head_norm.bias", [W]) } : null;
    this.headParams = config.heads.map((h) => ({
      w: P.declare(`head.${h.name}.weight`, [W, h.dim]),
      b: P.declare(`head.${h.name}.bias`, [h.dim]),
      dim: h.dim,
      views: null,
    }));
    P.finalize(true, (n) => allocFloat32(backend, n));
    // The store never replaces its arrays after finalize(), so views taken now stay valid.
    const pv = (t: TensorInfo): ParamViews => ({ v: P.view(t), g: P.gradView(t) });
    for (const u of [this.inputUnit, ...this.blockUnits.flat()]) u.views = { w: pv(u.w), b: pv(u.b), scale: pv(u.scale), bias: pv(u.bias) };
    for (const h of this.headParams) h.views = { w: pv(h.w), b: pv(h.b) };
    this.headNormViews = this.headNormParams ? { scale: pv(this.headNormParams.scale), bias: pv(this.headNormParams.bias) } : null;
    this.resetLayerNorm();

    const B = config.maxBatch;
    const f32 = (n: number) => allocFloat32(backend, n); // 64-byte aligned where the backend can
    // The activations between a block's units: bf16 rows where the backend takes them (see the top).
    const act16 = precision === "bf16" && backend.bf16Activations === true;
    const inner = (): Activation => {
      if (!act16) return f32(B * W);
      const halves = B * bf16RowLength(W);
      const f = f32(Math.ceil(halves / 2));
      return new Uint16Array(f.buffer, f.byteOffset, halves);
    };
    const mkCache = (): UnitCache => ({
      z: f32(B * W),
      mean: f32(B),
      rstd: f32(B),
    });
    this.xIn = f32(B * config.inDim);
    this.inputCache = mkCache();
    this.blockIn = [];
    for (let b = 0; b <= this.numBlocks; b++) this.blockIn.push(f32(B * W));
    const recompute = config.recompute === true;
    this.caches = [];
    this.ys = [];
    if (!recompute) {
      for (let b = 0; b < this.numBlocks; b++) {
        this.caches.push([mkCache(), mkCache(), mkCache(), mkCache()]);
        this.ys.push([inner(), inner(), inner()]);
      }
      this.scratchCaches = null;
      this.scratchYs = null;
    } else {
      this.scratchCaches = [mkCache(), mkCache(), mkCache(), mkCache()];
      this.scratchYs = [inner(), inner(), inner()];
    }
    this.outputs = config.heads.map((h) => f32(B * h.dim));
    this.headIn = config.headNorm ? f32(B * W) : null;
    this.headNormMean = config.headNorm ? f32(B) : null;
    this.headNormRstd = config.headNorm ? f32(B) : null;
    this.gA = f32(B * W);
    this.gB = f32(B * W);
    this.gTrunk = f32(B * W);
    this.dInput = f32(B * config.inDim);
  }

  get backend(): Backend {
    return this.be;
  }

  /** Number of Dense layers in the whole network (input + blocks + heads). */
  get numDenseLayers(): number {
    return 1 + this.config.depth + this.config.heads.length;
  }

  /** Multiply–adds per row of one forward pass (for FLOP counts: fwd+bwd ≈ 6·B·this). */
  get macsPerRow(): number {
    const W = this.W;
    let m = this.config.inDim * W + this.config.depth * W * W;
    for (const h of this.config.heads) m += W * h.dim;
    return m;
  }

  /** Bytes held by forward caches and scratch (not parameters). */
  get activationBytes(): number {
    let n = this.xIn.length + this.dInput.length + this.gA.length * 3;
    n += this.inputCache.z.length + 2 * this.inputCache.mean.length;
    for (const b of this.blockIn) n += b.length;
    for (const cs of this.caches) for (const c of cs) n += c.z.length + 2 * c.mean.length;
    if (this.scratchCaches) for (const c of this.scratchCaches) n += c.z.length + 2 * c.mean.length;
    for (const o of this.outputs) n += o.length;
    if (this.headIn) n += this.headIn.length + 2 * (this.headNormMean?.length ?? 0);
    let bytes = n * 4;
    for (const ys of this.ys) for (const y of ys) bytes += y.byteLength;
    if (this.scratchYs) for (const y of this.scratchYs) bytes += y.byteLength;
    return bytes;
  }

  /** Whether the activations between a block's units are kept as bf16 rows (see the top). */
  get bf16Activations(): boolean {
    const y = this.ys[0]?.[0] ?? this.scratchYs?.[0];
    return y !== undefined && !(y instanceof Float32Array);
  }

  private resetLayerNorm(): void {
    const P = this.params;
    const units = [this.inputUnit, ...this.blockUnits.flat()];
    for (const u of units) {
      P.view(u.scale).fill(1);
      P.view(u.bias).fill(0);
    }
    if (this.headNormParams) {
      P.view(this.headNormParams.scale).fill(1);
      P.view(this.headNormParams.bias).fill(0);
    }
  }

  /**
   * SPEC §2 init: kernels U(−1/√fan_in, +1/√fan_in) (Flax variance_scaling(1/3, fan_in,
   * uniform)), biases 0, LayerNorm scale 1, bias 0. A head's `initScale` multiplies its range
   * (the random draws are the same whatever the scale, so scale 1 reproduces the default).
   */
  init(rng: Rng): void {
    const P = this.params;
    P.data.fill(0);
    const kernels: [TensorInfo, number][] = [
      [this.inputUnit.w, 1],
      ...this.blockUnits.flat().map((u): [TensorInfo, number] => [u.w, 1]),
      ...this.headParams.map((h, i): [TensorInfo, number] => [h.w, this.config.heads[i].initScale ?? 1]),
    ];
    for (const [k, scale] of kernels) {
      const v = P.view(k);
      const lim = scale / Math.sqrt(k.shape[0]);
      for (let i = 0; i < v.length; i++) v[i] = (2 * rng.uniform() - 1) * lim;
    }
    this.resetLayerNorm();
  }

  private checkBatch(batch: number): void {
    if (!Number.isInteger(batch) || batch < 1 || batch > this.config.maxBatch) {
      throw new Error(`batch size must be an integer in [1, ${this.config.maxBatch}] (the network's maxBatch), got ${batch}`);
    }
  }

  private unitForward(u: DlsParams, x: Activation, c: UnitCache, y: Activation, batch: number): void {
    const p = u.views!;
    this.be.denseLnSwishForward(
      x,
      p.w.v,
      p.b.v,
      p.scale.v,
      p.bias.v,
      c.z,
      c.mean,
      c.rstd,
      y,
      batch,
      u.inDim,
      this.W,
      LAYER_NORM_EPS,
      u.precision,
    );
  }

  private unitBackward(
    u: DlsParams,
    dy: Float32Array,
    x: Activation,
    c: UnitCache,
    dx: Float32Array | null,
    batch: number,
    paramGrads: boolean,
    overwrite: boolean,
  ): void {
    const p = u.views!;
    this.be.denseLnSwishBackward(
      dy,
      x,
      p.w.v,
      p.scale.v,
      p.bias.v,
      c.z,
      c.mean,
      c.rstd,
      dx,
      paramGrads ? p.w.g : null,
      p.b.g,
      p.scale.g,
      p.bias.g,
      batch,
      u.inDim,
      this.W,
      u.precision,
      overwrite,
    );
  }

  /** Runs block b's four units from blockIn[b] into blockIn[b+1], caching into (cs, ys). */
  private blockForward(b: number, cs: UnitCache[], ys: Activation[], batch: number): void {
    const units = this.blockUnits[b];
    const xb = this.blockIn[b];
    const out = this.blockIn[b + 1];
    this.unitForward(units[0], xb, cs[0], ys[0], batch);
    this.unitForward(units[1], ys[0], cs[1], ys[1], batch);
    this.unitForward(units[2], ys[1], cs[2], ys[2], batch);
    this.unitForward(units[3], ys[2], cs[3], out, batch);
    this.be.add(out, xb, out, batch * this.W); // skip added after the 4th activation
  }

  /**
   * Forward pass. x: [batch, inDim]. Returns the head outputs (views [batch, dim_k], valid until
   * the next forward; the array is reused for the next forward of the same batch size).
   */
  forward(x: Float32Array, batch: number): Float32Array[] {
    this.checkBatch(batch);
    const inDim = this.config.inDim;
    if (x.length < batch * inDim) {
      throw new Error(`input has ${x.length} values, expected batch × inDim = ${batch} × ${inDim} = ${batch * inDim}`);
    }
    this.lastBatch = batch;
    this.xIn.set(x.length === batch * inDim ? x : x.subarray(0, batch * inDim)); // (a view only for a longer x)
    this.unitForward(this.inputUnit, this.xIn, this.inputCache, this.blockIn[0], batch);
    for (let b = 0; b < this.numBlocks; b++) {
      if (this.scratchCaches && this.scratchYs) this.blockForward(b, this.scratchCaches, this.scratchYs, batch);
      else this.blockForward(b, this.caches[b], this.ys[b], batch);
    }
    let trunk = this.blockIn[this.numBlocks];
    if (this.headNormViews && this.headIn && this.headNormMean && this.headNormRstd) {
      const hn = this.headNormViews;
      this.be.layerNormForward(trunk, hn.scale.v, hn.bias.v, this.headIn, this.headNormMean, this.headNormRstd, batch, this.W, LAYER_NORM_EPS);
      trunk = this.headIn;
    }
    const views = this.viewsFor(batch);
    for (let h = 0; h < this.headParams.length; h++) {
      const hp = this.headParams[h];
      const out = views.outputs[h];
      this.be.gemm(false, false, batch, hp.dim, this.W, 1, trunk, hp.views!.w.v, 0, out);
      this.be.biasAdd(out, hp.views!.b.v, batch, hp.dim);
    }
    return views.outputs;
  }

  /** The views of buffers for `batch` rows, made on first use of that batch size. */
  private viewsFor(batch: number): BatchViews {
    let v = this.batchViews.get(batch);
    if (!v) {
      if (this.batchViews.size >= BATCH_VIEW_CACHE) this.batchViews.clear();
      v = {
        outputs: this.outputs.map((o, h) => o.subarray(0, batch * this.headParams[h].dim)),
        gTrunk: this.gTrunk.subarray(0, batch * this.W),
        dInput: this.dInput.subarray(0, batch * this.config.inDim),
      };
      this.batchViews.set(batch, v);
    }
    return v;
  }

  /**
   * Backward pass of the last forward. dOut[k]: ∂L/∂output_k [batch, dim_k] (null for a head
   * that does not enter the loss). Parameter gradients ACCUMULATE into params.grad (call
   * params.zeroGrad() first), or with `overwrite` are written (every entry of params.grad: what
   * zeroGrad() and an accumulating backward leave, bit for bit, without the pass over params.grad
   * that zeroing is — at depth 64, width 256 a 17 MB memset per network). Returns ∂L/∂x
   * [batch, inDim] when wantInputGrad (a view, valid until the next backward), else null. With
   * paramGrads = false only the input gradient is wanted: the weight-gradient GEMMs are skipped
   * and params.grad is left in an unspecified state (zero it, or overwrite it, before the next
   * backward that needs parameter gradients).
   */
  backward(dOut: readonly (Float32Array | null)[], wantInputGrad = false, paramGrads = true, overwrite = false): Float32Array | null {
    const batch = this.lastBatch;
    if (batch === 0) throw new Error("ResNet.backward called before forward");
    if (dOut.length !== this.headParams.length) {
      throw new Error(`backward needs one gradient per head (${this.headParams.length}), got ${dOut.length}`);
    }
    const W = this.W;
    const be = this.be;
    const trunk = this.headIn ?? this.blockIn[this.numBlocks];
    const gT = this.gTrunk;
    let first = true;
    for (let h = 0; h < this.headParams.length; h++) {
      const d = dOut[h];
      if (!d) continue;
      const hp = this.headParams[h];
      if (d.length < batch * hp.dim) {
        throw new Error(`gradient of head "${this.config.heads[h].name}" has ${d.length} values, expected ${batch * hp.dim}`);
      }
      const hv = hp.views!;
      if (paramGrads) {
        if (overwrite) hv.b.g.fill(0);
        be.biasBackward(d, hv.b.g, batch, hp.dim);
        be.gemm(true, false, W, hp.dim, batch, 1, trunk, d, overwrite ? 0 : 1, hv.w.g); // dW (+)= trunkᵀ·d
      }
      be.gemm(false, true, batch, W, hp.dim, 1, d, hv.w.v, first ? 0 : 1, gT); // dTrunk (+)= d·Wᵀ
      first = false;
    }
    if (first) gT.fill(0, 0, batch * W);
    if (overwrite && paramGrads) {
      // heads that do not enter the loss get no gradient: 0
      for (let h = 0; h < this.headParams.length; h++) {
        if (dOut[h]) continue;
        this.headParams[h].views!.w.g.fill(0);
        this.headParams[h].views!.b.g.fill(0);
      }
    }
    if (this.headNormViews && this.headNormMean && this.headNormRstd) {
      const hn = this.headNormViews;
      if (overwrite) {
        hn.scale.g.fill(0);
        hn.bias.g.fill(0);
      }
      // gT: ∂L/∂(normalised stream) → ∂L/∂(stream), in place.
      be.layerNormBackward(gT, this.blockIn[this.numBlocks], this.headNormMean, this.headNormRstd, hn.scale.v, gT, hn.scale.g, hn.bias.g, batch, W);
    }
    const views = this.viewsFor(batch);

    for (let b = this.numBlocks - 1; b >= 0; b--) {
      let cs: UnitCache[];
      let ys: Activation[];
      if (this.scratchCaches && this.scratchYs) {
        // Recompute this block's activations from its saved input. blockForward rewrites
        // blockIn[b+1] with the same values it held, so later blocks' inputs are unchanged.
        this.blockForward(b, this.scratchCaches, this.scratchYs, batch);
        cs = this.scratchCaches;
        ys = this.scratchYs;
      } else {
        cs = this.caches[b];
        ys = this.ys[b];
      }
      const units = this.blockUnits[b];
      const n = batch * W;
      this.gA.set(views.gTrunk);
      this.unitBackward(units[3], this.gA, ys[2], cs[3], this.gB, batch, paramGrads, overwrite);
      this.unitBackward(units[2], this.gB, ys[1], cs[2], this.gA, batch, paramGrads, overwrite);
      this.unitBackward(units[1], this.gA, ys[0], cs[1], this.gB, batch, paramGrads, overwrite);
      this.unitBackward(units[0], this.gB, this.blockIn[b], cs[0], this.gA, batch, paramGrads, overwrite);
      be.add(gT, this.gA, gT, n); // ∂L/∂x_b = skip path + residual path
    }
    const dx = wantInputGrad ? this.dInput : null;
    this.unitBackward(this.inputUnit, gT, this.xIn, this.inputCache, dx, batch, paramGrads, overwrite);
    return dx ? views.dInput : null;
  }
}
