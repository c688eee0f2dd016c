// Checkpoint files and their formats, in one place: safetensors on disk, written atomically, never
// over an existing file; the training checkpoint (an agent file with the loop and env state in it,
// and its replay buffer in a second file), their names, retention and `latest.json`; and the
// public save/load of a single network (+ optional Adam state) for library users.
//
// Formats and versions (the `format` metadata key of each file):
//   fathom-checkpoint-v1   agent checkpoint: the agent's tensors (Agent.stateTensors), the
//                          training envs' state (env.state [N, stride] F64, env.episode_id [N] I32)
//                          and metadata: agent, config (JSON), loop (JSON: env steps, training
//                          steps, evaluations done, resumes, loop rng), replay (file name; absent
//                          for an offline run, whose buffer is its dataset), env_state (JSON: id,
//                          numEnvs, seedKey, stride). Also saveNetwork's files (metadata kind "resnet").
//   fathom-replay-v1       replay buffer: obs [N, C, obsDim] F32, actions [N, C, A] F32,
//                          episode_ids [N, C] I32, head_size [2] I32.
//   fathom-dataset-v1      an offline dataset (`fathom collect`): train/dataset.ts, docs/datasets.md.
// Names: checkpoints/step_<env steps, 10 digits>[-k].safetensors (periodic; the newest
// keepCheckpoints are kept), interrupt_<…>.safetensors, each with <name minus .safetensors>
// .replay.safetensors (only the newest replay file is kept), and latest.json → the newest.
//
// Files are streamed (positional reads and writes of at most 1 GiB per call) straight between disk
// and each tensor's typed array, so checkpoints larger than 2 GiB (Node's limit for one Buffer or
// one readFileSync) work, and no second copy of the whole file is ever held in memory. Every
// tensor's CRC-32 is stored in the file (safetensors.ts CHECKSUM_KEY) and verified on load.
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readFileSync, readSync, statSync, unlinkSync } from "node:fs";
import { dirname, join } from "node:path";
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
import type { VecEnvState } from "../envs/types.js";
import type { Rng } from "../random.js";
import type { ReplayBuffer, ReplayBufferState } from "../replay/buffer.js";
import { IO_CHUNK, writeFileAtomic, writeJsonAtomic } from "./rundir.js";

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

// ---------------------------------------------------------------------------------------------
// Training checkpoints

export const REPLAY_FORMAT = "fathom-replay-v1";

/** The loop rng's state as a checkpoint stores it. */
type RngState = ReturnType<Rng["state"]>;
const REPLAY_SUFFIX = ".replay.safetensors";

/** Where a run stands: saved in every training checkpoint (metadata "loop", with the loop rng). */
export interface LoopState {
  envSteps: number;
  trainingSteps: number;
  evalIndex: number;
  resumes: number;
}

/** The replay file saved with checkpoint `name`. */
export function replayFileName(checkpointName: string): string {
  return checkpointName.replace(/\.safetensors$/, REPLAY_SUFFIX);
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // gone already, or not ours to remove: retention is best effort
  }
}

/** Tensor names and metadata key of the training envs' state in a checkpoint. */
const ENV_STATE = "env.state";
const ENV_EPISODE_ID = "env.episode_id";
const ENV_STATE_META = "env_state";

/** The training envs' state as checkpoint tensors + metadata. */
function envStateTensors(s: VecEnvState, tensors: Map<string, Tensor>, meta: Record<string, string>): void {
  tensors.set(ENV_STATE, { dtype: "F64", shape: [s.numEnvs, s.stride], data: s.data });
  tensors.set(ENV_EPISODE_ID, { dtype: "I32", shape: [s.numEnvs], data: s.episodeId });
  meta[ENV_STATE_META] = JSON.stringify({ id: s.id, numEnvs: s.numEnvs, seedKey: s.seedKey, stride: s.stride });
}

