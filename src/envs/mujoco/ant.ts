// The MuJoCo Ant family (SPEC §6): the Ant on open ground (goal on a circle) and in the paper's
// mazes (U4, U5, Big, Hardest; cell size 4). Physics: MuJoCo WebAssembly, step 0.005 s × 10 per
// control step (env dt 0.05 s). Model: ./ant_model.ts.
//
// Observation [31] = state [29] ++ commanded goal [2]:
//   | index  | meaning                                                        |
//   | 0..2   | torso x, y, z (qpos)                                           |
//   | 3..6   | torso orientation quaternion w, x, y, z (qpos)                 |
//   | 7..14  | hip_1, ankle_1, hip_2, ankle_2, hip_3, ankle_3, hip_4, ankle_4 |
//   | 15..17 | torso linear velocity (qvel, world frame)                      |
//   | 18..20 | torso angular velocity (qvel, local frame)                     |
//   | 21..28 | joint velocities, same order as 7..14                          |
//   | 29..30 | commanded goal x, y                                            |
// Achieved goal: torso x, y (goalIndices [0, 1]). Success: ‖torso xy − goal‖ < 0.5.
// Action [8] in [-1, 1], motor order hip_4, ankle_4, hip_1, ankle_1, hip_2, ankle_2, hip_3,
// ankle_3 (the standard Ant's), torque = 150 · action.
// Termination: torso z ∉ [0.2, 1.0] (unhealthy), or a non-finite physics state (see ./core.ts).
//
// Reset (every episode, fresh draws from the env's rng, in this order):
//   qpos = standing pose + U(−0.1, 0.1) on each of the 15 coordinates (quaternion renormalised),
//          plus the centre of the maze's 'R' cell on x, y (the origin for ant-v1);
//   qvel = 0.1 · N(0, 1) on each of the 14 coordinates;
//   goal = ant-v1: uniform angle on the circle of radius 10 around the origin;
//          mazes: centre of a 'G' cell drawn uniformly (the _eval ids use their far-goal layout);
//   stitching ids (ant_u_maze_stitch*, SPEC §7): start cell and goal cell drawn by mazes.ts
//          stitchPair along the U-maze's corridor, 1–3 cells apart to train, 4–6 to evaluate; the
//          start cell's centre replaces the 'R' cell's, the goal is the goal cell's centre.
// MuJoCo's data is fully reset (mj_resetData) first, so an episode depends only on its rng and
// actions, not on what the instance simulated before (solver warm-starts included).
//
// Departures from the reference (scaling-crl envs/ant.py, ant_maze.py, assets/ant*.xml, as its
// train.py runs them):
//   | what              | reference                                   | here                         |
//   | physics engine    | Brax "spring" (train.py's backend)          | MuJoCo 3.14 (WebAssembly)    |
//   | step              | 0.005 s × 10 (spring)                       | 0.005 s × 10 (frameSkip: a   |
//   |                   |                                             | run may override it)         |
//   | contacts          | ant.xml: feet–floor; ant_maze.xml: also     | the same sets                |
//   |                   | walls and self-contact                      |                              |
//   | goal marker       | a "target" body in the model                | none (the goal is data)      |
//   | Ant big-maze eval | ant_maze.py's layout (no goal at (2, 5))    | the same (ant_big_maze_eval) |

import type { MainModule } from "@mujoco/mujoco";
import type { Rng } from "../../random.js";
import type { EnvCore } from "../core.js";
import { type Cell, corridorPath, type MazeLayout, stitchPair } from "../mazes.js";
import type { EnvSpec } from "../types.js";
import { ANT_FRAME_SKIP, ANT_INIT_QPOS, ANT_NQ, ANT_NU, ANT_NV, antXml, mazeWalls } from "./ant_model.js";
import { type MujocoViews, mujocoViews } from "./core.js";
import { createLeggedCore, LeggedMazeCore, type LeggedShape, leggedSpec } from "./legged.js";
import { modelFromXml } from "./loader.js";

