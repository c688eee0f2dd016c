// The thread behind WebGpuBackend (backend.ts): owns the WebGPU device, runs each kernel call it
// is sent on device buffers and answers with the written ranges. WebGPU only reads results back
// asynchronously; doing it here lets the Backend interface stay synchronous (the caller blocks
// on Atomics.wait until the answer is posted). Node-only.
import { type MessagePort, workerData } from "node:worker_threads";
import { type GpuBuf, type GpuView, gview, type WebGpuContext } from "./context.js";
import { WebGpuKernels } from "./kernels.js";
import { createNodeContext } from "./node.js";

export interface WorkerInit {
  port: MessagePort;
  /** [0]: 0 = waiting, 1 = answer posted. */
  ctrl: SharedArrayBuffer;
  allowSoftware: boolean;
}

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

/**
 * A call into a module loaded in this thread (WebGpuBackend.hostCall): code above the engine (an
 * agent's device-resident update) runs next to the device without the engine importing it.
 */
export interface HostRequest {
  kind: "host";
  /** URL of a module exporting `handle` (a DeviceModule). */
  module: string;
  method: string;
  args: unknown;
}

/** What a module loaded by a HostRequest exports. */
export interface DeviceModule {
  /** Runs `method` on this thread's device; `transfer` lists buffers of `value` to move, not copy. */
  handle(ctx: WebGpuContext, method: string, args: unknown): Promise<{ value: unknown; transfer?: ArrayBuffer[] }>;
}

export type WorkerReply = { ok: true; outs?: Float32Array[]; adapter?: unknown; value?: unknown } | { ok: false; error: string };

const { port, ctrl, allowSoftware } = workerData as WorkerInit;
const flag = new Int32Array(ctrl);

function reply(r: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(r, transfer);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
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

async function main(): Promise<void> {
  let ctx: WebGpuContext;
  try {
    ctx = await createNodeContext({ allowSoftware });
  } catch (e) {
    reply({ ok: false, error: (e as Error).message });
    return;
  }
  const K = new WebGpuKernels(ctx);
  const pool = new Pool(ctx);
  const hpBuf = ctx.createBuffer(4, "adam hp"); // [lr, 1 − β1^t, 1 − β2^t, gate = 1]
  reply({ ok: true, adapter: ctx.adapter });
  const modules = new Map<string, Promise<DeviceModule>>();

  port.on("message", async (msg: CallRequest | HostRequest) => {
    if ("kind" in msg) {
      const req = msg;
      try {
        let mod = modules.get(req.module);
        if (!mod) {
          mod = import(req.module) as Promise<DeviceModule>;
          modules.set(req.module, mod);
        }
        const r = await (await mod).handle(ctx, req.method, req.args);
        reply({ ok: true, value: r.value }, [...new Set(r.transfer ?? [])]);
      } catch (e) {
        reply({ ok: false, error: (e as Error).message });
      }
      return;
    }
    const req = msg;
    const taken: GpuBuf[] = [];
    try {
      const groupViews: GpuView[] = req.groups.map((g) => {
        const b = pool.take(g.data.length);
        taken.push(b);
        const v = gview(b, 0, g.data.length);
        ctx.write(v, g.data);
        return v;
      });
      const v: Record<string, GpuView> = {};
      for (const [name, o] of Object.entries(req.ops)) {
        if (o) v[name] = gview(groupViews[o[0]].buf, o[1], o[2]);
      }
      run(K, ctx, hpBuf, req.name, v, req.scalars);
      const written = req.groups.map((g, i) => (g.write ? groupViews[i] : null)).filter((x): x is GpuView => x !== null);
      const outs = await ctx.readMany(written);
      reply(
        { ok: true, outs },
        outs.map((o) => o.buffer as ArrayBuffer),
      );
    } catch (e) {
      reply({ ok: false, error: (e as Error).message });
    } finally {
      pool.give(taken);
    }
  });
}

function run(K: WebGpuKernels, ctx: WebGpuContext, hpBuf: GpuBuf, name: string, v: Record<string, GpuView>, s: Record<string, number>): void {
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

main().catch((e) => reply({ ok: false, error: `WebGPU worker failed: ${(e as Error).message}` }));
