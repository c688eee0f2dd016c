// `fathom view` (the local web viewer) and `fathom video` (its replays rendered to a file).
import { z } from "zod";
import { DEFAULT_VIEW_EPISODES, DEFAULT_VIEW_SEED, MAX_VIEW_EPISODES } from "../view/episodes.js";
import { resolveRuns } from "../view/runs.js";
import { startViewServer } from "../view/server.js";
import { parseFrameSize, renderVideo, VIDEO_CAMERAS, VIDEO_LAYOUTS } from "../view/video.js";
import { FlagError, formatHelp, parseFlags } from "./flags.js";

const ViewSchema = z
  .object({
    port: z.number().int().min(0).max(65535).default(0).describe("Port on 127.0.0.1 (0: any free port)"),
  })
  .strict();

const VIEW_DESCRIPTION =
  "Starts a local web server (127.0.0.1 only) with the runs' learning curves (time at goal, success, distance; entropy, α and losses on a " +
  "second tab; seeds of one configuration grouped) and replays of evaluation episodes: MuJoCo tasks in 3-D, point mazes from above, " +
  "several runs side by side on the same starts and goals. Each run is a run directory, a checkpoint in one, or a folder of run " +
  "directories. Episodes are recorded on demand with the deterministic actor and cached in <run>/eval/episodes/. Ctrl-C stops the server.";

/** `fathom view <runs>…`: serves until Ctrl-C (or SIGTERM). */
export async function cmdView(argv: string[], version: string): Promise<number> {
  const parsed = parseFlags(ViewSchema, argv, { helpHint: "fathom view --help" });
  if (parsed.help) {
    console.log(formatHelp(ViewSchema, { usage: "Usage: fathom view <run dir | checkpoint | runs folder>... [--port N]", description: VIEW_DESCRIPTION }));
    return 0;
  }
  const opts = ViewSchema.parse(parsed.values);
  if (parsed.positionals.length === 0) throw new FlagError("fathom view needs at least one run directory (or a folder of run directories); see fathom view --help");
  const runs = resolveRuns(parsed.positionals);
  const server = await startViewServer({ runs, fathom: version, port: opts.port, log: (l) => console.error(l) });
  console.log(`fathom view: ${runs.length} run(s) at ${server.url}  (Ctrl-C stops it)`);
  for (const v of runs) console.log(`  ${v.index}: ${v.run.path}`);
  await new Promise<void>((resolvePromise) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolvePromise();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  await server.close();
  console.log("fathom view: stopped");
  return 0;
}

const VideoSchema = z
  .object({
    out: z.string().describe("Output file: .mp4 (H.264), .webm (VP9), .gif, or .png (a still: the frame at --max-steps, default the episode's end)"),
    force: z.boolean().default(false).describe("Replace --out if it exists"),
    size: z.string().default("1280x720").describe("Frame size WIDTHxHEIGHT of the whole video (even numbers); runs share it"),
    fps: z.number().int().min(1).max(120).default(30).describe("Frames per second"),
    episodes: z.number().int().min(1).max(MAX_VIEW_EPISODES).default(1).describe("Episodes to play, one after another"),
    firstEpisode: z.number().int().min(0).default(0).describe("Index of the first episode played"),
    seed: z.number().int().min(0).default(DEFAULT_VIEW_SEED).describe("Evaluation seed (the viewer's default, so its cache is shared)"),
    env: z.string().optional().describe("Evaluate on this env id (default: each run's evaluation env)"),
    layout: z.enum(VIDEO_LAYOUTS).default("row").describe("Runs side by side: in a row, a column or a grid"),
    camera: z.enum(VIDEO_CAMERAS).default("follow").describe("MuJoCo tasks: follow the agent, or show the whole maze (open ground: the start, goal and path)"),
    stepsPerFrame: z.number().int().min(1).default(1).describe("Env steps per video frame (2 plays twice as fast)"),
    maxSteps: z.number().int().min(1).optional().describe("Cut each episode after this many steps"),
  })
  .strict();

const VIDEO_DESCRIPTION =
  "Renders replays of evaluation episodes to a video file (or a .png still) without a GPU or display: the viewer's page draws each frame in headless " +
  "Chromium (Debian: apt-get install chromium; or set FATHOM_CHROMIUM) and ffmpeg encodes it (apt-get install ffmpeg; or FATHOM_FFMPEG). " +
  "Several runs play side by side on the same episodes (same env and seed: same starts and goals). Episodes come from the runs' cache " +
  `(<run>/eval/episodes/, shared with fathom view; at least ${DEFAULT_VIEW_EPISODES} are recorded per run) and are recorded first when missing. ` +
  "A run given as a checkpoint file plays that checkpoint, otherwise the newest. An existing --out is replaced only with --force.";

/** `fathom video <runs>… --out file`. */
export async function cmdVideo(argv: string[], version: string): Promise<number> {
  const parsed = parseFlags(VideoSchema, argv, { helpHint: "fathom video --help" });
  if (parsed.help) {
    console.log(formatHelp(VideoSchema, { usage: "Usage: fathom video <run dir | checkpoint | runs folder>... --out replay.mp4 [options]", description: VIDEO_DESCRIPTION }));
    return 0;
  }
  if (parsed.values.out === undefined) throw new FlagError("fathom video needs --out <file.mp4|.webm|.gif|.png>");
  const opts = VideoSchema.parse(parsed.values);
  if (parsed.positionals.length === 0) throw new FlagError("fathom video needs at least one run directory (or checkpoint, or folder of runs); see fathom video --help");
  let size: { width: number; height: number };
  try {
    size = parseFrameSize(opts.size);
  } catch (e) {
    throw new FlagError(`--size: ${(e as Error).message}`);
  }
  const runs = resolveRuns(parsed.positionals);
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  try {
    const r = await renderVideo({
      runs,
      out: opts.out,
      force: opts.force,
      ...size,
      fps: opts.fps,
      episodes: opts.episodes,
      startEpisode: opts.firstEpisode,
      seed: opts.seed,
      ...(opts.env === undefined ? {} : { env: opts.env }),
      layout: opts.layout,
      camera: opts.camera,
      stepsPerFrame: opts.stepsPerFrame,
      ...(opts.maxSteps === undefined ? {} : { maxSteps: opts.maxSteps }),
      fathom: version,
      log: (l) => console.error(l),
      signal: abort.signal,
    });
    const what = r.frames === 1 && opts.out.toLowerCase().endsWith(".png") ? "still" : `video`;
    console.log(`${what} written to ${r.path}: ${r.frames} frame${r.frames === 1 ? "" : "s"} of ${size.width}x${size.height}${what === "video" ? ` at ${opts.fps} fps` : ""}, ${(r.bytes / 1024).toFixed(0)} KiB`);
    return 0;
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
}
