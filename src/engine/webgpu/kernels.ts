// The Backend's kernels in WGSL, on device views (engine/webgpu/context.ts). Each method records
// dispatches and returns; nothing is read back. Semantics are the Backend interface's
// (src/engine/backend.ts), float32 throughout: a "bf16" precision runs in fp32 (see
// WebGpuKernels.bf16Unavailable).
import type { Precision } from "../backend.js";
import { type GpuView, type KernelDef, sub, type WebGpuContext } from "./context.js";

/** Threads per workgroup of element-wise and row kernels. */
const WG = 256;
/** Threads per row in row kernels (LayerNorm): one workgroup per row. */
const ROW_WG = 64;

// GEMM tiling: a 64×64 tile of C per 256-thread workgroup (16×16 threads × 4×4 outputs each),
// K in steps of 16 through workgroup memory.
const TM = 64;
const TN = 64;
const TK = 16;

const SIGMOID = `
fn sigmoid(x: f32) -> f32 {
  // stable on both sides: exp of a non-positive argument never overflows
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}`;

/** Workgroup sum of one value per thread (ROW_WG threads); every thread gets the total. */
const ROW_SUM = `
var<workgroup> red: array<f32, ${ROW_WG}>;
fn row_sum(v: f32, t: u32) -> f32 {
  red[t] = v;
  workgroupBarrier();
  for (var s = ${ROW_WG / 2}u; s > 0u; s = s >> 1u) {
    if (t < s) { red[t] = red[t] + red[t + s]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}`;

const ELEMENTWISE_HEAD = `@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = lin(wid, nwg) * ${WG}u + lid.x;`;

const ROW_HEAD = `@compute @workgroup_size(${ROW_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let r = lin(wid, nwg);
  if (r >= u.rows) { return; }
  let t = lid.x;
  let o = r * u.cols;`;

function gemmKernel(transA: boolean, transB: boolean, bias: boolean): KernelDef {
  // A tile: As[kk][mm] = op(A)[m0 + mm, k0 + kk]; B tile: Bs[kk][nn] = op(B)[k0 + kk, n0 + nn].
  const aIdx = transA ? "(k0 + kk) * u.m + (m0 + mm)" : "(m0 + mm) * u.k + (k0 + kk)";
  const bIdx = transB ? "(n0 + nn) * u.k + (k0 + kk)" : "(k0 + kk) * u.n + (n0 + nn)";
  // thread → tile coordinates for loads: consecutive threads walk the contiguous dimension
  const aLoad = transA ? "let mm = e % TM; let kk = e / TM;" : "let kk = e % TK; let mm = e / TK;";
  const bLoad = transB ? "let kk = e % TK; let nn = e / TK;" : "let nn = e % TN; let kk = e / TN;";
  return {
    name: `gemm_${transA ? "t" : "n"}${transB ? "t" : "n"}${bias ? "_bias" : ""}`,
    ops: [{ name: "a" }, { name: "b" }, { name: "c", write: true }, ...(bias ? [{ name: "bias" }] : [])],
    scalars: [
      ["m", "u32"],
      ["n", "u32"],
      ["k", "u32"],
      ["tiles_n", "u32"],
      ["alpha", "f32"],
      ["beta", "f32"],
    ],
    body: `
const TM = ${TM}u;
const TN = ${TN}u;
const TK = ${TK}u;
var<workgroup> As: array<f32, ${TK * TM}>;
var<workgroup> Bs: array<f32, ${TK * TN}>;
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let tile = lin(wid, nwg);
  let m0 = (tile / u.tiles_n) * TM;
  let n0 = (tile % u.tiles_n) * TN;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var k0 = 0u; k0 < u.k; k0 += TK) {
    for (var q = 0u; q < 4u; q++) {
      let e = li + q * 256u;
      {
        ${aLoad}
        var v = 0.0;
        if (m0 + mm < u.m && k0 + kk < u.k) { v = a_ld(${aIdx}); }
        As[kk * TM + mm] = v;
      }
      {
        ${bLoad}
        var v = 0.0;
        if (n0 + nn < u.n && k0 + kk < u.k) { v = b_ld(${bIdx}); }
        Bs[kk * TN + nn] = v;
      }
    }
    workgroupBarrier();
    // a run-time trip count: lavapipe's LLVM spends seconds unrolling a constant one
    let kend = min(TK, u.k - k0);
    for (var kk = 0u; kk < kend; kk++) {
      let ab = kk * TM + lid.y;
      let bb = kk * TN + lid.x;
      let bv = vec4<f32>(Bs[bb], Bs[bb + 16u], Bs[bb + 32u], Bs[bb + 48u]);
      acc0 = fma(vec4<f32>(As[ab]), bv, acc0);
      acc1 = fma(vec4<f32>(As[ab + 16u]), bv, acc1);
      acc2 = fma(vec4<f32>(As[ab + 32u]), bv, acc2);
      acc3 = fma(vec4<f32>(As[ab + 48u]), bv, acc3);
    }
    workgroupBarrier();
  }
  store_row(m0 + lid.y, n0 + lid.x, acc0);
  store_row(m0 + lid.y + 16u, n0 + lid.x, acc1);
  store_row(m0 + lid.y + 32u, n0 + lid.x, acc2);
  store_row(m0 + lid.y + 48u, n0 + lid.x, acc3);
}
fn store_row(row: u32, col0: u32, acc: vec4<f32>) {
  if (row >= u.m) { return; }
  for (var j = 0u; j < 4u; j++) {
    let col = col0 + 16u * j;
    if (col >= u.n) { return; }
    let o = row * u.n + col;
    var v = u.alpha * acc[j];
    if (u.beta != 0.0) { v = v + u.beta * c_ld(o); }
    ${bias ? "v = v + bias_ld(col);" : ""}
    c_st(o, v);
  }
}`,
  };
}

