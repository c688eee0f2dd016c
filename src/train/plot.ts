// Figures as self-contained SVG (no plotting dependency), regenerable from committed results:
//   learningCurvesSvg  a metric against env steps, one line per group (e.g. depth) = the mean over
//                      its runs (seeds), with a band = 95 % bootstrap confidence interval of the mean
//   finalSummarySvg    final performance (per-run mean of the last 5 evaluations) per group: the
//                      mean over seeds with a 95 % bootstrap CI error bar and every seed as a dot
//   finalSummaryMarkdown  the same numbers as a markdown table
// The bootstrap is deterministic (stats.ts, fixed seed), so a figure regenerated from the same
// results is byte-identical.
import { type BootstrapOptions, bootstrapMeanCI } from "./stats.js";

export interface Curve {
  /** Group label, e.g. "depth 16" (runs of different envs belong in different groups). */
  group: string;
  /** Sort key of the group (e.g. [criticDepth, actorDepth]); groups without one sort by label. */
  order?: number[];
  /** [envsteps, value] points of one run, in order. */
  points: [number, number][];
}

export interface AggregateRow {
  x: number;
  mean: number;
  /** 95 % (by default) bootstrap confidence interval of the mean over the runs at x. */
  lo: number;
  hi: number;
  /** Runs with a point at x. */
  n: number;
}

/** The CI every figure uses: 10,000 resamples, level 0.95, seed 0. */
export const PLOT_BOOTSTRAP: Required<BootstrapOptions> = { resamples: 10_000, level: 0.95, seed: 0 };

const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"];

/** The smallest of 1, 2, 2.5, 5 × 10^k that is ≥ v. */
function niceStep(v: number): number {
  if (!(v > 0) || !Number.isFinite(v)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v * (1 - 1e-9)) return m * p;
  return 10 * p;
}

/**
 * Round axis ticks covering [lo, hi] (lo ≤ 0 ≤ hi is not required): a step of 1, 2, 2.5 or 5 × 10^k
 * giving at most `maxTicks` intervals, the ends extended to multiples of it. Values are rounded to
 * the step's precision, so they print without floating-point noise.
 */
export function niceTicks(lo: number, hi: number, maxTicks = 5): number[] {
  if (!(hi > lo)) hi = lo + 1;
  let step = niceStep((hi - lo) / maxTicks);
  let a = Math.floor(lo / step + 1e-9) * step;
  let b = Math.ceil(hi / step - 1e-9) * step;
  while (Math.round((b - a) / step) > maxTicks) {
    step = niceStep(step * 1.01);
    a = Math.floor(lo / step + 1e-9) * step;
    b = Math.ceil(hi / step - 1e-9) * step;
  }
  const digits = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  const out: number[] = [];
  for (let i = 0; i <= Math.round((b - a) / step); i++) out.push(Number((a + i * step).toFixed(digits)));
  return out;
}

/** Axis ticks: from 0 (or below, for negative data) to a round number at or above the data. */
function yTicks(lo: number, hi: number, yMax?: number): number[] {
  if (yMax !== undefined) return niceTicks(Math.min(0, lo), yMax).filter((t) => t <= yMax);
  return niceTicks(Math.min(0, lo), Math.max(hi, 0) > Math.min(0, lo) ? Math.max(hi, 0) : Math.min(0, lo) + 1);
}

function fmtSteps(v: number): string {
  if (v >= 1e6) return `${+(v / 1e6).toFixed(2)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toFixed(1)}k`;
  return String(v);
}

/** A number for a label or table: 3 significant digits, no exponent for ordinary magnitudes. */
export function fmtValue(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1000) return v.toFixed(0);
  if (a >= 1) return String(+v.toFixed(a >= 100 ? 1 : 2));
  return String(+v.toPrecision(3));
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function px(v: number): string {
  return String(+v.toFixed(2));
}

/** Sorts groups by `order`, then by label. */
export function compareOrder(a: { group: string; order?: number[] }, b: { group: string; order?: number[] }): number {
  const oa = a.order ?? [];
  const ob = b.order ?? [];
  for (let i = 0; i < Math.max(oa.length, ob.length); i++) {
    const d = (oa[i] ?? Number.NEGATIVE_INFINITY) - (ob[i] ?? Number.NEGATIVE_INFINITY);
    if (d !== 0 && !Number.isNaN(d)) return d;
  }
  return a.group < b.group ? -1 : a.group > b.group ? 1 : 0;
}

/**
 * Aggregates runs per group (groups sorted by `order`) on the union of their x values: a run
 * counts where it has a point. Per x: the mean over runs and its bootstrap CI.
 */
