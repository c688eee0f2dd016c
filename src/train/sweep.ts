// What `fathom sweep` does with each (depth, seed) point, decided from its deterministic run
// directory (rundir.ts sweepRunDirName) so that a sweep can be run again after an interruption:
//
//   no directory                               → fresh: train from scratch
//   train.lock held by a live process          → locked: reported, left alone (it is running)
//   config.json differs from the sweep's config → refuse (name the keys; never reuse or overwrite;
//                                                 when only the length differs, say how to match it)
//   summary.json with status "done"            → skip: the run is finished
//   summary.json with status "nonfinite"       → nonfinite: reported, not retried (unless asked)
//   checkpoints/latest.json                    → resume, exactly as `fathom train --resume`
//   empty (or only train.log, lock leftovers)  → fresh: adopted (another sweep may be claiming it)
//   anything else (no checkpoint, no config)   → move aside to <name>.incomplete-<time>, then fresh
//
// Every point is decided again just before it runs (another sweep on the same runs directory may
// have started or finished it meanwhile), and a fresh run claims its directory by taking the run
// lock (created exclusively) before it looks for a config.json: of two processes that decided
// "fresh" for the same point, one trains it and the other gets a RunTakenError, which the sweep
// reports and goes on from. Between its mkdir and its lock a fresh directory is empty, which is
// why an empty directory is adopted rather than moved aside, and moving aside takes the lock too.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import type { TrainConfig } from "./config.js";
import { INCOMPLETE_DIR, readRunConfigFile } from "./run.js";
import { describeLock, formatRunTimestamp, RUN_FILES, type RunDir, type RunLock, runDirAt, runLockState } from "./rundir.js";
import { type RunSummary, readRunSummary } from "./summary.js";

/** A directory a sweep moved aside: `<name>.incomplete-<YYYYMMDD-HHMMSS>[-k]`. */
export { INCOMPLETE_DIR };

export interface ConfigDiff {
  key: string;
  /** The value in the existing run's config.json. */
  run: unknown;
  /** The value this sweep would run with. */
  sweep: unknown;
}

function show(v: unknown): string {
  return v === undefined ? "(unset)" : JSON.stringify(v);
}

export function formatDiffs(diffs: readonly ConfigDiff[]): string {
  return diffs.map((d) => `${d.key}: run ${show(d.run)}, sweep ${show(d.sweep)}`).join("; ");
}

/** Keys whose values differ between two validated configs (JSON equality), `ignore` aside. */
export function configDiff(run: TrainConfig, sweep: TrainConfig, ignore: readonly string[] = ["runsDir"]): ConfigDiff[] {
  const a = run as Record<string, unknown>;
  const b = sweep as Record<string, unknown>;
  const keys = [...Object.keys(b), ...Object.keys(a).filter((k) => !(k in b))];
  const out: ConfigDiff[] = [];
  for (const k of keys) {
    if (ignore.includes(k)) continue;
    if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) out.push({ key: k, run: a[k], sweep: b[k] });
  }
  return out;
}

/** Config keys that set a run's length: a run differing only in them can be extended (extend.ts). */
/** The keys of a run's length: a run that differs only in them gets its own advice (extend it, or give the sweep its length). */
export const LENGTH_KEYS: readonly string[] = ["totalEnvSteps", "numEvals"];

export type SweepDecision =
  | { action: "fresh"; dir: string; reason: string }
  | { action: "skip"; dir: string; reason: string; summary: RunSummary }
  | { action: "nonfinite"; dir: string; reason: string; summary: RunSummary }
  | { action: "resume"; dir: string; reason: string }
  | { action: "locked"; dir: string; reason: string }
  | { action: "move-aside"; dir: string; reason: string; to: string }
  | { action: "refuse"; dir: string; reason: string; diffs?: ConfigDiff[] };

export interface PlanOptions {
  /** Config keys not compared (default ["runsDir"]). */
  ignoreKeys?: readonly string[];
  /** Resume runs that stopped on a non-finite loss instead of reporting them (default false). */
  retryNonfinite?: boolean;
  /** Time for the name of a directory moved aside (default now). */
  now?: Date;
}

/** Where a directory without a checkpoint is moved: `<dir>.incomplete-<time>`, suffixed if taken. */
export function incompleteName(dir: string, now: Date): string {
  const base = `${dir}.incomplete-${formatRunTimestamp(now)}`;
  if (!existsSync(base)) return base;
  for (let k = 2; ; k++) if (!existsSync(`${base}-${k}`)) return `${base}-${k}`;
}

/** True when `checkpointsDir` holds an agent checkpoint (resume finds it even if latest.json is gone). */
function hasCheckpointFile(checkpointsDir: string): boolean {
  try {
    return readdirSync(checkpointsDir).some((f) => /^(step|interrupt)_\d{10}(-\d+)?\.safetensors$/.test(f));
  } catch {
    return false;
  }
}