const KERNELS = (() => {
  const gemm: Record<string, KernelDef> = {};
  for (const ta of [false, true]) for (const tb of [false, true]) for (const bias of [false, true]) gemm[`${ta}${tb}${bias}`] = gemmKernel(ta, tb, bias);

  const fill: KernelDef = {
    name: "fill",
    ops: [{ name: "y", write: true }],
    scalars: [
      ["n", "u32"],
      ["value", "f32"],
    ],
    body: `${ELEMENTWISE_HEAD}
  if (i < u.n) { y_st(i, u.value); }
}`,
  };

  const copy: KernelDef = {
    name: "copy2d",
    ops: [{ name: "src" }, { name: "dst", write: true }],
    scalars: [
      ["rows", "u32"],
      ["cols", "u32"],
      ["src_stride", "u32"],
      ["dst_stride", "u32"],
    ],
    body: `${ELEMENTWISE_HEAD}
  if (i >= u.rows * u.cols) { return; }
  let r = i / u.cols;
  let c = i % u.cols;
  dst_st(r * u.dst_stride + c, src_ld(r * u.src_stride + c));
}`,
  };

  const add: KernelDef = {
    name: "add",
    ops: [{ name: "a" }, { name: "b" }, { name: "out", write: true }],
    scalars: [["n", "u32"]],
    body: `${ELEMENTWISE_HEAD}
  if (i < u.n) { out_st(i, a_ld(i) + b_ld(i)); }
}`,
  };

  const biasAdd: KernelDef = {
    name: "bias_add",
    ops: [{ name: "x", write: true }, { name: "bias" }],
    scalars: [
      ["rows", "u32"],
      ["cols", "u32"],
    ],
    body: `${ELEMENTWISE_HEAD}
  if (i < u.rows * u.cols) { x_st(i, x_ld(i) + bias_ld(i % u.cols)); }
}`,
  };

  const swishFwd: KernelDef = {
    name: "swish_fwd",
    ops: [{ name: "x" }, { name: "y", write: true }],
    scalars: [["n", "u32"]],
    body: `${SIGMOID}
${ELEMENTWISE_HEAD}
  if (i < u.n) { let x = x_ld(i); y_st(i, x * sigmoid(x)); }
}`,
  };

  const swishBwd: KernelDef = {
    name: "swish_bwd",
    ops: [{ name: "dy" }, { name: "x" }, { name: "dx", write: true }],
    scalars: [["n", "u32"]],
    body: `${SIGMOID}
${ELEMENTWISE_HEAD}
  if (i < u.n) { let x = x_ld(i); let s = sigmoid(x); dx_st(i, dy_ld(i) * (s * (1.0 + x * (1.0 - s)))); }
}`,
  };

  // LayerNorm forward, optionally followed by Swish: one workgroup per row.
  const lnFwd = (swish: boolean): KernelDef => ({
    name: swish ? "ln_swish_fwd" : "ln_fwd",
    ops: [{ name: "x" }, { name: "gamma" }, { name: "beta" }, { name: "y", write: true }, { name: "mean", write: true }, { name: "rstd", write: true }],
    scalars: [
      ["rows", "u32"],
      ["cols", "u32"],
      ["eps", "f32"],
    ],
    body: `${SIGMOID}
${ROW_SUM}
${ROW_HEAD}
  var s = 0.0;
  for (var j = t; j < u.cols; j += ${ROW_WG}u) { s += x_ld(o + j); }
  let mu = row_sum(s, t) / f32(u.cols);
  var v = 0.0;
  for (var j = t; j < u.cols; j += ${ROW_WG}u) { let d = x_ld(o + j) - mu; v += d * d; }
  let rs = 1.0 / sqrt(row_sum(v, t) / f32(u.cols) + u.eps);
  if (t == 0u) { mean_st(r, mu); rstd_st(r, rs); }
  for (var j = t; j < u.cols; j += ${ROW_WG}u) {
    let yv = (x_ld(o + j) - mu) * rs * gamma_ld(j) + beta_ld(j);
    y_st(o + j, ${swish ? "yv * sigmoid(yv)" : "yv"});
  }
}`,
  });

  // LayerNorm backward over rows: dx = rstd·(dxhat − mean(dxhat) − xhat·mean(dxhat·xhat)), with
  // dxhat = g·γ and g = dy (plain) or dy·swish'(u) (after Swish, u recomputed from the cache).
  // dx may alias dy: each thread reads dy[j] before it writes dx[j], for its own j only.
  const lnBwdRows = (swish: boolean): KernelDef => ({
    name: swish ? "ln_swish_bwd_rows" : "ln_bwd_rows",
    ops: [{ name: "dy" }, { name: "x" }, { name: "mean" }, { name: "rstd" }, { name: "gamma" }, { name: "beta" }, { name: "dx", write: true }],
    scalars: [
      ["rows", "u32"],
      ["cols", "u32"],
    ],
    body: `${SIGMOID}
${ROW_SUM}
fn g_at(o: u32, j: u32, mu: f32, rs: f32) -> f32 {
  ${swish ? "let uu = (x_ld(o + j) - mu) * rs * gamma_ld(j) + beta_ld(j); let s = sigmoid(uu); return dy_ld(o + j) * (s * (1.0 + uu * (1.0 - s)));" : "return dy_ld(o + j);"}
}
${ROW_HEAD}
  let mu = mean_ld(r);
  let rs = rstd_ld(r);
  var sd = 0.0;
  var sdx = 0.0;
  for (var j = t; j < u.cols; j += ${ROW_WG}u) {
    let xh = (x_ld(o + j) - mu) * rs;
    let d = g_at(o, j, mu, rs) * gamma_ld(j);
    sd += d;
    sdx += d * xh;
  }
  let md = row_sum(sd, t) / f32(u.cols);
  let mdx = row_sum(sdx, t) / f32(u.cols);
  for (var j = t; j < u.cols; j += ${ROW_WG}u) {
    let xh = (x_ld(o + j) - mu) * rs;
    let d = g_at(o, j, mu, rs) * gamma_ld(j);
    dx_st(o + j, rs * (d - md - xh * mdx));
  }
}`,
  });

  // Column reductions (16 columns × 16 row lanes per workgroup): out_j += Σ_r f(r, j).
  const colHead = (fnBody: string, outs: string[]) => `${SIGMOID}
var<workgroup> part: array<array<f32, 256>, ${outs.length}>;
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let j = lin(wid, nwg) * 16u + lid.x;
  ${outs.map((_, q) => `var acc${q} = 0.0;`).join(" ")}
  if (j < u.cols) {
    for (var r = lid.y; r < u.rows; r += 16u) {
      let o = r * u.cols + j;
      ${fnBody}
    }
  }
  ${outs.map((_, q) => `part[${q}][lid.y * 16u + lid.x] = acc${q};`).join(" ")}
  workgroupBarrier();
  for (var s = 8u; s > 0u; s = s >> 1u) {
    if (lid.y < s) {
      ${outs.map((_, q) => `part[${q}][lid.y * 16u + lid.x] += part[${q}][(lid.y + s) * 16u + lid.x];`).join(" ")}
    }
    workgroupBarrier();
  }
  if (lid.y == 0u && j < u.cols) {
    ${outs.map((name, q) => `${name}_st(j, ${name}_ld(j) + part[${q}][lid.x]);`).join(" ")}
  }
}`;

  const colSum: KernelDef = {
    name: "col_sum_acc",
    ops: [{ name: "dy" }, { name: "db", write: true }],
    scalars: [
      ["rows", "u32"],
      ["cols", "u32"],
    ],
    body: colHead("acc0 += dy_ld(o);", ["db"]),
  };

  const lnBwdCols = (swish: boolean): KernelDef => ({
    name: swish ? "ln_swish_bwd_cols" : "ln_bwd_cols",
    ops: [{ name: "dy" }, { name: "x" }, { name: "mean" }, { name: "rstd" }, { name: "gamma" }, { name: "beta" }, { name: "dgamma", write: true }, { name: "dbeta", write: true }],
    scalars: [
      ["rows", "u32"],
      ["cols", "u32"],
    ],
    body: colHead(
      `let xh = (x_ld(o) - mean_ld(r)) * rstd_ld(r);
      ${swish ? "let uu = xh * gamma_ld(j) + beta_ld(j); let sg = sigmoid(uu); let g = dy_ld(o) * (sg * (1.0 + uu * (1.0 - sg)));" : "let g = dy_ld(o);"}
      acc0 += g * xh;
      acc1 += g;`,
      ["dgamma", "dbeta"],
    ),
  });

  // Adam (as ref.adamStep, float32). lr and the bias corrections come from `hp` (hp[0] = lr,
  // hp[1] = 1 − β1^t, hp[2] = 1 − β2^t) so that a recorded program can change them per step;
  // the step is skipped unless gate[0] == 1 (a device-computed "all finite" flag).
  const adam: KernelDef = {
    name: "adam",
    ops: [{ name: "p", write: true }, { name: "g" }, { name: "m", write: true }, { name: "v", write: true }, { name: "hp" }, { name: "gate" }],
    scalars: [
      ["n", "u32"],
      ["b1", "f32"],
      ["b2", "f32"],
      ["eps", "f32"],
    ],
    body: `${ELEMENTWISE_HEAD}
  if (i >= u.n || gate_ld(0u) != 1.0) { return; }
  let lr = hp_ld(0u);
  let g = g_ld(i);
  let m = u.b1 * m_ld(i) + (1.0 - u.b1) * g;
  let v = u.b2 * v_ld(i) + (1.0 - u.b2) * g * g;
  m_st(i, m);
  v_st(i, v);
  p_st(i, p_ld(i) - (lr * (m / hp_ld(1u))) / (sqrt(v / hp_ld(2u)) + u.eps));
}`,
  };

  // Σ x² in two deterministic passes: 256 partial sums (grid-stride), then one workgroup. With
  // acc = 1 the partial sums add to the ones there (a sum split over several dispatches).
  const sumsqPartial: KernelDef = {
    name: "sumsq_partial",
    ops: [{ name: "x" }, { name: "part", write: true }],
    scalars: [
      ["n", "u32"],
      ["acc", "u32"],
    ],
    body: `var<workgroup> red: array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  var s = 0.0;
  for (var i = wid.x * ${WG}u + lid.x; i < u.n; i += ${WG * WG}u) { let v = x_ld(i); s += v * v; }
  red[lid.x] = s;
  workgroupBarrier();
  for (var k = ${WG / 2}u; k > 0u; k = k >> 1u) {
    if (lid.x < k) { red[lid.x] += red[lid.x + k]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) { part_st(wid.x, select(0.0, part_ld(wid.x), u.acc == 1u) + red[0]); }
}`,
  };
  const sumFinal: KernelDef = {
    name: "sum_final",
    ops: [{ name: "part" }, { name: "out", write: true }],
    scalars: [["n", "u32"]],
    body: `var<workgroup> red: array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_id) lid: vec3<u32>) {
  var s = 0.0;
  for (var i = lid.x; i < u.n; i += ${WG}u) { s += part_ld(i); }
  red[lid.x] = s;
  workgroupBarrier();
  for (var k = ${WG / 2}u; k > 0u; k = k >> 1u) {
    if (lid.x < k) { red[lid.x] += red[lid.x + k]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) { out_st(0u, red[0]); }
}`,
  };

  return {
    gemm,
    fill,
    copy,
    add,
    biasAdd,
    swishFwd,
    swishBwd,
    lnFwd: lnFwd(false),
    lnSwishFwd: lnFwd(true),
    lnBwdRows: lnBwdRows(false),
    lnSwishBwdRows: lnBwdRows(true),
    colSum,
    lnBwdCols: lnBwdCols(false),
    lnSwishBwdCols: lnBwdCols(true),
    adam,
    sumsqPartial,
    sumFinal,
  };
})();

