// @ts-check
// The viewer's data: the server's JSON API (src/view/server.ts) and the types it returns.

/** @typedef {import("../api.js").RunInfo} RunInfo */
/** @typedef {import("../api.js").RunCurves} RunCurves */
/** @typedef {import("../api.js").ApiInfo} ApiInfo */
/** @typedef {import("../trajectories.js").TrajectoryFile} TrajectoryFile */
/** @typedef {import("../trajectories.js").Scene} Scene */
/** @typedef {Record<string, number>} MetricsRecord */

/** Colours of groups, as the SVG figures of `fathom plot` (src/train/plot.ts). */
export const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"];

/**
 * GET a JSON document; an error response's message is thrown as an Error.
 * @param {string} url
 * @returns {Promise<any>}
 */
export async function getJson(url) {
  const r = await fetch(url);
  const text = await r.text();
  /** @type {any} */
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${url}: HTTP ${r.status}, not JSON`);
  }
  if (!r.ok) throw new Error(body?.error ?? `${url}: HTTP ${r.status}`);
  return body;
}

/**
 * The episodes of one run, recorded by the server on demand and cached in the run directory.
 * @param {number} run
 * @param {{checkpoint?: string, env?: string, seed: number, episodes: number}} req
 * @returns {Promise<TrajectoryFile>}
 */
export function getEpisodes(run, req) {
  const q = new URLSearchParams({ run: String(run), seed: String(req.seed), episodes: String(req.episodes) });
  if (req.checkpoint) q.set("checkpoint", req.checkpoint);
  if (req.env) q.set("env", req.env);
  return getJson(`/api/episodes?${q}`);
}

/**
 * A short label of a run: its depth, width and seed.
 * @param {RunInfo} r
 */
export function runLabel(r) {
  const d = r.criticDepth === null || r.actorDepth === r.criticDepth ? `depth ${r.actorDepth}` : `actor ${r.actorDepth} / critic ${r.criticDepth}`;
  return `${d} · seed ${r.seed}`;
}

/**
 * Groups runs whose seeds are drawn together (RunInfo.group), in order of first appearance, each with a colour.
 * @param {RunInfo[]} runs
 * @returns {{group: string, color: string, runs: RunInfo[]}[]}
 */
export function groupRuns(runs) {
  /** @type {Map<string, RunInfo[]>} */
  const m = new Map();
  for (const r of runs) {
    const list = m.get(r.group);
    if (list) list.push(r);
    else m.set(r.group, [r]);
  }
  return [...m.entries()].map(([group, rs], i) => ({ group, color: PALETTE[i % PALETTE.length], runs: rs }));
}

/**
 * Env steps as 12k, 3.5M, ...
 * @param {number} v
 */
export function fmtSteps(v) {
  if (Math.abs(v) >= 1e6) return `${+(v / 1e6).toFixed(2)}M`;
  if (Math.abs(v) >= 1e3) return `${+(v / 1e3).toFixed(1)}k`;
  return String(v);
}
