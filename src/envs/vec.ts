// The VecEnv (src/envs/types.ts) on top of EnvCores: the envs are cut into contiguous slices, one
// per worker thread; each worker hosts one EnvCore and one SliceRunner over SharedArrayBuffers
// that hold every env's observations, actions and flags. A step is one command per worker: the
// calling thread bumps a sequence number with Atomics and sleeps until every worker has bumped
// its "done" number; no data travels in messages. With threads = 0 the one slice runs on the
// calling thread (no workers; handy for tests and tiny env counts).
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { type Key, keyFromSeed } from "../random.js";
import {
  CMD_CLOSE,
  CMD_GET_STATE,
  CMD_RESET,
  CMD_SET_STATE,
  CMD_STEP,
  type CoreFactoryRef,
  CTRL_CMD,
  CTRL_CMD_SEQ,
  CTRL_DONE_SEQ,
  CTRL_ERROR,
  CTRL_KEY0,
  CTRL_KEY1,
  CTRL_WORDS,
  checkCore,
  loadCoreFactory,
  type WorkerInit,
  type WorkerMessage,
} from "./protocol.js";
import { BufferedVecEnv, SliceRunner, type VecBuffers, vecBufferBytes, vecBufferViews } from "./slice.js";
import type { EnvSpec, MakeEnvOptions, StepResult, VecEnv, VecEnvState } from "./types.js";

export type { CoreFactoryRef } from "./protocol.js";

// `.ts` under tsx (tests, benchmarks), `.js` when compiled to dist/.
const EXT = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
const WORKER_URL = new URL(`./worker${EXT}`, import.meta.url);

/**
 * A new worker running worker.ts/js. tsx's `--import tsx` hooks do not reach worker threads on
 * Node 20, so under tsx the worker first registers tsx itself, then imports the .ts worker.
 */
function spawnWorker(init: WorkerInit): Worker {
  if (EXT === ".js") return new Worker(WORKER_URL, { workerData: init });
  const api = import.meta.resolve("tsx/esm/api");
  const boot = `import(${JSON.stringify(api)}).then((t) => { t.register(); return import(${JSON.stringify(WORKER_URL.href)}); });`;
  return new Worker(boot, { eval: true, workerData: init });
}

function checkOptions(spec: EnvSpec, o: MakeEnvOptions): void {
  if (!Number.isInteger(o.numEnvs) || o.numEnvs < 1) {
    throw new Error(`numEnvs must be a positive integer, got ${o.numEnvs}`);
  }
  if (o.threads !== undefined && (!Number.isInteger(o.threads) || o.threads < 0)) {
    throw new Error(`threads must be a non-negative integer (0 = step on the calling thread), got ${o.threads}`);
  }
  if (o.episodeLength !== undefined && (!Number.isInteger(o.episodeLength) || o.episodeLength < 1)) {
    throw new Error(`episodeLength must be a positive integer, got ${o.episodeLength} (default for ${spec.id}: ${spec.episodeLength})`);
  }
  if (o.frameSkip !== undefined) checkFrameSkip(spec, o.frameSkip);
}

/** Throws a clear error unless `frameSkip` is a valid override of `spec`'s physics frame skip. */
export function checkFrameSkip(spec: EnvSpec, frameSkip: number): void {
  if (spec.frameSkip === undefined) {
    throw new Error(`${spec.id} has no physics frame skip to set (frameSkip applies to the MuJoCo envs: ant*, humanoid*, arm*)`);
  }
  if (!Number.isInteger(frameSkip) || frameSkip < 1 || frameSkip > 1000) {
    throw new Error(`frameSkip must be an integer in [1, 1000], got ${frameSkip} (default for ${spec.id}: ${spec.frameSkip})`);
  }
}

/**
 * Builds a VecEnv of `spec` whose slices are built by the factory `factory`.
 * `options.threads` is an upper bound: never more workers than envs.
 */