/** Every kernel definition (for tests that compile them all). */
export const WEBGPU_KERNELS = KERNELS;

/** Partial sums sumsq writes into its scratch (the scratch view must hold this many floats). */
export const SUMSQ_PARTIALS = WG;

const groupsFor = (n: number, per: number) => Math.ceil(n / per);

function need(v: GpuView, n: number, what: string, kernel: string): void {
  if (v.len < n) throw new RangeError(`${kernel}: ${what} has ${v.len} values, needs ${n}`);
}

/**
 * The Backend's kernels on device views. Argument order and meaning follow Backend (backend.ts);
 * Adam's per-step values come from device views (see the adam kernel above). Element-wise work
 * over more floats than one storage binding may hold (a large network's parameters: fill, add,
 * Adam, the sum of squares) is split into dispatches of at most ctx.splitFloats each.
 */
export class WebGpuKernels {
  constructor(readonly ctx: WebGpuContext) {}

  /** Calls f(offset, length) for consecutive pieces of [0, n) of at most ctx.splitFloats each. */
  private split(n: number, f: (off: number, len: number) => void): void {
    const step = this.ctx.splitFloats;
    if (n <= step) {
      f(0, n);
      return;
    }
    for (let off = 0; off < n; off += step) f(off, Math.min(step, n - off));
  }

