// The robot-arm family (SPEC §6): a 7-joint arm with a two-finger gripper moves a 6 cm cube to a
// goal on the table. arm_push_easy-v1 and arm_push_hard-v1 push it across open table; in
// arm_binpick_hard-v1 the cube starts in one bin and must reach the other. Physics: MuJoCo
// WebAssembly, step 0.002 s × 25 per control step (env dt 0.05 s). Model: ./arm_model.ts.
//
// Observation [20] = state [17] ++ commanded goal [3], in the reference's order (JaxGCRL
// envs/manipulation/arm_*.py, without its 18th value, a scaled mean actuator force):
//   | index  | meaning                                                                  |
//   | 0..2   | cube centre x, y, z (qpos)                                               |
//   | 3..9   | joint angles 1..7 (qpos)                                                 |
//   | 10..12 | end-effector position: origin of link7's frame (the wrist, 0.107 m above  |
//   |        | the flange along the hand's axis)                                        |
//   | 13..15 | end-effector linear velocity (world frame) of that point                 |
//   | 16     | distance between the finger frames (the pads' gap is 0.001 m more)       |
//   | 17..19 | commanded goal x, y, z                                                   |
// 10..15 are MuJoCo's body kinematics from the last physics step's forward pass, i.e. at the
// state one physics step (0.002 s) before the qpos values, exactly as the reference (Brax) reads
// them after mjx.step; at a reset or setState they are computed for the current state.
// The reference reads its end-effector as body index 8 of Brax's fused model, which is link7 (the
// hand has no joint and is fused into it; see ./arm_model.ts), not the hand.
// Achieved goal: cube x, y, z (goalIndices [0, 1, 2]). Success: ‖cube − goal‖ < 0.1.
//
// Action [5] in [-1, 1] (the reference's ArmEnvs._convert_action_to_actuator_input_joint_angle,
// absolute targets): a0..a3 are position targets of joints 1, 2, 4 and 6, each mapped linearly
// from [-1, 1] onto [0.3491, 2.7925], [0, 1.48353], [-3.0718, -0.0698] and [2.3562, 3.7525] rad;
// joints 3, 5 and 7 are held at 0, 0 and 1.4487 rad. These are servo targets (ctrl): as in the
// reference, the servos of joints 3–4 settle at 4/7 and those of joints 5–7 at 1/2 of their target
// (gain ≠ stiffness, ./arm_model.ts), so with a zero action the arm rests at about (1.57, 0.74, 0,
// −0.90, 0, 1.53, 0.72) rad. a4 is the gripper: > 0 closes both fingers (ctrl 0, target 0 m),
// ≤ 0 opens them (ctrl 255, target 0.08 m each).
// Termination: never, except a non-finite physics state (see ./core.ts), which ends the episode.
// Episode length 1000: the reference's arm files call their 150 a recommendation (it only
// scales a time feature they do not observe); the paper's runs use the training script's
// episode length of 1000 (time at goal up to 762 on Push Easy).
//
// Reset (every episode, fresh draws from the env's rng, in this order):
//   cube x, y = task centre + U(−s, s) each, z = 0.07 (it drops 4 cm onto the table), no rotation;
//   goal x, y = task goal centre + U(−g, g) each, z = 0.03 (a cube resting on the table);
//   arm: home pose (1.571, 0.742, 0, −1.571, 0, 3.054, 1.449) rad, fingers 0.04 m each, at rest
//   (the reference's arm noise is 0).
//   | task                | cube centre, s        | goal centre, g          | impratio |
//   | arm_push_easy-v1    | (−0.1, 0.6), 0.1      | (0.1, 0.6, 0.03), 0.1   | 1        |
//   | arm_push_hard-v1    | (−0.25, 0.65), 0.25   | (0.25, 0.65, 0.03), 0.25| 1        |
//   | arm_binpick_hard-v1 | (−0.3, 0.6), 0.15     | (0.3, 0.6, 0.03), 0.15  | 10       |
// Every task's fingers slide 0.08 m each (the paper's code, scaling-crl; JaxGCRL's later push
// files narrowed them to 0.05). Binpick: two bins (inner 0.37 × 0.37 m, walls 0.066 m high)
// centred at (∓0.3, 0.6).
//
// Departures from the reference (physics ones: ./arm_model.ts):
//   | what                      | reference                                  | here             |
//   | observation               | 18 values, the last a scaled actuator force | 17 (as SPEC §6)  |
//   |                           | (JaxGCRL's files; scaling-crl's have 17)    |                  |
//   | episode length            | 1000 in the training script                 | 1000             |
//   | goal marker in qpos       | qpos 7..13 (a ghost body)                   | none             |
// MuJoCo's data is fully reset (mj_resetData) first, so an episode depends only on its rng and
// actions, not on what the instance simulated before (solver warm-starts included).