/** Decides what a sweep does with run directory `dir`, which should run `expected`. Reads only. */
export function planSweepPoint(dir: string, expected: TrainConfig, options: PlanOptions = {}): SweepDecision {
  const ignore = options.ignoreKeys ?? ["runsDir"];
  if (!existsSync(dir)) return { action: "fresh", dir, reason: "new run" };
  if (!statSync(dir).isDirectory()) return { action: "refuse", dir, reason: `${dir} exists and is not a directory; move it away` };
  const lock = runLockState(dir);
  if (lock.state === "live") {
    return { action: "locked", dir, reason: `in use by another fathom process (${describeLock(lock.info)}); not resumed` };
  }
  const configPath = join(dir, RUN_FILES.config);
  const latest = join(dir, RUN_FILES.checkpoints, "latest.json");
  if (readdirSync(dir).every((f) => f === RUN_FILES.sweepLog || f.startsWith(`${RUN_FILES.lock}.tmp-`))) {
    // Nothing in it but a sweep's train.log (appended to, never truncated) and at most the
    // temporary file of a lock being taken: another sweep may have just made it for the same
    // point (its mkdir and log come before its lock), and nothing in it can be lost by adopting
    // it. The lock decides who runs it.
    return { action: "fresh", dir, reason: "new run (empty directory)" };
  }
  if (existsSync(configPath)) {
    let saved: TrainConfig;
    let extended = false;
    try {
      ({ config: saved, extended } = readRunConfigFile(configPath));
    } catch (e) {
      return {
        action: "refuse",
        dir,
        reason: `${configPath} holds no valid training configuration (${(e as Error).message}); move ${dir} away to rerun this point`,
      };
    }
    const diffs = configDiff(saved, expected, ignore);
    if (diffs.length > 0 && diffs.every((d) => LENGTH_KEYS.includes(d.key))) {
      // Only the run's length differs (e.g. it was extended with fathom train --resume --total-env-steps).
      const sweepLength = `--total-env-steps ${expected.totalEnvSteps} --num-evals ${expected.numEvals}`;
      return {
        action: "refuse",
        dir,
        diffs,
        reason:
          `${dir} holds a run of another length (${formatDiffs(diffs)})${extended ? `; it was extended (see "extended" in ${configPath})` : ""}. ` +
          `It is neither reused nor overwritten. To go on with it, either give the sweep the run's length (--total-env-steps ${saved.totalEnvSteps} --num-evals ${saved.numEvals}), ` +
          `or bring the run to the sweep's: fathom train --resume ${dir} ${sweepLength} (possible when ${expected.totalEnvSteps} is at least the env steps it has taken), then run the sweep again; ` +
          "or use another --runs-dir, or move the directory away",
      };
    }
    if (diffs.length > 0) {
      return {
        action: "refuse",
        dir,
        diffs,
        reason:
          `${dir} holds a run with a different configuration (${formatDiffs(diffs)}); ` +
          "it is neither reused nor overwritten: use another --runs-dir, or move the directory away",
      };
    }
    let summary: RunSummary | null;
    try {
      summary = readRunSummary(dir);
    } catch (e) {
      return { action: "refuse", dir, reason: (e as Error).message };
    }
    if (summary?.status === "done") {
      return { action: "skip", dir, summary, reason: `finished (${summary.envSteps} env steps${summary.finishedAt ? `, ${summary.finishedAt}` : ""})` };
    }
    if (summary?.status === "nonfinite" && !options.retryNonfinite) {
      return {
        action: "nonfinite",
        dir,
        summary,
        reason: `stopped on a non-finite loss at ${summary.envSteps} env steps; not retried (--retry-nonfinite resumes it from its last good checkpoint)`,
      };
    }
    if (existsSync(latest) || hasCheckpointFile(join(dir, RUN_FILES.checkpoints))) {
      return { action: "resume", dir, reason: summary ? `${summary.status} at ${summary.envSteps} env steps` : "stopped without a summary (killed)" };
    }
  }
  const to = incompleteName(dir, options.now ?? new Date());
  return {
    action: "move-aside",
    dir,
    to,
    reason: existsSync(configPath)
      ? "it has no checkpoint (stopped before its first evaluation), so it cannot be resumed"
      : `it has no ${RUN_FILES.config} (not a complete run directory)`,
  };
}

/**
 * Renames the directory of a "move-aside" decision; never deletes anything. With `lock`, it takes
 * the directory's run lock first, so that it never moves a directory another process holds (that
 * is a RunTakenError), nor one that got a checkpoint since the decision (another process trained
 * it meanwhile: RunTakenError too), and removes the lock from the moved directory afterwards.
 */
