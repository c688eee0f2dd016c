// Run directories (DESIGN §6): `runs/<env>__<agent>__d<depth>__s<seed>__<YYYYMMDD-HHMMSS>/` holding
// config.json, metrics.jsonl, metrics.csv, a TensorBoard event file, checkpoints/ and eval/.
// A run directory is created exclusively: an existing directory is never reused or overwritten.
// `fathom sweep` names its runs without the time (sweepRunDirName) so that it finds them again.
import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { hostname } from "node:os";
import { basename, dirname, join, resolve } from "node:path";

/** File and folder names inside a run directory. */
export const RUN_FILES = {
  config: "config.json",
  metricsJsonl: "metrics.jsonl",
  metricsCsv: "metrics.csv",
  checkpoints: "checkpoints",
  eval: "eval",
  /** Present while a process trains the run (see acquireRunLock). */
  lock: "train.lock",
  /** The output of a run a sweep started as a child process (appended to, never truncated). */
  sweepLog: "train.log",
} as const;

export interface RunNameParts {
  /** Environment id, e.g. `ant_u4_maze-v1`. */
  env: string;
  /** Agent name, e.g. `crl`. */
  agent: string;
  /** Network depth (the critic's, when actor and critic differ). */
  depth: number;
  seed: number;
  /** Creation time for the name (default: now), formatted in local time. */
  time?: Date;
}

export interface RunDir {
  /** Absolute path of the run directory. */
  path: string;
  /** Its last path component, e.g. `ant_u4_maze-v1__crl__d64__s0__20261124-193000`. */
  name: string;
  checkpointsDir: string;
  evalDir: string;
  configPath: string;
  metricsJsonlPath: string;
  metricsCsvPath: string;
}

const NAME_PART = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function pad(n: number, w = 2): string {
  return String(n).padStart(w, "0");
}

/** `YYYYMMDD-HHMMSS` in local time. */
export function formatRunTimestamp(d: Date): string {
  return `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}-${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`;
}

function checkNameParts(parts: { env: string; agent: string; depth: number; seed: number }): void {
  for (const key of ["env", "agent"] as const) {
    const v = parts[key];
    if (typeof v !== "string" || !NAME_PART.test(v) || v.includes("__")) {
      throw new Error(
        `run directory name: ${key} ${JSON.stringify(v)} is not allowed; use letters, digits, '.', '_' and '-' ` +
          `(starting with a letter or digit, no "__", which separates the name's fields)`,
      );
    }
  }
  if (!Number.isSafeInteger(parts.depth) || parts.depth < 0) {
    throw new Error(`run directory name: depth must be a non-negative integer, got ${parts.depth}`);
  }
  if (!Number.isSafeInteger(parts.seed) || parts.seed < 0) {
    throw new Error(`run directory name: seed must be a non-negative integer, got ${parts.seed}`);
  }
}

/** The directory name for a run; throws if a part would make an ambiguous or unsafe name. */
export function runDirName(parts: RunNameParts): string {
  checkNameParts(parts);
  const t = parts.time ?? new Date();
  if (Number.isNaN(t.getTime())) throw new Error("run directory name: time is an invalid Date");
  return `${parts.env}__${parts.agent}__d${parts.depth}__s${parts.seed}__${formatRunTimestamp(t)}`;
}

/**
 * The deterministic (timestamp-free) directory name of one sweep point, so that a sweep run again
 * finds its runs: `<env>__<agent>__d<depth>__s<seed>`, or `…__a<actor>c<critic>__…` when the
 * actor's depth differs from the critic's, with `__b<batch>` before the seed when the sweep varies
 * the batch size. Same validation as runDirName.
 */
export function sweepRunDirName(parts: { env: string; agent: string; actorDepth: number; criticDepth: number; seed: number; batchSize?: number }): string {
  checkNameParts({ env: parts.env, agent: parts.agent, depth: parts.criticDepth, seed: parts.seed });
  if (!Number.isSafeInteger(parts.actorDepth) || parts.actorDepth < 0) {
    throw new Error(`run directory name: actor depth must be a non-negative integer, got ${parts.actorDepth}`);
  }
  const d = parts.actorDepth === parts.criticDepth ? `d${parts.criticDepth}` : `a${parts.actorDepth}c${parts.criticDepth}`;
  if (parts.batchSize !== undefined && (!Number.isSafeInteger(parts.batchSize) || parts.batchSize < 1)) {
    throw new Error(`run directory name: batch size must be a positive integer, got ${parts.batchSize}`);
  }
  const b = parts.batchSize === undefined ? "" : `__b${parts.batchSize}`;
  return `${parts.env}__${parts.agent}__${d}${b}__s${parts.seed}`;
}

