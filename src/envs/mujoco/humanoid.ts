// The MuJoCo Humanoid family (SPEC §6): the Humanoid on open ground (goal on a circle) and in the
// paper's U-maze and big maze (cell size 2). Model: ./humanoid_model.ts. Control step 0.015 s:
// humanoid-v1 steps MuJoCo 5 × 0.003 s (the standard humanoid's step; the reference's envs/
// humanoid.py runs it so on its MuJoCo-style backends); the mazes step 10 × 0.0015 s (SPEC §6).
// (The reference trains both on Brax's "spring" backend at 10 × 0.0015 s with gears raised to
// 350 / 100 for that engine; this MuJoCo model keeps the standard humanoid's gears, as the
// reference's MuJoCo-style backends do.)
// Actions in [-1, 1] map linearly onto the motors' control range [-0.4, 0.4] (ctrl = 0.4 · action),
// exactly the reference's env.step: ctrl = (a + 1)·(hi − lo)/2 + lo (scaling-crl envs/humanoid.py
// and humanoid_maze.py; JaxGCRL's the same), which Brax's actuator then clips to the same range.
// (An outside review read the reference as ctrl = clip(a, −0.4, 0.4); the rescale above runs
// before the clip, so the clip never acts. Checked in the reference's code, 2026-12-05.)
//
// Observation [271] = state [268] ++ commanded goal [3]. The state has the reference's layout
// (JaxGCRL envs/humanoid.py `_get_obs`, Brax link conventions). The reference's model carries a
// goal-marker body "target" on two slide joints (x, y) after the humanoid; Brax fuses the
// joint-less feet into the shins, so it counts 12 links: the 11 bodies of humanoid_model.ts and
// the target. Its entries are kept (filled from the commanded goal; this model has no such body):
//   | index    | meaning                                                                    |
//   | 0..2     | torso (chest) x, y, z (qpos)                                               |
//   | 3..6     | torso orientation quaternion w, x, y, z (qpos)                             |
//   | 7..23    | 17 hinge angles, HUMANOID_JOINTS order (abdomen_z, abdomen_y, abdomen_x,   |
//   |          | right_hip_x/z/y, right_knee, left_hip_x/z/y, left_knee, right_shoulder1/2, |
//   |          | right_elbow, left_shoulder1/2, left_elbow)                                 |
//   | 24..25   | target qpos = commanded goal x, y (as in the reference, whose state        |
//   |          | carries the goal marker's joints)                                          |
//   | 26..28   | torso linear velocity (qvel, world frame)                                  |
//   | 29..31   | torso angular velocity (qvel, local frame)                                 |
//   | 32..48   | 17 hinge velocities, same order as 7..23                                   |
//   | 49..50   | target qvel: 0                                                             |
//   | 51..170  | per link (torso, lwaist, pelvis, right_thigh, right_shin, left_thigh,      |
//   |          | left_shin, right_upper_arm, right_lower_arm, left_upper_arm,               |
//   |          | left_lower_arm, target) 10 values: its 3 × 3 inertia matrix about the      |
//   |          | system centre of mass c, world axes, row-major (R·diag(I)·Rᵀ + m(|p|²E −   |
//   |          | ppᵀ), p = link COM − c), then its mass m                                   |
//   | 171..242 | per link (same order) 6 values: (m / M) · velocity of the link's COM       |
//   |          | (world), then its angular velocity (world); M = total mass of the links    |
//   | 243..267 | actuator generalised forces (qfrc_actuator, 25 dofs: 6 free-joint zeros,   |
//   |          | gear · ctrl on the 17 hinges in qvel order, 2 target zeros)                |
//   | 268..270 | commanded goal x, y, z (z = 1.25)                                          |
// As in the reference, the target is a link of mass 1 (a sphere of radius 0.5, inertia 0.1·E)
// resting at (goal x, goal y, 1.25): it enters c and M, and its velocity is 0. (The reference's
// spring backend, which it trains with, also replaces every link's rotational inertia by the
// identity in this computation; this env runs MuJoCo dynamics, so it uses the true inertias, as
// the reference's MuJoCo-style backends do.)
// So, as in the reference, the state itself depends on the commanded goal (indices 24..25, the
// target's inertia 161..170, and through c every link's inertia); a relabelled goal does not
// change these entries.
// The link quantities are those of the state reached by the step: after the last physics step the
// env runs mj_kinematics + mj_comPos + mj_comVel (mj_step computes them at the start of a step,
// i.e. for the previous state; these three are all the observation needs, far cheaper than a
// full mj_forward, and they do not change the dynamics: the next mj_step recomputes them).
// Achieved goal: torso x, y, z (goalIndices [0, 1, 2]). Success: ‖torso xyz − goal‖ < 0.5.
// Termination: torso z ∉ [1.0, 2.0] (unhealthy), or a non-finite physics state (see ./core.ts).
//
// Reset (every episode, fresh draws from the env's rng, in this order):
//   qpos = standing pose (chest at z 1.4) + U(−0.01, 0.01) on each of the 24 coordinates
//          (quaternion renormalised), plus the centre of the maze's 'R' cell on x, y (the origin
//          for humanoid-v1);
//   qvel = U(−0.01, 0.01) on each of the 23 coordinates;
//   goal = humanoid-v1: distance U(1, 5) from the origin, then a uniform angle (as the reference:
//          not uniform on the annulus), z = 1.25;
//          mazes: centre of a 'G' cell drawn uniformly (the _eval ids use their far-goal layout),
//          z = 1.25.
// The reference draws no reset noise (its reset_noise_scale is 0, so every episode of a maze
// starts from the same state); the 0.01 here is Brax's and Gymnasium's Humanoid default, and it
// gives every episode a fresh start (the VecEnv contract).
// MuJoCo's data is fully reset (mj_resetData) first, so an episode depends only on its rng and
// actions, not on what the instance simulated before (solver warm-starts included).
//
// Departures from the reference (scaling-crl envs/humanoid*.py and assets/humanoid*.xml, as its
// train.py runs them: backend "spring"):
//   | what                | reference (spring)                   | here                              |
//   | physics engine      | Brax "spring"                        | MuJoCo 3.14 (WebAssembly)         |
//   | step, humanoid-v1   | 0.0015 s × 10 = 0.015 s as written   | 0.003 s × 5 = 0.015 s (frameSkip  |
//   |                     | (humanoid.py); an outside check      | 5; `--frame-skip 10` gives 0.03 s |
//   |                     | inferred 0.03 s under brax 0.10.1    | to try the other reading)         |
//   |                     | (unconfirmed)                        |                                   |
//   | step, mazes         | 0.0015 s × 10                        | 0.0015 s × 10                     |
//   | gears               | 350 (abdomen, hips, knees), 100      | the MuJoCo humanoid's 100–300, 25 |
//   |                     | (arms), set for the spring engine    | (as its MuJoCo-style backends)    |
//   | link inertias in    | identity (spring)                    | the true inertias                 |
//   | the observation     |                                      |                                   |
//   | reset noise         | 0 (every episode starts alike)       | U(−0.01, 0.01) on qpos and qvel   |
//   | goal marker         | a "target" body on two slides        | none; its observation entries are |
//   |                     |                                      | filled from the goal (see above)  |

