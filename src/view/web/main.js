// @ts-check
// The viewer page: tabs of learning curves, training curves and replays, wired to the server's
// API. `window.fathom` exposes the page's state and a few actions to automation: the browser
// tests and `fathom video` (which renders frames one by one through `fathom.video`).
import { fmtSteps, getJson, groupRuns, runLabel } from "./api.js";
import { drawCharts, EVAL_METRICS, TRAINING_METRICS } from "./curves.js";
import { Replay, SPEEDS } from "./replay.js";

/** @typedef {import("./api.js").RunInfo} RunInfo */
/** @typedef {import("./api.js").RunCurves} RunCurves */

/**
 * @param {string} id
 * @returns {any}
 */
const $ = (id) => {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`the page has no #${id}`);
  return el;
};

const params = new URLSearchParams(location.search);
const videoMode = params.get("mode") === "video";
if (videoMode) document.body.classList.add("video");

/** @param {string} message @param {boolean} [error] */
function status(message, error = false) {
  const el = $("status");
  el.textContent = message;
  el.classList.toggle("error", error);
  if (error) console.error(message);
}

/** @type {{runs: RunInfo[], curves: Map<number, RunCurves>, charts: {eval: import("./curves.js").ChartInfo[], training: import("./curves.js").ChartInfo[]}, replay: Replay | null, info: any}} */
const state = { runs: [], curves: new Map(), charts: { eval: [], training: [] }, replay: null, info: null };

/** @param {string} name */
function showTab(name) {
  for (const b of document.querySelectorAll("header nav button")) b.classList.toggle("active", /** @type {HTMLElement} */ (b).dataset.tab === name);
  for (const s of document.querySelectorAll(".tab")) s.classList.toggle("active", s.id === `tab-${name}`);
  window.dispatchEvent(new Event("resize"));
  if (name === "replay" && state.replay !== null && state.replay.panels.length === 0 && !loadingReplay) {
    loadReplay().catch((e) => status(String(e.message ?? e), true));
  }
}

async function loadCurves() {
  const entries = await Promise.all(state.runs.map(async (r) => /** @type {[number, RunCurves]} */ ([r.index, await getJson(`/api/curves?run=${r.index}`)])));
  state.curves = new Map(entries);
  state.charts.eval = drawCharts($("curves"), EVAL_METRICS, state.runs, state.curves);
  state.charts.training = drawCharts($("training"), TRAINING_METRICS, state.runs, state.curves);
}

function drawRunList() {
  const list = $("run-list");
  list.replaceChildren();
  for (const g of groupRuns(state.runs)) {
    for (const r of g.runs) {
      const item = document.createElement("span");
      const sw = document.createElement("span");
      sw.className = "swatch";
      sw.style.background = g.color;
      const evals = state.curves.get(r.index)?.eval.length ?? 0;
      item.append(sw, `${r.env} · ${runLabel(r)} · ${evals} evaluations · ${r.status}`);
      item.title = r.dir;
      list.append(item);
    }
  }
}

let loadingReplay = false;

/** The runs ticked for the replay. */
function chosenRuns() {
  return [...document.querySelectorAll("#replay-runs input:checked")].map((i) => Number(/** @type {HTMLInputElement} */ (i).value));
}

async function loadReplay() {
  const replay = /** @type {Replay} */ (state.replay);
  loadingReplay = true;
  $("replay-load").disabled = true;
  try {
    const chosen = chosenRuns();
    await replay.load(chosen, { env: $("replay-env").value, seed: Number($("replay-seed").value), episodes: Number($("replay-episodes").value) });
    const pick = $("episode");
    pick.replaceChildren();
    for (let e = 0; e < replay.episodeCount(); e++) {
      const parts = replay.panels.map((p) => {
        const s = /** @type {import("./api.js").TrajectoryFile} */ (p.file).summary[e];
        return `${s.timeAtGoal}${s.reachedAt === null ? "" : ` (at ${s.reachedAt})`}`;
      });
      pick.add(new Option(`episode ${e}: time at goal ${parts.join(" | ")}`, String(e)));
    }
    $("player").hidden = false;
    syncControls(replay.episode, replay.t);
  } finally {
    loadingReplay = false;
    $("replay-load").disabled = false;
  }
}

/** @param {number} episode @param {number} t */
function syncControls(episode, t) {
  const replay = state.replay;
  if (replay === null) return;
  const scrub = $("scrub");
  const len = replay.length(episode);
  scrub.max = String(len);
  scrub.value = String(t);
  $("episode").value = String(episode);
  $("step-label").textContent = `step ${t} / ${len}`;
  $("play").textContent = replay.playing ? "Pause" : "Play";
}