import type { MainModule } from "@mujoco/mujoco";
import type { Rng } from "../../random.js";
import type { EnvCore } from "../core.js";
import type { EnvSpec } from "../types.js";
import {
  ARM_CUBE_HALF,
  ARM_CUBE_QPOS,
  ARM_FINGER_OPEN_CTRL,
  ARM_FINGER_QPOS,
  ARM_FRAME_SKIP,
  ARM_JOINT_QPOS,
  ARM_NQ,
  ARM_NU,
  ARM_NV,
  type ArmScene,
  armXml,
} from "./arm_model.js";
import { familyEntry, MujocoCore, type MujocoViews, mujocoViews } from "./core.js";
import { loadMujoco, modelFromXml } from "./loader.js";

/** The body whose origin the observation reads as the end-effector (the reference's body index 8). */
export const ARM_EEF_BODY = "link7";
/** Home pose of joints 1..7 (rad) and the two fingers (m): the reference's start. */
export const ARM_HOME_QPOS: readonly number[] = [1.571, 0.742, 0, -1.571, 0, 3.054, 1.449, 0.04, 0.04];
/** Height the cube is dropped from at a reset (its centre, m). */
export const ARM_CUBE_DROP_Z = 0.07;
/** Height of every goal: the centre of a cube resting on the table. */
export const ARM_GOAL_Z = ARM_CUBE_HALF;
/**
 * Servo-target (ctrl) range [low, high] (rad) of joints 1..7 over actions in [-1, 1]; low = high
 * means held. Joints 3–7 settle at a fraction of their target (ARM_SERVO_RATIO in ./arm_model.ts).
 */
export const ARM_TARGET_RANGES: readonly (readonly [number, number])[] = [
  [0.3491, 2.7925],
  [0, 1.48353],
  [0, 0],
  [-3.0718, -0.0698],
  [0, 0],
  [2.3562, 3.7525],
  [1.4487, 1.4487],
];
/** Which joint (0-based) each of the action's first four values drives: joints 1, 2, 4, 6. */
export const ARM_ACTION_JOINTS: readonly number[] = [0, 1, 3, 5];

const STATE_DIM = 17;
const GOAL_DIM = 3;

/** One arm task's reset distributions and scene. */
export interface ArmTask {
  /** Centre (x, y) of the cube's start and the half-width of its uniform noise. */
  readonly cube: readonly [number, number];
  readonly cubeNoise: number;
  /** Centre (x, y) of the goal and the half-width of its uniform noise (z is always 0.03). */
  readonly goal: readonly [number, number];
  readonly goalNoise: number;
  readonly scene: ArmScene;
}

/** The arm tasks by id: the reference's arm_push_easy.py, arm_push_hard.py and arm_binpick_hard.py. */
export const ARM_TASKS: Readonly<Record<string, ArmTask>> = {
  "arm_push_easy-v1": {
    cube: [-0.1, 0.6],
    cubeNoise: 0.1,
    goal: [0.1, 0.6],
    goalNoise: 0.1,
    scene: { bins: [], cubeStart: [-0.1, 0.6, ARM_CUBE_DROP_Z], impratio: 1 },
  },
  "arm_push_hard-v1": {
    cube: [-0.25, 0.65],
    cubeNoise: 0.25,
    goal: [0.25, 0.65],
    goalNoise: 0.25,
    scene: { bins: [], cubeStart: [-0.25, 0.65, ARM_CUBE_DROP_Z], impratio: 1 },
  },
  "arm_binpick_hard-v1": {
    cube: [-0.3, 0.6],
    cubeNoise: 0.15,
    goal: [0.3, 0.6],
    goalNoise: 0.15,
    scene: {
      bins: [
        { x: -0.3, y: 0.6 },
        { x: 0.3, y: 0.6 },
      ],
      cubeStart: [-0.3, 0.6, ARM_CUBE_DROP_Z],
      impratio: 10,
    },
  },
};

