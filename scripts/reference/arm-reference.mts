// Compares Fathom's arm model with the paper's (scaling-crl's panda XMLs as Brax loads them) in the
// same MuJoCo build (the project's WebAssembly MuJoCo 3.14): the zero-action rest pose, the
// trajectory under the same actions (contacts make it chaotic: compare the first steps), the body
// masses and solver options. Prints JSON. The numbers pinned in
// test/envs/arm.test.ts come from here.
//
//   git clone https://github.com/wang-kevin3290/scaling-crl /tmp/scaling-crl
//   python3 scripts/reference/brax_fuse.py /tmp/scaling-crl/envs/assets/panda_push_easy.xml /tmp/push_easy.fused.xml --strip-visual
//   node --import tsx scripts/reference/arm-reference.mts /tmp/push_easy.fused.xml arm_push_easy-v1
//
// The fused reference's qpos: cube 0..6, goal marker 7..13, joints 14..20, fingers 21..22; body 9
// (Brax index 8) is link7. Its actuators take the same ctrl as the env writes (arm.ts).
import type { MainModule, MjData, MjModel } from "@mujoco/mujoco";
import { readFileSync } from "node:fs";
import { ARM_ACTION_JOINTS, ARM_HOME_QPOS, ARM_TARGET_RANGES, ARM_TASKS } from "../../src/envs/mujoco/arm.js";
import { ARM_FRAME_SKIP, ARM_JOINT_QPOS, armXml } from "../../src/envs/mujoco/arm_model.js";
import { loadMujoco } from "../../src/envs/mujoco/loader.js";
import { Rng, keyFromSeed } from "../../src/random.js";

const [refPath, envId = "arm_push_easy-v1"] = process.argv.slice(2);
if (refPath === undefined) throw new Error("usage: arm-reference.mts FUSED_REFERENCE.xml [ENV_ID]");
const mj: MainModule = await loadMujoco();

interface Side {
  m: MjModel;
  d: MjData;
  joint: number; // qpos of joint1
  cube: number; // qpos of the cube
  eef: number; // body id of link7
  hand: number; // body id of the flange (the fused reference has none: link7 + 0.107 along its z)
}

function side(xml: string, joint: number, cube: number): Side {
  const m = mj.MjModel.from_xml_string(xml);
  const d = new mj.MjData(m);
  return {
    m,
    d,
    joint,
    cube,
    eef: mj.mj_name2id(m, mj.mjtObj.mjOBJ_BODY.value, "link7"),
    hand: mj.mj_name2id(m, mj.mjtObj.mjOBJ_BODY.value, "hand"),
  };
}

const task = ARM_TASKS[envId];
const ours = side(armXml(task.scene), ARM_JOINT_QPOS, 0);
const ref = side(readFileSync(refPath, "utf8"), 14, 0);
// arm_envs.py: sys.tree_replace({"opt.timestep": 0.002, "opt.iterations": 6, "opt.ls_iterations": 12})
ref.m.opt.timestep = 0.002;
// ITERATIONS=100 (both models) shows how much of the difference is the 6-iteration solver's
// residual, which depends on the order of the constraints (the two models order bodies differently).
const iterations = Number(process.env.ITERATIONS ?? 6);
ref.m.opt.iterations = iterations;
ours.m.opt.iterations = iterations;
// MJX, which the reference ran on, has no constraint islands; Fathom's model turns them off too.
ref.m.opt.disableflags |= mj.mjtDisableBit.mjDSBL_ISLAND.value;
ref.m.opt.ls_iterations = 12;

function reset(s: Side, cubeXY: readonly number[]): void {
  mj.mj_resetData(s.m, s.d);
  const q = s.d.qpos as Float64Array;
  q[s.cube] = cubeXY[0];
  q[s.cube + 1] = cubeXY[1];
  q[s.cube + 2] = 0.07;
  q.fill(0, s.cube + 3, s.cube + 7);
  q[s.cube + 3] = 1;
  for (let k = 0; k < 9; k++) q[s.joint + k] = ARM_HOME_QPOS[k];
  mj.mj_forward(s.m, s.d);
}

function ctrlFor(action: ArrayLike<number>, out: Float64Array): void {
  for (let j = 0; j < 7; j++) out[j] = (ARM_TARGET_RANGES[j][0] + ARM_TARGET_RANGES[j][1]) / 2;
  for (let a = 0; a < 4; a++) {
    const [lo, hi] = ARM_TARGET_RANGES[ARM_ACTION_JOINTS[a]];
    out[ARM_ACTION_JOINTS[a]] = (lo + hi) / 2 + ((hi - lo) / 2) * action[a];
  }
  out[7] = out[8] = action[4] > 0 ? 0 : 255;
}

