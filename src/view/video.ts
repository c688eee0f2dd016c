// `fathom video`: the viewer's replay rendered offline to a video file, on a machine without a GPU
// or a display. The episodes come from the run directories' cache (recorded first if missing, by
// the same code as the viewer's), the viewer's own page draws each frame in headless Chromium
// (./browser.ts) at the requested size, and ffmpeg encodes the screenshots: H.264 (.mp4), VP9
// (.webm) or a palette GIF (.gif). A .png is a still: the one frame at --max-steps (default: the
// episode's end), no ffmpeg needed. The file appears complete or not at all: it is written to a
// temporary file next to it, renamed at the end; an existing file is replaced only with --force.
import { type ChildProcessByStdio, spawn } from "node:child_process";
import { existsSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, extname, join, resolve } from "node:path";
import type { Readable, Writable } from "node:stream";
import { ProgressReporter, type ProgressStream } from "../train/progress.js";
import { launchChromium, requireChromium, requireFfmpeg } from "./browser.js";
import { cachedEpisodes, checkRequest, DEFAULT_VIEW_EPISODES, MAX_VIEW_EPISODES } from "./episodes.js";
import type { ViewRun } from "./runs.js";
import { startViewServer } from "./server.js";

export const VIDEO_FORMATS = [".mp4", ".webm", ".gif", ".png"] as const;
export const VIDEO_LAYOUTS = ["row", "column", "grid"] as const;
export type VideoLayout = (typeof VIDEO_LAYOUTS)[number];
export const VIDEO_CAMERAS = ["follow", "overview"] as const;
export type VideoCamera = (typeof VIDEO_CAMERAS)[number];

export interface VideoOptions {
  runs: ViewRun[];
  /** The output file: .mp4, .webm, .gif, or .png (a still). */
  out: string;
  /** Replace `out` if it exists. */
  force: boolean;
  /** Frame size in pixels (even numbers: H.264 and VP9 need them). */
  width: number;
  height: number;
  fps: number;
  /** Episodes to play one after another, from `startEpisode`. */
  episodes: number;
  startEpisode: number;
  /** Evaluation seed and env (default: the runs' evaluation env). */
  seed: number;
  env?: string;
  layout: VideoLayout;
  /** MuJoCo tasks: a camera that follows the agent, or one that shows the whole maze (or start, goal and path). */
  camera?: VideoCamera;
  /** Env steps advanced per video frame. */
  stepsPerFrame: number;
  /** Cut each episode after this many steps (default: play it to the end). */
  maxSteps?: number;
  fathom: string;
  /** Lines about the work (recording episodes, the file written); default stderr. */
  log?: (line: string) => void;
  /** Where the progress bar goes (default stderr). */
  progress?: ProgressStream;
  /** Set to stop early (Ctrl-C); the partial file is removed. */
  signal?: AbortSignal;
}

/** Checks a frame size: even, 64…3840 wide and 64…2160 high. */
export function checkFrameSize(width: number, height: number): void {
  for (const [what, v, max] of [
    ["width", width, 3840],
    ["height", height, 2160],
  ] as const) {
    if (!Number.isInteger(v) || v < 64 || v > max || v % 2 !== 0) {
      throw new Error(`bad frame size ${width}x${height}: the ${what} must be an even integer in [64, ${max}] (H.264 and VP9 need even sizes), e.g. --size 1280x720`);
    }
  }
}

/** Parses "WIDTHxHEIGHT". */
export function parseFrameSize(text: string): { width: number; height: number } {
  const m = /^(\d+)x(\d+)$/.exec(text);
  if (m === null) throw new Error(`bad frame size "${text}": write it as WIDTHxHEIGHT, e.g. 1280x720`);
  const size = { width: Number(m[1]), height: Number(m[2]) };
  checkFrameSize(size.width, size.height);
  return size;
}

