// Checkpoint files: safetensors on disk, written atomically, never over an existing file.
// Also the public save/load of a single network (+ optional Adam state) for library users.
//
// Files are streamed (positional reads and writes of at most 1 GiB per call) straight between disk
// and each tensor's typed array, so checkpoints larger than 2 GiB (Node's limit for one Buffer or
// one readFileSync) work, and no second copy of the whole file is ever held in memory. Every
// tensor's CRC-32 is stored in the file (safetensors.ts CHECKSUM_KEY) and verified on load.
import { closeSync, existsSync, fstatSync, openSync, readSync } from "node:fs";
import * as zlib from "node:zlib";
import type { Adam } from "../nn/adam.js";
import { type Crc32Fn, crc32 as crc32Ts } from "../nn/crc32.js";
import type { ResNet } from "../nn/resnet.js";
import {
  allocTensorData,
  checkTensorCrc,
  encodeSafetensorsHeader,
  headerLengthOf,
  parseSafetensorsHeader,
  type SafetensorsHeader,
  SafetensorsError,
  type Tensor,
  tensorBytes,
} from "../nn/safetensors.js";
import { adamTensors, checkAdamTensors, checkParamTensors, loadAdamTensors, loadParamTensors, paramTensors } from "../nn/serialize.js";
import { IO_CHUNK, writeFileAtomic } from "./rundir.js";

export const CHECKPOINT_FORMAT = "fathom-checkpoint-v1";

/** CRC-32: Node's native zlib.crc32 (Node ≥ 20.15, several GB/s) or the pure-TS one (same values). */
export const fastCrc32: Crc32Fn =
  typeof (zlib as { crc32?: unknown }).crc32 === "function"
    ? (data, crc = 0) => (zlib as unknown as { crc32: (d: Uint8Array, c: number) => number }).crc32(data, crc)
    : crc32Ts;

export interface SaveOptions {
  /** Replace an existing file (default false: an existing file is an error). */
  overwrite?: boolean;
}

/** Writes tensors + string metadata to `path` atomically (temp file + rename), streaming the data. */
export function writeSafetensorsFile(path: string, tensors: ReadonlyMap<string, Tensor>, metadata: Record<string, string>, options: SaveOptions = {}): void {
  if (!options.overwrite && existsSync(path)) {
    throw new Error(`refusing to overwrite ${path}: it already exists (choose another path, or pass overwrite: true)`);
  }
  const { header } = encodeSafetensorsHeader(tensors, metadata, { crc32: fastCrc32 });
  writeFileAtomic(path, (write) => {
    write(header);
    for (const t of tensors.values()) write(tensorBytes(t));
  });
}

function damaged(e: unknown): never {
  if (e instanceof SafetensorsError) throw new Error(`${e.message} (the file is damaged; use an earlier checkpoint)`);
  throw e;
}

/** Reads exactly `into.length` bytes at `position`, in chunks of at most 1 GiB. */
function readExactly(fd: number, into: Uint8Array, position: number, path: string): void {
  for (let o = 0; o < into.length; ) {
    const chunk = into.subarray(o, Math.min(into.length, o + IO_CHUNK));
    let got: number;
    try {
      got = readSync(fd, chunk, 0, chunk.length, position + o);
    } catch (e) {
      throw new Error(`cannot read checkpoint ${path}: ${(e as Error).message}`, { cause: e });
    }
    if (got === 0) throw new Error(`checkpoint ${path} is truncated: it ended at byte ${position + o} while being read (the file is damaged; use an earlier checkpoint)`);
    o += got;
  }
}

function openCheckpoint(path: string): { fd: number; size: number } {
  if (!existsSync(path)) throw new Error(`checkpoint ${path} does not exist`);
  try {
    const fd = openSync(path, "r");
    return { fd, size: fstatSync(fd).size };
  } catch (e) {
    throw new Error(`cannot read checkpoint ${path}: ${(e as Error).message}`, { cause: e });
  }
}

function readHeaderFd(fd: number, size: number, path: string): SafetensorsHeader {
  const what = `checkpoint ${path}`;
  const first8 = new Uint8Array(8);
  if (size >= 8) readExactly(fd, first8, 0, path);
  try {
    const n = headerLengthOf(first8, size, what);
    const json = new Uint8Array(n);
    readExactly(fd, json, 8, path);
    return parseSafetensorsHeader(json, size, what, { crc32: fastCrc32 });
  } catch (e) {
    damaged(e);
  }
}

/** Reads and validates only the header (tensor list and metadata) of a safetensors file. */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  const { fd, size } = openCheckpoint(path);
  try {
    return readHeaderFd(fd, size, path);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads and validates a safetensors file of any size, verifying each tensor's checksum when the
 * file has them; errors say which file (and tensor) and what is wrong with it.
 */
export function readSafetensorsFile(path: string): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  const { fd, size } = openCheckpoint(path);
  try {
    const h = readHeaderFd(fd, size, path);
    const tensors = new Map<string, Tensor>();
    for (const e of h.entries) {
      const data = allocTensorData(e.dtype, e.shape.reduce((a, b) => a * b, 1));
      const bytes = tensorBytes({ dtype: e.dtype, shape: e.shape, data });
      readExactly(fd, bytes, h.dataStart + e.begin, path);
      if (h.checksummed) {
        let c = 0;
        for (let o = 0; o < bytes.length; o += IO_CHUNK) c = fastCrc32(bytes.subarray(o, Math.min(bytes.length, o + IO_CHUNK)), c);
        try {
          checkTensorCrc(e, c, `checkpoint ${path}`);
        } catch (err) {
          damaged(err);
        }
      }
      tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data });
    }
    return { tensors, metadata: h.metadata };
  } finally {
    closeSync(fd);
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
