/// <reference types="@webgpu/types" />
// The WebGPU backend's kernel calls on a device: a call (CallRequest: the kernel's name, its host
// operands grouped by the host memory they share, its scalars) is uploaded into pooled device
// buffers, run through WebGpuKernels (kernels.ts) and its written ranges read back. WebGpuBackend
// (webgpu.ts) packs the calls (packCall) and its device thread (worker.ts) runs them here; a
// browser page runs the same calls on navigator.gpu (browser.ts). Browser-clean (no Node imports).
import type { Kernel, Precision } from "../backend.js";
import { zeroDenseParamGrads } from "../composite.js";
import { type GpuBuf, type GpuView, gview, type WebGpuContext } from "./context.js";
import { WebGpuKernels } from "./kernels.js";

/** One host range uploaded for a call (operands that overlap in host memory share one). */
export interface CallGroup {
  data: Float32Array;
  write: boolean;
}

export interface CallRequest {
  name: string;
  groups: CallGroup[];
  /** operand name → [group, float offset in it, length], or null (an absent optional operand). */
  ops: Record<string, [number, number, number] | null>;
  scalars: Record<string, number>;
}

/** A host operand of a kernel call (null: an optional operand left out). */
export type Operand = Float32Array | null;

/** A call packed for the device, and how to copy its answer back into the host operands. */
export interface PackedCall {
  req: CallRequest;
  /** Writes the device's answer (one array per written group, in order) into the host operands. */
  unpack(outs: readonly Float32Array[]): void;
}

/**
 * Packs one kernel call. Operands that share host memory (y aliasing x, views of one parameter
 * array) become one range, uploaded once, so aliasing behaves as on the CPU. `written`: the
 * operands the kernel writes.
 */
export function packCall(name: string, operands: Record<string, Operand>, written: readonly string[], scalars: Record<string, number>): PackedCall {
  type Item = { name: string; arr: Float32Array; start: number; end: number; group: number };
  const items: Item[] = [];
  for (const [n, arr] of Object.entries(operands)) {
    if (arr) items.push({ name: n, arr, start: arr.byteOffset / 4, end: arr.byteOffset / 4 + arr.length, group: -1 });
  }
  // group operands whose host ranges overlap (same ArrayBuffer)
  const groups: { buffer: ArrayBufferLike; start: number; end: number; write: boolean }[] = [];
  const sorted = [...items].sort((a, b) => a.start - b.start);
  for (const it of sorted) {
    const g = groups.findIndex((x) => x.buffer === it.arr.buffer && it.start < x.end && it.end > x.start);
    if (g >= 0) {
      groups[g].end = Math.max(groups[g].end, it.end);
      groups[g].start = Math.min(groups[g].start, it.start);
      it.group = g;
    } else {
      groups.push({ buffer: it.arr.buffer, start: it.start, end: it.end, write: false });
      it.group = groups.length - 1;
    }
    if (written.includes(it.name)) groups[it.group].write = true;
  }
  const sendGroups: CallGroup[] = groups.map((g) => ({ data: new Float32Array(g.buffer, g.start * 4, g.end - g.start).slice(), write: g.write }));
  const ops: CallRequest["ops"] = {};
  for (const [n, arr] of Object.entries(operands)) {
    if (!arr) ops[n] = null;
    else {
      const it = items.find((x) => x.name === n)!;
      ops[n] = [it.group, it.start - groups[it.group].start, it.arr.length];
    }
  }
  return {
    req: { name, groups: sendGroups, ops, scalars },
    unpack(outs) {
      let k = 0;
      for (const g of groups) {
        if (g.write) new Float32Array(g.buffer, g.start * 4, g.end - g.start).set(outs[k++]);
      }
    },
  };
}

/** Device buffers by capacity; each call takes distinct ones for its groups. */
class Pool {
  private free: GpuBuf[] = [];
  constructor(private readonly ctx: WebGpuContext) {}
  take(floats: number): GpuBuf {
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      if (this.free[i].length >= floats && (best < 0 || this.free[i].length < this.free[best].length)) best = i;
    }
    if (best >= 0) return this.free.splice(best, 1)[0];
    return this.ctx.createBuffer(2 ** Math.ceil(Math.log2(Math.max(floats, 64))), "webgpu backend operand");
  }
  give(bufs: GpuBuf[]): void {
    this.free.push(...bufs);
  }
}

/** Runs packed kernel calls on one device: uploads, runs, reads back the written groups. */
export class CallRunner {
  private readonly K: WebGpuKernels;
  private readonly pool: Pool;
  private readonly hpBuf: GpuBuf; // [lr, 1 − β1^t, 1 − β2^t, gate = 1]