/** ffmpeg's arguments: PNG frames on stdin, the encoder of the output's extension. */
export function ffmpegArgs(ext: string, fps: number, file: string): string[] {
  const input = ["-hide_banner", "-loglevel", "error", "-f", "image2pipe", "-c:v", "png", "-framerate", String(fps), "-i", "-"];
  switch (ext) {
    case ".mp4":
      return [...input, "-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", "23", "-preset", "medium", "-movflags", "+faststart", "-f", "mp4", file];
    case ".webm":
      return [...input, "-c:v", "libvpx-vp9", "-pix_fmt", "yuv420p", "-crf", "36", "-b:v", "0", "-row-mt", "1", "-f", "webm", file];
    case ".gif":
      return [...input, "-vf", "split[a][b];[a]palettegen=stats_mode=diff[p];[b][p]paletteuse=dither=bayer:bayer_scale=4", "-loop", "0", "-f", "gif", file];
    default:
      throw new Error(`cannot write a ${ext} video: the output must end in ${VIDEO_FORMATS.join(", ")}`);
  }
}

/** Refuses an output the command must not write: wrong extension, missing folder, an existing file without --force. */
export function checkVideoOut(out: string, force: boolean): string {
  const ext = extname(out).toLowerCase();
  if (!(VIDEO_FORMATS as readonly string[]).includes(ext)) throw new Error(`cannot write ${out}: the file name must end in ${VIDEO_FORMATS.join(", ")} (it picks the encoder)`);
  const dir = dirname(resolve(out));
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`cannot write ${out}: folder ${dir} does not exist; create it first`);
  if (existsSync(out)) {
    if (statSync(out).isDirectory()) throw new Error(`cannot write ${out}: it is a folder`);
    if (!force) throw new Error(`refusing to overwrite ${out}: choose another file name, or add --force to replace it`);
  }
  return ext;
}

/** Writes a chunk to a stream, waiting when its buffer is full; rejects if the stream fails. */
function write(stream: Writable, chunk: Buffer): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const ok = stream.write(chunk, (e) => {
      if (e) reject(e);
    });
    if (ok) resolvePromise();
    else stream.once("drain", () => resolvePromise());
  });
}