function setUpReplayForm() {
  const runsBox = $("replay-runs");
  // one run per group (its first seed) on the first run's env ticked, at most four: depth next to depth
  const env0 = state.runs[0].env;
  const firsts = new Set(
    groupRuns(state.runs.filter((r) => r.env === env0))
      .slice(0, 4)
      .map((g) => g.runs[0].index),
  );
  for (const r of state.runs) {
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.value = String(r.index);
    box.checked = firsts.has(r.index);
    label.append(box, ` ${r.env} · ${runLabel(r)}`);
    label.title = r.dir;
    runsBox.append(label);
  }
  const envs = [...new Set(state.runs.flatMap((r) => [r.evalEnv, r.env, ...(r.farEnv ? [r.farEnv] : [])]))];
  const envSel = $("replay-env");
  for (const e of envs) envSel.add(new Option(e, e));
  envSel.value = state.runs[0].evalEnv;
  $("replay-seed").value = String(state.info.defaults.seed);
  $("replay-episodes").value = String(state.info.defaults.episodes);
  $("replay-form").addEventListener("submit", (/** @type {Event} */ ev) => {
    ev.preventDefault();
    loadReplay().catch((e) => status(String(e.message ?? e), true));
  });
  const replay = /** @type {Replay} */ (state.replay);
  const speed = $("speed");
  for (const s of SPEEDS) speed.add(new Option(`${s}× real time`, String(s)));
  speed.value = String(replay.speed);
  speed.addEventListener("change", () => {
    replay.speed = Number(speed.value);
  });
  $("episode").addEventListener("change", () => replay.setEpisode(Number($("episode").value)));
  $("scrub").addEventListener("input", () => {
    const t = Number($("scrub").value); // before pause(), which redraws the controls
    replay.pause();
    replay.seek(t);
  });
  $("play").addEventListener("click", () => (replay.playing ? replay.pause() : replay.play()));
  $("camera").addEventListener("change", () => replay.setCamera($("camera").value));
  replay.listeners.push(syncControls);
}

/**
 * Pixels of a panel's canvas: how many distinct colours (to the nearest 8 levels) and a hash.
 * @param {number} panel
 */
function pixelStats(panel) {
  const p = state.replay?.panels[panel];
  if (!p) throw new Error(`no panel ${panel}`);
  const src = p.canvas;
  const c = document.createElement("canvas");
  c.width = src.width;
  c.height = src.height;
  const ctx = /** @type {CanvasRenderingContext2D} */ (c.getContext("2d"));
  ctx.drawImage(src, 0, 0);
  const px = ctx.getImageData(0, 0, c.width, c.height).data;
  const colours = new Set();
  let hash = 2166136261;
  for (let i = 0; i < px.length; i += 4) {
    colours.add(((px[i] >> 3) << 10) | ((px[i + 1] >> 3) << 5) | (px[i + 2] >> 3));
    hash = Math.imul(hash ^ (px[i] | (px[i + 1] << 8) | (px[i + 2] << 16)), 16777619) >>> 0;
  }
  return { width: c.width, height: c.height, colours: colours.size, hash };
}

/** `fathom video`: the panels of chosen runs fill the viewport; frames are drawn one at a time. */
const video = {
  /** @type {[number, number][]} (episode, step) of every frame */
  frames: [],
  /**
   * @param {{runs: number[], checkpoints: (string | null)[], env: string, seed: number, episodes: number, play: number[], layout: "row" | "column" | "grid", camera: "follow" | "overview", stepsPerFrame: number, maxSteps: number | null}} o
   * @returns {Promise<{frames: number, lengths: number[]}>}
   */
  async setup(o) {
    const replay = /** @type {Replay} */ (state.replay);
    const n = o.runs.length;
    const cols = o.layout === "row" ? n : o.layout === "column" ? 1 : Math.ceil(Math.sqrt(n));
    const rows = Math.ceil(n / cols);
    const panels = $("panels");
    replay.camera = o.camera;
    await replay.load(o.runs, { env: o.env, seed: o.seed, episodes: o.episodes }, o.checkpoints);
    panels.style.setProperty("--cols", String(cols));
    panels.style.setProperty("--rows", String(rows));
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    for (const p of replay.panels) p.view?.resize();
    this.frames = [];
    const lengths = [];
    for (const e of o.play) {
      if (e >= replay.episodeCount()) throw new Error(`episode ${e} does not exist: ${replay.episodeCount()} were recorded`);
      const len = Math.min(replay.length(e), o.maxSteps ?? Number.POSITIVE_INFINITY);
      lengths.push(len);
      for (let t = 0; t < len; t += o.stepsPerFrame) this.frames.push([e, t]);
      this.frames.push([e, len]);
    }
    return { frames: this.frames.length, lengths };
  },
  /** @param {number} k */
  frame(k) {
    const replay = /** @type {Replay} */ (state.replay);
    const f = this.frames[k];
    if (f === undefined) throw new Error(`frame ${k} does not exist: there are ${this.frames.length}`);
    replay.episode = f[0];
    replay.t = f[1];
    replay.drawAll();
    return f;
  },
};

async function boot() {
  state.info = await getJson("/api/info");
  state.runs = await getJson("/api/runs");
  if (state.runs.length === 0) throw new Error("the viewer was given no runs");
  state.replay = new Replay($("panels"), state.runs, status);
  if (!videoMode) {
    await loadCurves();
    drawRunList();
    setUpReplayForm();
    for (const b of document.querySelectorAll("header nav button")) {
      b.addEventListener("click", () => showTab(/** @type {HTMLElement} */ (b).dataset.tab ?? "curves"));
    }
    const envs = new Set(state.runs.map((r) => r.env));
    status(`${state.runs.length} run(s) · ${[...envs].join(", ")} · fathom ${state.info.fathom}`);
    // refresh the curves of runs still training
    setInterval(() => {
      if (state.runs.every((r) => r.status === "done")) return;
      getJson("/api/runs")
        .then(async (runs) => {
          state.runs = runs;
          await loadCurves();
          drawRunList();
        })
        .catch((e) => status(`refresh failed: ${e.message ?? e}`, true));
    }, 30_000);
    const tab = params.get("tab");
    if (tab === "training" || tab === "replay") showTab(tab);
  }
}

const ready = boot();
ready.catch((e) => status(String(e.message ?? e), true));

/** @type {any} */ (window).fathom = { ready, state, pixelStats, video, showTab, fmtSteps };