/** The training envs' state saved in a checkpoint, or why there is none. */
function envStateFrom(tensors: ReadonlyMap<string, Tensor>, meta: Record<string, string>): VecEnvState | string {
  const text = meta[ENV_STATE_META];
  const data = tensors.get(ENV_STATE);
  const ids = tensors.get(ENV_EPISODE_ID);
  if (text === undefined || !data || !ids) return "the checkpoint has none (saved by an older version, or the env cannot save its state)";
  try {
    const h = JSON.parse(text) as { id: string; numEnvs: number; seedKey: [number, number]; stride: number };
    if (data.dtype !== "F64" || ids.dtype !== "I32") return "its tensors have the wrong types";
    return { id: h.id, numEnvs: h.numEnvs, seedKey: h.seedKey, stride: h.stride, data: data.data as Float64Array, episodeId: ids.data as Int32Array };
  } catch (e) {
    return `its description cannot be read (${(e as Error).message})`;
  }
}

/** What a training checkpoint holds besides the agent's tensors. */
export interface TrainingCheckpointContent {
  /** The agent's tensors (its networks, optimizers, α, update count). */
  agentTensors: Map<string, Tensor>;
  /** The agent's name ("crl"). */
  agent: string;
  /** The run's configuration (as JSON). */
  config: unknown;
  loop: LoopState & { rng: RngState };
  /** The replay buffer (null for an offline run: its buffer is its dataset, never saved again). */
  replay: ReplayBufferState | null;
  /** The training envs' state (null when the env cannot save it). */
  envState: VecEnvState | null;
}

/**
 * Writes a training checkpoint into `dir`: `<tag>_<env steps>[-k].safetensors` (the next suffix
 * after any already in use at that step: never a name retention freed, which would make the newest
 * checkpoint look like the oldest), its replay file, then latest.json; then keeps the newest
 * `keep` periodic ("step") checkpoints and only this replay file. A failed write removes what it
 * wrote and throws, leaving the previous checkpoint, its replay file and latest.json as they were.
 * Returns the checkpoint's path.
 */
export function writeTrainingCheckpoint(dir: string, tag: "step" | "interrupt", c: TrainingCheckpointContent, keep: number): string {
  const base = `${tag}_${String(c.loop.envSteps).padStart(10, "0")}`;
  let highest = 0;
  for (const f of readdirSync(dir)) {
    if (!f.startsWith(base)) continue;
    const m = /^(?:-(\d+))?(?:\.replay)?\.safetensors$/.exec(f.slice(base.length));
    if (m) highest = Math.max(highest, m[1] === undefined ? 1 : Number(m[1]));
  }
  const name = highest === 0 ? `${base}.safetensors` : `${base}-${highest + 1}.safetensors`;
  const replayName = replayFileName(name);
  const meta: Record<string, string> = {
    format: CHECKPOINT_FORMAT,
    agent: c.agent,
    config: JSON.stringify(c.config),
    loop: JSON.stringify(c.loop),
  };
  if (c.replay !== null) meta.replay = replayName;
  const tensors = c.agentTensors;
  if (c.envState) envStateTensors(c.envState, tensors, meta);
  const path = join(dir, name);
  const written: string[] = [];
  try {
    const rs = c.replay;
    if (rs !== null) {
      const t = new Map<string, Tensor>([
        ["obs", { dtype: "F32", shape: [rs.numEnvs, rs.capacity, rs.obsDim], data: rs.obs }],
        ["actions", { dtype: "F32", shape: [rs.numEnvs, rs.capacity, rs.actionDim], data: rs.actions }],
        ["episode_ids", { dtype: "I32", shape: [rs.numEnvs, rs.capacity], data: rs.episodeIds }],
        ["head_size", { dtype: "I32", shape: [2], data: Int32Array.from([rs.head, rs.size]) }],
      ]);
      writeSafetensorsFile(join(dir, replayName), t, { format: REPLAY_FORMAT });
      written.push(join(dir, replayName));
    }
    writeSafetensorsFile(path, tensors, meta);
    written.push(path);
    writeJsonAtomic(join(dir, "latest.json"), { checkpoint: name, envsteps: c.loop.envSteps, step: c.loop.trainingSteps });
  } catch (e) {
    for (const f of written) removeQuietly(f);
    throw e;
  }
  const files = readdirSync(dir);
  if (tag === "step") {
    // Oldest first by env step, then by the -k suffix a later save at the same step gets (a plain
    // string sort would put "step_…-2" before "step_…" and delete the newer one).
    const order = (f: string): [number, number] => {
      const m = /^step_(\d{10})(?:-(\d+))?\.safetensors$/.exec(f)!;
      return [Number(m[1]), m[2] === undefined ? 1 : Number(m[2])];
    };
    const periodic = files
      .filter((f) => /^step_\d{10}(-\d+)?\.safetensors$/.test(f))
      .sort((a, b) => {
        const [sa, ka] = order(a);
        const [sb, kb] = order(b);
        return sa - sb || ka - kb;
      });
    for (const f of periodic.slice(0, Math.max(0, periodic.length - keep))) removeQuietly(join(dir, f));
  }
  // Only the newest replay buffer is kept.
  for (const f of files) if (f.endsWith(REPLAY_SUFFIX) && f !== replayName) removeQuietly(join(dir, f));
  return path;
}