/** Renders the video; returns the frames written and the file's size. */
export async function renderVideo(o: VideoOptions): Promise<{ frames: number; bytes: number; path: string }> {
  const log = o.log ?? ((l: string) => console.error(l));
  const ext = checkVideoOut(o.out, o.force);
  checkFrameSize(o.width, o.height);
  if (!Number.isInteger(o.fps) || o.fps < 1 || o.fps > 120) throw new Error(`fps must be an integer in [1, 120], got ${o.fps}`);
  if (!Number.isInteger(o.stepsPerFrame) || o.stepsPerFrame < 1) throw new Error(`steps per frame must be an integer ≥ 1, got ${o.stepsPerFrame}`);
  if (o.maxSteps !== undefined && (!Number.isInteger(o.maxSteps) || o.maxSteps < 1)) throw new Error(`max steps must be an integer ≥ 1, got ${o.maxSteps}`);
  if (!Number.isInteger(o.episodes) || o.episodes < 1 || !Number.isInteger(o.startEpisode) || o.startEpisode < 0) {
    throw new Error(`episodes must be ≥ 1 and the first episode ≥ 0, got ${o.episodes} from ${o.startEpisode}`);
  }
  if (o.runs.length === 0) throw new Error("fathom video needs at least one run");
  if (o.runs.length > 16) throw new Error(`at most 16 runs side by side, got ${o.runs.length}`);
  const recorded = Math.max(DEFAULT_VIEW_EPISODES, o.startEpisode + o.episodes);
  if (recorded > MAX_VIEW_EPISODES) throw new Error(`episodes ${o.startEpisode}…${o.startEpisode + o.episodes - 1} go past the ${MAX_VIEW_EPISODES} a recording holds`);
  const still = ext === ".png";
  if (still && o.episodes !== 1) throw new Error(`a .png is one frame (the last of the first episode played): give --episodes 1, not ${o.episodes}`);
  const ffmpeg = still ? "" : requireFfmpeg();
  const chromium = requireChromium();
  const requests = o.runs.map((v) => ({ seed: o.seed, episodes: recorded, ...(o.env === undefined ? {} : { env: o.env }), ...(v.checkpoint === undefined ? {} : { checkpoint: basename(v.checkpoint) }) }));
  const envs = new Set(o.runs.map((v, i) => checkRequest(v, requests[i])));
  if (envs.size > 1) log(`note: the runs are evaluated on different envs (${[...envs].join(", ")}): their episodes do not share starts and goals`);
  // record (or find) every run's episodes first: the page then only reads them
  for (const [i, v] of o.runs.entries()) {
    const got = await cachedEpisodes(v, requests[i], { fathom: o.fathom, log });
    if (got.cached) log(`episodes of ${v.run.name}: ${got.path} (cached)`);
  }
  if (o.signal?.aborted) throw new Error("stopped");
  const server = await startViewServer({ runs: o.runs, fathom: o.fathom, port: 0, log });
  const browser = await launchChromium({ width: o.width, height: o.height }, chromium).catch(async (e) => {
    await server.close();
    throw e;
  });
  const tmp = join(dirname(resolve(o.out)), `.${basename(o.out)}.part-${process.pid}${ext}`);
  let enc: ChildProcessByStdio<Writable, null, Readable> | null = null;
  let done = false;
  try {
    const page = await browser.context.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    await page.goto(`${server.url}?mode=video`);
    await page.evaluate(() => (globalThis as unknown as { fathom: { ready: Promise<void> } }).fathom.ready);
    const setup = {
      runs: o.runs.map((v) => v.index),
      checkpoints: requests.map((r) => r.checkpoint ?? null),
      env: o.env ?? "",
      seed: o.seed,
      episodes: recorded,
      play: Array.from({ length: o.episodes }, (_, k) => o.startEpisode + k),
      layout: o.layout,
      camera: o.camera ?? "follow",
      stepsPerFrame: o.stepsPerFrame,
      maxSteps: o.maxSteps ?? null,
    };
    type Fathom = { fathom: { video: { setup(x: typeof setup): Promise<{ frames: number }>; frame(k: number): unknown } } };
    const plan = await page.evaluate((s) => (globalThis as unknown as Fathom).fathom.video.setup(s), setup).catch((e: Error) => {
      throw new Error(`the page could not set up the video: ${e.message.split("\n")[0]}${pageErrors.length ? ` (${pageErrors.join("; ")})` : ""}`);
    });
    if (still) {
      await page.evaluate((i) => (globalThis as unknown as Fathom).fathom.video.frame(i), plan.frames - 1);
      writeFileSync(tmp, await page.screenshot({ type: "png", animations: "disabled", caret: "hide" }));
      if (pageErrors.length > 0) throw new Error(`the page reported errors while rendering: ${pageErrors.join("; ")}`);
      renameSync(tmp, o.out);
      done = true;
      return { frames: 1, bytes: statSync(o.out).size, path: resolve(o.out) };
    }
    const stderr: string[] = [];
    const proc = spawn(ffmpeg, ffmpegArgs(ext, o.fps, tmp), { stdio: ["pipe", "ignore", "pipe"] });
    enc = proc;
    proc.stderr.on("data", (d: Buffer) => stderr.push(d.toString()));
    const exited = new Promise<number>((resolvePromise, reject) => {
      proc.on("error", reject);
      proc.on("close", (code) => resolvePromise(code ?? 1));
    });
    proc.stdin.on("error", () => {
      // ffmpeg quit early: its exit code and stderr say why (below)
    });
    const bar = new ProgressReporter({ total: plan.frames, label: "video", unit: "frames", ...(o.progress ? { stream: o.progress } : {}) });
    for (let k = 0; k < plan.frames; k++) {
      if (o.signal?.aborted) throw new Error("stopped");
      if (proc.exitCode !== null) break;
      await page.evaluate((i) => (globalThis as unknown as Fathom).fathom.video.frame(i), k);
      const png = await page.screenshot({ type: "png", animations: "disabled", caret: "hide" });
      await write(proc.stdin, png);
      bar.update(k + 1);
    }
    bar.finish();
    proc.stdin.end();
    const code = await exited;
    if (code !== 0) throw new Error(`ffmpeg failed (exit code ${code}): ${stderr.join("").trim().split("\n").slice(-5).join(" | ")}`);
    if (pageErrors.length > 0) throw new Error(`the page reported errors while rendering: ${pageErrors.join("; ")}`);
    renameSync(tmp, o.out);
    done = true;
    const bytes = statSync(o.out).size;
    return { frames: plan.frames, bytes, path: resolve(o.out) };
  } finally {
    if (enc !== null && enc.exitCode === null) enc.kill("SIGKILL");
    if (!done) rmSync(tmp, { force: true });
    await browser.close();
    await server.close();
  }
}