  /** WebGPU has no bf16 arithmetic; bf16 GEMMs would need packing shaders (shader-f16 is f16, not bf16). */
  static bf16Unavailable(): string {
    return "WebGPU has no bf16 arithmetic; the WebGPU backend runs fp32";
  }

  gemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: GpuView,
    b: GpuView,
    beta: number,
    c: GpuView,
    precision: Precision = "fp32",
    bias: GpuView | null = null,
  ): void {
    if (precision !== "fp32") throw new Error(`WebGPU gemm: precision ${precision} is not supported (${WebGpuKernels.bf16Unavailable()})`);
    if (m === 0 || n === 0) return;
    need(a, m * k, "A", "gemm");
    need(b, k * n, "B", "gemm");
    need(c, m * n, "C", "gemm");
    if (bias) need(bias, n, "bias", "gemm");
    // k = 0 leaves C = beta·C (+ bias): the tiled kernel's K loop is then empty
    const tilesN = groupsFor(n, TN);
    const ops: Record<string, GpuView> = bias ? { a, b, c, bias } : { a, b, c };
    this.ctx.dispatch(KERNELS.gemm[`${transA}${transB}${bias !== null}`], ops, { m, n, k, tiles_n: tilesN, alpha, beta }, groupsFor(m, TM) * tilesN);
  }

  fill(y: GpuView, n: number, value: number): void {
    need(y, n, "y", "fill");
    this.split(n, (o, len) => this.ctx.dispatch(KERNELS.fill, { y: sub(y, o, len) }, { n: len, value }, groupsFor(len, WG)));
  }

  /** dst[r, c] = src[r, c] for a [rows, cols] block (row strides given; views start at the block). */
  copy2d(src: GpuView, srcStride: number, dst: GpuView, dstStride: number, rows: number, cols: number): void {
    if (rows === 0 || cols === 0) return;
    need(src, (rows - 1) * srcStride + cols, "src", "copy2d");
    need(dst, (rows - 1) * dstStride + cols, "dst", "copy2d");
    this.ctx.dispatch(KERNELS.copy, { src, dst }, { rows, cols, src_stride: srcStride, dst_stride: dstStride }, groupsFor(rows * cols, WG));
  }

  biasAdd(x: GpuView, bias: GpuView, rows: number, cols: number): void {
    need(x, rows * cols, "x", "biasAdd");
    need(bias, cols, "bias", "biasAdd");
    this.ctx.dispatch(KERNELS.biasAdd, { x, bias }, { rows, cols }, groupsFor(rows * cols, WG));
  }

  biasBackward(dy: GpuView, db: GpuView, rows: number, cols: number): void {
    need(dy, rows * cols, "dy", "biasBackward");
    need(db, cols, "db", "biasBackward");
    this.ctx.dispatch(KERNELS.colSum, { dy, db }, { rows, cols }, groupsFor(cols, 16));
  }

  layerNormForward(x: GpuView, gamma: GpuView, beta: GpuView, y: GpuView, mean: GpuView, rstd: GpuView, rows: number, cols: number, eps: number): void {
    need(x, rows * cols, "x", "layerNormForward");
    need(y, rows * cols, "y", "layerNormForward");
    need(mean, rows, "mean", "layerNormForward");
    need(rstd, rows, "rstd", "layerNormForward");
    this.ctx.dispatch(KERNELS.lnFwd, { x, gamma, beta, y, mean, rstd }, { rows, cols, eps }, rows);
  }

  layerNormBackward(
    dy: GpuView,
    x: GpuView,
    mean: GpuView,
    rstd: GpuView,
    gamma: GpuView,
    dx: GpuView,
    dgamma: GpuView,
    dbeta: GpuView,
    rows: number,
    cols: number,
  ): void {
    need(dy, rows * cols, "dy", "layerNormBackward");
    need(dx, rows * cols, "dx", "layerNormBackward");
    // the column sums read dy, so they run before dx (which may alias dy) is written
    this.ctx.dispatch(KERNELS.lnBwdCols, { dy, x, mean, rstd, gamma, beta: gamma, dgamma, dbeta }, { rows, cols }, groupsFor(cols, 16));
    this.ctx.dispatch(KERNELS.lnBwdRows, { dy, x, mean, rstd, gamma, beta: gamma, dx }, { rows, cols }, rows);
  }

  swishForward(x: GpuView, y: GpuView, n: number): void {
    need(x, n, "x", "swishForward");
    need(y, n, "y", "swishForward");
    this.ctx.dispatch(KERNELS.swishFwd, { x, y }, { n }, groupsFor(n, WG));
  }

  swishBackward(dy: GpuView, x: GpuView, dx: GpuView, n: number): void {
    need(dx, n, "dx", "swishBackward");
    this.ctx.dispatch(KERNELS.swishBwd, { dy, x, dx }, { n }, groupsFor(n, WG));
  }

  /** z = x·W + b (one GEMM with the bias in its epilogue), then y = swish(LN(z)) per row. */
  denseLnSwishForward(
    x: GpuView,
    w: GpuView,
    b: GpuView,
    gamma: GpuView,
    beta: GpuView,
    z: GpuView,
    mean: GpuView,
    rstd: GpuView,
    y: GpuView,
    rows: number,
    inDim: number,
    outDim: number,
    eps: number,
    precision: Precision = "fp32",
  ): void {
    this.gemm(false, false, rows, outDim, inDim, 1, x, w, 0, z, precision, b);
    need(y, rows * outDim, "y", "denseLnSwishForward");
    this.ctx.dispatch(KERNELS.lnSwishFwd, { x: z, gamma, beta, y, mean, rstd }, { rows, cols: outDim, eps }, rows);
  }

  /** As ref: dγ, dβ (columns), dz into dy (rows), db, then dW += xᵀ·dz and dx = dz·Wᵀ. */
  denseLnSwishBackward(
    dy: GpuView,
    x: GpuView,
    w: GpuView,
    gamma: GpuView,
    beta: GpuView,
    z: GpuView,
    mean: GpuView,
    rstd: GpuView,
    dx: GpuView | null,
    dw: GpuView | null,
    db: GpuView,
    dgamma: GpuView,
    dbeta: GpuView,
    rows: number,
    inDim: number,
    outDim: number,
    precision: Precision = "fp32",
  ): void {
    need(dy, rows * outDim, "dy", "denseLnSwishBackward");
    need(z, rows * outDim, "z", "denseLnSwishBackward");
    const s = { rows, cols: outDim };
    this.ctx.dispatch(KERNELS.lnSwishBwdCols, { dy, x: z, mean, rstd, gamma, beta, dgamma, dbeta }, s, groupsFor(outDim, 16));
    this.ctx.dispatch(KERNELS.lnSwishBwdRows, { dy, x: z, mean, rstd, gamma, beta, dx: dy }, s, rows);
    this.ctx.dispatch(KERNELS.colSum, { dy, db }, s, groupsFor(outDim, 16));
    if (dw) this.gemm(true, false, inDim, outDim, rows, 1, x, dy, 1, dw, precision);
    if (dx) this.gemm(false, true, rows, inDim, outDim, 1, dy, w, 0, dx, precision);
  }

  /**
   * Adam over n values. hp: [lr, 1 − β1^t, 1 − β2^t] (device values, so recorded programs can
   * change them per step); gate[0] must be 1 for the step to apply.
   */
  adamStep(param: GpuView, grad: GpuView, m: GpuView, v: GpuView, n: number, hp: GpuView, gate: GpuView, beta1: number, beta2: number, eps: number): void {
    need(param, n, "param", "adamStep");
    need(grad, n, "grad", "adamStep");
    need(m, n, "m", "adamStep");
    need(v, n, "v", "adamStep");
    need(hp, 3, "hp", "adamStep");
    need(gate, 1, "gate", "adamStep");
    this.split(n, (o, len) =>
      this.ctx.dispatch(
        KERNELS.adam,
        { p: sub(param, o, len), g: sub(grad, o, len), m: sub(m, o, len), v: sub(v, o, len), hp, gate },
        { n: len, b1: beta1, b2: beta2, eps },
        groupsFor(len, WG),
      ),
    );
  }

  add(a: GpuView, b: GpuView, out: GpuView, n: number): void {
    need(a, n, "a", "add");
    need(b, n, "b", "add");
    need(out, n, "out", "add");
    this.split(n, (o, len) => this.ctx.dispatch(KERNELS.add, { a: sub(a, o, len), b: sub(b, o, len), out: sub(out, o, len) }, { n: len }, groupsFor(len, WG)));
  }

  /** out[0] = Σ x², through `scratch` (≥ SUMSQ_PARTIALS floats). */
  sumsq(x: GpuView, n: number, scratch: GpuView, out: GpuView): void {
    need(x, n, "x", "sumsq");
    need(scratch, SUMSQ_PARTIALS, "scratch", "sumsq");
    let first = true;
    this.split(n, (o, len) => {
      this.ctx.dispatch(KERNELS.sumsqPartial, { x: sub(x, o, len), part: scratch }, { n: len, acc: first ? 0 : 1 }, [SUMSQ_PARTIALS, 1]);
      first = false;
    });
    this.ctx.dispatch(KERNELS.sumFinal, { part: scratch, out }, { n: SUMSQ_PARTIALS }, [1, 1]);
  }
}
