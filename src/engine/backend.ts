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

/** Operand precision of the GEMMs: float32, or bf16 operands with float32 accumulation. */
export const PRECISIONS = ["fp32", "bf16"] as const;
export type Precision = (typeof PRECISIONS)[number];

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
   * x: [rows, in], w: [in, out], b, gamma, beta: [out]. precision: of the GEMM x·W.
   */
  denseLnSwishForward(
    x: Float32Array,
    w: Float32Array,
    b: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    z: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    y: Float32Array,
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
   * (the LayerNorm and Swish backward stay float32).
   */
  denseLnSwishBackward(
    dy: Float32Array,
    x: Float32Array,
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
}