/** A training checkpoint read back: its tensors (the agent's and the env state), loop, env state and replay file name. */
export interface TrainingCheckpoint {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
  loop: LoopState & { rng: RngState };
  /** The training envs' state, or why the checkpoint has none usable. */
  envState: VecEnvState | string;
  replayName: string | undefined;
}

/** Reads a training checkpoint (all of it; the caller loads the agent's tensors from `tensors`). */
export function readTrainingCheckpoint(path: string): TrainingCheckpoint {
  const { tensors, metadata } = readSafetensorsFile(path);
  if (metadata.format !== CHECKPOINT_FORMAT) {
    throw new Error(`${path} is not a Fathom agent checkpoint (format ${JSON.stringify(metadata.format)}, expected ${CHECKPOINT_FORMAT})`);
  }
  const loop = JSON.parse(metadata.loop ?? "null") as (LoopState & { rng: RngState }) | null;
  return {
    tensors,
    metadata,
    get loop(): LoopState & { rng: RngState } {
      if (!loop) throw new Error(`checkpoint ${path} has no training-loop state; it cannot be resumed`);
      return loop;
    },
    envState: envStateFrom(tensors, metadata),
    replayName: metadata.replay,
  };
}

/**
 * Restores the replay buffer saved with checkpoint `checkpointPath` (its metadata names the file).
 * A missing or unreadable file is not an error: the run goes on with an empty buffer, and the
 * reason is returned for the log.
 */
export function restoreReplay(
  checkpointPath: string,
  replayName: string | undefined,
  buffer: ReplayBuffer,
  shape: { numEnvs: number; capacity: number; obsDim: number; actionDim: number },
): { restored: true; path: string } | { restored: false; reason: string } {
  if (!replayName) return { restored: false, reason: "the checkpoint was saved without one" };
  const path = join(dirname(checkpointPath), replayName);
  if (!existsSync(path)) return { restored: false, reason: `${replayName} is gone: only the newest checkpoint's replay buffer is kept` };
  try {
    const r = readSafetensorsFile(path);
    if (r.metadata.format !== REPLAY_FORMAT) throw new Error(`format ${JSON.stringify(r.metadata.format)}, expected ${REPLAY_FORMAT}`);
    const g = (k: string) => {
      const t = r.tensors.get(k);
      if (!t) throw new Error(`it lacks "${k}"`);
      return t.data;
    };
    const hs = g("head_size");
    buffer.restore({
      ...shape,
      head: hs[0],
      size: hs[1],
      obs: g("obs") as Float32Array,
      actions: g("actions") as Float32Array,
      episodeIds: g("episode_ids") as Int32Array,
    });
    return { restored: true, path };
  } catch (e) {
    return { restored: false, reason: `${path} cannot be used: ${(e as Error).message}` };
  }
}

/** File names of agent checkpoints: `step_<env steps>[-k].safetensors`, `interrupt_…` (not replay files). */
const CHECKPOINT_NAME = /^(step|interrupt)_(\d{10})(-(\d+))?\.safetensors$/;

/** What an agent checkpoint's file name says: periodic (step_…) or written on a stop (interrupt_…), at how many env steps; null for any other name. */
export function parseCheckpointName(name: string): { kind: "step" | "interrupt"; envSteps: number } | null {
  const m = CHECKPOINT_NAME.exec(name);
  return m ? { kind: m[1] as "step" | "interrupt", envSteps: Number(m[2]) } : null;
}