  constructor(readonly ctx: WebGpuContext) {
    this.K = new WebGpuKernels(ctx);
    this.pool = new Pool(ctx);
    this.hpBuf = ctx.createBuffer(4, "adam hp");
  }

  /** Runs one call; resolves to the written groups' new contents, in the order of req.groups. */
  async run(req: CallRequest): Promise<Float32Array[]> {
    const ctx = this.ctx;
    const taken: GpuBuf[] = [];
    try {
      const groupViews: GpuView[] = req.groups.map((g) => {
        const b = this.pool.take(g.data.length);
        taken.push(b);
        const v = gview(b, 0, g.data.length);
        ctx.write(v, g.data);
        return v;
      });
      const v: Record<string, GpuView> = {};
      for (const [name, o] of Object.entries(req.ops)) {
        if (o) v[name] = gview(groupViews[o[0]].buf, o[1], o[2]);
      }
      dispatchCall(this.K, ctx, this.hpBuf, req.name, v, req.scalars);
      const written = req.groups.map((g, i) => (g.write ? groupViews[i] : null)).filter((x): x is GpuView => x !== null);
      return await ctx.readMany(written);
    } finally {
      this.pool.give(taken);
    }
  }
}

function dispatchCall(K: WebGpuKernels, ctx: WebGpuContext, hpBuf: GpuBuf, name: string, v: Record<string, GpuView>, s: Record<string, number>): void {
  const nul = (x: GpuView | undefined) => x ?? null;
  switch (name) {
    case "gemm":
      K.gemm(s.transA === 1, s.transB === 1, s.m, s.n, s.k, s.alpha, v.a, v.b, s.beta, v.c);
      return;
    case "biasAdd":
      K.biasAdd(v.x, v.bias, s.rows, s.cols);
      return;
    case "biasBackward":
      K.biasBackward(v.dy, v.db, s.rows, s.cols);
      return;
    case "layerNormForward":
      K.layerNormForward(v.x, v.gamma, v.beta, v.y, v.mean, v.rstd, s.rows, s.cols, s.eps);
      return;
    case "layerNormBackward":
      K.layerNormBackward(v.dy, v.x, v.mean, v.rstd, v.gamma, v.dx, v.dgamma, v.dbeta, s.rows, s.cols);
      return;
    case "swishForward":
      K.swishForward(v.x, v.y, s.n);
      return;
    case "swishBackward":
      K.swishBackward(v.dy, v.x, v.dx, s.n);
      return;
    case "denseLnSwishForward":
      K.denseLnSwishForward(v.x, v.w, v.b, v.gamma, v.beta, v.z, v.mean, v.rstd, v.y, s.rows, s.inDim, s.outDim, s.eps);
      return;
    case "denseLnSwishBackward":
      K.denseLnSwishBackward(v.dy, v.x, v.w, v.gamma, v.beta, v.z, v.mean, v.rstd, nul(v.dx), nul(v.dw), v.db, v.dgamma, v.dbeta, s.rows, s.inDim, s.outDim);
      return;
    case "adamStep": {
      // bias corrections in float64, as ref computes them
      ctx.write(gview(hpBuf), new Float32Array([s.lr, 1 - s.beta1 ** s.step, 1 - s.beta2 ** s.step, 1]));
      K.adamStep(v.param, v.grad, v.m, v.v, s.n, gview(hpBuf, 0, 3), gview(hpBuf, 3, 1), s.beta1, s.beta2, s.eps);
      return;
    }
    case "add":
      K.add(v.a, v.b, v.out, s.n);
      return;
    default:
      throw new Error(`unknown WebGPU backend call "${name}"`);
  }
}


/**
 * The Backend interface's kernels as packed calls: each checks its operands as the other backends
 * do, takes the ranges the kernel reads and writes, and hands them to `call`, which runs them on a
 * device and writes the answer back (WebGpuBackend: in its device thread, blocking). A page's
 * tests pack calls with it too and answer them with CallRunner on navigator.gpu.
 */
export abstract class PackedKernels {
  /** Runs one packed kernel call and writes its written operands back into host memory. */
  protected abstract call(name: string, operands: Record<string, Operand>, written: readonly string[], scalars: Record<string, number>): void;