import type { MainModule } from "@mujoco/mujoco";
import type { Rng } from "../../random.js";
import type { EnvCore } from "../core.js";
import type { MazeLayout } from "../mazes.js";
import type { EnvSpec } from "../types.js";
import { mazeWalls } from "./ant_model.js";
import {
  HUMANOID_CTRL_LIMIT,
  HUMANOID_INIT_QPOS,
  HUMANOID_NBODY,
  HUMANOID_NQ,
  HUMANOID_NU,
  HUMANOID_NV,
  type HumanoidPhysics,
  humanoidXml,
} from "./humanoid_model.js";
import { type MujocoViews, mujocoViews } from "./core.js";
import { createLeggedCore, LeggedMazeCore, leggedSpec } from "./legged.js";
import { modelFromXml } from "./loader.js";

/** Maze cell size for the Humanoid (SPEC appendix A). */
export const HUMANOID_MAZE_CELL_SIZE = 2;
/** Wall height: the reference's maze height 0.5 × cell size 2 (it notes a humanoid could jump it). */
export const HUMANOID_MAZE_WALL_HEIGHT = 1;
/** Healthy torso height range; outside it the episode terminates (SPEC §6). */
export const HUMANOID_HEALTHY_Z: readonly [number, number] = [1.0, 2.0];
/** Height of every goal (the reference's TARGET_Z_COORD: about the chest height standing). */
export const HUMANOID_GOAL_Z = 1.25;
/** humanoid-v1: goal distance from the origin is drawn from U(min, max). */
export const HUMANOID_GOAL_RADIUS: readonly [number, number] = [1, 5];
/** Half-width of the uniform reset noise on qpos and qvel. */
export const HUMANOID_RESET_NOISE = 0.01;
/** Physics of humanoid-v1: the standard humanoid's 3 ms step, 5 per control step. */
export const HUMANOID_OPEN_PHYSICS: HumanoidPhysics = { timestep: 0.003, frameSkip: 5 };
/** Physics of the mazes (SPEC §6): 1.5 ms, 10 per control step. */
export const HUMANOID_MAZE_PHYSICS: HumanoidPhysics = { timestep: 0.0015, frameSkip: 10 };

