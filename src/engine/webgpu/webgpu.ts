// The WebGPU backend behind the synchronous Backend interface (Node): every call is packed
// (calls.ts: PackedKernels, packCall), uploaded to the device, run through the WGSL kernels
// (kernels.ts) by CallRunner in a worker thread that owns the device, and its written ranges
// copied back before returning. Correct for every caller of
// Backend, but each call is a round trip; the device-resident path for training is
// agents/crl-webgpu.ts (parameters, Adam state and activations stay on the device, one
// submission per update). Float32 only: bf16Unavailable() says why.
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from "node:worker_threads";
import type { Backend } from "../backend.js";
import { type Operand, PackedKernels, packCall } from "./calls.js";
import { type AdapterSummary, describeAdapter } from "./context.js";
import { WebGpuKernels } from "./kernels.js";
import type { HostRequest, WorkerInit, WorkerReply } from "./worker.js";

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

export interface WebGpuOptions {
  /** Accept a software adapter (lavapipe, SwiftShader); default true. */
  allowSoftware?: boolean;
}

export class WebGpuBackend extends PackedKernels implements Backend {
  readonly name = "webgpu";
  /** Host threads the kernels use: the GPU does the work. */
  readonly threads = 1;
  readonly adapter: AdapterSummary;
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly flag: Int32Array;
  private closed = false;

  private constructor(worker: Worker, port: MessagePort, flag: Int32Array, adapter: AdapterSummary) {
    super();
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

  /** Runs one kernel in the device thread (packCall in calls.ts: aliasing operands share one range). */
  protected call(name: string, operands: Record<string, Operand>, written: readonly string[], scalars: Record<string, number>): void {
    if (this.closed) throw new Error("the WebGPU backend was closed");
    const { req, unpack } = packCall(name, operands, written, scalars);
    this.port.postMessage(
      req,
      req.groups.map((g) => g.data.buffer as ArrayBuffer),
    );
    const r = waitReply(this.flag, this.port, `WebGPU ${name}`);
    if (!r.ok) throw new Error(r.error);
    unpack(r.outs ?? []);
  }
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