export function aggregate(curves: Curve[], bootstrap: BootstrapOptions = PLOT_BOOTSTRAP): Map<string, AggregateRow[]> {
  const groups = new Map<string, Curve[]>();
  for (const c of [...curves].sort(compareOrder)) {
    const g = groups.get(c.group) ?? [];
    g.push(c);
    groups.set(c.group, g);
  }
  const out = new Map<string, AggregateRow[]>();
  for (const [g, cs] of groups) {
    const byRun = cs.map((c) => new Map(c.points)); // a repeated x: the later point wins
    const xs = [...new Set(cs.flatMap((c) => c.points.map((p) => p[0])))].sort((a, b) => a - b);
    const rows: AggregateRow[] = [];
    for (const x of xs) {
      const vals = byRun.map((m) => m.get(x)).filter((v): v is number => v !== undefined && Number.isFinite(v));
      if (vals.length === 0) continue;
      const ci = bootstrapMeanCI(vals, bootstrap);
      rows.push({ x, mean: ci.mean, lo: ci.lo, hi: ci.hi, n: vals.length });
    }
    out.set(g, rows);
  }
  return out;
}

/** Rough width in px of `text` at font-size 12 sans-serif (for layout only). */
function textWidth(text: string): number {
  return 6.7 * text.length;
}

/** `text` split at spaces into lines no wider than `width` px (a single word longer than that stays whole). */
function wrapLabel(text: string, width: number): string[] {
  if (textWidth(text) <= width) return [text];
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && textWidth(`${line} ${word}`) > width) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") lines.push(line);
  return lines;
}

/**
 * The y axis's label, rotated, centred between y = top and y = bottom; one longer than that span is
 * wrapped at spaces onto a second line (to the right of the first, left of the tick labels).
 */
function yAxisLabel(label: string, top: number, bottom: number): string {
  const lines = wrapLabel(label, bottom - top - 10);
  const cy = (top + bottom) / 2;
  if (lines.length === 1) return `<text transform="translate(18 ${cy}) rotate(-90)" text-anchor="middle">${esc(label)}</text>`;
  return lines.map((l, k) => `<text transform="translate(${13 + 14 * k} ${cy}) rotate(-90)" text-anchor="middle">${esc(l)}</text>`).join("");
}

/**
 * A chart's frame (W × H px, margins m): the y scale sy of the data range [lo, hi] (ticks from
 * yTicks, the top at yMax when given) and the SVG's first parts: the canvas, the title, and the y
 * grid lines with their labels.
 */
function chartFrame(W: number, H: number, m: { l: number; r: number; t: number; b: number }, title: string, lo: number, hi: number, yMax?: number): { parts: string[]; sy: (y: number) => string } {
  const yTickValues = yTicks(lo, hi, yMax);
  const y0 = yTickValues[0];
  const y1 = yMax ?? yTickValues[yTickValues.length - 1];
  const sy = (y: number) => px(H - m.b - ((y - y0) / (y1 - y0)) * (H - m.t - m.b));
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`);
  for (const y of yTickValues) {
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${sy(y)}" y2="${sy(y)}" stroke="#ddd"/>`);
    parts.push(`<text class="y-tick" x="${m.l - 6}" y="${+sy(y) + 4}" text-anchor="end">${fmtValue(y)}</text>`);
  }
  return { parts, sy };
}

/** How long runs are: "500k env steps" (all alike) or "300k–500k env steps" (last point of each run); `unit` names the x axis. */
export function runLength(runs: Curve[], unit = "env steps"): string {
  const ends = runs.map((c) => (c.points.length > 0 ? Math.max(...c.points.map((p) => p[0])) : 0));
  if (ends.length === 0) return "no runs";
  const lo = Math.min(...ends);
  const hi = Math.max(...ends);
  const each = runs.length > 1 ? " each" : "";
  return lo === hi ? `${fmtSteps(hi)} ${unit}${each}` : `${fmtSteps(lo)}–${fmtSteps(hi)} ${unit}`;
}

