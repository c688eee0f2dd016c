// The trajectory file (`fathom-trajectories-v1`): evaluation episodes with everything needed to
// redraw them without Fathom: what `fathom eval --trajectories` writes, what the viewer caches in
// <run>/eval/episodes/ and draws, and what `fathom video` renders. docs/trajectories.md documents
// every field for other tools; keep the two in step.
// Node-free (the page's type check reads it).
import type { EvalMetrics, Trajectories } from "../train/evaluate.js";

export const TRAJECTORY_FORMAT = "fathom-trajectories-v1";

/** MuJoCo's geom types (mjtGeom) by number. */
export const GEOM_TYPES = ["plane", "hfield", "sphere", "capsule", "ellipsoid", "cylinder", "box", "mesh"] as const;
export type GeomType = (typeof GEOM_TYPES)[number];

/** A maze layout in world units: cell (i, j) is centred at x = i·cellSize, y = j·cellSize. */
export interface MazeInfo {
  /** Layout name in src/envs/mazes.ts, e.g. "u4_maze_eval". */
  name: string;
  cellSize: number;
  /** Height of the wall boxes (MuJoCo mazes); null for the point mazes (walls are 2-D). */
  wallHeight: number | null;
  rows: number;
  cols: number;
  /** The grid as written: '#' wall, 'R' start, 'G' goal, '.' free. */
  grid: string[];
  /** The start cell [i, j] ('R'). */
  start: [number, number];
  /** The goal cells [i, j] ('G'), in row-major order. */
  goals: [number, number][];
}

/** One geom of a MuJoCo model, in the frame of its body (the world's own geoms in world coordinates). */
export interface MujocoGeom {
  name: string;
  /** Body index (0 = the world: static). */
  body: number;
  type: GeomType;
  /** MuJoCo's geom_size: sphere [r], capsule and cylinder [r, half-length], box [half-sizes], ellipsoid [radii], plane [half-x, half-y, grid spacing]. */
  size: number[];
  /** Position [3] and orientation quaternion [4] (w, x, y, z) in the body frame. Capsules and cylinders lie along their local z. */
  pos: number[];
  quat: number[];
  /** Colour r, g, b, a in [0, 1]. */
  rgba: number[];
}

/** What an episode is drawn in. */
export type Scene =
  | {
      kind: "point";
      /** Seconds per env step. */
      dt: number;
      /** The point mass is a square of this half-size. */
      bodyHalfSize: number;
      maze: MazeInfo;
    }
  | {
      kind: "mujoco";
      dt: number;
      /** The maze the model's wall geoms were built from; null on open ground and for the arm. */
      maze: MazeInfo | null;
      nq: number;
      /** Every body of the model (0 = the world) with its parent's index. */
      bodies: { name: string; parent: number }[];
      geoms: MujocoGeom[];
    };

/** One episode at a glance. */
export interface EpisodeSummary {
  /** Steps the episode lasted (shorter than episodeLength when it terminated, e.g. the Ant fell). */
  length: number;
  /** Steps at the goal (the paper's time at goal). */
  timeAtGoal: number;
  /** The first step (1-based) at the goal, null if never. */
  reachedAt: number | null;
  terminated: boolean;
}

export interface TrajectoryRun {
  /** Absolute path of the run directory and its name. */
  dir: string;
  name: string;
  /** The env the agent was trained on (`env` of the file is the one evaluated on). */
  trainEnv: string;
  actorDepth: number;
  /** null for an agent without a critic (gcbc). */
  criticDepth: number | null;
  actorWidth: number;
  criticWidth: number | null;
  /** The training seed (the file's `seed` is the evaluation's). */
  seed: number;
}

export interface TrajectoryFile {
  format: typeof TRAJECTORY_FORMAT;
  /** Fathom's version. */
  fathom: string;
  created: string;
  run: TrajectoryRun | null;
  /** Absolute path of the checkpoint evaluated, and its env steps of training (null if unknown). */
  checkpoint: string;
  checkpointEnvSteps: number | null;
  env: string;
  goalDim: number;
  successThreshold: number;
  episodeLength: number;
  /** Seed of the evaluation: episode e of env `env` under this seed has the same start and goal for every agent. */
  seed: number;
  episodes: number;
  metrics: EvalMetrics;
  summary: EpisodeSummary[];
  /** [episodes][goalDim]: the achieved goal (e.g. torso x, y) at reset. */
  start: number[][];
  /** [episodes][goalDim]: the commanded goal. */
  goals: number[][];
  /** [episodes][steps][goalDim]: the achieved goal after each step. */
  achieved: number[][][];
  /** [episodes][steps]: 1 where that step ended within successThreshold of the goal. */
  success: number[][];
  scene: Scene;
  /** MuJoCo tasks: [episodes][steps + 1][nq] qpos, index 0 = the reset state. */
  qpos?: number[][][];
  /** MuJoCo tasks: [episodes][steps + 1][7 · (nbody − 1)] world pose (x, y, z, qw, qx, qy, qz) of bodies 1…nbody−1. */
  bodies?: number[][][];
}

