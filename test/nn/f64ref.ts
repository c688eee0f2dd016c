// An independent float64 forward of the paper's ResNet (SPEC §2), written from the spec rather
// than from src/nn, used as the finite-difference oracle for the engine's backward passes.
import type { ResNet } from "../../src/nn/resnet.js";

/** The central difference (f(x_i + h) − f(x_i − h)) / 2h of f w.r.t. x[i] (x changed in place and restored). */
export function centralDifference(f: () => number, x: { [i: number]: number }, i: number, h: number): number {
  const old = x[i];
  x[i] = old + h;
  const p = f();
  x[i] = old - h;
  const m = f();
  x[i] = old;
  return (p - m) / (2 * h);
}

export interface F64Net {
  /** Parameter values by name (float64 copies). */
  p: Map<string, Float64Array>;
  inDim: number;
  width: number;
  depth: number;
  heads: { name: string; dim: number }[];
}

export function toF64(net: ResNet): F64Net {
  const p = new Map<string, Float64Array>();
  for (const t of net.params.tensors) p.set(t.name, Float64Array.from(net.params.view(t)));
  const c = net.config;
  return { p, inDim: c.inDim, width: c.width, depth: c.depth, heads: c.heads.map((h) => ({ ...h })) };
}

function dense(x: Float64Array, rows: number, inDim: number, w: Float64Array, b: Float64Array, outDim: number): Float64Array {
  const y = new Float64Array(rows * outDim);
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < outDim; j++) {
      let s = b[j];
      for (let k = 0; k < inDim; k++) s += x[r * inDim + k] * w[k * outDim + j];
      y[r * outDim + j] = s;
    }
  return y;
}

function ln(z: Float64Array, rows: number, cols: number, g: Float64Array, bt: Float64Array): Float64Array {
  const y = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let mu = 0;
    for (let j = 0; j < cols; j++) mu += z[r * cols + j];
    mu /= cols;
    let v = 0;
    for (let j = 0; j < cols; j++) v += (z[r * cols + j] - mu) ** 2;
    v /= cols;
    const rs = 1 / Math.sqrt(v + 1e-6);
    for (let j = 0; j < cols; j++) y[r * cols + j] = (z[r * cols + j] - mu) * rs * g[j] + bt[j];
  }
  return y;
}

function lnSwish(z: Float64Array, rows: number, cols: number, g: Float64Array, bt: Float64Array): Float64Array {
  const y = ln(z, rows, cols, g, bt);
  for (let i = 0; i < y.length; i++) y[i] = y[i] / (1 + Math.exp(-y[i]));
  return y;
}

export function forwardF64(net: F64Net, x: Float64Array, rows: number): Float64Array[] {
  const P = (n: string) => {
    const v = net.p.get(n);
    if (!v) throw new Error(`missing ${n}`);
    return v;
  };
  const W = net.width;
  const unit = (h: Float64Array, inDim: number, d: string, n: string) =>
    lnSwish(dense(h, rows, inDim, P(`${d}.weight`), P(`${d}.bias`), W), rows, W, P(`${n}.scale`), P(`${n}.bias`));
  let h = unit(x, net.inDim, "input.dense", "input.norm");
  for (let b = 0; b < net.depth / 4; b++) {
    let t = h;
    for (let l = 0; l < 4; l++) t = unit(t, W, `blocks.${b}.dense.${l}`, `blocks.${b}.norm.${l}`);
    const o = new Float64Array(h.length);
    for (let i = 0; i < o.length; i++) o[i] = h[i] + t[i];
    h = o;
  }
  // Optional LayerNorm of the stream before the heads (ResNetConfig.headNorm).
  if (net.p.has("head_norm.scale")) h = ln(h, rows, W, P("head_norm.scale"), P("head_norm.bias"));
  return net.heads.map((hd) => dense(h, rows, W, P(`head.${hd.name}.weight`), P(`head.${hd.name}.bias`), hd.dim));
}

/**
 * Central differences (step h) of L = Σ_k Σ out_k ⊙ R_k, the heads' outputs of `ref` (float64) on
 * the input x64 weighted by R: fd(arr, i) = ∂L/∂arr[i] for arr a parameter array of ref (ref.p)
 * or x64 itself.
 */
export function centralDifferences(ref: F64Net, x64: Float64Array, R: readonly Float32Array[], rows: number, h = 1e-6): (arr: Float64Array, i: number) => number {
  const loss = () => {
    const outs = forwardF64(ref, x64, rows);
    let s = 0;
    for (let k = 0; k < outs.length; k++) for (let i = 0; i < outs[k].length; i++) s += outs[k][i] * R[k][i];
    return s;
  };
  return (arr, i) => centralDifference(loss, arr, i, h);
}

/**
 * The gradients of L = Σ_k ⟨out_k, R_k⟩ that `net` computes on x [rows, inDim] (into its params'
 * grad; dx returned), and their float64 oracle: the network copied to float64, x64 = x in float64,
 * and `fd(arr, i)`, the central difference of L w.r.t. arr[i] (arr: x64 or one of ref.p's arrays).
 */
export function gradientsWithOracle(net: ResNet, x: Float32Array, R: Float32Array[], rows: number) {
  net.forward(x, rows);
  net.params.zeroGrad();
  const dx = net.backward(R, true)!;
  const ref = toF64(net);
  const x64 = Float64Array.from(x);
  return { dx, ref, x64, fd: centralDifferences(ref, x64, R, rows) };
}