function armSpec(id: string, description: string): EnvSpec {
  return {
    id,
    description,
    stateDim: STATE_DIM,
    goalDim: GOAL_DIM,
    obsDim: STATE_DIM + GOAL_DIM,
    actionDim: 5,
    goalIndices: [0, 1, 2],
    episodeLength: 1000,
    successThreshold: 0.1,
    frameSkip: ARM_FRAME_SKIP,
  };
}

/** The arm tasks. Pure data: importing this file does not load MuJoCo. */
export const ARM_ENV_SPECS: EnvSpec[] = [
  armSpec("arm_push_easy-v1", "7-joint arm pushes a cube from (-0.1, 0.6) ± 0.1 to a goal at (0.1, 0.6, 0.03) ± 0.1"),
  armSpec("arm_push_hard-v1", "7-joint arm pushes a cube from (-0.25, 0.65) ± 0.25 to a goal at (0.25, 0.65, 0.03) ± 0.25"),
  armSpec("arm_binpick_hard-v1", "7-joint arm moves a cube from the bin at (-0.3, 0.6) into the bin at (0.3, 0.6) (goal ± 0.15)"),
];

/**
 * Builds `count` arm envs of task `spec` on this thread: one compiled MjModel shared by `count`
 * MjData instances. Loads the MuJoCo module on first use.
 */
export async function createArmCore(spec: EnvSpec, count: number): Promise<EnvCore> {
  const task = familyEntry("createArmCore", "arm", ARM_TASKS, spec, count);
  const mj = await loadMujoco();
  return new ArmCore(mj, spec, count, task);
}

/** Typed views of one MjData, into the wasm heap. */
interface ArmViews extends MujocoViews {
  readonly xpos: Float64Array; // [nbody, 3]
  readonly cvel: Float64Array; // [nbody, 6] (angular, linear) about the tree's com
  readonly subtreeCom: Float64Array; // [nbody, 3]
}

/**
 * The arm cores' class. createArmCore returns one; beyond EnvCore it can read and overwrite the
 * physics state of an env (tests, scripted scenes, state restore).
 */
export class ArmCore extends MujocoCore<ArmViews> {
  private readonly task: ArmTask;
  private readonly goal: Float64Array; // [count, 3]
  private readonly eef: number; // body id of the observed end-effector: link7
  private readonly eefRoot: number; // body id of the root of its kinematic tree
  private readonly targetMid = new Float64Array(7); // [7] target at action 0 of each joint
  private readonly targetHalf = new Float64Array(7); // [7] target change per unit action

  constructor(mj: MainModule, spec: EnvSpec, count: number, task: ArmTask) {
    const model = modelFromXml(mj, armXml(task.scene), spec.id);
    const eef = mj.mj_name2id(model, mj.mjtObj.mjOBJ_BODY.value, ARM_EEF_BODY);
    if (eef < 0 || model.nq !== ARM_NQ || model.nv !== ARM_NV || model.nu !== ARM_NU) {
      model.delete();
      throw new Error(`${spec.id}: the arm model does not have the expected layout (${ARM_EEF_BODY} body, nq ${ARM_NQ}, nv ${ARM_NV}, nu ${ARM_NU})`);
    }
    super(mj, spec, count, model, (d) => ({
      ...mujocoViews(d),
      xpos: d.xpos as Float64Array,
      cvel: d.cvel as Float64Array,
      subtreeCom: d.subtree_com as Float64Array,
    }));
    this.task = task;
    this.goal = new Float64Array(count * GOAL_DIM);
    for (let j = 0; j < 7; j++) {
      const [lo, hi] = ARM_TARGET_RANGES[j];
      this.targetMid[j] = (lo + hi) / 2;
      this.targetHalf[j] = (hi - lo) / 2;
    }
    this.eef = eef;
    this.eefRoot = (model.body_rootid as Int32Array)[eef];
  }