  gemm: Kernel<"gemm"> = (transA, transB, m, n, k, alpha, a, b, beta, c, precision = "fp32") => {
    checkPrecision(precision);
    checkLen("gemm", "a", a, m * k);
    checkLen("gemm", "b", b, k * n);
    checkLen("gemm", "c", c, m * n);
    if (m === 0 || n === 0) return;
    this.call("gemm", { a: a.subarray(0, m * k), b: b.subarray(0, k * n), c: c.subarray(0, m * n) }, ["c"], { transA: +transA, transB: +transB, m, n, k, alpha, beta });
  };

  biasAdd: Kernel<"biasAdd"> = (x, bias, rows, cols) => {
    checkLen("biasAdd", "x", x, rows * cols);
    checkLen("biasAdd", "bias", bias, cols);
    if (rows * cols === 0) return;
    this.call("biasAdd", { x: x.subarray(0, rows * cols), bias: bias.subarray(0, cols) }, ["x"], { rows, cols });
  };

  biasBackward: Kernel<"biasBackward"> = (dy, db, rows, cols) => {
    checkLen("biasBackward", "dy", dy, rows * cols);
    checkLen("biasBackward", "db", db, cols);
    if (cols === 0) return;
    this.call("biasBackward", { dy: dy.subarray(0, Math.max(1, rows * cols)), db: db.subarray(0, cols) }, ["db"], { rows, cols });
  };

  layerNormForward: Kernel<"layerNormForward"> = (x, gamma, beta, y, mean, rstd, rows, cols, eps) => {
    const n = rows * cols;
    for (const [w, a, l] of [["x", x, n], ["y", y, n], ["gamma", gamma, cols], ["beta", beta, cols], ["mean", mean, rows], ["rstd", rstd, rows]] as const) checkLen("layerNormForward", w, a, l);
    if (n === 0) return;
    this.call(
      "layerNormForward",
      { x: x.subarray(0, n), gamma: gamma.subarray(0, cols), beta: beta.subarray(0, cols), y: y.subarray(0, n), mean: mean.subarray(0, rows), rstd: rstd.subarray(0, rows) },
      ["y", "mean", "rstd"],
      { rows, cols, eps },
    );
  };

  layerNormBackward: Kernel<"layerNormBackward"> = (dy, x, mean, rstd, gamma, dx, dgamma, dbeta, rows, cols) => {
    const n = rows * cols;
    for (const [w, a, l] of [["dy", dy, n], ["x", x, n], ["dx", dx, n], ["gamma", gamma, cols], ["dgamma", dgamma, cols], ["dbeta", dbeta, cols], ["mean", mean, rows], ["rstd", rstd, rows]] as const) {
      checkLen("layerNormBackward", w, a, l);
    }
    if (n === 0) return;
    this.call(
      "layerNormBackward",
      {
        dy: dy.subarray(0, n),
        x: x.subarray(0, n),
        mean: mean.subarray(0, rows),
        rstd: rstd.subarray(0, rows),
        gamma: gamma.subarray(0, cols),
        dx: dx.subarray(0, n),
        dgamma: dgamma.subarray(0, cols),
        dbeta: dbeta.subarray(0, cols),
      },
      ["dx", "dgamma", "dbeta"],
      { rows, cols },
    );
  };

  swishForward: Kernel<"swishForward"> = (x, y, n) => {
    checkLen("swishForward", "x", x, n);
    checkLen("swishForward", "y", y, n);
    if (n === 0) return;
    this.call("swishForward", { x: x.subarray(0, n), y: y.subarray(0, n) }, ["y"], { n });
  };

  swishBackward: Kernel<"swishBackward"> = (dy, x, dx, n) => {
    checkLen("swishBackward", "dy", dy, n);
    checkLen("swishBackward", "x", x, n);
    checkLen("swishBackward", "dx", dx, n);
    if (n === 0) return;
    this.call("swishBackward", { dy: dy.subarray(0, n), x: x.subarray(0, n), dx: dx.subarray(0, n) }, ["dx"], { n });
  };

  denseLnSwishForward: Kernel<"denseLnSwishForward"> = (x16, w, b, gamma, beta, z, mean, rstd, y16, rows, inDim, outDim, eps, precision = "fp32") => {
    checkPrecision(precision);
    const [x, y] = [float32Only("denseLnSwishForward", "x", x16), float32Only("denseLnSwishForward", "y", y16)];
    const n = rows * outDim;
    for (const [nm, a, l] of [
      ["x", x, rows * inDim],
      ["w", w, inDim * outDim],
      ["b", b, outDim],
      ["gamma", gamma, outDim],
      ["beta", beta, outDim],
      ["z", z, n],
      ["mean", mean, rows],
      ["rstd", rstd, rows],
      ["y", y, n],
    ] as const) {
      checkLen("denseLnSwishForward", nm, a, l);
    }
    if (n === 0) return;
    this.call(
      "denseLnSwishForward",
      {
        x: x.subarray(0, Math.max(1, rows * inDim)),
        w: w.subarray(0, Math.max(1, inDim * outDim)),
        b: b.subarray(0, outDim),
        gamma: gamma.subarray(0, outDim),
        beta: beta.subarray(0, outDim),
        z: z.subarray(0, n),
        mean: mean.subarray(0, rows),
        rstd: rstd.subarray(0, rows),
        y: y.subarray(0, n),
      },
      ["z", "mean", "rstd", "y"],
      { rows, inDim, outDim, eps },
    );
  };