/** Maze cell size for the Ant (SPEC appendix A). */
export const ANT_MAZE_CELL_SIZE = 4;
/** Wall height: the reference's maze height 0.5 × cell size 4; far above what the Ant can climb. */
export const ANT_MAZE_WALL_HEIGHT = 2;
/** Healthy torso height range; outside it the episode terminates (SPEC §6). */
export const ANT_HEALTHY_Z: readonly [number, number] = [0.2, 1.0];
/** Radius of the goal circle of ant-v1. */
export const ANT_GOAL_RADIUS = 10;
/** Half-width of the uniform reset noise on qpos, and scale of the normal noise on qvel. */
export const ANT_RESET_NOISE = 0.1;

const STATE_DIM = ANT_NQ + ANT_NV; // 29
const GOAL_DIM = 2;

const ANT_SHAPE: LeggedShape = { stateDim: STATE_DIM, goalDim: GOAL_DIM, actionDim: ANT_NU, goalIndices: [0, 1], frameSkip: ANT_FRAME_SKIP };

function antSpec(id: string, description: string, evalId?: string): EnvSpec {
  return leggedSpec(ANT_SHAPE, id, description, evalId);
}

/** The Ant tasks. Pure data: importing this file does not load MuJoCo. */
export const ANT_ENV_SPECS: EnvSpec[] = [
  antSpec("ant-v1", "MuJoCo Ant on open ground; goal uniform on the circle of radius 10 around the start"),
  antSpec("ant_u4_maze-v1", "MuJoCo Ant in the U4 maze (cell 4); goals: any 'G' cell", "ant_u4_maze_eval-v1"),
  antSpec("ant_u4_maze_eval-v1", "MuJoCo Ant in the U4 maze; evaluation goals: the far 'G' cells"),
  antSpec("ant_u5_maze-v1", "MuJoCo Ant in the U5 maze (cell 4); goals: any 'G' cell", "ant_u5_maze_eval-v1"),
  antSpec("ant_u5_maze_eval-v1", "MuJoCo Ant in the U5 maze; evaluation goals: the far 'G' cells"),
  antSpec("ant_big_maze-v1", "MuJoCo Ant in the big maze (cell 4); goals: any 'G' cell", "ant_big_maze_eval-v1"),
  antSpec("ant_big_maze_eval-v1", "MuJoCo Ant in the big maze; evaluation goals: the far 'G' cells"),
  antSpec("ant_hardest_maze-v1", "MuJoCo Ant in the hardest maze (cell 4); goals: any 'G' cell"),
  antSpec("ant_u_maze_stitch-v1", "MuJoCo Ant in the U maze (cell 4), stitching: start and goal 1–3 cells apart along the corridor", "ant_u_maze_stitch_eval-v1"),
  antSpec("ant_u_maze_stitch_eval-v1", "MuJoCo Ant in the U maze, stitching evaluation: start and goal 4–6 cells apart"),
];

/** Start–goal distances (cells along the corridor) of the stitching ids (mazes.ts stitchPair). */
export const ANT_STITCH: Readonly<Record<string, readonly number[]>> = {
  "ant_u_maze_stitch-v1": [1, 2, 3],
  "ant_u_maze_stitch_eval-v1": [4, 5, 6],
};

/** Maze layout of each maze id (src/envs/mazes.ts names); ant-v1 has none. */
export const ANT_LAYOUTS: Readonly<Record<string, string | null>> = {
  "ant-v1": null,
  "ant_u4_maze-v1": "u4_maze",
  "ant_u4_maze_eval-v1": "u4_maze_eval",
  "ant_u5_maze-v1": "u5_maze",
  "ant_u5_maze_eval-v1": "u5_maze_eval",
  "ant_big_maze-v1": "big_maze",
  "ant_big_maze_eval-v1": "ant_big_maze_eval",
  "ant_hardest_maze-v1": "hardest_maze",
  "ant_u_maze_stitch-v1": "u_maze",
  "ant_u_maze_stitch_eval-v1": "u_maze",
};

