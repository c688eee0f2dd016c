// A VecEnv that records what a viewer needs to redraw its episodes: the registered env's own core
// and the VecEnv's own per-thread loop (SliceRunner, the same code a VecEnv runs with threads = 0),
// with the core wrapped so that the physics state after every step of each env's first episode is
// kept (qpos for MuJoCo tasks; the point mazes' position is the achieved goal, which evaluate()
// records already). A step's state is copied inside the core's step, before the same-step
// auto-reset replaces it, so the last frame of an episode that terminated is its real last state.
// Episodes are a pure function of (env id, seed, env index, actions), whatever the thread count
// (src/envs/types.ts), so the evaluation metrics equal those of any other VecEnv of the same id.
import type { MainModule, MjModel } from "@mujoco/mujoco";
import type { EnvCore, EnvCoreFactory } from "../envs/core.js";
import { type MazeLayout, parseMaze } from "../envs/mazes.js";
import { ANT_LAYOUTS, ANT_MAZE_CELL_SIZE, ANT_MAZE_WALL_HEIGHT } from "../envs/mujoco/ant.js";
import { MujocoCore, type MujocoViews } from "../envs/mujoco/core.js";
import { HUMANOID_LAYOUTS, HUMANOID_MAZE_CELL_SIZE, HUMANOID_MAZE_WALL_HEIGHT } from "../envs/mujoco/humanoid.js";
import { POINT_CELL_SIZE, POINT_DT, POINT_ENV_SPECS, POINT_HALF_SIZE, pointMazeLayout } from "../envs/point/point.js";
import { getCoreFactory, getEnvSpec, validateFrameSkip } from "../envs/registry.js";
import { BufferedVecEnv, SliceRunner, vecBufferBytes, vecBufferViews, type VecBuffers } from "../envs/slice.js";
import type { EnvSpec, StepResult } from "../envs/types.js";
import type { Rng } from "../random.js";
import { keyFromSeed } from "../random.js";
import { type MazeInfo, type MujocoGeom, type Scene, GEOM_TYPES } from "./trajectories.js";

/** Digits kept of recorded positions and quaternions (0.01 mm, far below what a picture shows). */
const POSE_SCALE = 1e5;
const round = (v: number) => Math.round(v * POSE_SCALE) / POSE_SCALE;

/** MuJoCo object types of mj_id2name (mjtObj; stable across MuJoCo versions). */
const MJ_OBJ_BODY = 1;
const MJ_OBJ_GEOM = 5;

/** Wraps a core: forwards every call and copies env i's qpos after each step of its first episode. */
class RecordingCore implements EnvCore {
  readonly spec: EnvSpec;
  readonly count: number;
  readonly stateSize?: number;
  /** [count] resets seen per env since the VecEnv's reset (1 while in the first episode). */
  private readonly resets: Int32Array;
  /** [count][frames][nq] qpos of the first episode of each env, frame 0 = the reset state (MuJoCo). */
  readonly qpos: number[][][];
  /** [count][goalDim] the achieved goal at the start of each env's first episode. */
  readonly start: number[][];
  private readonly mujoco: MujocoCore<MujocoViews> | null;
  private readonly qposScratch: Float64Array; // [nq]
  private readonly qvelScratch: Float64Array; // [nv]

  constructor(readonly inner: EnvCore) {
    this.spec = inner.spec;
    this.count = inner.count;
    this.resets = new Int32Array(inner.count);
    this.qpos = Array.from({ length: inner.count }, () => []);
    this.start = Array.from({ length: inner.count }, () => []);
    this.mujoco = inner instanceof MujocoCore ? (inner as MujocoCore<MujocoViews>) : null;
    const model = this.mujoco?.mujoco.model;
    this.qposScratch = new Float64Array(model?.nq ?? 0);
    this.qvelScratch = new Float64Array(model?.nv ?? 0);
  }

  /** Forgets what was recorded (VecEnv.reset starts every env's first episode again). */
  clear(): void {
    this.resets.fill(0);
    for (const q of this.qpos) q.length = 0;
    for (const s of this.start) s.length = 0;
  }

  private record(i: number): void {
    if (this.mujoco === null || this.resets[i] !== 1) return;
    this.mujoco.getState(i, this.qposScratch, this.qvelScratch);
    this.qpos[i].push(Array.from(this.qposScratch));
  }

