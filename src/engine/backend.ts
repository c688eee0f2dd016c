// The engine's one interface (DESIGN §3). Every kernel works on row-major Float32Arrays
// (subarray views are fine) with explicit sizes; no kernel allocates. Two implementations:
// `ref` (plain TypeScript, the oracle) and `native` (C addon, SIMD + thread pool).
//
// Conventions
// - Matrices are row-major. A Dense kernel is stored [in, out] (y = x·W + b, as in Flax).
// - "accumulate" means the kernel adds into its output (+=); callers zero gradients once per step.
// - eps for LayerNorm is passed explicitly (SPEC §2: 1e-6).
// - precision (GEMM-bearing kernels only; default "fp32"): "bf16" rounds both GEMM operands to
//   bf16 (round to nearest even; float32 denormals become 0, as in the hardware) and multiplies
//   them with float32 accumulation; inputs, outputs, alpha/beta and everything element-wise stay
//   float32. Ask a backend first (bf16Unavailable; engine resolvePrecision falls back to fp32).
// - Composite kernels (sumSquares … tanhGaussianBackward, at the end) are optional: a backend
//   without one gets the shared TypeScript implementation through compositeKernels(be)
//   (engine/composite.ts), which is also their reference twin. Call them through that, not here.

import type { ContrastiveLoss, CriticLossStats, EnergyFn, EnergyScratch, LossScratch, TanhLogDet } from "./composite.js";

/**
 * Activations of a bf16 network kept in bf16 (bf16Activations): a Uint16Array of bf16 bit
 * patterns, row-major [rows, bf16RowLength(cols)] (a row padded to an even length with a zero
 * half, so that it is whole pairs; bf16RowLength(cols) = cols + (cols & 1)).
 */
export type Bf16Rows = Uint16Array;

/** Halves per row of a Bf16Rows with `cols` values: cols rounded up to even (the pad half is 0). */
export function bf16RowLength(cols: number): number {
  return cols + (cols & 1);
}

/** Operand precision of the GEMMs: float32, or bf16 operands with float32 accumulation. */
export const PRECISIONS = ["fp32", "bf16"] as const;
export type Precision = (typeof PRECISIONS)[number];

/**
 * The type of one kernel of Backend, e.g. Kernel<"gemm">: implementations declare theirs as
 * `gemm: Kernel<"gemm"> = (transA, transB, …) => …` and take the parameter types from here.
 */
export type Kernel<N extends keyof Backend> = NonNullable<Backend[N]>;

export interface Backend {
  /** Name shown to users: "ref" or "native". */
  readonly name: string;
  /** Short human description (SIMD level, thread count). */
  describe(): string;
  /** Number of threads the kernels use. */
  readonly threads: number;
  /**
   * Why this backend cannot run GEMMs with precision "bf16" (e.g. the CPU has no AVX512_BF16,
   * or a SIMD level without it was forced), or null when it can. Calling a kernel with "bf16"
   * where it cannot throws.
   */
  bf16Unavailable(): string | null;

  /**
   * Optional: true when denseLnSwishForward/Backward with precision "bf16" take the layer input x
   * and the forward output y as Bf16Rows (Uint16Array) instead of Float32Arrays. A bf16 network
   * then keeps the activations between its layers in bf16: the GEMM that reads them rounds them
   * to bf16 anyway, so every value stays the same, with half the memory and traffic. Absent or
   * false: Float32Arrays only.
   */
  readonly bf16Activations?: boolean;

  /**
   * Optional: n zeros in a Float32Array laid out as this backend's kernels read fastest (the
   * native backend: data on a 64-byte boundary, so no vector load or store spans two cache
   * lines; a plain `new Float32Array(n)` from a large ArrayBuffer starts 16 bytes past one). The
   * view may sit inside a slightly larger ArrayBuffer: use byteOffset/byteLength, not .buffer
   * alone. Call it through allocFloat32(be, n) (engine/alloc.ts), which falls back to
   * `new Float32Array(n)`.
   */
  allocFloat32?(n: number): Float32Array;