export function learningCurvesSvg(curves: Curve[], opts: { title: string; yLabel: string; xLabel?: string; yMax?: number; bootstrap?: BootstrapOptions }): string {
  const bs = opts.bootstrap ?? PLOT_BOOTSTRAP;
  const agg = aggregate(curves, bs);
  // the legend's column widens for long group labels (e.g. "gcbc offline depth 16 (3 runs)")
  const legendText = Math.max(0, ...[...agg.keys()].map((g) => textWidth(`${g} (${curves.filter((c) => c.group === g).length} runs)`)));
  const extra = Math.max(0, Math.ceil(legendText - 168));
  const W = 760 + extra;
  const H = 440;
  const m = { l: 70, r: 210 + extra, t: 40, b: 55 };
  let dataXMax = 1;
  let dataLo = 0;
  let dataHi = 0;
  for (const rows of agg.values())
    for (const r of rows) {
      dataXMax = Math.max(dataXMax, r.x);
      dataLo = Math.min(dataLo, r.lo);
      dataHi = Math.max(dataHi, r.hi);
    }
  const xTicks = niceTicks(0, dataXMax);
  const xMax = xTicks[xTicks.length - 1];
  const sx = (x: number) => px(m.l + (x / xMax) * (W - m.l - m.r));
  const { parts, sy } = chartFrame(W, H, m, opts.title, dataLo, dataHi, opts.yMax);
  for (const x of xTicks) parts.push(`<text class="x-tick" x="${sx(x)}" y="${H - m.b + 18}" text-anchor="middle">${fmtSteps(x)}</text>`);
  parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" stroke="black"/>`);
  parts.push(`<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${H - m.b}" stroke="black"/>`);
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 12}" text-anchor="middle">${esc(opts.xLabel ?? "env steps")}</text>`);
  parts.push(yAxisLabel(opts.yLabel, m.t, H - m.b));
  let k = 0;
  for (const [g, rows] of agg) {
    const color = PALETTE[k % PALETTE.length];
    if (rows.length > 0) {
      const band = [...rows.map((r) => `${sx(r.x)},${sy(r.hi)}`), ...[...rows].reverse().map((r) => `${sx(r.x)},${sy(r.lo)}`)];
      parts.push(`<polygon class="ci-band" points="${band.join(" ")}" fill="${color}" fill-opacity="0.18" stroke="none"/>`);
      parts.push(`<polyline class="mean" points="${rows.map((r) => `${sx(r.x)},${sy(r.mean)}`).join(" ")}" fill="none" stroke="${color}" stroke-width="2"/>`);
    }
    const runs = curves.filter((c) => c.group === g);
    const n = runs.length;
    const ly = m.t + 10 + 32 * k;
    parts.push(`<line x1="${W - m.r + 12}" x2="${W - m.r + 32}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="3"/>`);
    parts.push(`<text x="${W - m.r + 38}" y="${ly + 4}">${esc(g)} (${n} run${n === 1 ? "" : "s"})</text>`);
    parts.push(`<text class="run-length" x="${W - m.r + 38}" y="${ly + 17}" font-size="10" fill="#555">${esc(runLength(runs, opts.xLabel ?? "env steps"))}</text>`);
    k++;
  }
  const pct = Math.round(100 * (bs.level ?? 0.95));
  const notes = ["line: mean over runs", `band: ${pct} % bootstrap CI`, "of the mean"];
  for (const [i, t] of notes.entries()) {
    parts.push(`<text x="${W - m.r + 12}" y="${m.t + 32 * k + 14 + 13 * i}" font-size="10" fill="#555">${t}</text>`);
  }
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}

/** One run's final performance (mean of its last evaluations of the metric). */
export interface RunFinal {
  group: string;
  /** The run's env id: runs of different envs are never grouped together. */
  env?: string;
  order?: number[];
  seed: number;
  /** Run directory name (for the table). */
  run: string;
  value: number;
}

export interface GroupSummary {
  group: string;
  env?: string;
  order?: number[];
  n: number;
  mean: number;
  lo: number;
  hi: number;
  /** Per run, ordered by seed. */
  values: { seed: number; run: string; value: number }[];
}

/** Groups runs' final performances (sorted by `order`) with the mean and its bootstrap CI. */
export function summarizeFinal(runs: RunFinal[], bootstrap: BootstrapOptions = PLOT_BOOTSTRAP): GroupSummary[] {
  const groups = new Map<string, RunFinal[]>();
  const envs = [...new Set(runs.map((r) => r.env ?? ""))].sort();
  const byEnvThenOrder = (a: RunFinal, b: RunFinal) => envs.indexOf(a.env ?? "") - envs.indexOf(b.env ?? "") || compareOrder(a, b);
  for (const r of [...runs].sort(byEnvThenOrder)) {
    const key = `${r.env ?? ""}\u0000${r.group}`;
    const g = groups.get(key) ?? [];
    g.push(r);
    groups.set(key, g);
  }
  const out: GroupSummary[] = [];
  for (const rs of groups.values()) {
    const group = rs[0].group;
    const values = rs.map((r) => ({ seed: r.seed, run: r.run, value: r.value })).sort((a, b) => a.seed - b.seed || (a.run < b.run ? -1 : 1));
    const ci = bootstrapMeanCI(
      values.map((v) => v.value),
      bootstrap,
    );
    out.push({ group, ...(rs[0].env === undefined ? {} : { env: rs[0].env }), order: rs[0].order, n: values.length, mean: ci.mean, lo: ci.lo, hi: ci.hi, values });
  }
  return out;
}

