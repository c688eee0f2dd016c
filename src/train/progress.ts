// Progress of a long job (DESIGN §6): on a TTY a single line redrawn in place with \r (bar,
// step/total, env steps/s, ETA, a few metrics); otherwise (CI, a file, a pipe) plain log lines at
// most every `plainIntervalSeconds`, plus the first and the last, so logs stay readable.
// Rates and ETA are averaged since the reporter started, which is steadier than an instant rate
// and, on resume, counts only this session's work.

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
  private readonly t0: number;
  private readonly step0: number;
  private readonly envsteps0: number;
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
    this.t0 = this.now();
    this.step0 = options.startStep ?? 0;
    this.step = this.step0;
    this.envsteps0 = options.startEnvsteps ?? 0;
  }

  /** Reports that `step` steps are done. Draws only when the interval has passed or the job is complete. */
  update(step: number, info: ProgressInfo = {}): void {
    if (this.finished) return;
    this.step = step;
    this.info = info;
    const t = this.now();
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
    const done = this.step - this.step0;
    const frac = Math.min(1, Math.max(0, this.step / this.total));
    const parts: string[] = [];
    const count = `${this.step}/${this.total}`;
    const pct = `${(100 * frac).toFixed(frac < 0.1 ? 1 : 0)}%`;
    if (this.tty) {
      const width = 20;
      const filled = Math.round(frac * width);
      parts.push(`${this.label ? `${this.label} ` : ""}[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${count} ${pct}`);
    } else {
      parts.push(`${this.label ? `[${this.label}] ` : ""}step ${count} (${pct})`);
    }
    if (this.info.envsteps !== undefined && elapsed > 0) {
      parts.push(`${formatRate((this.info.envsteps - this.envsteps0) / elapsed)} env steps/s`);
    }
    if (!this.tty) parts.push(`elapsed ${formatDuration(elapsed)}`);
    const eta = done > 0 ? ((this.total - this.step) * elapsed) / done : Number.NaN;
    parts.push(this.step >= this.total ? "done" : `ETA ${formatDuration(eta)}`);
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
