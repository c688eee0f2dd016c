// Metrics of a run, written three ways from one `log(record)` call (DESIGN §6):
//   metrics.jsonl  one JSON object per line: the source of truth, read back by `readMetricsJsonl`
//   metrics.csv    the same rows for spreadsheets and pandas
//   events.out.tfevents.*  TensorBoard scalars, one per metric, at x = envsteps (or step)
// Metric names keep the reference's snake_case with slashes (SPEC §8): `training/critic_loss`,
// `eval/episode_success`. Opening a logger on an existing run directory (resume) appends; the
// only thing it cuts by itself is a torn, unterminated last line left by a crash. A resume calls
// `truncateAfter(checkpoint)` first: rows logged after the checkpoint (by a run killed before its
// next one) are dropped from all three sinks, so each step appears once and TensorBoard's step
// never goes backwards.
import { appendFileSync, existsSync, readdirSync, readFileSync, statSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "./rundir.js";
import { EVENT_FILE, TensorBoardWriter, truncateEventFile } from "./tensorboard.js";

/** One row: metric name → number. Must hold `step`; `envsteps` too when it is the x-axis. */
export type MetricsRecord = Record<string, number>;

/** Keys written first, in this order, and not sent to TensorBoard as scalars (they are its axes). */
export const AXIS_KEYS = ["step", "envsteps", "wall_time"] as const;

export interface MetricsLoggerOptions {
  /** Write TensorBoard scalars (default true). */
  tensorboard?: boolean;
  /** Write metrics.csv (default true). */
  csv?: boolean;
  /**
   * Which record field is TensorBoard's step: `envsteps` (default; the reference plots against
   * environment steps) or `step` (training iterations).
   */
  xAxis?: "envsteps" | "step";
  /** Clock in seconds since the epoch, for `wall_time` (default Date.now()/1000). */
  now?: () => number;
}

// JSON has no NaN or ±Infinity; they are written as these strings and decoded by readMetricsJsonl.
function jsonValue(v: number): number | string {
  return Number.isFinite(v) ? v : String(v);
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Splits one CSV line (RFC 4180 quoting, no embedded newlines). */
export function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field = "";
    if (line[i] === '"') {
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) throw new Error(`unterminated quoted CSV field in: ${line}`);
        field += line.slice(i, q);
        if (line[q + 1] === '"') {
          field += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
    } else {
      const c = line.indexOf(",", i);
      const end = c < 0 ? line.length : c;
      field = line.slice(i, end);
      i = end;
    }
    out.push(field);
    if (i >= line.length) return out;
    if (line[i] !== ",") throw new Error(`malformed CSV line (text after a quoted field): ${line}`);
    i++;
  }
}

/**
 * A crash mid-write can leave an unterminated last line. It holds no complete record (each record
 * is one write of a whole line), so it is cut off; a JSONL tail that still parses is kept and
 * terminated instead. These torn bytes are the only thing a reopened logger ever removes.
 */
function repairTornTail(path: string, keepIfJson: boolean): void {
  if (!existsSync(path) || statSync(path).size === 0) return;
  const text = readFileSync(path);
  if (text[text.length - 1] === 0x0a) return;
  const cut = text.lastIndexOf(0x0a) + 1;
  if (keepIfJson) {
    try {
      JSON.parse(text.subarray(cut).toString("utf8"));
      appendFileSync(path, "\n");
      return;
    } catch {
      // not a whole record: cut it below
    }
  }
  truncateSync(path, cut);
}

/** Where a resume cuts the logs: the checkpoint's training step and env steps. */
export interface LogCut {
  step: number;
  envsteps: number;
}

/** What `truncateAfter` removed. */
export interface LogCutResult {
  /** Rows of metrics.jsonl dropped. */
  jsonlRows: number;
  /** Rows of metrics.csv dropped. */
  csvRows: number;
  /** TensorBoard records dropped, over every event file of the run. */
  tensorboardRecords: number;
}

/**
 * Keeps the lines of a text file for which `keep` is true; rewrites it atomically (temporary file
 * + rename) only when a line goes. Returns how many went.
 */
function filterLines(path: string, keep: (line: string, index: number) => boolean): number {
  if (!existsSync(path)) return 0;
  const lines = readFileSync(path, "utf8").split("\n");
  if (lines.at(-1) === "") lines.pop();
  const kept = lines.filter(keep);
  const dropped = lines.length - kept.length;
  if (dropped > 0) writeFileAtomic(path, kept.map((l) => `${l}\n`).join(""));
  return dropped;
}

