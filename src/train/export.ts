// `fathom export <runs dir> --out <results dir>`: copies what a figure or table needs of every
// FINISHED run (summary.json status "done") — config.json, metrics.jsonl, the results of
// `fathom eval` (eval/*.json), summary.json, never checkpoints — into <results dir>/<run name>/,
// the folder that studies are committed in.
// Identical files are skipped; a differing file is an error unless --update is given and the run's
// summary is newer than the exported one. Nothing is copied when any file conflicts.
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { listRunDirs, writeFileAtomic } from "./rundir.js";
import { readRunSummary, SUMMARY_FILE } from "./summary.js";

/** The files exported per run, besides its eval/*.json; summary.json last, so a half-exported run never looks finished. */
export const EXPORT_FILES = ["config.json", "metrics.jsonl", SUMMARY_FILE] as const;

/** A run's `fathom eval` results (eval/<checkpoint>__<env>__seed<seed>__n<episodes>.json), as paths relative to it. */
function evalResultFiles(dir: string): string[] {
  const evalDir = join(dir, "eval");
  if (!existsSync(evalDir)) return [];
  return readdirSync(evalDir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => join("eval", f));
}

export interface ExportFile {
  run: string;
  file: string;
  src: string;
  dst: string;
  action: "copy" | "same" | "replace" | "conflict";
}

export interface ExportPlan {
  files: ExportFile[];
  /** Finished runs (exported). */
  finished: string[];
  /** Runs skipped because they are not finished, with their status. */
  unfinished: { run: string; status: string }[];
  conflicts: string[];
}

function time(iso: unknown): number {
  const t = typeof iso === "string" ? Date.parse(iso) : Number.NaN;
  return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
}

/** Decides, without writing anything, what exporting `runsDir` into `outDir` does. */
export function planExport(runsDir: string, outDir: string, options: { update?: boolean } = {}): ExportPlan {
  if (!existsSync(runsDir)) throw new Error(`${runsDir} does not exist`);
  const plan: ExportPlan = { files: [], finished: [], unfinished: [], conflicts: [] };
  for (const run of listRunDirs(runsDir)) {
    const dir = join(runsDir, run);
    const summary = readRunSummary(dir);
    if (summary?.status !== "done") {
      plan.unfinished.push({ run, status: summary?.status ?? "no summary" });
      continue;
    }
    plan.finished.push(run);
    const dstDir = join(outDir, run);
    let newer: boolean | null = null; // is this run's summary newer than the exported one?
    const runFiles: ExportFile[] = [];
    const files = [...EXPORT_FILES.filter((f) => f !== SUMMARY_FILE), ...evalResultFiles(dir), SUMMARY_FILE];
    for (const file of files) {
      const src = join(dir, file);
      const dst = join(dstDir, file);
      if (!existsSync(src)) throw new Error(`${dir} is finished but has no ${file}; it cannot be exported`);
      let action: ExportFile["action"] = "copy";
      if (existsSync(dst)) {
        if (readFileSync(src).equals(readFileSync(dst))) action = "same";
        else {
          if (newer === null) {
            let old: unknown;
            try {
              old = readRunSummary(dstDir)?.finishedAt;
            } catch {
              old = undefined;
            }
            newer = time(summary.finishedAt) > time(old);
          }
          action = options.update && newer ? "replace" : "conflict";
        }
      }
      runFiles.push({ run, file, src, dst, action });
    }
    for (const f of runFiles) {
      if (f.action === "conflict") {
        plan.conflicts.push(
          `${f.dst} differs from ${f.src}` +
            (options.update ? " and the run's summary is not newer than the exported one" : " (--update replaces the files of runs whose summary is newer)"),
        );
      }
    }
    plan.files.push(...runFiles);
  }
  return plan;
}

/** Exports per `planExport`; throws, having written nothing, when a file conflicts. */
export function exportRuns(runsDir: string, outDir: string, options: { update?: boolean } = {}): ExportPlan {
  if (resolve(runsDir) === resolve(outDir)) throw new Error("export: the runs directory and --out are the same folder");
  const plan = planExport(runsDir, outDir, options);
  if (plan.conflicts.length > 0) {
    throw new Error(`export: nothing was written; ${plan.conflicts.length} file(s) would be overwritten:\n  ${plan.conflicts.join("\n  ")}`);
  }
  for (const f of plan.files) {
    if (f.action === "same") continue;
    mkdirSync(dirname(f.dst), { recursive: true });
    writeFileAtomic(f.dst, readFileSync(f.src));
  }
  return plan;
}