  reset(i: number, rng: Rng, obs: Float32Array): void {
    const model = this.liveModel();
    const data = this.data[i];
    this.mj.mj_resetData(model, data);
    const { qpos, qvel } = this.views[i];
    const t = this.task;
    qpos[ARM_CUBE_QPOS] = t.cube[0] + rng.uniformIn(-t.cubeNoise, t.cubeNoise);
    qpos[ARM_CUBE_QPOS + 1] = t.cube[1] + rng.uniformIn(-t.cubeNoise, t.cubeNoise);
    qpos[ARM_CUBE_QPOS + 2] = ARM_CUBE_DROP_Z;
    qpos[ARM_CUBE_QPOS + 3] = 1;
    qpos[ARM_CUBE_QPOS + 4] = 0;
    qpos[ARM_CUBE_QPOS + 5] = 0;
    qpos[ARM_CUBE_QPOS + 6] = 0;
    for (let k = 0; k < 9; k++) qpos[ARM_JOINT_QPOS + k] = ARM_HOME_QPOS[k];
    qvel.fill(0);
    this.goal[GOAL_DIM * i] = t.goal[0] + rng.uniformIn(-t.goalNoise, t.goalNoise);
    this.goal[GOAL_DIM * i + 1] = t.goal[1] + rng.uniformIn(-t.goalNoise, t.goalNoise);
    this.goal[GOAL_DIM * i + 2] = ARM_GOAL_Z;
    this.mj.mj_forward(model, data);
    this.writeObs(i, obs);
  }

  step(i: number, action: Float32Array, _rng: Rng, obs: Float32Array): boolean {
    this.liveModel();
    const { ctrl } = this.views[i];
    for (let j = 0; j < 7; j++) ctrl[j] = this.targetMid[j];
    for (let a = 0; a < 4; a++) {
      const j = ARM_ACTION_JOINTS[a];
      ctrl[j] = this.targetMid[j] + this.targetHalf[j] * action[a];
    }
    const finger = action[4] > 0 ? 0 : ARM_FINGER_OPEN_CTRL;
    ctrl[7] = finger;
    ctrl[8] = finger;
    return !this.controlStep(i, obs);
  }

  private writeGoal(i: number, obs: Float32Array): void {
    for (let k = 0; k < GOAL_DIM; k++) obs[STATE_DIM + k] = this.goal[GOAL_DIM * i + k];
  }

  protected writeObs(i: number, obs: Float32Array): void {
    const { qpos, xpos, cvel, subtreeCom: com } = this.views[i];
    for (let k = 0; k < 3; k++) obs[k] = qpos[ARM_CUBE_QPOS + k];
    for (let k = 0; k < 7; k++) obs[3 + k] = qpos[ARM_JOINT_QPOS + k];
    const h = 3 * this.eef;
    const px = xpos[h];
    const py = xpos[h + 1];
    const pz = xpos[h + 2];
    obs[10] = px;
    obs[11] = py;
    obs[12] = pz;
    // cvel is the spatial velocity (ω, v) of the body at its tree's centre of mass c, in world
    // axes; the point p moves at v + ω × (p − c).
    const c = 3 * this.eefRoot;
    const rx = px - com[c];
    const ry = py - com[c + 1];
    const rz = pz - com[c + 2];
    const v = 6 * this.eef;
    const wx = cvel[v];
    const wy = cvel[v + 1];
    const wz = cvel[v + 2];
    obs[13] = cvel[v + 3] + wy * rz - wz * ry;
    obs[14] = cvel[v + 4] + wz * rx - wx * rz;
    obs[15] = cvel[v + 5] + wx * ry - wy * rx;
    obs[16] = qpos[ARM_FINGER_QPOS] + qpos[ARM_FINGER_QPOS + 1];
    this.writeGoal(i, obs);
  }
}
