// Point-mass mazes (JaxGCRL's `simple_*_maze`, SPEC §6): a square body pushed by a 2-D force
// through the maze layouts of src/envs/mazes.ts, at the Ant scale (cell size 4) so that the
// layouts and distances match the Ant mazes. Pure TS, deterministic dynamics, no termination.
//
// | obs index | meaning                      | unit   |
// |-----------|------------------------------|--------|
// | 0, 1      | body x, y (achieved goal)    | m      |
// | 2, 3      | body vx, vy                  | m/s    |
// | 4, 5      | commanded goal x, y          | m      |
//
// | action | meaning                                  | range   |
// |--------|------------------------------------------|---------|
// | 0, 1   | force along x, y (× MAX_ACCEL per unit)  | [-1, 1] |
//
// | quantity          | value                | why                                               |
// |-------------------|----------------------|---------------------------------------------------|
// | control step DT   | 0.1 s                |                                                   |
// | MAX_ACCEL         | 5 m/s² per axis      | with DAMPING: top speed 2.5 m/s = 0.25 m/step     |
// | DAMPING           | 2 /s (v ← 0.8 v + …) | reaches 86% of top speed in 9 steps               |
// | body half-size    | 0.5 m (square)       | a cell (4 m) is crossed in ≈ 20 steps at full push |
// | start             | 'R' centre ± U(0.1)  | as the Ant (SPEC §6)                              |
// | goal              | uniform 'G' cell, centre ± U(1) per axis | goals fill the middle half of a cell and stay reachable (≥ 1 m from walls, body needs 0.5 m) |
// | stitching ids     | start: a corridor cell's centre ± U(0.1); goal: the centre of the cell d further along the corridor, d uniform in the id's distances (1–3 to train, 4–6 to evaluate) | the paper's stitching task (SPEC §7), scaled to the point mass as the Ant's (mazes.ts stitchPair) |
// | success           | ‖xy − goal‖ < 0.5    | SPEC §6                                           |
// | episode length    | 1000                 | SPEC §5                                           |
//
// Dynamics per step (semi-implicit Euler): v ← (1 − DAMPING·DT)·v + MAX_ACCEL·DT·a, then move
// x by DT·vx and y by DT·vy, one axis after the other. Each axis move is swept against the wall
// cells the body overlaps on the other axis: the body stops flush at the first wall face it
// would cross and its velocity into the wall is set to 0, so it cannot tunnel at any speed.
import type { Rng } from "../../random.js";
import type { EnvCore } from "../core.js";
import { type Cell, corridorPath, type MazeLayout, parseMaze, stitchPair } from "../mazes.js";
import type { EnvSpec } from "../types.js";

export const POINT_CELL_SIZE = 4;
export const POINT_DT = 0.1;
export const POINT_MAX_ACCEL = 5;
export const POINT_DAMPING = 2;
export const POINT_HALF_SIZE = 0.5;
export const POINT_START_NOISE = 0.1;
export const POINT_GOAL_NOISE = 1;

/**
 * id → maze layout name, for every point-maze id. `stitch`: the start–goal distances (cells along
 * the corridor) of a stitching id; its start and goal are drawn by stitchPair instead of 'R' and 'G'.
 */
const POINT_MAZES: ReadonlyArray<{ id: string; maze: string; evalId?: string; what: string; stitch?: readonly number[] }> = [
  { id: "simple_u_maze-v1", maze: "u_maze", evalId: "simple_u_maze_eval-v1", what: "U maze (5x5)" },
  { id: "simple_u_maze_eval-v1", maze: "u_maze_eval", what: "U maze, far goals only (evaluation)" },
  { id: "simple_u4_maze-v1", maze: "u4_maze", evalId: "simple_u4_maze_eval-v1", what: "U4 maze (7x5)" },
  { id: "simple_u4_maze_eval-v1", maze: "u4_maze_eval", what: "U4 maze, far goals only (evaluation)" },
  { id: "simple_u5_maze-v1", maze: "u5_maze", evalId: "simple_u5_maze_eval-v1", what: "U5 maze (7x8)" },
  { id: "simple_u5_maze_eval-v1", maze: "u5_maze_eval", what: "U5 maze, far goals only (evaluation)" },
  { id: "simple_big_maze-v1", maze: "big_maze", evalId: "simple_big_maze_eval-v1", what: "big maze (8x8)" },
  { id: "simple_big_maze_eval-v1", maze: "big_maze_eval", what: "big maze, far goals only (evaluation)" },
  { id: "simple_hardest_maze-v1", maze: "hardest_maze", what: "hardest maze (9x12)" },
  {
    id: "simple_u_maze_stitch-v1",
    maze: "u_maze",
    evalId: "simple_u_maze_stitch_eval-v1",
    what: "U maze, stitching: start and goal 1–3 cells apart along the corridor",
    stitch: [1, 2, 3],
  },
  { id: "simple_u_maze_stitch_eval-v1", maze: "u_maze", what: "U maze, stitching evaluation: start and goal 4–6 cells apart", stitch: [4, 5, 6] },
];