/** The RunDir record of an existing directory path (no checks). */
export function runDirAt(path: string): RunDir {
  const p = resolve(path);
  return {
    path: p,
    name: basename(p),
    checkpointsDir: join(p, RUN_FILES.checkpoints),
    evalDir: join(p, RUN_FILES.eval),
    configPath: join(p, RUN_FILES.config),
    metricsJsonlPath: join(p, RUN_FILES.metricsJsonl),
    metricsCsvPath: join(p, RUN_FILES.metricsCsv),
  };
}

/**
 * Creates a fresh run directory under `root` (created if missing) with checkpoints/ and eval/.
 * The leaf is made with a non-recursive mkdir, which fails atomically if the name exists; then
 * `-2`, `-3`, … are tried, so two runs started in the same second by two processes never share
 * a directory and an existing one is never touched.
 */
export function createRunDir(root: string, parts: RunNameParts): RunDir {
  const name = runDirName(parts);
  const rootAbs = resolve(root);
  mkdirSync(rootAbs, { recursive: true });
  for (let n = 1; n <= 10_000; n++) {
    const leaf = n === 1 ? name : `${name}-${n}`;
    const path = join(rootAbs, leaf);
    try {
      mkdirSync(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST") continue;
      throw e;
    }
    const rd = runDirAt(path);
    mkdirSync(rd.checkpointsDir);
    mkdirSync(rd.evalDir);
    return rd;
  }
  throw new Error(`createRunDir: ${join(rootAbs, name)} and 10,000 suffixed variants already exist; clean up ${rootAbs}`);
}

let tempCounter = 0;

/** Largest single write/read request (Node refuses more than 2 GiB per call). */
export const IO_CHUNK = 1 << 30;

/**
 * The fs calls writeFileAtomic makes, replaceable so that tests can simulate a full disk (ENOSPC)
 * or another write error without filling one.
 */
export const atomicWriteIo = { writeSync: writeSync as (fd: number, buffer: Uint8Array, offset: number, length: number) => number, fsyncSync };

/** A write error that names the file being written and says that the old file is untouched. */
export function writeFileError(path: string, e: unknown): Error {
  const err = e as NodeJS.ErrnoException;
  const hints: Record<string, string> = {
    ENOSPC: "the disk is full: free some space (e.g. checkpoints of old runs) and try again",
    EDQUOT: "the disk quota is exhausted: free some space and try again",
    EROFS: "the file system is read-only",
    EACCES: "permission denied",
    EPERM: "permission denied",
    EIO: "an I/O error: the disk may be failing",
  };
  const hint = err?.code && hints[err.code] ? ` (${hints[err.code]})` : "";
  return new Error(`cannot write ${path}: ${err?.message ?? String(e)}${hint}; ${path} was not changed`, { cause: e });
}

/** What writeFileAtomic writes: text, bytes, or a function that writes the content in chunks. */
export type AtomicContent = string | Uint8Array | ((write: (chunk: Uint8Array) => void) => void);

/**
 * Writes `data` to `path` atomically: to a temporary file in the same directory (same file
 * system, so rename is atomic), fsynced, then renamed over `path`. Readers see the old content or
 * the new, never a torn file, even if the process dies mid-write. `data` may be a function that
 * calls `write` with successive chunks (files larger than one Buffer, e.g. > 2 GiB checkpoints).
 * Every failure (ENOSPC, EACCES, …) is an error naming `path`; the temporary file is removed.
 */
export function writeFileAtomic(path: string, data: AtomicContent): void {
  const dir = dirname(resolve(path));
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}-${++tempCounter}`);
  let fd: number;
  try {
    fd = openSync(tmp, "wx");
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === "ENOENT") throw new Error(`cannot write ${path}: directory ${dir} does not exist (ENOENT); create it first`);
    throw writeFileError(path, e);
  }
  const writeAll = (bytes: Uint8Array) => {
    for (let c = 0; c < bytes.length; c += IO_CHUNK) {
      const chunk = bytes.subarray(c, Math.min(bytes.length, c + IO_CHUNK));
      let o = 0;
      while (o < chunk.length) o += atomicWriteIo.writeSync(fd, chunk, o, chunk.length - o);
    }
  };
  try {
    if (typeof data === "function") data(writeAll);
    else writeAll(typeof data === "string" ? Buffer.from(data, "utf8") : data);
    atomicWriteIo.fsyncSync(fd);
    closeSync(fd);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    try {
      unlinkSync(tmp);
    } catch {
      // nothing to remove
    }
    throw writeFileError(path, e);
  }
  try {
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing to remove
    }
    throw writeFileError(path, e);
  }
  // Make the rename itself durable; some platforms cannot fsync a directory, which is harmless.
  try {
    const dfd = openSync(dir, "r");
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // directory fsync unsupported here: the rename is still atomic, only not yet durable
  }
}

/** `writeFileAtomic` of `JSON.stringify(obj, null, 2)` plus a newline. Throws on non-JSON values. */
export function writeJsonAtomic(path: string, obj: unknown): void {
  const text = JSON.stringify(obj, null, 2);
  if (text === undefined) throw new Error(`writeJsonAtomic(${path}): value ${String(obj)} cannot be written as JSON`);
  writeFileAtomic(path, `${text}\n`);
}

/**
 * Writes `obj` as JSON to `<dir>/<base>.json`, or to `<base>-2.json`, `<base>-3.json`, … when the
 * name is taken: never overwrites (each name is created exclusively, complete when it appears).
 * Creates `dir` if missing. Returns the path written.
 */
export function writeJsonUnique(dir: string, base: string, obj: unknown): string {
  const text = JSON.stringify(obj, null, 2);
  if (text === undefined) throw new Error(`writeJsonUnique(${join(dir, base)}): value ${String(obj)} cannot be written as JSON`);
  mkdirSync(dir, { recursive: true });
  for (let k = 1; k <= 10_000; k++) {
    const path = join(dir, `${base}${k === 1 ? "" : `-${k}`}.json`);
    try {
      if (createExclusive(path, `${text}\n`)) return path;
    } catch (e) {
      throw writeFileError(path, e);
    }
  }
  throw new Error(`${join(dir, base)}.json and 10,000 numbered variants exist; clean up ${dir}`);
}

export interface FoundRun {
  run: RunDir;
  /** Absolute path of the checkpoint file, when the user named one. */
  checkpoint?: string;
}

function isRunDir(dir: string): boolean {
  return existsSync(join(dir, RUN_FILES.config));
}

/** Run directories (holding config.json) directly inside `dir`, newest name last. */
export function listRunDirs(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => {
      const p = join(dir, n);
      try {
        return statSync(p).isDirectory() && isRunDir(p);
      } catch {
        return false;
      }
    })
    .sort((a, b) => {
      // the timestamp field sorts chronologically; compare it first, then the whole name
      const ta = a.split("__").at(-1) ?? a;
      const tb = b.split("__").at(-1) ?? b;
      return ta < tb ? -1 : ta > tb ? 1 : a < b ? -1 : a > b ? 1 : 0;
    });
}

/**
 * Resolves what the user gave (`fathom eval <path>`, `--resume <path>`) to a run directory: the
 * run directory itself, its config.json, its checkpoints/ folder, or a checkpoint file inside
 * checkpoints/. A bare run name that does not exist here is also looked up in `runsDir` (default
 * "runs"). Throws an error that says what was found and what is expected.
 */
export function findRunDir(pathOrCheckpoint: string, options: { runsDir?: string } = {}): FoundRun {
  if (typeof pathOrCheckpoint !== "string" || pathOrCheckpoint.length === 0) {
    throw new Error("expected a run directory or checkpoint path, got an empty path");
  }
  let p = resolve(pathOrCheckpoint);
  if (!existsSync(p) && !/[\\/]/.test(pathOrCheckpoint)) {
    const inRuns = resolve(options.runsDir ?? "runs", pathOrCheckpoint);
    if (existsSync(inRuns)) p = inRuns;
  }
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(p);
  } catch {
    let hint = "";
    const prefix = basename(p);
    const places = [dirname(p)];
    if (!/[\\/]/.test(pathOrCheckpoint)) places.push(resolve(options.runsDir ?? "runs"));
    for (const dir of places) {
      const near = listRunDirs(dir).filter((n) => n.startsWith(prefix));
      if (near.length > 0) {
        hint = `; runs in ${dir} starting with "${prefix}": ${near.slice(-5).join(", ")}`;
        break;
      }
    }
    throw new Error(`${pathOrCheckpoint} does not exist (resolved to ${p})${hint}`);
  }
  if (st.isDirectory()) {
    if (isRunDir(p)) return { run: runDirAt(p) };
    if (basename(p) === RUN_FILES.checkpoints && isRunDir(dirname(p))) return { run: runDirAt(dirname(p)) };
    const runs = listRunDirs(p);
    const hint =
      runs.length > 0
        ? `; it holds ${runs.length} run director${runs.length === 1 ? "y" : "ies"}, pick one, e.g. the latest: ${join(pathOrCheckpoint, runs[runs.length - 1])}`
        : "; a run directory is the folder `fathom train` creates under runs/";
    throw new Error(`${pathOrCheckpoint} is not a run directory: it has no ${RUN_FILES.config}${hint}`);
  }
  if (!st.isFile()) throw new Error(`${pathOrCheckpoint} is neither a file nor a directory`);
  if (basename(p) === RUN_FILES.config) return { run: runDirAt(dirname(p)) };
  const parent = dirname(p);
  if (basename(parent) === RUN_FILES.checkpoints && isRunDir(dirname(parent))) {
    return { run: runDirAt(dirname(parent)), checkpoint: p };
  }
  if (isRunDir(parent)) {
    throw new Error(
      `${pathOrCheckpoint} is a file in run directory ${parent} but not a checkpoint; ` +
        `give the run directory itself or a file in its ${RUN_FILES.checkpoints}/ folder`,
    );
  }
  throw new Error(
    `${pathOrCheckpoint} is not in a run directory: a checkpoint must sit in <run>/${RUN_FILES.checkpoints}/ ` +
      `next to <run>/${RUN_FILES.config}; give the run directory or a checkpoint inside it`,
  );
}

// ---------------------------------------------------------------------------------------------
// The run lock: `<run>/train.lock`, created exclusively by the process that trains the run, holding
// {pid, host, started, command}; removed when that process ends (normally, on an error, on
// Ctrl-C/SIGTERM, or at process exit). A lock whose process is gone (same host, pid not alive) is
// stale and taken over; a live one makes a second `fathom train --resume` stop with its pid.

export interface RunLockInfo {
  pid: number;
  host: string;
  /** ISO time the lock was taken. */
  started: string;
  /** The command line of the process holding it. */
  command: string;
}

export type RunLockState =
  | { state: "free"; path: string }
  | { state: "live"; path: string; info: RunLockInfo; ours: boolean }
  | { state: "stale"; path: string; info: RunLockInfo | null; why: string };

export interface RunLock {
  readonly path: string;
  readonly info: RunLockInfo;
  /** Removes the lock file if it is still this lock's (idempotent). */
  release(): void;
}

/** Locks this process holds, released at exit whatever the way out. */
const heldLocks = new Map<string, RunLockInfo>();
let exitHookInstalled = false;

function sameLock(a: RunLockInfo | null, b: RunLockInfo | null): boolean {
  return a !== null && b !== null && a.pid === b.pid && a.host === b.host && a.started === b.started;
}

function readLockFile(path: string): RunLockInfo | null | "missing" {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return "missing";
    throw e;
  }
  try {
    const j = JSON.parse(text) as Partial<RunLockInfo>;
    if (typeof j?.pid !== "number" || typeof j.host !== "string" || typeof j.started !== "string") return null;
    return { pid: j.pid, host: j.host, started: j.started, command: typeof j.command === "string" ? j.command : "" };
  } catch {
    return null;
  }
}

function pidAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // alive, owned by someone else
  }
}

/** Whether run directory `runPath` is locked, and by whom; reads only. */
export function runLockState(runPath: string): RunLockState {
  const path = join(runPath, RUN_FILES.lock);
  const info = readLockFile(path);
  if (info === "missing") return { state: "free", path };
  if (info === null) return { state: "stale", path, info: null, why: "the lock file is damaged" };
  if (info.host !== hostname()) return { state: "live", path, info, ours: false }; // cannot check another host's processes
  if (info.pid === process.pid) {
    // This process: live if it holds the lock now; otherwise a leftover of an earlier process that had our pid.
    const ours = heldLocks.get(path);
    if (ours && sameLock(ours, info)) return { state: "live", path, info, ours: true };
    return { state: "stale", path, info, why: `process ${info.pid} is no longer running` };
  }
  if (pidAlive(info.pid)) return { state: "live", path, info, ours: false };
  return { state: "stale", path, info, why: `process ${info.pid} is no longer running` };
}

/** One line describing a lock's owner. */
export function describeLock(info: RunLockInfo): string {
  return `pid ${info.pid} on ${info.host}, since ${info.started}${info.command ? `: ${info.command}` : ""}`;
}

/** The error for a directory locked by a live process. */
export function runLockedError(runPath: string, s: Extract<RunLockState, { state: "live" }>): Error {
  const other = s.info.host !== hostname();
  return new Error(
    `run directory ${runPath} is in use by another fathom process (${describeLock(s.info)}). ` +
      (other
        ? `It runs on another host, whose processes cannot be checked from here; if it is no longer running, remove ${s.path}.`
        : `Wait for it to finish or stop it (kill -INT ${s.info.pid}); if process ${s.info.pid} is not a fathom run, remove ${s.path}.`),
  );
}

let lockCounter = 0;

/** Creates `path` with `text` only if it does not exist (atomic: the content is complete when it appears). */
function createExclusive(path: string, text: string): boolean {
  const tmp = `${path}.tmp-${process.pid}-${++lockCounter}`;
  writeFileSync(tmp, text, { flag: "wx" });
  try {
    linkSync(tmp, path);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return false;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "ENOSYS") throw e;
    // No hard links on this file system: exclusive create, then write (a reader may see it empty
    // for an instant, which runLockState reports as damaged).
    let fd: number;
    try {
      fd = openSync(path, "wx");
    } catch (e2) {
      if ((e2 as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw e2;
    }
    try {
      writeSync(fd, text);
    } finally {
      closeSync(fd);
    }
    return true;
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // gone
    }
  }
}

/**
 * Takes the lock of run directory `runPath` for this process, or throws naming the live process
 * that holds it. A stale lock (its process is gone) is taken over, and `log` says so. The lock is
 * removed by release() and, failing that, when the process exits.
 */
export function acquireRunLock(runPath: string, options: { log?: (line: string) => void } = {}): RunLock {
  const path = join(resolve(runPath), RUN_FILES.lock);
  const info: RunLockInfo = { pid: process.pid, host: hostname(), started: new Date().toISOString(), command: process.argv.slice(1).join(" ") };
  for (let attempt = 0; attempt < 5; attempt++) {
    if (createExclusive(path, `${JSON.stringify(info, null, 2)}\n`)) {
      heldLocks.set(path, info);
      if (!exitHookInstalled) {
        exitHookInstalled = true;
        process.on("exit", () => {
          for (const [p, i] of heldLocks) {
            const cur = readLockFile(p);
            if (cur !== "missing" && sameLock(cur, i)) {
              try {
                unlinkSync(p);
              } catch {
                // nothing to do at exit
              }
            }
          }
        });
      }
      return {
        path,
        info,
        release() {
          if (heldLocks.get(path) !== info) return;
          heldLocks.delete(path);
          const cur = readLockFile(path);
          if (cur !== "missing" && sameLock(cur, info)) unlinkSync(path);
        },
      };
    }
    const s = runLockState(dirname(path));
    if (s.state === "live") throw runLockedError(dirname(path), s);
    if (s.state === "free") continue; // released meanwhile
    // Stale: move it aside (atomic), then check that what was moved is the stale lock and not a
    // fresh one another process took meanwhile (then put that one back).
    const aside = `${path}.stale-${process.pid}-${++lockCounter}`;
    try {
      renameSync(path, aside);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw e;
    }
    const moved = readLockFile(aside);
    const movedInfo = moved === "missing" ? null : moved;
    if (s.info !== null && !sameLock(movedInfo, s.info)) {
      try {
        linkSync(aside, path);
      } catch {
        // someone else holds it now; the loop will find out who
      }
      unlinkSync(aside);
      continue;
    }
    unlinkSync(aside);
    options.log?.(
      `run directory ${dirname(path)} was locked by ${s.info ? describeLock(s.info) : "a damaged lock file"}, but ${s.why}: taking the lock over`,
    );
  }
  throw new Error(`could not lock run directory ${dirname(path)}: its lock ${path} kept changing; is another fathom starting on it?`);
}
