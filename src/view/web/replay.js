// @ts-check
// Replays of evaluation episodes, one panel per run, side by side on one clock: the same episode
// index and step in every panel. Episodes of the same env and evaluation seed have the same start
// and goal in every run (an episode is a pure function of env, seed, index and actions), so the
// panels compare agents on the same task, as the paper's figures do.
import { getEpisodes, groupRuns, runLabel } from "./api.js";
import { MazeView } from "./maze2d.js";
import { MujocoView } from "./scene3d.js";

/** @typedef {import("./api.js").RunInfo} RunInfo */
/** @typedef {import("./api.js").TrajectoryFile} TrajectoryFile */
/** @typedef {{run: RunInfo, color: string, checkpoint: string, file: TrajectoryFile | null, view: MazeView | MujocoView | null, el: HTMLElement, canvas: HTMLCanvasElement, readout: HTMLElement, select: HTMLSelectElement}} Panel */
/** @typedef {{env?: string, seed: number, episodes: number}} LoadRequest */

/** Playback speeds, in multiples of real time (one env step takes the scene's dt seconds). */
export const SPEEDS = [0.25, 0.5, 1, 2, 4, 8, 16, 32];

export class Replay {
  /**
   * @param {HTMLElement} container where the panels go
   * @param {RunInfo[]} runs every run the viewer has
   * @param {(message: string, error?: boolean) => void} status
   */
  constructor(container, runs, status) {
    this.container = container;
    this.runs = runs;
    this.colors = new Map(groupRuns(runs).flatMap((g) => g.runs.map((r) => [r.index, g.color])));
    this.status = status;
    /** @type {Panel[]} */
    this.panels = [];
    /** @type {LoadRequest} */
    this.request = { seed: 0, episodes: 1 };
    this.episode = 0;
    this.t = 0;
    this.speed = 4;
    /** @type {import("./scene3d.js").CameraMode} */
    this.camera = "follow";
    this.playing = false;
    this.lastTick = 0;
    /** @type {((episode: number, t: number) => void)[]} called after every draw (the controls follow) */
    this.listeners = [];
    new ResizeObserver(() => this.resize()).observe(container);
  }

  /**
   * Shows runs `indices` side by side and loads their episodes (recorded by the server if not cached).
   * @param {number[]} indices
   * @param {LoadRequest} req
   * @param {(string | null)[]} [checkpoints] per run: a checkpoint file name, or null for the newest
   */
  async load(indices, req, checkpoints = []) {
    if (indices.length === 0) throw new Error("choose at least one run");
    this.pause();
    for (const p of this.panels) p.view?.dispose();
    this.container.replaceChildren();
    this.request = req;
    this.panels = indices.map((i, k) => {
      const run = this.runs[i];
      if (run === undefined) throw new Error(`no run ${i}: the viewer has runs 0..${this.runs.length - 1}`);
      return this.makePanel(run, checkpoints[k] ?? null);
    });
    this.container.style.setProperty("--cols", String(this.panels.length <= 3 ? this.panels.length : Math.ceil(Math.sqrt(this.panels.length))));
    this.status(`loading episodes of ${this.panels.length} run(s) (recorded on first use; this can take a while) …`);
    await Promise.all(this.panels.map((p) => this.loadPanel(p)));
    this.episode = 0;
    this.t = 0;
    this.status(this.sameTasks() ? "" : "note: the panels' episodes have different starts or goals (different env or seed)");
    this.drawAll();
  }

  /**
   * @param {RunInfo} run
   * @param {string | null} checkpoint
   */
  makePanel(run, checkpoint) {
    const el = document.createElement("div");
    el.className = "panel";
    el.dataset.run = String(run.index);
    const head = document.createElement("header");
    const sw = document.createElement("span");
    sw.className = "swatch";
    const color = this.colors.get(run.index) ?? "#888";
    sw.style.background = color;
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = runLabel(run);
    const env = document.createElement("span");
    env.className = "env";
    const select = document.createElement("select");
    select.title = "checkpoint";
    for (const c of run.checkpoints) select.add(new Option(`${c.name.replace(/\.safetensors$/, "")} (${c.envSteps.toLocaleString("en")} env steps)`, c.name));
    head.append(sw, name, env, select);
    const view = document.createElement("div");
    view.className = "view";
    const canvas = document.createElement("canvas");
    const readout = document.createElement("div");
    readout.className = "readout";
    view.append(canvas);
    el.append(head, view, readout);
    this.container.append(el);
    /** @type {Panel} */
    const panel = { run, color, checkpoint: checkpoint ?? run.defaultCheckpoint ?? run.checkpoints[0]?.name ?? "", file: null, view: null, el, canvas, readout, select };
    select.addEventListener("change", () => {
      panel.checkpoint = select.value;
      this.loadPanel(panel)
        .then(() => this.drawAll())
        .catch((e) => this.status(String(e.message ?? e), true));
    });
    return panel;
  }