/** The start–goal distances of a stitching point-maze id; null for the others. */
export function pointStitchDistances(id: string): readonly number[] | null {
  return POINT_MAZES.find((x) => x.id === id)?.stitch ?? null;
}

/** Specs of every point-maze env. */
export const POINT_ENV_SPECS: readonly EnvSpec[] = POINT_MAZES.map((m) => ({
  id: m.id,
  description: `point mass in the ${m.what}, cell size ${POINT_CELL_SIZE}`,
  stateDim: 4,
  goalDim: 2,
  obsDim: 6,
  actionDim: 2,
  goalIndices: [0, 1],
  episodeLength: 1000,
  successThreshold: 0.5,
  ...(m.evalId === undefined ? {} : { evalId: m.evalId }),
}));

/** The maze layout of a point-maze id. */
export function pointMazeLayout(id: string): MazeLayout {
  const m = POINT_MAZES.find((x) => x.id === id);
  if (m === undefined) {
    throw new Error(`"${id}" is not a point-maze id: known are ${POINT_MAZES.map((x) => x.id).join(", ")}`);
  }
  return parseMaze(m.maze);
}

// Margin that keeps float rounding at a flush contact from counting as overlap.
const EPS = 1e-9;

export class PointMazeCore implements EnvCore {
  readonly count: number;
  private readonly rows: number;
  private readonly cols: number;
  private readonly wall: Uint8Array; // [rows, cols] 1 = wall
  private readonly state: Float64Array; // [count, 4] x, y, vx, vy
  private readonly goal: Float64Array; // [count, 2] commanded x, y
  private readonly startX: number;
  private readonly startY: number;
  private readonly goalCells: Float64Array; // [numGoals, 2] centres of the 'G' cells
  /** Stitching ids: the corridor from 'R' and the start–goal distances along it; else null. */
  private readonly stitch: { path: Cell[]; distances: readonly number[] } | null;

  constructor(
    readonly spec: EnvSpec,
    count: number,
    layout: MazeLayout = pointMazeLayout(spec.id),
  ) {
    if (!Number.isInteger(count) || count < 0) throw new Error(`PointMazeCore count must be a non-negative integer, got ${count}`);
    this.count = count;
    this.rows = layout.rows;
    this.cols = layout.cols;
    this.wall = new Uint8Array(layout.rows * layout.cols);
    for (const [i, j] of layout.walls) this.wall[i * layout.cols + j] = 1;
    this.state = new Float64Array(count * 4);
    this.goal = new Float64Array(count * 2);
    this.startX = layout.start[0] * POINT_CELL_SIZE;
    this.startY = layout.start[1] * POINT_CELL_SIZE;
    this.goalCells = new Float64Array(layout.goals.length * 2);
    layout.goals.forEach(([i, j], k) => {
      this.goalCells[2 * k] = i * POINT_CELL_SIZE;
      this.goalCells[2 * k + 1] = j * POINT_CELL_SIZE;
    });
    const distances = pointStitchDistances(spec.id);
    this.stitch = distances === null ? null : { path: corridorPath(layout), distances };
  }

  reset(i: number, rng: Rng, obs: Float32Array): void {
    const s = this.state;
    if (this.stitch !== null) {
      const [start, goal] = stitchPair(this.stitch.path, this.stitch.distances, rng);
      s[4 * i] = start[0] * POINT_CELL_SIZE + rng.uniformIn(-POINT_START_NOISE, POINT_START_NOISE);
      s[4 * i + 1] = start[1] * POINT_CELL_SIZE + rng.uniformIn(-POINT_START_NOISE, POINT_START_NOISE);
      s[4 * i + 2] = 0;
      s[4 * i + 3] = 0;
      this.goal[2 * i] = goal[0] * POINT_CELL_SIZE;
      this.goal[2 * i + 1] = goal[1] * POINT_CELL_SIZE;
      this.writeObs(i, obs);
      return;
    }
    s[4 * i] = this.startX + rng.uniformIn(-POINT_START_NOISE, POINT_START_NOISE);
    s[4 * i + 1] = this.startY + rng.uniformIn(-POINT_START_NOISE, POINT_START_NOISE);
    s[4 * i + 2] = 0;
    s[4 * i + 3] = 0;
    const k = rng.int(this.goalCells.length / 2);
    this.goal[2 * i] = this.goalCells[2 * k] + rng.uniformIn(-POINT_GOAL_NOISE, POINT_GOAL_NOISE);
    this.goal[2 * i + 1] = this.goalCells[2 * k + 1] + rng.uniformIn(-POINT_GOAL_NOISE, POINT_GOAL_NOISE);
    this.writeObs(i, obs);
  }

