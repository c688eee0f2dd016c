// @ts-check
// Learning curves with uPlot: one chart per metric, x = env steps. Each group of runs (same env,
// depths and widths: the seeds of one configuration) is one colour: a thick line for the mean
// over its seeds and, when it has several, a thin line per seed. The legend shows the values under
// the cursor.
import uPlot from "uplot";
import { fmtSteps, groupRuns } from "./api.js";

/** @typedef {import("./api.js").RunInfo} RunInfo */
/** @typedef {import("./api.js").RunCurves} RunCurves */
/** @typedef {{key: string, title: string, table: "eval" | "training", map?: (v: number) => number}} MetricDef */
/** @typedef {{key: string, title: string, series: {label: string, run: number | null, points: number}[], plot: uPlot | null}} ChartInfo */

/** @type {MetricDef[]} */
export const EVAL_METRICS = [
  { key: "eval/time_at_goal", title: "time at goal (steps per episode)", table: "eval" },
  { key: "eval/success_rate", title: "success rate (% of episodes that reached the goal)", table: "eval", map: (v) => 100 * v },
  { key: "eval/mean_dist", title: "mean distance to the goal", table: "eval" },
  { key: "eval_far/time_at_goal", title: "far goals: time at goal", table: "eval" },
  { key: "eval_far/success_rate", title: "far goals: success rate (%)", table: "eval", map: (v) => 100 * v },
  { key: "eval_far/mean_dist", title: "far goals: mean distance", table: "eval" },
  { key: "eval_all/time_at_goal", title: "all goals: time at goal", table: "eval" },
  { key: "eval_all/success_rate", title: "all goals: success rate (%)", table: "eval", map: (v) => 100 * v },
  { key: "eval_all/mean_dist", title: "all goals: mean distance", table: "eval" },
];

/** @type {MetricDef[]} */
export const TRAINING_METRICS = [
  { key: "training/entropy", title: "policy entropy", table: "training" },
  { key: "training/log_alpha", title: "α (entropy coefficient)", table: "training", map: (v) => Math.exp(v) },
  { key: "training/critic_loss", title: "critic loss (InfoNCE + logsumexp penalty)", table: "training" },
  { key: "training/actor_loss", title: "actor loss", table: "training" },
  { key: "training/alpha_loss", title: "α loss", table: "training" },
  { key: "training/categorical_accuracy", title: "critic accuracy (positive pair ranked first)", table: "training" },
  { key: "training/logsumexp", title: "logsumexp of the critic's logits", table: "training" },
  { key: "training/log_std_min", title: "actor log-std, smallest", table: "training" },
  { key: "training/log_std_max", title: "actor log-std, largest", table: "training" },
];

/**
 * @param {string} hex
 * @param {number} alpha
 */
function withAlpha(hex, alpha) {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

/**
 * Draws one chart per metric that any run has; returns what each chart holds (for tests).
 * @param {HTMLElement} container
 * @param {MetricDef[]} defs
 * @param {RunInfo[]} runs
 * @param {Map<number, RunCurves>} curves
 * @returns {ChartInfo[]}
 */
export function drawCharts(container, defs, runs, curves) {
  for (const old of container.querySelectorAll(".chart")) old.remove();
  const groups = groupRuns(runs);
  /** @type {ChartInfo[]} */
  const out = [];
  for (const def of defs) {
    const map = def.map ?? ((v) => v);
    // per run: env steps → value
    /** @type {Map<number, Map<number, number>>} */
    const byRun = new Map();
    const xsSet = new Set();
    for (const r of runs) {
      const rows = curves.get(r.index)?.[def.table] ?? [];
      /** @type {Map<number, number>} */
      const m = new Map();
      for (const row of rows) {
        const v = row[def.key];
        if (typeof v === "number" && Number.isFinite(v) && typeof row.envsteps === "number") {
          m.set(row.envsteps, map(v));
          xsSet.add(row.envsteps);
        }
      }
      byRun.set(r.index, m);
    }
    if (xsSet.size === 0) continue; // no run logs this metric (e.g. no far-goal layout)
    const xs = [...xsSet].sort((a, b) => a - b);
    /** @type {(number | null)[][]} */
    const data = [xs];
    /** @type {uPlot.Series[]} */
    const series = [{ label: "env steps", value: (_u, v) => (v == null ? "–" : fmtSteps(v)) }];
    /** @type {ChartInfo["series"]} */
    const info = [];
    const fmt = (/** @type {uPlot} */ _u, /** @type {number | null} */ v) => (v == null ? "–" : Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(3));
    for (const g of groups) {
      const members = g.runs.filter((r) => (byRun.get(r.index)?.size ?? 0) > 0);
      if (members.length === 0) continue;
      if (members.length > 1) {
        // the mean over the seeds that have a value at x
        data.push(
          xs.map((x) => {
            const vals = members.map((r) => byRun.get(r.index)?.get(x)).filter((v) => v !== undefined);
            return vals.length === 0 ? null : /** @type {number[]} */ (vals).reduce((a, b) => a + b, 0) / vals.length;
          }),
        );
        series.push({ label: `${g.group} (mean of ${members.length})`, stroke: g.color, width: 2.5, spanGaps: true, value: fmt });
        info.push({ label: `${g.group} mean`, run: null, points: data[data.length - 1].filter((v) => v !== null).length });
      }
      for (const r of members) {
        const m = /** @type {Map<number, number>} */ (byRun.get(r.index));
        data.push(xs.map((x) => m.get(x) ?? null));
        const single = members.length === 1;
        series.push({
          label: single ? `${g.group} · seed ${r.seed}` : `  seed ${r.seed}`,
          stroke: single ? g.color : withAlpha(g.color, 0.45),
          width: single ? 2 : 1,
          spanGaps: true,
          points: { show: xs.length <= 60 },
          value: fmt,
        });
        info.push({ label: `${r.group} seed ${r.seed}`, run: r.index, points: m.size });
      }
    }
    const box = document.createElement("div");
    box.className = "chart";
    box.dataset.key = def.key;
    const h = document.createElement("h3");
    h.textContent = def.title;
    box.append(h);
    container.append(box);
    const width = Math.max(320, box.clientWidth - 16);
    const plot = new uPlot(
      {
        width,
        height: 260,
        series,
        scales: { x: { time: false } },
        axes: [{ values: (_u, vals) => vals.map((v) => fmtSteps(v)), label: "env steps" }, {}],
        legend: { live: true },
        cursor: { drag: { x: true, y: false } },
      },
      /** @type {uPlot.AlignedData} */ (/** @type {unknown} */ (data)),
      box,
    );
    new ResizeObserver(() => {
      const w = Math.max(320, box.clientWidth - 16);
      if (Math.abs(w - plot.width) > 2) plot.setSize({ width: w, height: 260 });
    }).observe(box);
    out.push({ key: def.key, title: def.title, series: info, plot });
  }
  if (out.length === 0) {
    const empty = document.createElement("div");
    empty.className = "chart";
    empty.innerHTML = '<div class="empty">No metrics logged yet.</div>';
    container.append(empty);
  }
  return out;
}