/**
 * Builds `count` Ant envs of task `spec` on this thread: one compiled MjModel shared by `count`
 * MjData instances. Loads the MuJoCo module on first use.
 */
export async function createAntCore(spec: EnvSpec, count: number): Promise<EnvCore> {
  return createLeggedCore("createAntCore", "Ant", ANT_LAYOUTS, spec, count, (mj, s, n, layout) => new AntCore(mj, s, n, layout));
}

/**
 * The Ant cores' class. createAntCore returns one; beyond EnvCore it can read and overwrite the
 * physics state of an env (tests, scripted pushes, state restore).
 */
export class AntCore extends LeggedMazeCore<MujocoViews> {
  /** Stitching ids: the corridor from 'R' and the start–goal distances along it; else null. */
  private readonly stitch: { path: Cell[]; distances: readonly number[] } | null;

  constructor(mj: MainModule, spec: EnvSpec, count: number, layout: MazeLayout | null) {
    const walls = layout === null ? [] : mazeWalls(layout, ANT_MAZE_CELL_SIZE, ANT_MAZE_WALL_HEIGHT);
    super(
      mj,
      spec,
      count,
      modelFromXml(mj, antXml(walls, undefined, layout !== null), spec.id),
      mujocoViews,
      layout,
      ANT_MAZE_CELL_SIZE,
    );
    const distances = ANT_STITCH[spec.id];
    this.stitch = distances === undefined || layout === null ? null : { path: corridorPath(layout), distances };
  }

  reset(i: number, rng: Rng, obs: Float32Array): void {
    const model = this.liveModel();
    this.mj.mj_resetData(model, this.data[i]);
    const { qpos, qvel } = this.views[i];
    for (let k = 0; k < ANT_NQ; k++) qpos[k] = ANT_INIT_QPOS[k] + rng.uniformIn(-ANT_RESET_NOISE, ANT_RESET_NOISE);
    const pair = this.stitch === null ? null : stitchPair(this.stitch.path, this.stitch.distances, rng);
    if (pair === null) this.placeRoot(qpos, this.startX, this.startY);
    else this.placeRoot(qpos, pair[0][0] * ANT_MAZE_CELL_SIZE, pair[0][1] * ANT_MAZE_CELL_SIZE);
    for (let k = 0; k < ANT_NV; k++) qvel[k] = ANT_RESET_NOISE * rng.normal();
    if (pair !== null) {
      this.goal[2 * i] = pair[1][0] * ANT_MAZE_CELL_SIZE;
      this.goal[2 * i + 1] = pair[1][1] * ANT_MAZE_CELL_SIZE;
    } else if (this.nGoals === 0) {
      const angle = rng.uniformIn(0, 2 * Math.PI);
      this.goal[2 * i] = ANT_GOAL_RADIUS * Math.cos(angle);
      this.goal[2 * i + 1] = ANT_GOAL_RADIUS * Math.sin(angle);
    } else {
      this.drawGoalCell(i, rng);
    }
    this.writeObs(i, obs);
  }

  step(i: number, action: Float32Array, _rng: Rng, obs: Float32Array): boolean {
    this.liveModel();
    const { ctrl } = this.views[i];
    for (let k = 0; k < ANT_NU; k++) ctrl[k] = action[k];
    return this.stepHealthy(i, obs, ANT_HEALTHY_Z);
  }

  protected writeObs(i: number, obs: Float32Array): void {
    const { qpos, qvel } = this.views[i];
    for (let k = 0; k < ANT_NQ; k++) obs[k] = qpos[k];
    for (let k = 0; k < ANT_NV; k++) obs[ANT_NQ + k] = qvel[k];
    obs[STATE_DIM] = this.goal[2 * i];
    obs[STATE_DIM + 1] = this.goal[2 * i + 1];
  }
}