  /** @param {Panel} p */
  async loadPanel(p) {
    if (p.run.checkpoints.length === 0) throw new Error(`run ${p.run.name} has no checkpoint yet`);
    p.readout.textContent = "loading …";
    const file = await getEpisodes(p.run.index, { ...this.request, checkpoint: p.checkpoint });
    p.view?.dispose();
    p.file = file;
    p.select.value = p.checkpoint;
    const env = /** @type {HTMLElement} */ (p.el.querySelector(".env"));
    env.textContent = `${file.env} · eval seed ${file.seed}`;
    // a WebGL canvas cannot become a 2-D one: give each view a fresh canvas
    const canvas = document.createElement("canvas");
    p.canvas.replaceWith(canvas);
    p.canvas = canvas;
    if (file.scene.kind === "point") p.view = new MazeView(canvas, file);
    else {
      const view = new MujocoView(canvas, file);
      view.setCamera(this.camera);
      p.view = view;
    }
  }

  /** Episodes every panel has. */
  episodeCount() {
    return Math.min(...this.panels.map((p) => p.file?.episodes ?? 0));
  }

  /**
   * Steps of episode e in the longest panel (the clock runs to the end of the longest).
   * @param {number} e
   */
  length(e) {
    return Math.max(0, ...this.panels.map((p) => p.file?.achieved[e]?.length ?? 0));
  }

  /** Seconds per env step (the first panel's scene). */
  dt() {
    return this.panels[0]?.file?.scene.dt ?? 0.05;
  }

  /** True when every panel's episodes start and aim the same. */
  sameTasks() {
    const files = this.panels.map((p) => p.file).filter((f) => f !== null);
    if (files.length < 2) return true;
    const key = (/** @type {TrajectoryFile} */ f) => JSON.stringify([f.env, f.seed, f.goals, f.start.map((s) => s.map((v) => v.toFixed(4)))]);
    return files.every((f) => key(f) === key(files[0]));
  }

  /** @param {number} e */
  setEpisode(e) {
    const n = this.episodeCount();
    if (!(e >= 0 && e < n)) throw new Error(`episode ${e} does not exist: there are ${n}`);
    this.episode = e;
    this.t = 0;
    this.drawAll();
  }

  /** @param {number} t */
  seek(t) {
    this.t = Math.max(0, Math.min(Math.round(t), this.length(this.episode)));
    this.drawAll();
  }

  play() {
    if (this.playing || this.panels.length === 0) return;
    if (this.t >= this.length(this.episode)) this.t = 0;
    this.playing = true;
    this.lastTick = performance.now();
    let carry = 0;
    const tick = (/** @type {number} */ now) => {
      if (!this.playing) return;
      carry += ((now - this.lastTick) / 1000) * (this.speed / this.dt());
      this.lastTick = now;
      const whole = Math.floor(carry);
      if (whole > 0) {
        carry -= whole;
        const end = this.length(this.episode);
        this.t = Math.min(end, this.t + whole);
        this.drawAll();
        if (this.t >= end) {
          this.pause();
          return;
        }
      }
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    this.notify();
  }

  pause() {
    this.playing = false;
    this.notify();
  }

  /** @param {import("./scene3d.js").CameraMode} mode the 3-D views' camera */
  setCamera(mode) {
    this.camera = mode;
    for (const p of this.panels) if (p.view instanceof MujocoView) p.view.setCamera(mode);
    this.drawAll();
  }

  resize() {
    for (const p of this.panels) p.view?.resize();
    this.drawAll();
  }

  drawAll() {
    const e = this.episode;
    for (const p of this.panels) {
      if (p.view === null || p.file === null) continue;
      p.view.draw(e, this.t);
      p.readout.replaceChildren(...readoutNodes(p.file, e, this.t));
    }
    this.notify();
  }

  notify() {
    for (const f of this.listeners) f(this.episode, this.t);
  }
}

/**
 * The readout line under a panel: step, at goal now, time at goal so far and in the whole episode, the step the goal was first reached.
 * @param {TrajectoryFile} f
 * @param {number} e
 * @param {number} t
 * @returns {Node[]}
 */
function readoutNodes(f, e, t) {
  const s = f.summary[e];
  const shown = Math.min(t, s.length);
  const atGoal = shown > 0 && f.success[e][shown - 1] === 1;
  let soFar = 0;
  for (let k = 0; k < shown; k++) soFar += f.success[e][k];
  const ended = t >= s.length && s.terminated ? ` (terminated at step ${s.length})` : t > s.length ? ` (ended at step ${s.length})` : "";
  const reached = s.reachedAt === null ? "never reached the goal" : `first at the goal at step ${s.reachedAt}`;
  const text = `step ${shown} / ${f.episodeLength}${ended} · time at goal ${soFar} (episode: ${s.timeAtGoal}) · ${reached}`;
  if (!atGoal) return [document.createTextNode(text)];
  const g = document.createElement("span");
  g.className = "goal";
  g.textContent = "● at goal  ";
  return [g, document.createTextNode(text)];
}