export function moveAside(decision: { dir: string; to: string }, lock?: (path: string) => RunLock): void {
  if (existsSync(decision.to)) throw new Error(`cannot move ${decision.dir} aside: ${decision.to} exists`);
  const held = lock ? takePoint(decision.dir, lock, (holder) => `was taken by another fathom process before this sweep could move it aside (${holder})`) : null;
  try {
    if (held && existsSync(join(decision.dir, RUN_FILES.checkpoints, "latest.json"))) {
      throw new RunTakenError(`${decision.dir} got a checkpoint from another fathom process after this sweep decided to move it aside; left to it`);
    }
    renameSync(decision.dir, decision.to);
  } catch (e) {
    held?.release();
    throw e;
  }
  if (held) {
    const moved = join(decision.to, basename(held.path));
    held.release(); // (its path is gone with the directory: only forgets it)
    rmSync(moved, { force: true });
  }
}

/**
 * A sweep point's directory was taken by another process between the sweep's decision and its
 * start (a second sweep on the same runs directory): that process trains it; this one leaves it.
 */
export class RunTakenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RunTakenError";
  }
}

/** The exit code of a `fathom train --sweep-run-dir` child whose directory was taken (RunTakenError). */
export const EXIT_RUN_TAKEN = 75;

/**
 * The run lock of a sweep point, taken with `lock`; a live lock of another process is a
 * RunTakenError ("<path> <taken(holder)>; left to it"), any other failure is rethrown.
 */
function takePoint(path: string, lock: (path: string) => RunLock, taken: (holder: string) => string): RunLock {
  try {
    return lock(path);
  } catch (e) {
    const s = runLockState(path);
    if (s.state === "live" && !s.ours) throw new RunTakenError(`${path} ${taken(describeLock(s.info))}; left to it`);
    throw e;
  }
}

/**
 * Opens the deterministic run directory of a sweep point for a fresh run: creates it if missing,
 * takes its run lock with `lock` (exclusive; a live lock means another process has it:
 * RunTakenError), then checks that it holds no run: it may hold only files such as train.log,
 * never a config.json (another process started the run after this sweep decided: RunTakenError)
 * or checkpoints. Creates checkpoints/ and eval/. On an error the lock is released.
 */
export function openSweepRunDir(path: string, lock: (path: string) => RunLock): { runDir: RunDir; lock: RunLock } {
  let held: RunLock | null = null;
  for (let attempt = 0; held === null; attempt++) {
    mkdirSync(path, { recursive: true });
    try {
      held = takePoint(path, lock, (holder) => `was taken by another fathom process after this sweep decided to start it (${holder})`);
    } catch (e) {
      // The directory went between the mkdir and the lock (moved aside by another process): again.
      if ((e as NodeJS.ErrnoException).code !== "ENOENT" || attempt >= 3) throw e;
    }
  }
  try {
    const rd = runDirAt(path);
    if (existsSync(rd.configPath)) {
      throw new RunTakenError(
        `${path} already holds a run (${RUN_FILES.config}), started after this sweep decided to start it; a sweep never reuses or overwrites it (run the sweep again to resume or skip it)`,
      );
    }
    if (existsSync(rd.checkpointsDir) && existsSync(join(rd.checkpointsDir, "latest.json"))) {
      throw new Error(`${path} already holds checkpoints; move it away first`);
    }
    mkdirSync(rd.checkpointsDir, { recursive: true });
    mkdirSync(rd.evalDir, { recursive: true });
    return { runDir: rd, lock: held };
  } catch (e) {
    held.release();
    throw e;
  }
}

/**
 * Takes the run lock of a sweep point the sweep decided to resume, with `lock` (exclusive). A live
 * lock means another process (a second sweep on the same runs directory) resumed it after this
 * one decided: RunTakenError. So does a run that another process finished in between (its
 * summary says done). On an error the lock is released.
 */
export function lockSweepResume(path: string, lock: (path: string) => RunLock): RunLock {
  const held = takePoint(path, lock, (holder) => `is being resumed by another fathom process (${holder})`);
  let done = false;
  try {
    done = readRunSummary(path)?.status === "done";
  } catch {
    done = false; // a damaged summary: the resume rewrites it
  }
  if (done) {
    held.release();
    throw new RunTakenError(`${path} was finished by another fathom process after this sweep decided to resume it`);
  }
  return held;
}

/** Short depth label of a sweep point: `16`, or `a4c16` when actor and critic differ. */
export function depthLabel(actorDepth: number, criticDepth: number): string {
  return actorDepth === criticDepth ? String(criticDepth) : `a${actorDepth}c${criticDepth}`;
}