/** Links of the observation: the 11 bodies and the reference's goal marker. */
const NLINK = HUMANOID_NBODY + 1;
/** The goal marker's mass and rotational inertia (a sphere of radius 0.5 and mass 1: 0.4·m·r²). */
const TARGET_MASS = 1;
const TARGET_INERTIA = 0.1;
/** Layout of the state (see the table above). */
const OBS_QPOS = 0;
const OBS_QVEL = HUMANOID_NQ + 2; // 26
const OBS_CINERT = OBS_QVEL + HUMANOID_NV + 2; // 51
const OBS_CVEL = OBS_CINERT + 10 * NLINK; // 171
const OBS_QFRC = OBS_CVEL + 6 * NLINK; // 243
const STATE_DIM = OBS_QFRC + HUMANOID_NV + 2; // 268
const GOAL_DIM = 3;

function humanoidSpec(id: string, description: string, evalId?: string): EnvSpec {
  const frameSkip = id === "humanoid-v1" ? HUMANOID_OPEN_PHYSICS.frameSkip : HUMANOID_MAZE_PHYSICS.frameSkip;
  return leggedSpec({ stateDim: STATE_DIM, goalDim: GOAL_DIM, actionDim: HUMANOID_NU, goalIndices: [0, 1, 2], frameSkip }, id, description, evalId);
}

/** The Humanoid tasks. Pure data: importing this file does not load MuJoCo. */
export const HUMANOID_ENV_SPECS: EnvSpec[] = [
  humanoidSpec("humanoid-v1", "MuJoCo Humanoid on open ground; goal at distance U(1, 5) from the start, height 1.25"),
  humanoidSpec("humanoid_u_maze-v1", "MuJoCo Humanoid in the U-maze (cell 2); goals: any 'G' cell", "humanoid_u_maze_eval-v1"),
  humanoidSpec("humanoid_u_maze_eval-v1", "MuJoCo Humanoid in the U-maze; evaluation goals: the far 'G' cells"),
  humanoidSpec("humanoid_big_maze-v1", "MuJoCo Humanoid in the big maze (cell 2); goals: any 'G' cell", "humanoid_big_maze_eval-v1"),
  humanoidSpec("humanoid_big_maze_eval-v1", "MuJoCo Humanoid in the big maze; evaluation goals: the far 'G' cells"),
];

/** Maze layout of each maze id (src/envs/mazes.ts names); humanoid-v1 has none. */
export const HUMANOID_LAYOUTS: Readonly<Record<string, string | null>> = {
  "humanoid-v1": null,
  "humanoid_u_maze-v1": "u_maze",
  "humanoid_u_maze_eval-v1": "u_maze_eval",
  "humanoid_big_maze-v1": "big_maze",
  "humanoid_big_maze_eval-v1": "big_maze_eval",
};

/**
 * Builds `count` Humanoid envs of task `spec` on this thread: one compiled MjModel shared by
 * `count` MjData instances. Loads the MuJoCo module on first use.
 */
