// The WebGPU backend behind the synchronous Backend interface (Node): every call uploads its
// operands to the device, runs the WGSL kernels (kernels.ts) in a worker thread that owns the
// device, and copies the written ranges back before returning. Correct for every caller of
// Backend, but each call is a round trip; the device-resident path for training is
// agents/crl-webgpu.ts (parameters, Adam state and activations stay on the device, one
// submission per update). Float32 only: bf16Unavailable() says why.
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from "node:worker_threads";
import type { Backend, Kernel, Precision } from "../backend.js";
import { type AdapterSummary, describeAdapter } from "./context.js";
import { WebGpuKernels } from "./kernels.js";
import type { CallGroup, CallRequest, HostRequest, WorkerInit, WorkerReply } from "./worker.js";

const EXT = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
const WORKER_URL = new URL(`./worker${EXT}`, import.meta.url);

/** How long a call may take before the backend gives up (first calls compile shaders; lavapipe is slow). */
const CALL_TIMEOUT_MS = 15 * 60 * 1000;

function spawn(init: WorkerInit): Worker {
  const opts = { workerData: init, transferList: [init.port] };
  if (EXT === ".js") return new Worker(WORKER_URL, opts);
  // tsx's --import hooks do not reach worker threads on Node 20 (as in envs/vec.ts)
  const api = import.meta.resolve("tsx/esm/api");
  const boot = `import(${JSON.stringify(api)}).then((t) => { t.register(); return import(${JSON.stringify(WORKER_URL.href)}); });`;
  return new Worker(boot, { ...opts, eval: true });
}

type Operand = Float32Array | null;

export interface WebGpuOptions {
  /** Accept a software adapter (lavapipe, SwiftShader); default true. */
  allowSoftware?: boolean;
}

export class WebGpuBackend implements Backend {
  readonly name = "webgpu";
  /** Host threads the kernels use: the GPU does the work. */
  readonly threads = 1;
  readonly adapter: AdapterSummary;
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly flag: Int32Array;
  private closed = false;

  private constructor(worker: Worker, port: MessagePort, flag: Int32Array, adapter: AdapterSummary) {
    this.worker = worker;
    this.port = port;
    this.flag = flag;
    this.adapter = adapter;
  }

  /** Starts the device thread and waits for its adapter; throws a clear error when there is none. */
  static create(options: WebGpuOptions = {}): WebGpuBackend {
    const { port1, port2 } = new MessageChannel();
    const ctrl = new SharedArrayBuffer(4);
    const flag = new Int32Array(ctrl);
    const worker = spawn({ port: port2, ctrl, allowSoftware: options.allowSoftware !== false });
    worker.unref();
    port1.unref();
    const r = waitReply(flag, port1, "starting the WebGPU device");
    if (!r.ok) {
      void worker.terminate();
      throw new Error(r.error);
    }
    return new WebGpuBackend(worker, port1, flag, r.adapter as AdapterSummary);
  }

  describe(): string {
    return `webgpu (${describeAdapter(this.adapter)})`;
  }

  bf16Unavailable(): string | null {
    return WebGpuKernels.bf16Unavailable();
  }

  /** Stops the device thread (later calls throw). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    void this.worker.terminate();
  }

  /**
   * Runs `method` of a module loaded in the device thread (its `handle`, see DeviceModule in
   * worker.ts) and returns its value; blocks until it answers. How layers above the engine keep
   * state on this backend's device (agents/crl-webgpu-agent.ts) without the engine knowing them.
   * `transfer`: buffers of `args` to move rather than copy.
   */
  hostCall<T>(module: URL | string, method: string, args: unknown, transfer: ArrayBuffer[] = []): T {
    if (this.closed) throw new Error("the WebGPU backend was closed");
    const req: HostRequest = { kind: "host", module: String(module), method, args };
    this.port.postMessage(req, [...new Set(transfer)]);
    const r = waitReply(this.flag, this.port, `WebGPU ${method}`);
    if (!r.ok) throw new Error(r.error);
    return r.value as T;
  }

  /**
   * Runs one kernel in the device thread. Operands that share host memory (y aliasing x, views
   * of one parameter array) are uploaded as one range, so aliasing behaves as on the CPU.
   */
  private call(name: string, operands: Record<string, Operand>, written: readonly string[], scalars: Record<string, number>): void {
    if (this.closed) throw new Error("the WebGPU backend was closed");
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
    const req: CallRequest = { name, groups: sendGroups, ops, scalars };
    this.port.postMessage(
      req,
      sendGroups.map((g) => g.data.buffer as ArrayBuffer),
    );
    const r = waitReply(this.flag, this.port, `WebGPU ${name}`);
    if (!r.ok) throw new Error(r.error);
    const outs = r.outs ?? [];
    let k = 0;
    groups.forEach((g) => {
      if (!g.write) return;
      new Float32Array(g.buffer, g.start * 4, g.end - g.start).set(outs[k++]);
    });
  }

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

  denseLnSwishForward: Kernel<"denseLnSwishForward"> = (x, w, b, gamma, beta, z, mean, rstd, y, rows, inDim, outDim, eps, precision = "fp32") => {
    checkPrecision(precision);
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

  denseLnSwishBackward: Kernel<"denseLnSwishBackward"> = (dy, x, w, gamma, beta, z, mean, rstd, dx, dw, db, dgamma, dbeta, rows, inDim, outDim, precision = "fp32") => {
    checkPrecision(precision);
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

function checkPrecision(p: Precision): void {
  if (p !== "fp32") throw new Error(`the WebGPU backend cannot run precision ${p} (${WebGpuKernels.bf16Unavailable()}): use precision fp32`);
}

function checkLen(kernel: string, what: string, a: Float32Array | null, need: number): void {
  if (a && a.length < need) throw new RangeError(`${kernel}: ${what} has ${a.length} values, needs ${need}`);
}

function waitReply(flag: Int32Array, port: MessagePort, what: string): WorkerReply {
  const t0 = Date.now();
  while (Atomics.load(flag, 0) === 0) {
    const r = Atomics.wait(flag, 0, 0, 1000);
    if (r === "timed-out" && Date.now() - t0 > CALL_TIMEOUT_MS) throw new Error(`${what}: no answer from the WebGPU device thread in ${CALL_TIMEOUT_MS / 60000} minutes`);
  }
  Atomics.store(flag, 0, 0);
  const m = receiveMessageOnPort(port);
  if (!m) throw new Error(`${what}: the WebGPU device thread signalled but sent no answer`);
  return m.message as WorkerReply;
}

/** The WebGPU backend, or why it cannot run here. */
export function loadWebGpuBackend(options: WebGpuOptions = {}): { backend: WebGpuBackend } | { error: string } {
  try {
    return { backend: WebGpuBackend.create(options) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}