  denseLnSwishBackward: Kernel<"denseLnSwishBackward"> = (dy, x16, w, gamma, beta, z, mean, rstd, dx, dw, db, dgamma, dbeta, rows, inDim, outDim, precision = "fp32", overwrite = false) => {
    checkPrecision(precision);
    const x = float32Only("denseLnSwishBackward", "x", x16);
    const n = rows * outDim;
    for (const [nm, a, l] of [
      ["dy", dy, n],
      ["x", x, rows * inDim],
      ["w", w, inDim * outDim],
      ["gamma", gamma, outDim],
      ["beta", beta, outDim],
      ["z", z, n],
      ["mean", mean, rows],
      ["rstd", rstd, rows],
      ["dx", dx, rows * inDim],
      ["dw", dw, inDim * outDim],
      ["db", db, outDim],
      ["dgamma", dgamma, outDim],
      ["dbeta", dbeta, outDim],
    ] as const) {
      checkLen("denseLnSwishBackward", nm, a, l);
    }
    if (outDim === 0) return;
    // the device kernels accumulate: start them from zeros (the buffers are uploaded as they are)
    if (overwrite) zeroDenseParamGrads(dw, db, dgamma, dbeta, inDim, outDim);
    const s = (a: Float32Array | null, l: number) => (a ? a.subarray(0, Math.max(1, l)) : null);
    this.call(
      "denseLnSwishBackward",
      {
        dy: s(dy, n),
        x: s(x, rows * inDim),
        w: s(w, inDim * outDim),
        gamma: s(gamma, outDim),
        beta: s(beta, outDim),
        z: s(z, n),
        mean: s(mean, rows),
        rstd: s(rstd, rows),
        dx: s(dx, rows * inDim),
        dw: s(dw, inDim * outDim),
        db: s(db, outDim),
        dgamma: s(dgamma, outDim),
        dbeta: s(dbeta, outDim),
      },
      ["dy", "dx", "dw", "db", "dgamma", "dbeta"],
      { rows, inDim, outDim },
    );
  };

  adamStep: Kernel<"adamStep"> = (param, grad, m, v, n, lr, beta1, beta2, eps, step) => {
    for (const [nm, a] of [["param", param], ["grad", grad], ["m", m], ["v", v]] as const) checkLen("adamStep", nm, a, n);
    if (!(Number.isInteger(step) && step >= 1)) throw new Error(`adamStep: step must be an integer >= 1, got ${step}`);
    if (n === 0) return;
    this.call(
      "adamStep",
      { param: param.subarray(0, n), grad: grad.subarray(0, n), m: m.subarray(0, n), v: v.subarray(0, n) },
      ["param", "m", "v"],
      { n, lr, beta1, beta2, eps, step },
    );
  };

  add: Kernel<"add"> = (a, b, out, n) => {
    checkLen("add", "a", a, n);
    checkLen("add", "b", b, n);
    checkLen("add", "out", out, n);
    if (n === 0) return;
    this.call("add", { a: a.subarray(0, n), b: b.subarray(0, n), out: out.subarray(0, n) }, ["out"], { n });
  };
}

/** The WebGPU kernels are float32 only: bf16 rows (Uint16Array) are refused with the reason. */
function float32Only(fn: string, name: string, a: Float32Array | Uint16Array): Float32Array {
  if (!(a instanceof Float32Array)) throw new TypeError(`${fn}: ${name} must be a Float32Array: the WebGPU backend keeps no bf16 activations (bf16Activations is not set)`);
  return a;
}

function checkPrecision(p: Precision): void {
  if (p !== "fp32") throw new Error(`the WebGPU backend cannot run precision ${p} (${WebGpuKernels.bf16Unavailable()}): use precision fp32`);
}

function checkLen(kernel: string, what: string, a: Float32Array | null, need: number): void {
  if (a && a.length < need) throw new RangeError(`${kernel}: ${what} has ${a.length} values, needs ${need}`);
}
