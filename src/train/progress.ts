// Progress of a long job (DESIGN §6): on a TTY a single line redrawn in place with \r (bar,
// step/total, env steps/s, ETA, a few metrics); otherwise (CI, a file, a pipe) plain log lines at
// most every `plainIntervalSeconds`, plus the first and the last, so logs stay readable.
// Rates and ETA are averaged since the reporter started (or, with rateFrom "first-update", since the
// first update: a resumed run's first update already carries the restored step count, and a
// prefill's cheap steps would flatter the rate), which is steadier than an instant rate and counts
// only this session's work. Evaluation pauses (evaluated()) are kept out of the rate and added to
// the ETA once per remaining evaluation. The count shown never exceeds the total.

/** Where progress is written: process.stderr, or anything with a write method (tests). */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** Steps in the whole job (e.g. training steps). */
  total: number;
  /** Shown first on each line, e.g. "train". */
  label?: string;
  /** Step count at start, when resuming (default 0). */
  startStep?: number;
  /** Env steps at start, when resuming (default 0). */
  startEnvsteps?: number;
  /** Default process.stderr. */
  stream?: ProgressStream;
  /** Redraw in place; default: whether the stream is a TTY. */
  tty?: boolean;
  /** Plain mode: at most one line per this many seconds (default 30). */
  plainIntervalSeconds?: number;
  /** TTY mode: at most one redraw per this many seconds (default 0.1). */
  ttyIntervalSeconds?: number;
  /** Clock in seconds (default: performance.now() / 1000). */
  now?: () => number;
  /** What a step is, shown next to the count: "step" (default) or e.g. "env steps". */
  unit?: string;
  /**
   * Where rates and the ETA are measured from: "start" (the constructor, with startStep and
   * startEnvsteps; default) or "first-update" (the first update's step, env steps and time).
   */
  rateFrom?: "start" | "first-update";
  /** Evaluations over the whole job, evenly spaced in steps; their time (evaluated()) enters the ETA. */
  evaluations?: number;
}

export interface ProgressInfo {
  /** Environment steps so far (for env steps/s). */
  envsteps?: number;
  /** A few key metrics to show; a key's last '/' segment is its label (`training/critic_loss` → critic_loss). */
  metrics?: Record<string, number>;
}

/** 3725 → "1h02m", 185 → "3m05s", 9.4 → "9s"; non-finite → "?". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  return `${Math.floor(s / 86400)}d${String(Math.floor((s % 86400) / 3600)).padStart(2, "0")}h`;
}

/** 3 significant digits with k/M/G suffixes: 31744 → "31.7k", 950 → "950". */
export function formatRate(x: number): string {
  if (!Number.isFinite(x)) return "?";
  const a = Math.abs(x);
  if (a >= 1e9) return `${(x / 1e9).toPrecision(3)}G`;
  if (a >= 1e6) return `${(x / 1e6).toPrecision(3)}M`;
  if (a >= 1e3) return `${(x / 1e3).toPrecision(3)}k`;
  if (a >= 100) return x.toFixed(0);
  return x.toPrecision(3);
}

/** A metric in at most ~9 characters: 4 significant digits, exponent form when tiny or huge. */
export function formatMetric(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return "0";
  const a = Math.abs(x);
  if (a >= 1e5 || a < 1e-3) return x.toExponential(2);
  return String(Number(x.toPrecision(4)));
}

export class ProgressReporter {
  private readonly total: number;
  private readonly label: string;
  private readonly stream: ProgressStream;
  private readonly tty: boolean;
  private readonly plainInterval: number;
  private readonly ttyInterval: number;
  private readonly now: () => number;
  private readonly unit: string;
  private readonly evaluations: number;
  /** When the reporter was made (for "elapsed"); t0 is the origin of rates. */
  private readonly tStart: number;
  private t0: number;
  private step0: number;
  private envsteps0: number;
  private originSet: boolean;
  /** Evaluation seconds since the origin (kept out of the rate), and over all evaluations reported. */
  private pausedSinceOrigin = 0;
  private evalSeconds = 0;
  private evalCount = 0;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private lastLine = "";
  private drawnStep = Number.NaN;
  private step: number;
  private info: ProgressInfo = {};
  private finished = false;