/** The per-episode summary of recorded success flags. */
export function summarizeEpisodes(success: number[][], episodeLength: number): EpisodeSummary[] {
  return success.map((s) => {
    const first = s.indexOf(1);
    return {
      length: s.length,
      timeAtGoal: s.reduce((a, v) => a + v, 0),
      reachedAt: first < 0 ? null : first + 1,
      terminated: s.length < episodeLength,
    };
  });
}

export interface TrajectoryParts {
  fathom: string;
  run: TrajectoryRun | null;
  checkpoint: string;
  checkpointEnvSteps: number | null;
  seed: number;
  episodeLength: number;
  successThreshold: number;
  metrics: EvalMetrics;
  trajectories: Trajectories;
  start: number[][];
  scene: Scene;
  frames: { qpos: number[][][]; bodies: number[][][] } | null;
}

/** Assembles a trajectory file; checks that the recorded parts agree with each other. */
export function trajectoryFile(p: TrajectoryParts): TrajectoryFile {
  const t = p.trajectories;
  const n = t.achieved.length;
  if (t.goals.length !== n || t.success.length !== n || p.start.length !== n) {
    throw new Error(`trajectory parts disagree: ${n} episodes achieved, ${t.goals.length} goals, ${t.success.length} success rows, ${p.start.length} starts`);
  }
  if (p.frames !== null) {
    for (let e = 0; e < n; e++) {
      const want = t.achieved[e].length + 1;
      if (p.frames.qpos[e]?.length !== want || p.frames.bodies[e]?.length !== want) {
        throw new Error(`episode ${e}: ${t.achieved[e].length} steps but ${p.frames.qpos[e]?.length} recorded states (expected ${want}, the reset state first)`);
      }
    }
  }
  return {
    format: TRAJECTORY_FORMAT,
    fathom: p.fathom,
    created: new Date().toISOString(),
    run: p.run,
    checkpoint: p.checkpoint,
    checkpointEnvSteps: p.checkpointEnvSteps,
    env: t.env,
    goalDim: t.goalDim,
    successThreshold: p.successThreshold,
    episodeLength: p.episodeLength,
    seed: p.seed,
    episodes: n,
    metrics: p.metrics,
    summary: summarizeEpisodes(t.success, p.episodeLength),
    start: p.start,
    goals: t.goals,
    achieved: t.achieved,
    success: t.success,
    scene: p.scene,
    ...(p.frames === null ? {} : { qpos: p.frames.qpos, bodies: p.frames.bodies }),
  };
}

/** Throws unless `x` looks like a trajectory file of this format (a cache entry, or a file given by a user). */
export function checkTrajectoryFile(x: unknown, where: string): TrajectoryFile {
  const f = x as Partial<TrajectoryFile> | null;
  if (f === null || typeof f !== "object" || f.format !== TRAJECTORY_FORMAT) {
    throw new Error(`${where} is not a ${TRAJECTORY_FORMAT} file (format: ${JSON.stringify(f?.format)})`);
  }
  const n = f.episodes;
  if (!Number.isInteger(n) || !Array.isArray(f.achieved) || f.achieved.length !== n || !Array.isArray(f.summary) || f.summary.length !== n || f.scene === undefined) {
    throw new Error(`${where} is damaged: its episodes, achieved, summary and scene do not agree`);
  }
  return f as TrajectoryFile;
}

/** Keys whose value is a per-episode array, written one episode per line. */
const PER_EPISODE_KEYS = new Set(["summary", "start", "goals", "achieved", "success", "qpos", "bodies"]);

/**
 * The file's text in pieces: compact JSON with one top-level key per line and the per-episode
 * arrays one episode per line (indenting every number would multiply the size of a file of poses).
 * Pieces, not one string: a file of many MuJoCo episodes can pass JavaScript's string limit.
 */
export function* trajectoryJsonChunks(file: TrajectoryFile): Generator<string> {
  const entries = Object.entries(file);
  yield "{\n";
  for (const [i, [k, v]] of entries.entries()) {
    const end = i + 1 < entries.length ? ",\n" : "\n";
    if (PER_EPISODE_KEYS.has(k) && Array.isArray(v)) {
      yield `  ${JSON.stringify(k)}: [`;
      for (const [e, ep] of v.entries()) yield `\n    ${JSON.stringify(ep)}${e + 1 < v.length ? "," : "\n  "}`;
      yield `]${end}`;
    } else yield `  ${JSON.stringify(k)}: ${JSON.stringify(v)}${end}`;
  }
  yield "}\n";
}