/** Agent checkpoints in `checkpointsDir`, newest first (by env steps in the name, then modification time). */
export function listCheckpoints(checkpointsDir: string): { name: string; path: string; kind: "step" | "interrupt"; envSteps: number }[] {
  let names: string[];
  try {
    names = readdirSync(checkpointsDir);
  } catch {
    return [];
  }
  const out: { name: string; path: string; kind: "step" | "interrupt"; envSteps: number; mtime: number }[] = [];
  for (const name of names) {
    const parsed = parseCheckpointName(name);
    if (!parsed) continue;
    const path = join(checkpointsDir, name);
    let mtime = 0;
    try {
      mtime = statSync(path).mtimeMs;
    } catch {
      continue;
    }
    out.push({ name, path, ...parsed, mtime });
  }
  out.sort((a, b) => b.envSteps - a.envSteps || b.mtime - a.mtime || (a.name < b.name ? 1 : -1));
  return out.map(({ name, path, kind, envSteps }) => ({ name, path, kind, envSteps }));
}

/**
 * The checkpoint `latest.json` of a run directory points to. When latest.json is missing, damaged
 * or names a file that is gone, the newest readable agent checkpoint in the folder (by the env-step
 * number in its name) is used instead, and `warn` says so.
 */
export function latestCheckpoint(checkpointsDir: string, warn: (line: string) => void = (l) => console.error(`warning: ${l}`)): string {
  const p = join(checkpointsDir, "latest.json");
  let problem: string;
  if (!existsSync(p)) problem = `${p} is missing`;
  else {
    let j: { checkpoint?: unknown } | null = null;
    try {
      j = JSON.parse(readFileSync(p, "utf8"));
    } catch (e) {
      j = null;
      problem = `${p} is damaged (${(e as Error).message})`;
    }
    if (j !== null) {
      const name = typeof j === "object" ? j.checkpoint : undefined;
      if (typeof name !== "string" || name === "" || /[\\/]/.test(name)) problem = `${p} is damaged: it names no checkpoint`;
      else if (!existsSync(join(checkpointsDir, name))) problem = `${p} names ${name}, which does not exist`;
      else return join(checkpointsDir, name);
    }
  }
  const unreadable: string[] = [];
  for (const c of listCheckpoints(checkpointsDir)) {
    try {
      const h = readSafetensorsHeader(c.path);
      if (h.metadata.format !== CHECKPOINT_FORMAT || !h.metadata.loop) throw new Error("not a training checkpoint");
    } catch {
      unreadable.push(c.name);
      continue;
    }
    warn(
      `${problem!}; using the newest readable checkpoint instead: ${c.name} (${c.envSteps} env steps)` +
        (unreadable.length ? `, skipping unreadable ${unreadable.join(", ")}` : ""),
    );
    return c.path;
  }
  if (!existsSync(p) && unreadable.length === 0) {
    throw new Error(`no checkpoint in ${checkpointsDir} (no latest.json): the run saved none before it stopped`);
  }
  throw new Error(
    `${problem!}, and ${checkpointsDir} holds no readable checkpoint${unreadable.length ? ` (unreadable: ${unreadable.join(", ")})` : ""}: ` +
      "the run cannot be continued; start a new run",
  );
}

/** Where the run of checkpoint `path` stands (its training-loop state), read from its header only. */
export function checkpointPosition(path: string): { envSteps: number; trainingSteps: number; evalIndex: number } {
  const meta = readSafetensorsHeader(path).metadata;
  if (meta.format !== CHECKPOINT_FORMAT) throw new Error(`${path} is not a Fathom agent checkpoint (format ${JSON.stringify(meta.format)})`);
  const loop = JSON.parse(meta.loop ?? "null") as Partial<LoopState> | null;
  if (!loop || typeof loop.envSteps !== "number" || typeof loop.evalIndex !== "number" || typeof loop.trainingSteps !== "number") {
    throw new Error(`checkpoint ${path} has no training-loop state; it cannot be resumed`);
  }
  return { envSteps: loop.envSteps, trainingSteps: loop.trainingSteps, evalIndex: loop.evalIndex };
}

