// The thread behind WebGpuBackend (backend.ts): owns the WebGPU device, runs each kernel call it
// is sent on device buffers (calls.ts) and answers with the written ranges. WebGPU only reads
// results back asynchronously; doing it here lets the Backend interface stay synchronous (the
// caller blocks on Atomics.wait until the answer is posted). Node-only.
import { type MessagePort, workerData } from "node:worker_threads";
import { CallRunner, type CallRequest } from "./calls.js";
import type { WebGpuContext } from "./context.js";
import { createNodeContext } from "./node.js";

export interface WorkerInit {
  port: MessagePort;
  /** [0]: 0 = waiting, 1 = answer posted. */
  ctrl: SharedArrayBuffer;
  allowSoftware: boolean;
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

async function main(): Promise<void> {
  let ctx: WebGpuContext;
  try {
    ctx = await createNodeContext({ allowSoftware });
  } catch (e) {
    reply({ ok: false, error: (e as Error).message });
    return;
  }
  const runner = new CallRunner(ctx);
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
    try {
      const outs = await runner.run(msg);
      reply(
        { ok: true, outs },
        outs.map((o) => o.buffer as ArrayBuffer),
      );
    } catch (e) {
      reply({ ok: false, error: (e as Error).message });
    }
  });
}

main().catch((e) => reply({ ok: false, error: `WebGPU worker failed: ${(e as Error).message}` }));