  constructor(options: ProgressOptions) {
    if (!Number.isFinite(options.total) || options.total <= 0) {
      throw new Error(`ProgressReporter: total must be a positive number of steps, got ${options.total}`);
    }
    this.total = options.total;
    this.label = options.label ?? "";
    this.stream = options.stream ?? process.stderr;
    this.tty = options.tty ?? this.stream.isTTY === true;
    this.plainInterval = options.plainIntervalSeconds ?? 30;
    this.ttyInterval = options.ttyIntervalSeconds ?? 0.1;
    this.now = options.now ?? (() => performance.now() / 1000);
    this.tStart = this.now();
    this.t0 = this.tStart;
    this.step0 = options.startStep ?? 0;
    this.step = this.step0;
    this.envsteps0 = options.startEnvsteps ?? 0;
    this.unit = options.unit ?? "step";
    this.evaluations = options.evaluations ?? 0;
    this.originSet = (options.rateFrom ?? "start") === "start";
  }

  /** Reports an evaluation that took `seconds` (after the last update): out of the rate, into the ETA. */
  evaluated(seconds: number): void {
    if (!(seconds >= 0)) return;
    this.evalSeconds += seconds;
    this.evalCount++;
    if (this.originSet) this.pausedSinceOrigin += seconds;
  }

  /** Reports that `step` steps are done. Draws only when the interval has passed or the job is complete. */
  update(step: number, info: ProgressInfo = {}): void {
    if (this.finished) return;
    const t = this.now();
    if (!this.originSet) {
      this.originSet = true;
      this.t0 = t;
      this.step0 = step;
      this.envsteps0 = info.envsteps ?? 0;
    }
    this.step = step;
    this.info = info;
    const interval = this.tty ? this.ttyInterval : this.plainInterval;
    if (step >= this.total || t - this.lastDraw >= interval) this.draw(t);
  }

  /** Prints a message on its own line without breaking the in-place bar. */
  log(message: string): void {
    if (this.tty && this.lastLine.length > 0 && !this.finished) {
      this.stream.write(`\r\x1b[K${message}\n${this.lastLine}`);
    } else {
      this.stream.write(`${message}\n`);
    }
  }

  /** Draws the final state (if not yet shown) and ends the bar's line. Idempotent. */
  finish(): void {
    if (this.finished) return;
    if (this.drawnStep !== this.step) this.draw(this.now());
    if (this.tty && this.lastLine.length > 0) this.stream.write("\n");
    this.finished = true;
  }

  /** The current status line (what the next draw would print). */
  line(t = this.now()): string {
    const elapsed = t - this.t0;
    // time spent on this session's steps: evaluations are not steps
    const working = elapsed - this.pausedSinceOrigin;
    const done = this.step - this.step0;
    const shown = Math.min(this.step, this.total); // the last step may overshoot the total
    const frac = Math.min(1, Math.max(0, shown / this.total));
    const parts: string[] = [];
    const count = `${shown}/${this.total}`;
    const pct = `${(100 * frac).toFixed(frac < 0.1 ? 1 : 0)}%`;
    if (this.tty) {
      const width = 20;
      const filled = Math.round(frac * width);
      const unit = this.unit === "step" ? "" : ` ${this.unit}`;
      parts.push(`${this.label ? `${this.label} ` : ""}[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${count}${unit} ${pct}`);
    } else {
      parts.push(`${this.label ? `[${this.label}] ` : ""}${this.unit} ${count} (${pct})`);
    }
    if (this.info.envsteps !== undefined && working > 0 && done > 0) {
      parts.push(`${formatRate((this.info.envsteps - this.envsteps0) / working)} env steps/s`);
    }
    if (!this.tty) parts.push(`elapsed ${formatDuration(t - this.tStart)}`);
    let eta = done > 0 && working > 0 ? ((this.total - shown) * working) / done : Number.NaN;
    let evalNote = "";
    if (this.evaluations > 0) {
      const remaining = Math.max(0, this.evaluations - Math.min(this.evaluations, Math.floor((shown * this.evaluations) / this.total)));
      if (this.evalCount > 0) eta += (remaining * this.evalSeconds) / this.evalCount;
      else if (remaining > 0) evalNote = " + evaluations";
    }
    parts.push(this.step >= this.total ? "done" : `ETA ${formatDuration(eta)}${Number.isFinite(eta) ? evalNote : ""}`);
    for (const [k, v] of Object.entries(this.info.metrics ?? {})) {
      parts.push(`${k.slice(k.lastIndexOf("/") + 1)} ${formatMetric(v)}`);
    }
    return parts.join(" | ");
  }

  private draw(t: number): void {
    this.lastDraw = t;
    this.drawnStep = this.step;
    let line = this.line(t);
    if (this.tty) {
      // a line longer than the terminal would wrap and break the in-place redraw
      const cols = this.stream.columns ?? 0;
      if (cols > 1 && line.length > cols - 1) line = line.slice(0, cols - 1);
      this.lastLine = line;
      this.stream.write(`\r${line}\x1b[K`);
    } else {
      this.lastLine = line;
      this.stream.write(`${line}\n`);
    }
  }
}