export async function createHumanoidCore(spec: EnvSpec, count: number): Promise<EnvCore> {
  return createLeggedCore("createHumanoidCore", "Humanoid", HUMANOID_LAYOUTS, spec, count, (mj, s, n, layout) => new HumanoidCore(mj, s, n, layout));
}

/** Adds m(|p|²E − ppᵀ) (the parallel-axis term) to the row-major 3 × 3 matrix a [9]. */
function addParallelAxis(a: Float64Array, m: number, px: number, py: number, pz: number): void {
  a[0] += m * (py * py + pz * pz);
  a[4] += m * (px * px + pz * pz);
  a[8] += m * (px * px + py * py);
  const xy = -m * px * py;
  const xz = -m * px * pz;
  const yz = -m * py * pz;
  a[1] += xy;
  a[3] += xy;
  a[2] += xz;
  a[6] += xz;
  a[5] += yz;
  a[7] += yz;
}

/** Typed views of one MjData, into the wasm heap. */
interface HumanoidViews extends MujocoViews {
  readonly xipos: Float64Array; // [nbody, 3] body COM positions
  readonly ximat: Float64Array; // [nbody, 9] body inertia frames, row-major
  readonly cvel: Float64Array; // [nbody, 6] (angular, linear at subtree_com of the root), world axes
  readonly subtreeCom: Float64Array; // [nbody, 3]
}

/**
 * The Humanoid cores' class. createHumanoidCore returns one; beyond EnvCore it can read and
 * overwrite the physics state of an env (tests, scripted pushes, state restore).
 */
export class HumanoidCore extends LeggedMazeCore<HumanoidViews> {
  /** Physics step and steps per control step of this task. */
  readonly physics: HumanoidPhysics;

  private readonly mat3 = new Float64Array(9); // scratch 3 × 3 matrix
  // Model constants copied out of the wasm heap once.
  private readonly bodyMass: Float64Array; // [HUMANOID_NBODY]
  private readonly bodyInertia: Float64Array; // [HUMANOID_NBODY, 3] principal moments
  private readonly totalMass: number; // humanoid + target marker
  private readonly motorDof: Int32Array; // [HUMANOID_NU] dof index driven by each motor
  private readonly motorGear: Float64Array; // [HUMANOID_NU]
  private readonly rootBody: number; // body whose subtree_com anchors cvel (the torso)

  constructor(mj: MainModule, spec: EnvSpec, count: number, layout: MazeLayout | null) {
    const physics = layout === null ? HUMANOID_OPEN_PHYSICS : HUMANOID_MAZE_PHYSICS;
    const walls = layout === null ? [] : mazeWalls(layout, HUMANOID_MAZE_CELL_SIZE, HUMANOID_MAZE_WALL_HEIGHT);
    const model = modelFromXml(mj, humanoidXml(physics, walls), spec.id);
    if (model.nq !== HUMANOID_NQ || model.nv !== HUMANOID_NV || model.nu !== HUMANOID_NU || model.nbody !== HUMANOID_NBODY + 1) {
      const got = `nq ${model.nq}, nv ${model.nv}, nu ${model.nu}, nbody ${model.nbody}`;
      model.delete();
      throw new Error(`${spec.id}: the Humanoid model compiled to ${got}; humanoid.ts expects nq ${HUMANOID_NQ}, nv ${HUMANOID_NV}, nu ${HUMANOID_NU}, nbody ${HUMANOID_NBODY + 1}`);
    }
    super(
      mj,
      spec,
      count,
      model,
      (d) => ({
        ...mujocoViews(d),
        xipos: d.xipos as Float64Array,
        ximat: d.ximat as Float64Array,
        cvel: d.cvel as Float64Array,
        subtreeCom: d.subtree_com as Float64Array,
      }),
      layout,
      HUMANOID_MAZE_CELL_SIZE,
    );
    this.physics = physics;
    this.bodyMass = (model.body_mass as Float64Array).slice(1, HUMANOID_NBODY + 1);
    this.bodyInertia = (model.body_inertia as Float64Array).slice(3, 3 * (HUMANOID_NBODY + 1));
    this.totalMass = this.bodyMass.reduce((a, b) => a + b, 0) + TARGET_MASS;
    const trnid = model.actuator_trnid as Int32Array; // [nu, 2] joint id of each motor
    const dofadr = model.jnt_dofadr as Int32Array;
    const gear = model.actuator_gear as Float64Array; // [nu, 6]
    this.motorDof = new Int32Array(HUMANOID_NU);
    this.motorGear = new Float64Array(HUMANOID_NU);
    for (let a = 0; a < HUMANOID_NU; a++) {
      this.motorDof[a] = dofadr[trnid[2 * a]];
      this.motorGear[a] = gear[6 * a];
    }
    this.rootBody = (model.body_rootid as Int32Array)[1];
  }