export class MetricsLogger {
  readonly jsonlPath: string;
  readonly csvPath: string | null;
  private readonly runDir: string;
  private readonly tb: TensorBoardWriter | null;
  private readonly xAxis: "envsteps" | "step";
  private readonly now: () => number;
  /** CSV header: every key seen so far, axes first, then in order of first appearance. */
  private columns: string[] = [];
  private closed = false;

  /** Opens (or, on resume, reopens for appending) the metric files of run directory `runDir`. */
  constructor(runDir: string, options: MetricsLoggerOptions = {}) {
    if (!existsSync(runDir) || !statSync(runDir).isDirectory()) {
      throw new Error(`MetricsLogger: run directory ${runDir} does not exist; create it with createRunDir first`);
    }
    this.xAxis = options.xAxis ?? "envsteps";
    if (this.xAxis !== "envsteps" && this.xAxis !== "step") {
      throw new Error(`MetricsLogger: xAxis must be "envsteps" or "step", got ${JSON.stringify(this.xAxis)}`);
    }
    this.now = options.now ?? (() => Date.now() / 1000);
    this.jsonlPath = join(runDir, "metrics.jsonl");
    repairTornTail(this.jsonlPath, true);
    this.csvPath = options.csv === false ? null : join(runDir, "metrics.csv");
    if (this.csvPath !== null && existsSync(this.csvPath)) {
      repairTornTail(this.csvPath, false);
      const text = readFileSync(this.csvPath, "utf8");
      const nl = text.indexOf("\n");
      const header = (nl < 0 ? text : text.slice(0, nl)).replace(/\r$/, "");
      if (header.length > 0) this.columns = parseCsvLine(header);
    }
    this.runDir = runDir;
    this.tb = options.tensorboard === false ? null : new TensorBoardWriter(runDir, { now: this.now });
  }

  /**
   * Drops everything logged after `cut` (a checkpoint's training step and env steps), as a resume
   * from that checkpoint must: metrics.jsonl and metrics.csv rows whose `step` is greater than
   * cut.step, and TensorBoard records (in every event file of the run directory but the one this
   * logger writes) whose step is greater than the cut on the x-axis. Each file is rewritten to a
   * temporary file and renamed over the old one, so a crash meanwhile leaves every file readable;
   * doing it again is harmless. Rows without a numeric step (and lines that do not parse) stay.
   */
  truncateAfter(cut: LogCut): LogCutResult {
    if (this.closed) throw new Error("MetricsLogger.truncateAfter: the logger is closed");
    for (const k of ["step", "envsteps"] as const) {
      if (!Number.isSafeInteger(cut[k])) throw new Error(`MetricsLogger.truncateAfter: cut.${k} must be an integer, got ${cut[k]}`);
    }
    const jsonlRows = filterLines(this.jsonlPath, (line) => {
      try {
        const step = (JSON.parse(line) as { step?: unknown })?.step;
        return !(typeof step === "number" && step > cut.step);
      } catch {
        return true;
      }
    });
    let csvRows = 0;
    if (this.csvPath !== null) {
      const col = this.columns.indexOf("step");
      if (col >= 0) {
        csvRows = filterLines(this.csvPath, (line, i) => {
          if (i === 0 || line.length === 0) return true; // the header
          try {
            const v = parseCsvLine(line)[col];
            return !(v !== undefined && v !== "" && Number(v) > cut.step);
          } catch {
            return true;
          }
        });
      }
    }
    let tensorboardRecords = 0;
    const maxX = cut[this.xAxis];
    for (const name of readdirSync(this.runDir).filter((n) => EVENT_FILE.test(n)).sort()) {
      const path = join(this.runDir, name);
      if (this.tb !== null && path === this.tb.path) continue; // ours: only its file_version record so far
      tensorboardRecords += truncateEventFile(path, maxX).dropped;
    }
    return { jsonlRows, csvRows, tensorboardRecords };
  }

  get tensorboardPath(): string | null {
    return this.tb?.path ?? null;
  }

