// A VecEnv worker thread (src/envs/vec.ts): builds one EnvCore for its slice of the envs, then
// sleeps on its control words and runs each command (reset, step, close) against the shared
// buffers. Errors are sent as text and flagged in the control words; the worker keeps serving.
import { parentPort, workerData } from "node:worker_threads";
import type { Key } from "../random.js";
import { SliceRunner, vecBufferViews } from "./slice.js";
import {
  CMD_CLOSE,
  CMD_GET_STATE,
  CMD_RESET,
  CMD_SET_STATE,
  CMD_STEP,
  CTRL_CMD,
  CTRL_CMD_SEQ,
  CTRL_DONE_SEQ,
  CTRL_ERROR,
  CTRL_KEY0,
  CTRL_KEY1,
  type WorkerInit,
  type WorkerMessage,
  checkCore,
  loadCoreFactory,
} from "./protocol.js";

const port = parentPort!;
const init = workerData as WorkerInit;
const ctrl = new Int32Array(init.ctrl); // [CTRL_WORDS]

function send(m: WorkerMessage): void {
  port.postMessage(m);
}

function describe(e: unknown): string {
  return e instanceof Error ? (e.stack ?? e.message) : String(e);
}

async function build(): Promise<SliceRunner | null> {
  try {
    const core = await (await loadCoreFactory(init.factory))(init.spec, init.count);
    checkCore(core, init.spec, init.count);
    return new SliceRunner(core, init.spec, init.offset, vecBufferViews(init.spec, init.numEnvs, init.buffer), init.referenceResetBug);
  } catch (e) {
    send({ type: "error", message: `building ${init.spec.id} for envs ${init.offset}..${init.offset + init.count - 1} failed: ${describe(e)}` });
    return null;
  }
}

/** This slice's env-state buffer [count, stride], shared with the VecEnv; null when the core cannot save state. */
let state: Float64Array | null = null;

function serve(runner: SliceRunner): void {
  // Not Atomics.load: the caller may have sent its first command already (right after "ready").
  let seen = 0;
  for (;;) {
    Atomics.wait(ctrl, CTRL_CMD_SEQ, seen);
    const seq = Atomics.load(ctrl, CTRL_CMD_SEQ);
    if (seq === seen) continue; // spurious wake-up
    seen = seq;
    const cmd = ctrl[CTRL_CMD];
    let stop = false;
    try {
      if (cmd === CMD_STEP) runner.step();
      else if (cmd === CMD_RESET) {
        const key: Key = [ctrl[CTRL_KEY0] >>> 0, ctrl[CTRL_KEY1] >>> 0];
        runner.reset(key);
      } else if (cmd === CMD_GET_STATE) {
        if (state === null) throw new Error(`${init.spec.id}: its env core cannot save env state`);
        runner.getState(state);
      } else if (cmd === CMD_SET_STATE) {
        if (state === null) throw new Error(`${init.spec.id}: its env core cannot restore env state`);
        runner.setState([ctrl[CTRL_KEY0] >>> 0, ctrl[CTRL_KEY1] >>> 0], state);
      } else if (cmd === CMD_CLOSE) {
        runner.dispose();
        stop = true;
      } else throw new Error(`unknown worker command ${cmd}`);
    } catch (e) {
      send({ type: "error", message: describe(e) });
      Atomics.store(ctrl, CTRL_ERROR, 1);
    }
    Atomics.store(ctrl, CTRL_DONE_SEQ, seq);
    Atomics.notify(ctrl, CTRL_DONE_SEQ);
    if (stop) return;
  }
}

// A worker that failed to build sends its error and ends; the caller rejects on the message.
const runner = await build();
if (runner !== null) {
  const stride = runner.stateStride;
  if (stride === null) send({ type: "ready" });
  else {
    const buffer = new SharedArrayBuffer(8 * init.count * stride);
    state = new Float64Array(buffer);
    send({ type: "ready", state: { buffer, stride } });
  }
  serve(runner);
}