function step(s: Side, ctrl: Float64Array): void {
  (s.d.ctrl as Float64Array).set(ctrl);
  for (let k = 0; k < ARM_FRAME_SKIP; k++) mj.mj_step(s.m, s.d);
}

function joints(s: Side): number[] {
  return Array.from((s.d.qpos as Float64Array).subarray(s.joint, s.joint + 9));
}

function bodyPos(s: Side, b: number): number[] {
  return Array.from((s.d.xpos as Float64Array).subarray(3 * b, 3 * b + 3));
}

/** The flange: the hand body, or 0.107 m along link7's z where the hand is fused away. */
function flange(s: Side): number[] {
  if (s.hand >= 0) return bodyPos(s, s.hand);
  const p = bodyPos(s, s.eef);
  const r = (s.d.xmat as Float64Array).subarray(9 * s.eef, 9 * s.eef + 9);
  return [p[0] + 0.107 * r[2], p[1] + 0.107 * r[5], p[2] + 0.107 * r[8]];
}

const round = (v: number[]) => v.map((x) => Number(x.toFixed(4)));
const ctrl = new Float64Array(9);

// 1. Rest pose under a zero action (gripper open: a4 = 0 opens), 200 control steps (10 s).
const rest: Record<string, unknown> = {};
for (const [name, s] of [["reference", ref], ["fathom", ours]] as const) {
  reset(s, task.cube);
  ctrlFor([0, 0, 0, 0, 0], ctrl);
  for (let t = 0; t < 200; t++) step(s, ctrl);
  rest[name] = { joints: round(joints(s)), link7: round(bodyPos(s, s.eef)), flange: round(flange(s)) };
}

// 2. The same random actions on both (one action held for 5 control steps, as a slow policy).
const rng = new Rng(keyFromSeed(7));
let worstJoint = 0;
let worstFirstStep = 0; // before any contact: the models' free dynamics
let worstFirst10 = 0; // the cube lands and settles; the solver's residual differs with constraint order
let worstCube = 0;
let worstEef = 0;
const episodes = 10;
const steps = 200;
for (let e = 0; e < episodes; e++) {
  const cube = [task.cube[0] + rng.uniformIn(-task.cubeNoise, task.cubeNoise), task.cube[1] + rng.uniformIn(-task.cubeNoise, task.cubeNoise)];
  reset(ref, cube);
  reset(ours, cube);
  const act = [0, 0, 0, 0, 0];
  for (let t = 0; t < steps; t++) {
    if (t % 5 === 0) for (let k = 0; k < 5; k++) act[k] = rng.uniformIn(-1, 1);
    ctrlFor(act, ctrl);
    step(ref, ctrl);
    step(ours, ctrl);
    const jr = joints(ref);
    const jo = joints(ours);
    let dj = 0;
    for (let k = 0; k < 9; k++) dj = Math.max(dj, Math.abs(jr[k] - jo[k]));
    worstJoint = Math.max(worstJoint, dj);
    if (t === 0) worstFirstStep = Math.max(worstFirstStep, dj);
    if (t < 10) worstFirst10 = Math.max(worstFirst10, dj);
    const cr = (ref.d.qpos as Float64Array).subarray(0, 3);
    const co = (ours.d.qpos as Float64Array).subarray(0, 3);
    for (let k = 0; k < 3; k++) worstCube = Math.max(worstCube, Math.abs(cr[k] - co[k]));
    const er = bodyPos(ref, ref.eef);
    const eo = bodyPos(ours, ours.eef);
    for (let k = 0; k < 3; k++) worstEef = Math.max(worstEef, Math.abs(er[k] - eo[k]));
  }
}

const mass = (s: Side) => round(Array.from(s.m.body_mass as Float64Array).filter((x) => x > 0));
console.log(
  JSON.stringify(
    {
      env: envId,
      rest,
      random_actions: { episodes, steps, solver_iterations: iterations, max_abs_joint_diff_step_1: worstFirstStep, max_abs_joint_diff_steps_1_10: worstFirst10, max_abs_joint_diff: worstJoint, max_abs_cube_diff: worstCube, max_abs_link7_diff: worstEef },
      body_masses: { reference: mass(ref), fathom: mass(ours) },
      options: {
        reference: { cone: ref.m.opt.cone, impratio: ref.m.opt.impratio, npair: ref.m.npair },
        fathom: { cone: ours.m.opt.cone, impratio: ours.m.opt.impratio, npair: ours.m.npair },
      },
    },
    null,
    1,
  ),
);