  /**
   * C = alpha · op(A) · op(B) + beta · C.
   * op(A) is [m, k]: A is stored [m, k], or [k, m] when transA.
   * op(B) is [k, n]: B is stored [k, n], or [n, k] when transB.
   * C is [m, n]. beta = 0 overwrites C (NaNs in C are not propagated).
   * precision "bf16": op(A) and op(B) are rounded to bf16 before multiplying (see the top).
   */
  gemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Float32Array,
    b: Float32Array,
    beta: number,
    c: Float32Array,
    precision?: Precision,
  ): void;

  /** x[r, :] += bias for every row.  x: [rows, cols], bias: [cols]. */
  biasAdd(x: Float32Array, bias: Float32Array, rows: number, cols: number): void;

  /** db[j] += Σ_r dy[r, j].  dy: [rows, cols], db: [cols]. */
  biasBackward(dy: Float32Array, db: Float32Array, rows: number, cols: number): void;

  /**
   * y = γ·(x − mean)·rstd + β per row. x, y: [rows, cols]; gamma, beta: [cols];
   * mean, rstd: [rows] (written, cached for backward). y may alias x.
   */
  layerNormForward(
    x: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    y: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    rows: number,
    cols: number,
    eps: number,
  ): void;

  /**
   * LayerNorm backward. dx is overwritten (may alias dy); dgamma, dbeta accumulate.
   * x: the forward input [rows, cols]; mean, rstd: [rows] from the forward.
   */
  layerNormBackward(
    dy: Float32Array,
    x: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    gamma: Float32Array,
    dx: Float32Array,
    dgamma: Float32Array,
    dbeta: Float32Array,
    rows: number,
    cols: number,
  ): void;

  /** y = x·sigmoid(x), elementwise over n values. y may alias x. */
  swishForward(x: Float32Array, y: Float32Array, n: number): void;

  /** dx = dy · d/dx[x·sigmoid(x)], elementwise; x is the forward input. dx may alias dy. */
  swishBackward(dy: Float32Array, x: Float32Array, dx: Float32Array, n: number): void;

  /**
   * Fused Dense → LayerNorm → Swish forward for one layer:
   *   z = x·W + b            z: [rows, out]   (cached: pre-LayerNorm activations)
   *   u = LN(z; γ, β)        mean, rstd: [rows] (cached)
   *   y = swish(u)           y: [rows, out]
   * x: [rows, in], w: [in, out], b, gamma, beta: [out]. precision: of the GEMM x·W. With
   * precision "bf16" on a backend with bf16Activations, x and y may be Bf16Rows (y is then
   * swish(u) rounded to bf16, to nearest even).
   */
  denseLnSwishForward(
    x: Float32Array | Bf16Rows,
    w: Float32Array,
    b: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    z: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    y: Float32Array | Bf16Rows,
    rows: number,
    inDim: number,
    outDim: number,
    eps: number,
    precision?: Precision,
  ): void;

  /**
   * Backward of denseLnSwishForward, given dy = ∂L/∂y [rows, out] (overwritten: used as scratch).
   * Accumulates dw [in, out], db, dgamma, dbeta [out]. Writes dx [rows, in] unless dx is null
   * (the first layer of a network needs no input gradient unless asked). dw null skips the
   * weight-gradient GEMM (only the input gradient is wanted, e.g. the actor's pass through φ);
   * db, dgamma, dbeta are then still accumulated into the buffers given.
   * x, z, mean, rstd: what the forward read and cached. precision: of the GEMMs xᵀ·dz and dz·Wᵀ
   * (the LayerNorm and Swish backward stay float32). overwrite (default false): dw (when not
   * null), db, dgamma, dbeta are written instead of accumulated — the values a zeroed buffer would
   * hold after accumulating, without a pass to zero it first (dw is then never read). x may be
   * Bf16Rows as in the forward.
   */
  denseLnSwishBackward(
    dy: Float32Array,
    x: Float32Array | Bf16Rows,
    w: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    z: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    dx: Float32Array | null,
    dw: Float32Array | null,
    db: Float32Array,
    dgamma: Float32Array,
    dbeta: Float32Array,
    rows: number,
    inDim: number,
    outDim: number,
    precision?: Precision,
    overwrite?: boolean,
  ): void;

  /**
   * One Adam step over n parameters (bias-corrected, as in optax.adam / torch.optim.Adam):
   *   m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
   *   p −= lr · (m / (1−β1^t)) / (sqrt(v / (1−β2^t)) + eps)
   * `step` is t ≥ 1 (the count after this update).
   */
  adamStep(
    param: Float32Array,
    grad: Float32Array,
    m: Float32Array,
    v: Float32Array,
    n: number,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    step: number,
  ): void;

  /** out[i] = a[i] + b[i] over n values (residual skip). out may alias a or b. */
  add(a: Float32Array, b: Float32Array, out: Float32Array, n: number): void;

  // ── composite kernels (optional; see the top and engine/composite.ts for their equations) ──

  /**
   * Σ x[i]² over n values, accumulated in float64 (a gradient's squared norm). NaN and ±Infinity
   * propagate: the result is then NaN or Infinity, never a finite number.
   */
  sumSquares?(x: Float32Array, n: number): number;

  /**
   * L[i, j] = energy(Φ_i, Ψ_j)  Φ, Ψ: [B, d] → logits [B, B] (norm, l2 with the exact-distance path
   * for the diagonal and close pairs, dot, cosine). Fills `s` for the backward.
   */
  pairwiseEnergy?(fn: EnergyFn, phi: Float32Array, psi: Float32Array, B: number, d: number, s: EnergyScratch, logits: Float32Array): void;

  /** Backward of pairwiseEnergy (same Φ, Ψ, s): G = ∂loss/∂L [B, B] → dPhi, dPsi [B, d] (overwritten). */
  pairwiseEnergyBackward?(
    fn: EnergyFn,
    phi: Float32Array,
    psi: Float32Array,
    G: Float32Array,
    B: number,
    d: number,
    s: EnergyScratch,
    dPhi: Float32Array,
    dPsi: Float32Array,
  ): void;

  /**
   * The contrastive loss over logits [B, B] (positives on the diagonal) with the logsumexp
   * penalty, and G = ∂loss/∂logits [B, B] (overwritten). Returns s.stats (overwritten per call).
   */
  contrastiveLoss?(kind: ContrastiveLoss, logits: Float32Array, B: number, penalty: number, s: LossScratch, G: Float32Array): CriticLossStats;

  /** x = μ + σ(raw)·ε, a = tanh(x) [B, A] and log π [B] (float64). mean, raw, eps: [B, A]. */
  tanhGaussianSample?(
    mean: Float32Array,
    raw: Float32Array,
    eps: Float32Array,
    B: number,
    A: number,
    x: Float32Array,
    a: Float32Array,
    logp: Float64Array,
    logDet: TanhLogDet,
  ): void;

  /**
   * Backward of the tanh-Gaussian: dLogp [B] = ∂loss/∂log π (float64), dA [B, A] = ∂loss/∂a →
   * dMean, dRaw [B, A] (overwritten). raw, eps, a, x: as in and out of tanhGaussianSample.
   */
  tanhGaussianBackward?(
    raw: Float32Array,
    eps: Float32Array,
    a: Float32Array,
    dLogp: Float64Array,
    dA: Float32Array,
    B: number,
    A: number,
    dMean: Float32Array,
    dRaw: Float32Array,
    logDet: TanhLogDet,
    x: Float32Array,
  ): void;
}