  step(i: number, action: Float32Array, _rng: Rng, obs: Float32Array): boolean {
    const s = this.state;
    const keep = 1 - POINT_DAMPING * POINT_DT;
    const push = POINT_MAX_ACCEL * POINT_DT;
    let vx = keep * s[4 * i + 2] + push * action[0];
    let vy = keep * s[4 * i + 3] + push * action[1];
    let x = s[4 * i];
    let y = s[4 * i + 1];
    // x axis: rows are cells along x, the body spans columns by its y extent.
    const tx = x + POINT_DT * vx;
    const nx = this.sweep(x, tx, y, true);
    if (nx !== tx) vx = 0; // stopped by a wall
    x = nx;
    const ty = y + POINT_DT * vy;
    const ny = this.sweep(y, ty, x, false);
    if (ny !== ty) vy = 0;
    y = ny;
    s[4 * i] = x;
    s[4 * i + 1] = y;
    s[4 * i + 2] = vx;
    s[4 * i + 3] = vy;
    this.writeObs(i, obs);
    return false;
  }

  /** Saved state per env: body x, y, vx, vy and the commanded goal x, y. */
  readonly stateSize = 6;

  getEnvState(i: number, out: Float64Array): void {
    out.set(this.state.subarray(4 * i, 4 * i + 4), 0);
    out[4] = this.goal[2 * i];
    out[5] = this.goal[2 * i + 1];
  }

  setEnvState(i: number, s: Float64Array): void {
    this.state.set(s.subarray(0, 4), 4 * i);
    this.goal[2 * i] = s[4];
    this.goal[2 * i + 1] = s[5];
  }

  /** Body state of env i: [x, y, vx, vy] (for tests and viewers). */
  bodyState(i: number): [number, number, number, number] {
    const s = this.state;
    return [s[4 * i], s[4 * i + 1], s[4 * i + 2], s[4 * i + 3]];
  }

  /** Places env i's body (for tests); the position must not overlap a wall. */
  setBodyState(i: number, x: number, y: number, vx: number, vy: number): void {
    const s = this.state;
    s[4 * i] = x;
    s[4 * i + 1] = y;
    s[4 * i + 2] = vx;
    s[4 * i + 3] = vy;
  }

  /**
   * Moves the body's coordinate along one axis from p0 to p1, with `q` its coordinate on the
   * other axis; returns where it stops. alongRows: the axis is x (cell index i); else y (j).
   */
  private sweep(p0: number, p1: number, q: number, alongRows: boolean): number {
    const c = POINT_CELL_SIZE;
    const h = c / 2;
    const r = POINT_HALF_SIZE;
    // Cells the body overlaps on the other axis (shrunk by EPS: touching is not overlapping).
    const qlo = Math.floor((q - r + EPS + h) / c);
    const qhi = Math.floor((q + r - EPS + h) / c);
    if (p1 > p0) {
      // Leading face p + r crosses the low faces k·c − h of the cells k ahead.
      const end = p1 + r;
      for (let k = Math.ceil((p0 + r - EPS + h) / c); k * c - h < end; k++) {
        if (this.blocked(k, qlo, qhi, alongRows)) return k * c - h - r;
      }
    } else if (p1 < p0) {
      const end = p1 - r;
      for (let k = Math.floor((p0 - r + EPS - h) / c); k * c + h > end; k--) {
        if (this.blocked(k, qlo, qhi, alongRows)) return k * c + h + r;
      }
    }
    return p1;
  }

  /** True if any cell k (along the moving axis) × [qlo, qhi] (other axis) is a wall or off the grid. */
  private blocked(k: number, qlo: number, qhi: number, alongRows: boolean): boolean {
    for (let q = qlo; q <= qhi; q++) {
      const i = alongRows ? k : q;
      const j = alongRows ? q : k;
      if (i < 0 || j < 0 || i >= this.rows || j >= this.cols) return true;
      if (this.wall[i * this.cols + j] === 1) return true;
    }
    return false;
  }

  private writeObs(i: number, obs: Float32Array): void {
    const s = this.state;
    obs[0] = s[4 * i];
    obs[1] = s[4 * i + 1];
    obs[2] = s[4 * i + 2];
    obs[3] = s[4 * i + 3];
    obs[4] = this.goal[2 * i];
    obs[5] = this.goal[2 * i + 1];
  }

  dispose(): void {}
}

/** Core factory loaded by module URL + export name (src/envs/registry.ts). */
export function createPointCore(spec: EnvSpec, count: number): EnvCore {
  return new PointMazeCore(spec, count);
}