  reset(i: number, rng: Rng, obs: Float32Array): void {
    this.inner.reset(i, rng, obs);
    if (++this.resets[i] === 1) this.start[i] = this.spec.goalIndices.map((g) => obs[g]);
    this.record(i);
  }

  step(i: number, action: Float32Array, rng: Rng, obs: Float32Array): boolean {
    const terminated = this.inner.step(i, action, rng, obs);
    this.record(i);
    return terminated;
  }

  dispose(): void {
    this.inner.dispose();
  }
}

/** The maze of an env id with its cell size, or null (open ground, the arm). */
export function envMaze(id: string): MazeInfo | null {
  const info = (layout: MazeLayout, cellSize: number, wallHeight: number | null): MazeInfo => ({
    name: layout.name,
    cellSize,
    wallHeight,
    rows: layout.rows,
    cols: layout.cols,
    grid: [...layout.grid],
    start: [layout.start[0], layout.start[1]],
    goals: layout.goals.map((c) => [c[0], c[1]]),
  });
  if (id in ANT_LAYOUTS) {
    const name = ANT_LAYOUTS[id];
    return name === null ? null : info(parseMaze(name), ANT_MAZE_CELL_SIZE, ANT_MAZE_WALL_HEIGHT);
  }
  if (id in HUMANOID_LAYOUTS) {
    const name = HUMANOID_LAYOUTS[id];
    return name === null ? null : info(parseMaze(name), HUMANOID_MAZE_CELL_SIZE, HUMANOID_MAZE_WALL_HEIGHT);
  }
  if (POINT_ENV_SPECS.some((s) => s.id === id)) return info(pointMazeLayout(id), POINT_CELL_SIZE, null);
  return null;
}

/** The geoms and bodies of a compiled MuJoCo model, for drawing (see Scene in ./trajectories.ts). */
function mujocoScene(mj: MainModule, m: MjModel, envId: string, dt: number): Extract<Scene, { kind: "mujoco" }> {
  const type = m.geom_type as Int32Array;
  const size = m.geom_size as Float64Array;
  const bodyId = m.geom_bodyid as Int32Array;
  const pos = m.geom_pos as Float64Array;
  const quat = m.geom_quat as Float64Array;
  const rgba = m.geom_rgba as Float32Array;
  const parent = m.body_parentid as Int32Array;
  const geoms: MujocoGeom[] = [];
  for (let g = 0; g < m.ngeom; g++) {
    const t = GEOM_TYPES[type[g]];
    const name = mj.mj_id2name(m, MJ_OBJ_GEOM, g) ?? `geom ${g}`;
    if (t === undefined || t === "hfield" || t === "mesh") {
      throw new Error(`${envId}: geom "${name}" is a ${t ?? `type ${type[g]}`}; the viewer draws planes, spheres, capsules, ellipsoids, cylinders and boxes`);
    }
    const v = (a: ArrayLike<number>, k: number, n: number) => Array.from({ length: n }, (_, j) => round(a[k * n + j]));
    geoms.push({ name, body: bodyId[g], type: t, size: v(size, g, 3), pos: v(pos, g, 3), quat: v(quat, g, 4), rgba: v(rgba, g, 4) });
  }
  const bodies = Array.from({ length: m.nbody }, (_, b) => ({ name: mj.mj_id2name(m, MJ_OBJ_BODY, b) ?? `body ${b}`, parent: parent[b] }));
  return { kind: "mujoco", dt, maze: envMaze(envId), nq: m.nq, bodies, geoms };
}

export interface RecordingEnvOptions {
  numEnvs: number;
  /** Override of the episode length (default: the env's own). */
  episodeLength?: number;
  /** Override of a MuJoCo env's physics steps per control step. */
  frameSkip?: number;
}

/** See the file header. Steps on the calling thread. */
export class RecordingVecEnv extends BufferedVecEnv {
  readonly threads = 0;
  private steps = 0;

  private constructor(
    readonly spec: EnvSpec,
    numEnvs: number,
    private readonly core: RecordingCore,
    private readonly runner: SliceRunner,
    buffers: VecBuffers,
  ) {
    super(spec, numEnvs, buffers);
  }