/** Depth vs final performance: mean over seeds, 95 % bootstrap CI error bar, seeds as dots. */
export function finalSummarySvg(groups: GroupSummary[], opts: { title: string; xLabel: string; yLabel: string; yMax?: number }): string {
  const W = 600;
  const manyEnvs = new Set(groups.map((g) => g.env)).size > 1;
  // a group label wider than its slot is wrapped at spaces onto more lines
  const labelLines = groups.map((g) => wrapLabel(g.group, (W - 100) / Math.max(1, groups.length) - 6));
  const extraLines = Math.max(1, ...labelLines.map((l) => l.length)) - 1;
  const H = 420 + 14 * extraLines;
  const m = { l: 70, r: 30, t: 40, b: (manyEnvs ? 84 : 70) + 14 * extraLines }; // room for the label's lines and the env
  let dataLo = 0;
  let dataHi = 0;
  for (const g of groups) {
    dataLo = Math.min(dataLo, g.lo, ...g.values.map((v) => v.value));
    dataHi = Math.max(dataHi, g.hi, ...g.values.map((v) => v.value));
  }
  const slot = (W - m.l - m.r) / Math.max(1, groups.length);
  const cx = (i: number) => m.l + slot * (i + 0.5);
  const { parts, sy } = chartFrame(W, H, m, opts.title, dataLo, dataHi, opts.yMax);
  parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" stroke="black"/>`);
  parts.push(`<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${H - m.b}" stroke="black"/>`);
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 30}" text-anchor="middle">${esc(opts.xLabel)}</text>`);
  parts.push(
    `<text x="${(m.l + W - m.r) / 2}" y="${H - 12}" text-anchor="middle" font-size="10" fill="#555">point: mean over seeds; bar: 95 % bootstrap CI of the mean; dots: seeds</text>`,
  );
  parts.push(yAxisLabel(opts.yLabel, m.t, H - m.b));
  groups.forEach((g, i) => {
    const color = PALETTE[i % PALETTE.length];
    const x = cx(i);
    const lines = labelLines[i];
    parts.push(
      lines.length === 1
        ? `<text x="${px(x)}" y="${H - m.b + 18}" text-anchor="middle">${esc(g.group)}</text>`
        : `<text x="${px(x)}" y="${H - m.b + 18}" text-anchor="middle">${lines.map((l, j) => `<tspan x="${px(x)}" dy="${j === 0 ? 0 : 14}">${esc(l)}</tspan>`).join("")}</text>`,
    );
    if (manyEnvs) parts.push(`<text class="env" x="${px(x)}" y="${H - m.b + 30 + 14 * (lines.length - 1)}" text-anchor="middle" font-size="9" fill="#555">${esc(g.env ?? "")}</text>`);
    parts.push(`<g class="group"${g.env === undefined ? "" : ` data-env="${esc(g.env)}"`} data-group="${esc(g.group)}" data-n="${g.n}" data-mean="${g.mean}" data-lo="${g.lo}" data-hi="${g.hi}">`);
    parts.push(`<line class="ci" x1="${px(x)}" x2="${px(x)}" y1="${sy(g.lo)}" y2="${sy(g.hi)}" stroke="${color}" stroke-width="2"/>`);
    for (const y of [g.lo, g.hi]) parts.push(`<line class="ci-cap" x1="${px(x - 6)}" x2="${px(x + 6)}" y1="${sy(y)}" y2="${sy(y)}" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<circle class="mean" cx="${px(x)}" cy="${sy(g.mean)}" r="5" fill="${color}"/>`);
    g.values.forEach((v, j) => {
      const dx = 14 + 5 * (j % 6); // beside the bar, spread so that equal values stay visible
      parts.push(`<circle class="seed" cx="${px(x + dx)}" cy="${sy(v.value)}" r="2.5" fill="${color}" fill-opacity="0.6"><title>seed ${v.seed}: ${fmtValue(v.value)}</title></circle>`);
    });
    parts.push("</g>");
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}

/** The summary as a markdown table: group, n runs, mean, 95 % CI, per-seed values. */
export function finalSummaryMarkdown(groups: GroupSummary[], opts: { groupLabel?: string } = {}): string {
  const manyEnvs = new Set(groups.map((g) => g.env)).size > 1;
  const lines = [
    `| ${manyEnvs ? "env | " : ""}${opts.groupLabel ?? "group"} | n runs | mean | 95 % CI | per-seed values |`,
    `|${manyEnvs ? "---|" : ""}---|---:|---:|---|---|`,
  ];
  for (const g of groups) {
    const seeds = g.values.map((v) => `s${v.seed}: ${fmtValue(v.value)}`).join(", ");
    lines.push(`| ${manyEnvs ? `${g.env ?? ""} | ` : ""}${g.group} | ${g.n} | ${fmtValue(g.mean)} | ${fmtValue(g.lo)}–${fmtValue(g.hi)} | ${seeds} |`);
  }
  return lines.join("\n");
}
