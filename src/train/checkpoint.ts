// Checkpoint files: safetensors on disk, written atomically, never over an existing file.
// Also the public save/load of a single network (+ optional Adam state) for library users.
import { existsSync, readFileSync } from "node:fs";
import type { Adam } from "../nn/adam.js";
import type { ResNet } from "../nn/resnet.js";
import { decodeSafetensors, encodeSafetensors, SafetensorsError, type Tensor } from "../nn/safetensors.js";
import { adamTensors, checkAdamTensors, checkParamTensors, loadAdamTensors, loadParamTensors, paramTensors } from "../nn/serialize.js";
import { writeFileAtomic } from "./rundir.js";

export const CHECKPOINT_FORMAT = "fathom-checkpoint-v1";

export interface SaveOptions {
  /** Replace an existing file (default false: an existing file is an error). */
  overwrite?: boolean;
}

/** Writes tensors + string metadata to `path` atomically (temp file + rename). */
export function writeSafetensorsFile(path: string, tensors: ReadonlyMap<string, Tensor>, metadata: Record<string, string>, options: SaveOptions = {}): void {
  if (!options.overwrite && existsSync(path)) {
    throw new Error(`refusing to overwrite ${path}: it already exists (choose another path, or pass overwrite: true)`);
  }
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/** Reads and validates a safetensors file; errors say which file and what is wrong with it. */
export function readSafetensorsFile(path: string): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  if (!existsSync(path)) throw new Error(`checkpoint ${path} does not exist`);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(`cannot read checkpoint ${path}: ${(e as Error).message}`);
  }
  try {
    return decodeSafetensors(bytes, `checkpoint ${path}`);
  } catch (e) {
    if (e instanceof SafetensorsError) throw new Error(`${e.message} (the file is damaged; use an earlier checkpoint)`);
    throw e;
  }
}

/**
 * Saves a network's parameters (names like `blocks.3.dense.1.weight`, kernels [in, out]) and,
 * if given, its Adam state (`optim.m`, `optim.v`, `optim.step`) to a safetensors file.
 */
export function saveNetwork(path: string, net: ResNet, adam?: Adam, options: SaveOptions = {}): void {
  const t = paramTensors(net.params);
  if (adam) for (const [k, v] of adamTensors(adam, "optim.")) t.set(k, v);
  const c = net.config;
  const meta = {
    format: CHECKPOINT_FORMAT,
    kind: "resnet",
    config: JSON.stringify({ inDim: c.inDim, width: c.width, depth: c.depth, heads: c.heads }),
  };
  writeSafetensorsFile(path, t, meta, options);
}

/**
 * Loads parameters (and Adam state when `adam` is given) saved by saveNetwork into `net`.
 * The file is validated completely first: on any mismatch nothing is changed.
 */
export function loadNetwork(path: string, net: ResNet, adam?: Adam): void {
  const { tensors } = readSafetensorsFile(path);
  const what = `checkpoint ${path}`;
  checkParamTensors(net.params, tensors, "", what);
  if (adam) checkAdamTensors(adam, tensors, "optim.", what);
  loadParamTensors(net.params, tensors, "", what);
  if (adam) loadAdamTensors(adam, tensors, "optim.", what);
}