export async function createVecEnv(spec: EnvSpec, factory: CoreFactoryRef, options: MakeEnvOptions): Promise<VecEnv> {
  checkOptions(spec, options);
  const eff: EnvSpec = {
    ...spec,
    episodeLength: options.episodeLength ?? spec.episodeLength,
    ...(spec.frameSkip === undefined ? {} : { frameSkip: options.frameSkip ?? spec.frameSkip }),
  };
  const n = options.numEnvs;
  const threads = Math.min(options.threads ?? availableParallelism(), n);
  const bug = options.referenceResetBug ?? false;
  const buffer = new SharedArrayBuffer(vecBufferBytes(eff, n));
  const views = vecBufferViews(eff, n, buffer);
  if (threads === 0) {
    const core = await (await loadCoreFactory(factory))(eff, n);
    checkCore(core, eff, n);
    return new SlicedVecEnv(eff, n, views, [], new SliceRunner(core, eff, 0, views, bug));
  }
  const workers: WorkerHandle[] = [];
  try {
    for (let t = 0; t < threads; t++) {
      // Balanced contiguous slices: the first n % threads slices get one env more.
      const count = Math.floor(n / threads) + (t < n % threads ? 1 : 0);
      const offset = t * Math.floor(n / threads) + Math.min(t, n % threads);
      const init: WorkerInit = { spec: eff, factory, numEnvs: n, offset, count, buffer, ctrl: new SharedArrayBuffer(4 * CTRL_WORDS), referenceResetBug: bug };
      workers.push(new WorkerHandle(init));
    }
    await Promise.all(workers.map((w) => w.ready));
  } catch (e) {
    await Promise.all(workers.map((w) => w.worker.terminate()));
    throw e;
  }
  return new SlicedVecEnv(eff, n, views, workers, null);
}

class WorkerHandle {
  readonly worker: Worker;
  readonly ctrl: Int32Array; // [CTRL_WORDS]
  readonly ready: Promise<void>;
  /** Why the worker is gone, once it is. */
  exited: string | null = null;
  /** The worker's env-state buffer [count, stride] (shared), when its core can save state. */
  state: { view: Float64Array; stride: number } | null = null;
  private errors: string[] = [];

  constructor(readonly init: WorkerInit) {
    this.ctrl = new Int32Array(init.ctrl);
    this.worker = spawnWorker(init);
    this.ready = new Promise<void>((resolve, reject) => {
      this.worker.on("message", (m: WorkerMessage) => {
        if (m.type === "ready") {
          if (m.state) this.state = { view: new Float64Array(m.state.buffer), stride: m.state.stride };
          resolve();
        }
        else {
          this.errors.push(m.message);
          reject(new Error(m.message));
        }
      });
      this.worker.on("error", (e) => {
        this.exited = `worker for envs ${init.offset}..${init.offset + init.count - 1} failed: ${e.stack ?? e}`;
        reject(e);
      });
      this.worker.on("exit", (code) => {
        this.exited ??= `worker for envs ${init.offset}..${init.offset + init.count - 1} exited with code ${code}`;
        reject(new Error(this.exited));
      });
    });
    // Once built, a worker sleeping in Atomics.wait must not keep the process alive if close()
    // is forgotten (before that, the pending build must keep it alive).
    this.ready.then(
      () => this.worker.unref(),
      () => {},
    );
  }

  /** The text of the last error the worker sent (waits for the message to arrive). */
  async takeError(): Promise<string> {
    for (let tries = 0; this.errors.length === 0 && tries < 1000 && this.exited === null; tries++) {
      await new Promise((r) => setTimeout(r, 1));
    }
    return this.errors.shift() ?? this.exited ?? "worker reported an error but sent no text";
  }
}

/**
 * The VecEnv: envs split into contiguous slices over shared buffers, each slice stepped by a
 * worker thread, or, with threads = 0, by one SliceRunner on the calling thread (`local`).
 */
class SlicedVecEnv extends BufferedVecEnv {
  readonly threads: number;
  private seq = 0;
  /** The key of the last reset(seed) or setState, for getState. */
  private seedKey: Key | null = null;
  /** A reset or step is in flight (the caller must await one before starting the next). */
  private busy = false;

  constructor(
    spec: EnvSpec,
    numEnvs: number,
    buffers: VecBuffers,
    private readonly workers: WorkerHandle[],
    private readonly local: SliceRunner | null,
  ) {
    super(spec, numEnvs, buffers);
    this.threads = workers.length;
  }

  async reset(seed: number): Promise<Float32Array> {
    this.checkOpen();
    this.checkIdle();
    const key = keyFromSeed(seed);
    this.seedKey = key;
    if (this.local !== null) this.local.reset(key);
    else {
      for (const w of this.workers) {
        w.ctrl[CTRL_KEY0] = key[0] | 0;
        w.ctrl[CTRL_KEY1] = key[1] | 0;
      }
      await this.command(CMD_RESET);
    }
    this.isReset = true;
    return this.buffers.obs;
  }

  async step(actions: Float32Array): Promise<StepResult> {
    this.checkOpen();
    this.checkIdle();
    this.takeActions(actions);
    if (this.local !== null) this.local.step();
    else await this.command(CMD_STEP);
    return this.result;
  }