  reset(i: number, rng: Rng, obs: Float32Array): void {
    const model = this.liveModel();
    this.mj.mj_resetData(model, this.data[i]);
    const { qpos, qvel } = this.views[i];
    const noise = HUMANOID_RESET_NOISE;
    for (let k = 0; k < HUMANOID_NQ; k++) qpos[k] = HUMANOID_INIT_QPOS[k] + rng.uniformIn(-noise, noise);
    this.placeRoot(qpos, this.startX, this.startY);
    for (let k = 0; k < HUMANOID_NV; k++) qvel[k] = rng.uniformIn(-noise, noise);
    const g = this.goal;
    if (this.nGoals === 0) {
      const r = rng.uniformIn(HUMANOID_GOAL_RADIUS[0], HUMANOID_GOAL_RADIUS[1]);
      const angle = rng.uniformIn(0, 2 * Math.PI);
      g[3 * i] = r * Math.cos(angle);
      g[3 * i + 1] = r * Math.sin(angle);
    } else {
      this.drawGoalCell(i, rng);
    }
    g[3 * i + 2] = HUMANOID_GOAL_Z;
    this.writeObs(i, obs);
  }

  step(i: number, action: Float32Array, _rng: Rng, obs: Float32Array): boolean {
    this.liveModel();
    const { ctrl } = this.views[i];
    for (let k = 0; k < HUMANOID_NU; k++) ctrl[k] = HUMANOID_CTRL_LIMIT * action[k];
    return this.stepHealthy(i, obs, HUMANOID_HEALTHY_Z);
  }

  /**
   * Copies the world positions of the 11 bodies' centres of mass (HUMANOID_BODIES order) of env
   * i, as of its last observation, into out [33].
   */
  getBodyPositions(i: number, out: Float64Array): void {
    this.liveModel();
    if (out.length !== 3 * HUMANOID_NBODY) {
      throw new Error(`HumanoidCore.getBodyPositions: out must have ${3 * HUMANOID_NBODY} values, got ${out.length}`);
    }
    out.set(this.views[i].xipos.subarray(3, 3 * (HUMANOID_NBODY + 1)));
  }