  /**
   * Writes one record to every sink. `wall_time` (seconds since the epoch) is added unless given.
   * Throws, writing nothing, if a value is not a number or an axis field is missing.
   */
  log(record: MetricsRecord): void {
    if (this.closed) throw new Error("MetricsLogger.log: the logger is closed");
    if (record === null || typeof record !== "object") throw new Error("MetricsLogger.log: expected an object of metric name → number");
    for (const [k, v] of Object.entries(record)) {
      if (k.length === 0 || /[\r\n]/.test(k)) throw new Error(`MetricsLogger.log: metric name ${JSON.stringify(k)} must be non-empty and on one line`);
      if (typeof v !== "number") {
        throw new Error(`MetricsLogger.log: metric "${k}" must be a number, got ${typeof v} ${JSON.stringify(v)}; log strings in config.json or eval/*.json instead`);
      }
    }
    for (const axis of ["step", this.xAxis]) {
      if (!Number.isSafeInteger(record[axis])) {
        throw new Error(`MetricsLogger.log: every record needs an integer "${axis}" field, got ${record[axis]}; keys: ${Object.keys(record).join(", ")}`);
      }
    }
    const row: MetricsRecord = { step: record.step };
    if (record.envsteps !== undefined) row.envsteps = record.envsteps;
    row.wall_time = record.wall_time ?? this.now();
    for (const [k, v] of Object.entries(record)) if (!(k in row)) row[k] = v;

    const json: Record<string, number | string> = {};
    for (const [k, v] of Object.entries(row)) json[k] = jsonValue(v);
    appendFileSync(this.jsonlPath, `${JSON.stringify(json)}\n`);

    if (this.csvPath !== null) this.writeCsvRow(row);

    if (this.tb !== null) {
      const x = row[this.xAxis];
      for (const [k, v] of Object.entries(row)) {
        if (!(AXIS_KEYS as readonly string[]).includes(k)) this.tb.addScalar(k, v, x, row.wall_time);
      }
      this.tb.flush();
    }
  }

  /** Flushes and closes the TensorBoard file; JSONL and CSV rows are written as they are logged. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.tb?.close();
  }

  // New keys after the header was written: the whole CSV is rewritten atomically with the widened
  // header (new columns appended at the end, earlier rows padded with empty cells), so the file
  // stays one valid rectangular table. This happens only the few times a new metric first
  // appears (e.g. the first evaluation), so its O(file) cost does not matter.
  private writeCsvRow(row: MetricsRecord): void {
    const path = this.csvPath!;
    const fresh = Object.keys(row).filter((k) => !this.columns.includes(k));
    if (fresh.length > 0) {
      const old = this.columns;
      this.columns = old.length === 0 ? orderColumns(fresh) : [...old, ...fresh];
      const header = this.columns.map(csvField).join(",");
      const body = existsSync(path) ? readFileSync(path, "utf8") : "";
      const nl = body.indexOf("\n");
      const rows = nl < 0 ? [] : body.slice(nl + 1).split("\n").filter((l) => l.length > 0);
      const pad = ",".repeat(this.columns.length - old.length);
      const padded = rows.map((l) => `${l}${pad}\n`).join("");
      writeFileAtomic(path, `${header}\n${padded}`);
    }
    const line = this.columns.map((c) => (row[c] === undefined ? "" : String(row[c]))).join(",");
    appendFileSync(path, `${line}\n`);
  }
}

function orderColumns(keys: string[]): string[] {
  const axes = AXIS_KEYS.filter((k) => keys.includes(k));
  return [...axes, ...keys.filter((k) => !(AXIS_KEYS as readonly string[]).includes(k))];
}

/**
 * Reads metrics.jsonl back into records (NaN/±Infinity restored). A line that does not parse can
 * only be the torn tail of a crashed write not yet repaired by a reopened logger; such lines are
 * skipped and counted in `skipped`.
 */
export function readMetricsJsonl(path: string): { records: MetricsRecord[]; skipped: number } {
  if (!existsSync(path)) throw new Error(`${path} does not exist; is this a run directory with logged metrics?`);
  const records: MetricsRecord[] = [];
  let skipped = 0;
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (line.trim().length === 0) continue;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch {
      skipped++;
      continue;
    }
    if (obj === null || typeof obj !== "object" || Array.isArray(obj)) {
      skipped++;
      continue;
    }
    const rec: MetricsRecord = {};
    for (const [k, v] of Object.entries(obj)) rec[k] = typeof v === "number" ? v : Number(v);
    records.push(rec);
  }
  return { records, skipped };
}