  /** Values per env of getState's data; null when the cores cannot save state. */
  private stateStride(): number | null {
    if (this.local !== null) return this.local.stateStride;
    const strides = new Set(this.workers.map((w) => w.state?.stride ?? null));
    return strides.size === 1 ? [...strides][0] : null;
  }

  async getState(): Promise<VecEnvState | null> {
    this.checkOpen();
    this.checkIdle();
    if (!this.isReset || this.seedKey === null) throw new Error(`${this.id}: getState called before reset; there is no state yet`);
    const stride = this.stateStride();
    if (stride === null) return null;
    const data = new Float64Array(this.numEnvs * stride);
    if (this.local !== null) this.local.getState(data);
    else {
      await this.command(CMD_GET_STATE);
      for (const w of this.workers) data.set(w.state!.view, w.init.offset * stride);
    }
    return { id: this.id, numEnvs: this.numEnvs, seedKey: [this.seedKey[0], this.seedKey[1]], episodeId: Int32Array.from(this.buffers.episodeId), stride, data };
  }

  async setState(s: VecEnvState): Promise<Float32Array> {
    this.checkOpen();
    this.checkIdle();
    const stride = this.stateStride();
    if (stride === null) throw new Error(`${this.id}: its env cores cannot restore env state`);
    if (s.id !== this.id || s.numEnvs !== this.numEnvs || s.stride !== stride) {
      throw new Error(
        `${this.id}: the saved env state is of ${s.id} with ${s.numEnvs} envs × ${s.stride} values; this VecEnv has ${this.numEnvs} envs × ${stride}`,
      );
    }
    if (s.data.length !== this.numEnvs * stride || s.episodeId.length !== this.numEnvs) {
      throw new Error(`${this.id}: the saved env state holds ${s.data.length} values and ${s.episodeId.length} episode ids, expected ${this.numEnvs * stride} and ${this.numEnvs}`);
    }
    const key: Key = [s.seedKey[0] >>> 0, s.seedKey[1] >>> 0];
    this.buffers.episodeId.set(s.episodeId);
    if (this.local !== null) this.local.setState(key, s.data);
    else {
      for (const w of this.workers) {
        w.state!.view.set(s.data.subarray(w.init.offset * stride, (w.init.offset + w.init.count) * stride));
        w.ctrl[CTRL_KEY0] = key[0] | 0;
        w.ctrl[CTRL_KEY1] = key[1] | 0;
      }
      await this.command(CMD_SET_STATE);
    }
    this.seedKey = key;
    this.isReset = true;
    return this.buffers.obs;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.checkIdle();
    this.closed = true;
    if (this.local !== null) {
      this.local.dispose();
      return;
    }
    const alive = this.workers.filter((w) => w.exited === null);
    if (alive.length === this.workers.length) {
      try {
        await this.command(CMD_CLOSE);
      } catch {
        // a worker that cannot dispose is terminated below anyway
      }
    }
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }

  private checkIdle(): void {
    if (this.busy) throw new Error(`${this.id}: reset/step called while another is in flight; await each call before the next`);
  }


  /** Runs one command on every worker and waits for all of them. */
  private async command(cmd: number): Promise<void> {
    this.busy = true;
    try {
      await this.runCommand(cmd);
    } finally {
      this.busy = false;
    }
  }

  private async runCommand(cmd: number): Promise<void> {
    const seq = ++this.seq | 0;
    for (const w of this.workers) {
      if (w.exited !== null) throw new Error(`${this.id}: ${w.exited}`);
      w.ctrl[CTRL_CMD] = cmd;
      w.ctrl[CTRL_ERROR] = 0;
      Atomics.store(w.ctrl, CTRL_CMD_SEQ, seq);
      Atomics.notify(w.ctrl, CTRL_CMD_SEQ);
    }
    for (const w of this.workers) {
      const c = w.ctrl;
      let waited = 0;
      for (;;) {
        const done = Atomics.load(c, CTRL_DONE_SEQ);
        if (done === seq) break;
        // Sleep on the calling thread (allowed in Node); every 200 ms let the event loop run so a
        // dead worker's exit event can be seen instead of waiting forever.
        if (Atomics.wait(c, CTRL_DONE_SEQ, done, 200) === "timed-out") {
          waited += 200;
          await new Promise((r) => setImmediate(r));
          if (w.exited !== null) throw new Error(`${this.id}: ${w.exited}`);
          if (waited > 600_000) throw new Error(`${this.id}: a worker did not answer within 10 minutes`);
        }
      }
    }
    for (const w of this.workers) {
      if (Atomics.load(w.ctrl, CTRL_ERROR) !== 0) {
        throw new Error(`${this.id}: ${await w.takeError()}`);
      }
    }
  }
}