  /** Brings env i's derived quantities up to its qpos/qvel and writes its observation (see the table). */
  protected writeObs(i: number, obs: Float32Array): void {
    const model = this.model!;
    const data = this.data[i];
    const mj = this.mj;
    mj.mj_kinematics(model, data);
    mj.mj_comPos(model, data);
    mj.mj_comVel(model, data);
    const { qpos, qvel, ctrl, xipos, ximat, cvel, subtreeCom } = this.views[i];
    const gx = this.goal[3 * i];
    const gy = this.goal[3 * i + 1];
    const gz = this.goal[3 * i + 2];
    for (let k = 0; k < HUMANOID_NQ; k++) obs[OBS_QPOS + k] = qpos[k];
    obs[OBS_QPOS + HUMANOID_NQ] = gx;
    obs[OBS_QPOS + HUMANOID_NQ + 1] = gy;
    for (let k = 0; k < HUMANOID_NV; k++) obs[OBS_QVEL + k] = qvel[k];
    obs[OBS_QVEL + HUMANOID_NV] = 0;
    obs[OBS_QVEL + HUMANOID_NV + 1] = 0;

    // Centre of mass c of the humanoid and the goal marker.
    const mass = this.bodyMass;
    let cx = TARGET_MASS * gx;
    let cy = TARGET_MASS * gy;
    let cz = TARGET_MASS * gz;
    for (let b = 0; b < HUMANOID_NBODY; b++) {
      const m = mass[b];
      cx += m * xipos[3 * (b + 1)];
      cy += m * xipos[3 * (b + 1) + 1];
      cz += m * xipos[3 * (b + 1) + 2];
    }
    const M = this.totalMass;
    cx /= M;
    cy /= M;
    cz /= M;

    // Inertia about c: R·diag(I)·Rᵀ + m(|p|²E − ppᵀ), p = link COM − c; then m.
    const inr = this.bodyInertia;
    const a = this.mat3;
    for (let b = 0; b < HUMANOID_NBODY; b++) {
      const r = 9 * (b + 1);
      const i0 = inr[3 * b];
      const i1 = inr[3 * b + 1];
      const i2 = inr[3 * b + 2];
      for (let u = 0; u < 3; u++) {
        for (let v = 0; v < 3; v++) {
          // (R diag(I) Rᵀ)[u][v] = Σ_k R[u][k] I_k R[v][k]
          const ru = r + 3 * u;
          const rv = r + 3 * v;
          a[3 * u + v] = ximat[ru] * i0 * ximat[rv] + ximat[ru + 1] * i1 * ximat[rv + 1] + ximat[ru + 2] * i2 * ximat[rv + 2];
        }
      }
      const m = mass[b];
      addParallelAxis(a, m, xipos[3 * (b + 1)] - cx, xipos[3 * (b + 1) + 1] - cy, xipos[3 * (b + 1) + 2] - cz);
      const o = OBS_CINERT + 10 * b;
      for (let k = 0; k < 9; k++) obs[o + k] = a[k];
      obs[o + 9] = m;
    }
    {
      a.fill(0);
      a[0] = a[4] = a[8] = TARGET_INERTIA;
      addParallelAxis(a, TARGET_MASS, gx - cx, gy - cy, gz - cz);
      const o = OBS_CINERT + 10 * HUMANOID_NBODY;
      for (let k = 0; k < 9; k++) obs[o + k] = a[k];
      obs[o + 9] = TARGET_MASS;
    }

    // Velocities: MuJoCo's cvel is (ω, v at the root's subtree COM s); the link COM moves at
    // v + ω × (xipos − s).
    const root = this.rootBody;
    const sx = subtreeCom[3 * root];
    const sy = subtreeCom[3 * root + 1];
    const sz = subtreeCom[3 * root + 2];
    for (let b = 0; b < HUMANOID_NBODY; b++) {
      const c6 = 6 * (b + 1);
      const wx = cvel[c6];
      const wy = cvel[c6 + 1];
      const wz = cvel[c6 + 2];
      const dx = xipos[3 * (b + 1)] - sx;
      const dy = xipos[3 * (b + 1) + 1] - sy;
      const dz = xipos[3 * (b + 1) + 2] - sz;
      const f = mass[b] / M;
      const o = OBS_CVEL + 6 * b;
      obs[o] = f * (cvel[c6 + 3] + wy * dz - wz * dy);
      obs[o + 1] = f * (cvel[c6 + 4] + wz * dx - wx * dz);
      obs[o + 2] = f * (cvel[c6 + 5] + wx * dy - wy * dx);
      obs[o + 3] = wx;
      obs[o + 4] = wy;
      obs[o + 5] = wz;
    }
    for (let k = OBS_CVEL + 6 * HUMANOID_NBODY; k < OBS_QFRC; k++) obs[k] = 0;

    // Actuator forces in dof space: gear · ctrl (motors have no bias, gain 1, no force limits).
    for (let k = OBS_QFRC; k < STATE_DIM; k++) obs[k] = 0;
    for (let a = 0; a < HUMANOID_NU; a++) obs[OBS_QFRC + this.motorDof[a]] = this.motorGear[a] * ctrl[a];

    obs[STATE_DIM] = gx;
    obs[STATE_DIM + 1] = gy;
    obs[STATE_DIM + 2] = gz;
  }
}
