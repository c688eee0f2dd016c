// The protocol between a VecEnv (./vec.ts) and its worker threads (./worker.ts): the control
// words on a SharedArrayBuffer, the commands, the messages, what a worker receives at start, and
// how a worker builds its core. Both sides import it; neither imports the other.
import type { EnvCore, EnvCoreFactory } from "./core.js";
import type { EnvSpec } from "./types.js";

/** Where a worker finds a task family's core factory: an ES module URL and its export name. */
export interface CoreFactoryRef {
  readonly module: string;
  readonly export: string;
}

// Control words of one worker (an Int32Array on a SharedArrayBuffer).
export const CTRL_CMD_SEQ = 0; // bumped by the caller for each command
export const CTRL_CMD = 1; // the command
export const CTRL_DONE_SEQ = 2; // set by the worker to CMD_SEQ when the command is done
export const CTRL_ERROR = 3; // 1 if the last command threw (the text follows as a message)
export const CTRL_KEY0 = 4; // seed key words for CMD_RESET
export const CTRL_KEY1 = 5;
export const CTRL_WORDS = 8;
export const CMD_RESET = 1;
export const CMD_STEP = 2;
export const CMD_CLOSE = 3;
export const CMD_GET_STATE = 4; // write the slice's env states into the worker's state buffer
export const CMD_SET_STATE = 5; // restore them from it, under the seed key in CTRL_KEY0/1

/** Message from a worker: ready after building its core, or the text of an error. */
export type WorkerMessage =
  | { type: "ready"; state?: { buffer: SharedArrayBuffer; stride: number } }
  | { type: "error"; message: string };

/** What a worker receives at start. */
export interface WorkerInit {
  spec: EnvSpec;
  factory: CoreFactoryRef;
  numEnvs: number;
  offset: number;
  count: number;
  buffer: SharedArrayBuffer;
  ctrl: SharedArrayBuffer;
  referenceResetBug: boolean;
}

/** Loads a core factory in this thread. */
export async function loadCoreFactory(ref: CoreFactoryRef): Promise<EnvCoreFactory> {
  const mod = (await import(ref.module)) as Record<string, unknown>;
  const f = mod[ref.export];
  if (typeof f !== "function") {
    throw new Error(`module ${ref.module} has no function export "${ref.export}" (the env's core factory)`);
  }
  return f as EnvCoreFactory;
}

/** Asserts a core built by a factory fits its slice (a boundary between task code and the VecEnv). */
export function checkCore(core: EnvCore, spec: EnvSpec, count: number): void {
  if (core.count !== count) throw new Error(`core factory of ${spec.id} built ${core.count} envs, ${count} were asked for`);
}
