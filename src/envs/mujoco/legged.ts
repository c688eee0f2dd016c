// What the legged maze families (Ant ./ant.ts, Humanoid ./humanoid.ts; not the arm) do the same
// way beyond ./core.ts: the task spec (observation = state ++ commanded goal, 1000-step episodes,
// success within 0.5 of the goal); the factory (id → maze layout or open ground → core); and a
// base class that keeps the commanded goals and the maze's start and goal cells, places the root
// body at reset, draws a goal cell, and ends an episode when the torso leaves its healthy height.

import type { MainModule, MjData, MjModel } from "@mujoco/mujoco";
import type { Rng } from "../../random.js";
import type { EnvCore } from "../core.js";
import { type MazeLayout, mazeCentres, parseMaze } from "../mazes.js";
import type { EnvSpec } from "../types.js";
import { familyEntry, MujocoCore, type MujocoViews } from "./core.js";
import { loadMujoco } from "./loader.js";

/** What a legged family's tasks have in common: the dimensions, the achieved goal and the physics steps. */
export interface LeggedShape {
  stateDim: number;
  goalDim: number;
  actionDim: number;
  goalIndices: readonly number[];
  frameSkip: number;
}

/** The spec of one legged task: `shape` with 1000-step episodes and success within 0.5 of the goal; `evalId` its far-goal task. */
export function leggedSpec(shape: LeggedShape, id: string, description: string, evalId?: string): EnvSpec {
  const spec: EnvSpec = {
    id,
    description,
    stateDim: shape.stateDim,
    goalDim: shape.goalDim,
    obsDim: shape.stateDim + shape.goalDim,
    actionDim: shape.actionDim,
    goalIndices: [...shape.goalIndices],
    episodeLength: 1000,
    successThreshold: 0.5,
    frameSkip: shape.frameSkip,
  };
  return evalId === undefined ? spec : { ...spec, evalId };
}

/**
 * Builds `count` envs of task `spec` of a legged family on this thread (`layouts`: the maze of each
 * id, null for open ground; `factory`, `family` name them in errors). Loads the MuJoCo module on first use.
 */
export async function createLeggedCore(
  factory: string,
  family: string,
  layouts: Readonly<Record<string, string | null>>,
  spec: EnvSpec,
  count: number,
  make: (mj: MainModule, spec: EnvSpec, count: number, layout: MazeLayout | null) => EnvCore,
): Promise<EnvCore> {
  const layoutName = familyEntry(factory, family, layouts, spec, count);
  const mj = await loadMujoco();
  const layout = layoutName === null ? null : parseMaze(layoutName);
  return make(mj, spec, count, layout);
}

/** Base class of the Ant and Humanoid cores; see the file header. */
export abstract class LeggedMazeCore<V extends MujocoViews> extends MujocoCore<V> {
  protected readonly goal: Float64Array; // [count, goalDim]
  protected readonly startX: number;
  protected readonly startY: number;
  private readonly goalCells: Float64Array; // [nGoals, 2] goal cell centres (mazes)
  protected readonly nGoals: number;

  /** As MujocoCore's; `layout` (null: open ground) at `cellSize` gives the start and the goal cells. */
  protected constructor(mj: MainModule, spec: EnvSpec, count: number, model: MjModel, makeViews: (d: MjData) => V, layout: MazeLayout | null, cellSize: number) {
    super(mj, spec, count, model, makeViews);
    this.goal = new Float64Array(count * spec.goalDim);
    const centres = mazeCentres(layout, cellSize);
    this.startX = centres.startX;
    this.startY = centres.startY;
    this.goalCells = centres.goals;
    this.nGoals = centres.goals.length / 2;
  }

  /**
   * Moves the root body of qpos by (x, y) and renormalises its quaternion qpos[3..6]. The reset
   * noise leaves the quaternion slightly off unit length; MuJoCo would renormalise it on the first
   * step, but the first observation should already be a valid orientation.
   */
  protected placeRoot(qpos: Float64Array, x: number, y: number): void {
    qpos[0] += x;
    qpos[1] += y;
    const qn = Math.hypot(qpos[3], qpos[4], qpos[5], qpos[6]);
    for (let k = 3; k < 7; k++) qpos[k] /= qn;
  }

  /** Env i's goal x, y: the centre of a goal cell drawn uniformly (one rng.int). */
  protected drawGoalCell(i: number, rng: Rng): void {
    const o = this.spec.goalDim * i;
    const c = rng.int(this.nGoals);
    this.goal[o] = this.goalCells[2 * c];
    this.goal[o + 1] = this.goalCells[2 * c + 1];
  }

  /**
   * The control step of env i once its controls are written (see controlStep). Returns whether
   * the episode ends: a non-finite state, or the torso height qpos[2] outside healthyZ.
   */
  protected stepHealthy(i: number, obs: Float32Array, healthyZ: readonly [number, number]): boolean {
    if (!this.controlStep(i, obs)) return true;
    const z = this.views[i].qpos[2];
    return z < healthyZ[0] || z > healthyZ[1];
  }
}