  /** Builds `numEnvs` envs of the registered id `envId` on this thread. */
  static async create(envId: string, options: RecordingEnvOptions): Promise<RecordingVecEnv> {
    const base = getEnvSpec(envId);
    const n = options.numEnvs;
    if (!Number.isInteger(n) || n < 1) throw new Error(`numEnvs must be a positive integer, got ${n}`);
    const len = options.episodeLength ?? base.episodeLength;
    if (!Number.isInteger(len) || len < 1) throw new Error(`episodeLength must be a positive integer, got ${len} (default for ${envId}: ${base.episodeLength})`);
    if (options.frameSkip !== undefined) validateFrameSkip(envId, options.frameSkip);
    const spec: EnvSpec = {
      ...base,
      episodeLength: len,
      ...(base.frameSkip === undefined ? {} : { frameSkip: options.frameSkip ?? base.frameSkip }),
    };
    // the registered core factory, loaded on this thread as a VecEnv's worker loads it
    const ref = getCoreFactory(envId);
    const factory = ((await import(ref.module)) as Record<string, unknown>)[ref.export];
    if (typeof factory !== "function") throw new Error(`module ${ref.module} has no function export "${ref.export}" (the core factory of ${envId})`);
    const inner = await (factory as EnvCoreFactory)(spec, n);
    if (inner.count !== n) throw new Error(`the core factory of ${envId} built ${inner.count} envs, ${n} were asked for`);
    const core = new RecordingCore(inner);
    const buffers = vecBufferViews(spec, n, new ArrayBuffer(vecBufferBytes(spec, n)));
    return new RecordingVecEnv(spec, n, core, new SliceRunner(core, spec, 0, buffers), buffers);
  }

  async reset(seed: number): Promise<Float32Array> {
    this.checkOpen();
    this.core.clear();
    this.runner.reset(keyFromSeed(seed));
    this.isReset = true;
    return this.buffers.obs;
  }

  async step(actions: Float32Array): Promise<StepResult> {
    this.checkOpen();
    this.takeActions(actions);
    this.runner.step();
    // let the process's other work (the viewer's server answering requests) in now and then
    if (++this.steps % 25 === 0) await new Promise((r) => setImmediate(r));
    return this.result;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.runner.dispose();
  }


  /** What to draw: the maze (point mazes: top-down), or the MuJoCo model's bodies and geoms. */
  scene(): Scene {
    this.checkOpen();
    const m = this.core.inner instanceof MujocoCore ? (this.core.inner as MujocoCore<MujocoViews>).mujoco : null;
    if (m === null) {
      const maze = envMaze(this.id);
      if (maze === null) throw new Error(`${this.id}: the viewer knows no scene for this env`);
      return { kind: "point", dt: POINT_DT, bodyHalfSize: POINT_HALF_SIZE, maze };
    }
    return mujocoScene(m.mj, m.model, this.id, m.model.opt.timestep * (this.frameSkip ?? 1));
  }

  /** [envs][goalDim] the achieved goal at the reset of every env's first episode (since the last reset). */
  starts(): number[][] {
    return this.core.start.map((s) => [...s]);
  }

  /**
   * The first episode of every env since the last reset, for MuJoCo envs (null for the point
   * mazes): qpos [envs][frames][nq] and the world pose of every body but the world
   * [envs][frames][7 · (nbody − 1)] (x, y, z, qw, qx, qy, qz per body), frame 0 = the reset state,
   * frame t = after step t. qpos is kept to 1e-6, poses to 1e-5.
   */
  frames(): { qpos: number[][][]; bodies: number[][][] } | null {
    this.checkOpen();
    if (!(this.core.inner instanceof MujocoCore)) return null;
    const { mj, model } = (this.core.inner as MujocoCore<MujocoViews>).mujoco;
    const data = new mj.MjData(model);
    try {
      const nb = model.nbody;
      const bodies = this.core.qpos.map((episode) =>
        episode.map((q) => {
          // Views are fetched after every call that may grow the wasm heap.
          (data.qpos as Float64Array).set(q);
          mj.mj_kinematics(model, data);
          const xpos = data.xpos as Float64Array;
          const xquat = data.xquat as Float64Array;
          const out = new Array<number>(7 * (nb - 1));
          for (let b = 1; b < nb; b++) {
            const o = 7 * (b - 1);
            for (let k = 0; k < 3; k++) out[o + k] = round(xpos[3 * b + k]);
            for (let k = 0; k < 4; k++) out[o + 3 + k] = round(xquat[4 * b + k]);
          }
          return out;
        }),
      );
      const qpos = this.core.qpos.map((episode) => episode.map((q) => q.map((v) => Math.round(v * 1e6) / 1e6)));
      return { qpos, bodies };
    } finally {
      data.delete();
    }
  }
}
