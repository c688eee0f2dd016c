// The robot-arm family (src/envs/mujoco/arm.ts): specs and reset distributions as the reference's
// arm tasks, a scripted arm that pushes, presses on and grips the cube (contacts hold: no cube
// through the table or the fingers), the gripper command, the bin walls, the observation against
// the physics state, and the wasm heap growing under it (determinism: checker.test.ts).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { MainModule, MjData, MjModel } from "@mujoco/mujoco";
import {
  ARM_ACTION_JOINTS,
  ARM_EEF_BODY,
  ARM_ENV_SPECS,
  ARM_HOME_QPOS,
  ARM_TARGET_RANGES,
  ARM_TASKS,
  ArmCore,
  createArmCore,
} from "../../src/envs/mujoco/arm.js";
import {
  ARM_BIN_INNER_HALF,
  ARM_CUBE_HALF,
  ARM_FINGER_QPOS,
  ARM_JOINT_QPOS,
  ARM_GAIN,
  ARM_KP,
  ARM_KV,
  ARM_NQ,
  ARM_SERVO_RATIO,
  ARM_NV,
  type ArmScene,
  armXml,
} from "../../src/envs/mujoco/arm_model.js";
import { loadMujoco } from "../../src/envs/mujoco/loader.js";
import type { EnvSpec } from "../../src/envs/types.js";
import { episodeRng, familyCore, specIn } from "./family.js";
import type { Rng } from "../../src/random.js";

const OBS = 20;
const CUBE_W = 2 * ARM_CUBE_HALF; // 0.06
/** Flange height of the scripted arm's moves above the table (the fingertips 8.7 cm above it). */
const HIGH = 0.22;
/** Distance from the base (y) where the scripted arm works: see placeCube. */
const REACH_Y = 0.78;
/** Fingertips (the pads' far ends) below the flange when the hand points down. */
const TIP_BELOW_FLANGE = 0.0584 + 0.075;
/** The observed end-effector (link7's origin) above the flange when the hand points down. */
const EEF_ABOVE_FLANGE = 0.107;

const spec = (id: string): EnvSpec => specIn(ARM_ENV_SPECS, id);
const armCore = (id: string, count: number): Promise<ArmCore> => familyCore(createArmCore, ArmCore, spec(id), count);
const rngFor = episodeRng;

/**
 * A scripted arm: inverse kinematics of the flange (the hand's origin) with the hand pointing
 * straight down, on a private copy of the model. Joints 3, 5 stay at 0 and joint 7 where its held
 * target puts it; joint 1 aims at the point, joints 2 and 4 reach its radius and height (Newton on
 * the model's own forward kinematics), joint 6 = joint 2 − joint 4 keeps the hand vertical. The
 * servos of joints 3–7 settle at a fraction of their target and all of them sag under gravity by
 * torque / kp, so the action is the target that makes each servo settle at the solved angle:
 * ctrl = (kp·q + gravity torque(q)) / gain.
 */
class ScriptedArm {
  private readonly mj: MainModule;
  private readonly model: MjModel;
  private readonly data: MjData;
  private readonly hand: number;
  private readonly eef: number;
  private last: [number, number] | undefined; // the last solution [j2, j4]

  constructor(mj: MainModule, scene: ArmScene) {
    this.mj = mj;
    this.model = mj.MjModel.from_xml_string(armXml(scene));
    this.data = new mj.MjData(this.model);
    this.hand = mj.mj_name2id(this.model, mj.mjtObj.mjOBJ_BODY.value, "hand");
    this.eef = mj.mj_name2id(this.model, mj.mjtObj.mjOBJ_BODY.value, ARM_EEF_BODY);
  }

  /**
   * Joint angles 1..7 for j1, j2, j4 with the hand as near vertical as joint 6 allows (j6 = j2 − j4
   * clamped into the angles its servo can settle at), and joints 3, 5, 7 held.
   */
  static joints(j1: number, j2: number, j4: number): number[] {
    const [lo6, hi6] = ARM_TARGET_RANGES[5];
    // 0.03 rad inside the range leaves the servo room for the gravity torque it must add.
    const j6 = Math.min(Math.max(j2 - j4, lo6 * ARM_SERVO_RATIO[5] + 0.03), hi6 * ARM_SERVO_RATIO[5] - 0.03);
    return [j1, j2, 0, j4, 0, j6, ARM_TARGET_RANGES[6][0] * ARM_SERVO_RATIO[6]];
  }

  /** Flange position and hand z-axis for joint angles j1, j2, j4 (hand as vertical as it gets). */
  flange(j1: number, j2: number, j4: number): number[] {
    return this.flangeAt(ScriptedArm.joints(j1, j2, j4));
  }

  private pose(joints: ArrayLike<number>): void {
    const q = this.data.qpos as Float64Array;
    q.fill(0);
    q[3] = 1;
    for (let j = 0; j < 7; j++) q[ARM_JOINT_QPOS + j] = joints[j];
    this.mj.mj_kinematics(this.model, this.data);
  }

  /** Flange position and hand z-axis for joint angles 1..7. */
  flangeAt(joints: ArrayLike<number>): number[] {
    this.pose(joints);
    const x = this.data.xpos as Float64Array;
    const r = this.data.xmat as Float64Array;
    const h = this.hand;
    return [x[3 * h], x[3 * h + 1], x[3 * h + 2], r[9 * h + 2], r[9 * h + 5], r[9 * h + 8]];
  }

  /** The observed end-effector (link7's origin) for joint angles 1..7. */
  eefAt(joints: ArrayLike<number>): number[] {
    this.pose(joints);
    const x = this.data.xpos as Float64Array;
    return [x[3 * this.eef], x[3 * this.eef + 1], x[3 * this.eef + 2]];
  }

  /** Gravity torque on joints 1..7 at rest in the given pose (what the servos must hold). */
  gravity(joints: ArrayLike<number>): number[] {
    const q = this.data.qpos as Float64Array;
    q.fill(0);
    q[3] = 1;
    q[2] = -1; // the cube far below the table, out of every contact
    for (let j = 0; j < 7; j++) q[ARM_JOINT_QPOS + j] = joints[j];
    (this.data.qvel as Float64Array).fill(0);
    this.mj.mj_forward(this.model, this.data);
    const bias = this.data.qfrc_bias as Float64Array;
    return Array.from(bias.subarray(6, 13));
  }

  /** Joint angles [j1, j2, j4] that put the flange at (x, y, z), hand as near down as it gets. */
  solve(x: number, y: number, z: number): number[] {
    const j1 = Math.atan2(y, x);
    const radius = Math.hypot(x, y);
    const err = (a: number, b: number): [number, number] => {
      const p = this.flange(j1, a, b);
      return [Math.hypot(p[0], p[1]) - radius, p[2] - z];
    };
    // Start from the last solution (the moves are continuous), the first time from the best point
    // of a coarse grid over the angles the servos can settle at: the map has several branches.
    let [j2, j4] = this.last ?? [0, 0];
    if (this.last === undefined) {
      let best = Infinity;
      for (let a = 0.05; a < 1.45; a += 0.05) {
        for (let b = -1.7; b < -0.06; b += 0.05) {
          const e = err(a, b);
          const n = Math.hypot(e[0], e[1]);
          if (n < best) [best, j2, j4] = [n, a, b];
        }
      }
    }
    for (let it = 0; it < 100; it++) {
      const e = err(j2, j4);
      if (Math.hypot(e[0], e[1]) < 1e-8) break;
      const h = 1e-6;
      const ea = err(j2 + h, j4);
      const eb = err(j2, j4 + h);
      const a00 = (ea[0] - e[0]) / h;
      const a01 = (eb[0] - e[0]) / h;
      const a10 = (ea[1] - e[1]) / h;
      const a11 = (eb[1] - e[1]) / h;
      const det = a00 * a11 - a01 * a10;
      // Damped steps: the clamp of joint 6 makes the map only piecewise smooth.
      j2 -= 0.7 * ((a11 * e[0] - a01 * e[1]) / det);
      j4 -= 0.7 * ((-a10 * e[0] + a00 * e[1]) / det);
    }
    const e = err(j2, j4);
    assert.ok(Math.hypot(e[0], e[1]) < 1e-4, `no joint angles put the flange at (${x}, ${y}, ${z}): residual ${e}`);
    this.last = [j2, j4];
    return [j1, j2, j4];
  }

  /** The env action that targets flange (x, y, z), hand down; grip > 0 closes the gripper. */
  action(x: number, y: number, z: number, grip: number, out = new Float32Array(5)): Float32Array {
    const [j1, j2, j4] = this.solve(x, y, z);
    const joints = ScriptedArm.joints(j1, j2, j4);
    const g = this.gravity(joints);
    for (let a = 0; a < 4; a++) {
      const j = ARM_ACTION_JOINTS[a];
      const ctrl = (ARM_KP[j] * joints[j] + g[j]) / ARM_GAIN[j];
      const [lo, hi] = ARM_TARGET_RANGES[j];
      const v = (ctrl - (lo + hi) / 2) / ((hi - lo) / 2);
      assert.ok(Math.abs(v) <= 1, `target (${x}, ${y}, ${z}) needs action ${a} = ${v}, outside [-1, 1]`);
      out[a] = v;
    }
    out[4] = grip;
    return out;
  }

  dispose(): void {
    this.data.delete();
    this.model.delete();
  }
}

/** Steps env 0 of `core` while moving the flange target linearly from `from` to `to`; calls `each` after every step. */
function move(
  core: ArmCore,
  arm: ScriptedArm,
  rng: Rng,
  obs: Float32Array,
  from: readonly number[],
  to: readonly number[],
  steps: number,
  grip: number,
  each: (obs: Float32Array) => void = () => {},
): void {
  const act = new Float32Array(5);
  for (let s = 1; s <= steps; s++) {
    const u = s / steps;
    arm.action(from[0] + (to[0] - from[0]) * u, from[1] + (to[1] - from[1]) * u, from[2] + (to[2] - from[2]) * u, grip, act);
    assert.equal(core.step(0, act, rng, obs), false, "an arm episode never terminates");
    each(obs);
  }
}

/**
 * Puts env 0's cube at rest on the table at (x, y), unrotated, keeping the arm's state; returns
 * (x, y). The scripted tests work at y = REACH_Y: with the reference's servos (joints 4 and 6 reach
 * only 4/7 and 1/2 of their targets) the hand can point straight down near the table only there.
 */
function placeCube(core: ArmCore, obs: Float32Array, x: number, y: number): [number, number] {
  const qpos = new Float64Array(ARM_NQ);
  const qvel = new Float64Array(ARM_NV);
  core.getState(0, qpos, qvel);
  qpos[0] = x;
  qpos[1] = y;
  qpos[2] = ARM_CUBE_HALF;
  qpos.fill(0, 3, 7);
  qpos[3] = 1;
  qvel.fill(0, 0, 6);
  core.setState(0, qpos, qvel, obs);
  return [x, y];
}

/** One arm_push_easy env (episode rng 4) with its cube placed at (0, REACH_Y), the scripted arm, and `go`: move() on them; fn runs on it, then both are disposed. */
async function cubeScene(
  fn: (s: { core: ArmCore; obs: Float32Array; cx: number; cy: number; go: (from: readonly number[], to: readonly number[], steps: number, grip: number, each?: (obs: Float32Array) => void) => void }) => void,
): Promise<void> {
  const mj = await loadMujoco();
  const arm = new ScriptedArm(mj, ARM_TASKS["arm_push_easy-v1"].scene);
  const core = await armCore("arm_push_easy-v1", 1);
  try {
    const obs = new Float32Array(OBS);
    const rng = rngFor(4, 0);
    core.reset(0, rng, obs);
    const [cx, cy] = placeCube(core, obs, 0, REACH_Y);
    fn({ core, obs, cx, cy, go: (from, to, steps, grip, each) => move(core, arm, rng, obs, from, to, steps, grip, each) });
  } finally {
    core.dispose();
    arm.dispose();
  }
}

describe("Arm specs", () => {
  it("lists the three arm tasks with the SPEC §6 shapes", () => {
    assert.deepEqual(ARM_ENV_SPECS.map((s) => s.id).sort(), ["arm_binpick_hard-v1", "arm_push_easy-v1", "arm_push_hard-v1"]);
    for (const s of ARM_ENV_SPECS) {
      assert.equal(s.stateDim, 17);
      assert.equal(s.goalDim, 3);
      assert.equal(s.obsDim, 20);
      assert.equal(s.actionDim, 5);
      assert.deepEqual(s.goalIndices, [0, 1, 2]);
      assert.equal(s.successThreshold, 0.1);
      assert.equal(s.episodeLength, 1000);
      assert.equal(s.evalId, undefined);
    }
  });

  it("rejects unknown ids, bad counts and a bad impratio", async () => {
    await assert.rejects(createArmCore({ ...spec("arm_push_easy-v1"), id: "arm_juggle-v1" }, 1), /unknown arm env id "arm_juggle-v1"/);
    await assert.rejects(createArmCore(spec("arm_push_easy-v1"), 0), /positive integer/);
    assert.throws(() => armXml({ ...ARM_TASKS["arm_push_easy-v1"].scene, impratio: 0 }), /impratio/);
  });
});

describe("Arm model", () => {
  it("has the reference's servos, joints, masses and solver (scaling-crl's XML as Brax loads it)", async () => {
    const mj = await loadMujoco();
    for (const [id, impratio] of [
      ["arm_push_easy-v1", 1],
      ["arm_binpick_hard-v1", 10],
    ] as const) {
      const m = mj.MjModel.from_xml_string(armXml(ARM_TASKS[id].scene));
      try {
        assert.equal(m.nq, ARM_NQ);
        assert.equal(m.nv, ARM_NV);
        assert.equal(m.nu, 9);
        assert.equal(m.opt.timestep, 0.002);
        assert.equal(m.opt.iterations, 6);
        assert.equal(m.opt.ls_iterations, 12);
        assert.equal(m.opt.cone, mj.mjtCone.mjCONE_PYRAMIDAL.value);
        assert.equal(m.opt.impratio, impratio);
        const gain = m.actuator_gainprm as Float64Array; // [nu, 10]
        const bias = m.actuator_biasprm as Float64Array; // [nu, 10]
        // The reference's gainprm / biasprm: joints 3–7 are not true position servos.
        const refGain = [4500, 4500, 2000, 2000, 1000, 1000, 1000, 0.15686, 0.15686];
        const refKp = [4500, 4500, 3500, 3500, 2000, 2000, 2000, 500, 500];
        for (let a = 0; a < 9; a++) {
          assert.equal(gain[10 * a], refGain[a], `actuator ${a + 1} gain`);
          assert.equal(bias[10 * a], 0);
          assert.equal(bias[10 * a + 1], -refKp[a], `actuator ${a + 1} kp`);
          assert.equal(bias[10 * a + 2], -refKp[a] / 10, `actuator ${a + 1} kv`);
        }
        assert.deepEqual([...ARM_GAIN, ...ARM_KP, ...ARM_KV], [...refGain.slice(0, 7), ...refKp.slice(0, 7), ...refKp.slice(0, 7).map((k) => k / 10)]);
        const ctrlRange = m.actuator_ctrlrange as Float64Array;
        assert.deepEqual(Array.from(ctrlRange.subarray(14, 18)), [0, 255, 0, 255], "finger ctrl 0..255 as the reference");
        // Joints 1..7: no armature or damping (the fused link0's class does not reach them), the
        // fingers 0.1 and 5; only joints 2, 4, 6 and the fingers (0..0.08 m) are limited.
        const armature = Array.from(m.dof_armature as Float64Array).slice(6);
        const damping = Array.from(m.dof_damping as Float64Array).slice(6);
        assert.deepEqual(armature, [0, 0, 0, 0, 0, 0, 0, 0.1, 0.1]);
        assert.deepEqual(damping, [0, 0, 0, 0, 0, 0, 0, 5, 5]);
        const range = Array.from(m.jnt_range as Float64Array).slice(2); // joint 0 is the cube's
        assert.deepEqual(range, [0, 0, -1.7628, 1.7628, 0, 0, -3.0718, -0.0698, 0, 0, -0.0175, 3.7525, 0, 0, 0, 0.08, 0, 0.08]);
        // The reference's measured masses; the hand has none (fused into link7 under Brax).
        const mass = Array.from(m.body_mass as Float64Array).filter((x) => x > 0);
        const refMass = [0.216, 4.970684, 0.646926, 3.228604, 3.587895, 1.225946, 1.666555, 0.735522, 0.015, 0.015];
        assert.equal(mass.length, refMass.length, `bodies with mass: ${mass}`);
        for (let b = 0; b < refMass.length; b++) assert.ok(Math.abs(mass[b] - refMass[b]) < 1e-9, `body mass ${mass[b]} vs ${refMass[b]}`);
      } finally {
        m.delete();
      }
    }
  });

  it("touches only through the reference's contact pairs, each with MuJoCo's pair defaults (μ 1)", async () => {
    const mj = await loadMujoco();
    const m = mj.MjModel.from_xml_string(armXml(ARM_TASKS["arm_binpick_hard-v1"].scene));
    try {
      const ct = m.geom_contype as Int32Array;
      const ca = m.geom_conaffinity as Int32Array;
      for (let g = 0; g < m.ngeom; g++) assert.equal(ct[g] | ca[g], 0, "no geom collides by contype/conaffinity");
      const name = (g: number) => mj.mj_id2name(m, mj.mjtObj.mjOBJ_GEOM.value, g);
      const g1 = m.pair_geom1 as Int32Array;
      const g2 = m.pair_geom2 as Int32Array;
      const pairs = new Set<string>();
      for (let p = 0; p < m.npair; p++) pairs.add([name(g1[p]), name(g2[p])].sort().join("-"));
      const walls = [0, 1].flatMap((n) => [0, 1, 2, 3].map((w) => `bin${n}_wall${w}`));
      const expected = ["cube-table", "cube-hand", "cube-left_pad", "cube-right_pad", "hand-table", "left_pad-table", "right_pad-table", "left_pad-right_pad"];
      for (const w of walls) for (const g of ["cube", "left_pad", "right_pad", "hand"]) expected.push([g, w].sort().join("-"));
      assert.equal(m.npair, 40);
      assert.deepEqual([...pairs].sort(), expected.map((e) => e.split("-").sort().join("-")).sort());
      const fr = m.pair_friction as Float64Array;
      const solref = m.pair_solref as Float64Array;
      const solimp = m.pair_solimp as Float64Array;
      for (let p = 0; p < m.npair; p++) {
        assert.deepEqual(Array.from(fr.subarray(5 * p, 5 * p + 5)), [1, 1, 0.005, 0.0001, 0.0001]);
        assert.equal((m.pair_dim as Int32Array)[p], 3);
        assert.deepEqual(Array.from(solref.subarray(2 * p, 2 * p + 2)), [0.02, 1]);
        assert.deepEqual(Array.from(solimp.subarray(5 * p, 5 * p + 3)), [0.9, 0.95, 0.001]);
      }
      const push = mj.MjModel.from_xml_string(armXml(ARM_TASKS["arm_push_easy-v1"].scene));
      assert.equal(push.npair, 8, "the push scenes have no bins");
      push.delete();
    } finally {
      m.delete();
    }
  });

  it("has the Panda's kinematics: flange at (0.088, 0, 0.926) at zero angles; link7 107 mm above it", async () => {
    const mj = await loadMujoco();
    const arm = new ScriptedArm(mj, ARM_TASKS["arm_push_easy-v1"].scene);
    try {
      const zeroJoints = [0, 0, 0, 0, 0, 0, 0];
      const zero = arm.flangeAt(zeroJoints);
      assert.ok(Math.hypot(zero[0] - 0.088, zero[1], zero[2] - 0.926) < 1e-6, `zero-pose flange ${zero.slice(0, 3)}`);
      assert.ok(Math.abs(zero[5] + 1) < 1e-9, "at zero angles the hand points straight down");
      const eef = arm.eefAt(zeroJoints);
      assert.ok(Math.hypot(eef[0] - 0.088, eef[1], eef[2] - 1.033) < 1e-6, `zero-pose link7 ${eef}`);
      const core = await armCore("arm_push_easy-v1", 1);
      try {
        const obs = new Float32Array(OBS);
        core.reset(0, rngFor(1, 0), obs);
        const home = arm.eefAt(ARM_HOME_QPOS);
        for (let k = 0; k < 3; k++) assert.ok(Math.abs(obs[10 + k] - home[k]) < 1e-6, `obs[${10 + k}] is link7's origin`);
      } finally {
        core.dispose();
      }
    } finally {
      arm.dispose();
    }
  });

  it("rests under a zero action where the reference's arm rests (servos at 4/7 and 1/2 of target)", async () => {
    // Reference: scaling-crl panda_push_easy.xml fused as Brax loads it, the same MuJoCo build,
    // 200 control steps of a zero action from the home pose (scripts/reference/arm-reference.mts):
    // joints (1.5708, 0.7517, −0.0002, −0.9030, −0.0003, 1.5264, 0.7243), fingers 0.08 m,
    // link7 at (0.0001, 0.7529, 0.5463), flange at (0.0001, 0.7392, 0.4401).
    const refJoints = [1.5708, 0.7517, -0.0002, -0.903, -0.0003, 1.5264, 0.7243];
    const core = await armCore("arm_push_easy-v1", 1);
    try {
      const obs = new Float32Array(OBS);
      const rng = rngFor(13, 0);
      core.reset(0, rng, obs);
      const act = new Float32Array(5);
      for (let t = 0; t < 200; t++) core.step(0, act, rng, obs);
      for (let j = 0; j < 7; j++) assert.ok(Math.abs(obs[3 + j] - refJoints[j]) < 0.002, `joint ${j + 1} rests at ${obs[3 + j]}, reference ${refJoints[j]}`);
      assert.ok(Math.hypot(obs[10] - 0.0001, obs[11] - 0.7529, obs[12] - 0.5463) < 0.002, `link7 at (${obs[10]}, ${obs[11]}, ${obs[12]})`);
      assert.ok(Math.abs(obs[16] - 0.16) < 1e-3, `open gripper: finger frames 0.16 m apart, got ${obs[16]}`);
      // The fraction each servo reaches: the same rest with true position servos would put joint 4
      // at −1.571 and joint 6 at 3.054; the reference's are far from that.
      assert.ok(Math.abs(obs[6] - -1.571 * ARM_SERVO_RATIO[3]) < 0.01 && Math.abs(obs[8] - 3.054 * ARM_SERVO_RATIO[5]) < 0.01);
    } finally {
      core.dispose();
    }
  });
});

describe("Arm resets", () => {
  for (const id of Object.keys(ARM_TASKS)) {
    it(`${id}: cube and goal uniform in the reference's boxes, arm at home and at rest`, async () => {
      const t = ARM_TASKS[id];
      const core = await armCore(id, 1);
      try {
        const obs = new Float32Array(OBS);
        const rng = rngFor(2, 0);
        const lo = [Infinity, Infinity, Infinity, Infinity];
        const hi = [-Infinity, -Infinity, -Infinity, -Infinity];
        const seen = new Set<string>();
        const n = 400;
        for (let e = 0; e < n; e++) {
          core.reset(0, rng, obs);
          const v = [obs[0] - t.cube[0], obs[1] - t.cube[1], obs[17] - t.goal[0], obs[18] - t.goal[1]];
          for (let k = 0; k < 4; k++) {
            const s = k < 2 ? t.cubeNoise : t.goalNoise;
            assert.ok(Math.abs(v[k]) <= s + 1e-6, `${id}: reset ${e}: offset ${k} = ${v[k]} outside ±${s}`);
            lo[k] = Math.min(lo[k], v[k]);
            hi[k] = Math.max(hi[k], v[k]);
          }
          assert.ok(Math.abs(obs[2] - 0.07) < 1e-6, `cube starts at z 0.07, got ${obs[2]}`);
          assert.ok(Math.abs(obs[19] - 0.03) < 1e-6, `goal z is 0.03, got ${obs[19]}`);
          for (let j = 0; j < 7; j++) assert.ok(Math.abs(obs[3 + j] - ARM_HOME_QPOS[j]) < 1e-6, `joint ${j + 1} starts at home`);
          for (let k = 13; k < 16; k++) assert.equal(obs[k], 0, "the arm starts at rest");
          assert.ok(Math.abs(obs[16] - 0.08) < 1e-6, `finger gap starts at 0.08, got ${obs[16]}`);
          seen.add(`${obs[0]},${obs[1]},${obs[17]},${obs[18]}`);
        }
        assert.equal(seen.size, n, "every reset draws a fresh cube start and goal");
        // Uniform over the box: 400 draws leave less than 3 % of the width uncovered at either end.
        for (let k = 0; k < 4; k++) {
          const s = k < 2 ? t.cubeNoise : t.goalNoise;
          assert.ok(lo[k] < -0.94 * s && hi[k] > 0.94 * s, `${id}: offset ${k} spans only [${lo[k]}, ${hi[k]}] of ±${s}`);
        }
      } finally {
        core.dispose();
      }
    });
  }
});

describe("Arm physics", () => {
  it("never terminates; random actions keep the state finite and the cube on or above the table", async () => {
    for (const id of ["arm_push_hard-v1", "arm_binpick_hard-v1"]) {
      const core = await armCore(id, 2);
      try {
        const obs = new Float32Array(OBS);
        const act = new Float32Array(5);
        let zMin = Infinity;
        for (let i = 0; i < 2; i++) {
          const rng = rngFor(3, i);
          core.reset(i, rng, obs);
          for (let t = 0; t < 150; t++) {
            for (let k = 0; k < 5; k++) act[k] = rng.uniformIn(-1, 1);
            assert.equal(core.step(i, act, rng, obs), false, `${id} env ${i} terminated at step ${t}`);
            for (let k = 0; k < OBS; k++) assert.ok(Number.isFinite(obs[k]), `${id}: obs[${k}] not finite`);
            if (t > 5) zMin = Math.min(zMin, obs[2]);
          }
        }
        assert.equal(core.divergences, 0);
        assert.ok(zMin > ARM_CUBE_HALF - 0.003, `${id}: cube centre sank to z ${zMin} (table top at 0, half edge 0.03)`);
      } finally {
        core.dispose();
      }
    }
  });

  it("a scripted sweep of the closed gripper through the cube pushes it along", () =>
    cubeScene(({ obs, cx, cy, go }) => {
      // Fingertips 1.7 cm above the table, from 12 cm on the cube's −x side to 12 cm past it.
      const z = 0.15;
      go([cx - 0.12, cy, HIGH], [cx - 0.12, cy, HIGH], 20, 1);
      go([cx - 0.12, cy, HIGH], [cx - 0.12, cy, z], 20, 1);
      assert.ok(Math.hypot(obs[0] - cx, obs[1] - cy) < 0.005, "the approach must not touch the cube");
      go([cx - 0.12, cy, z], [cx + 0.12, cy, z], 40, 1);
      const dx = obs[0] - cx;
      assert.ok(dx > 0.08, `the sweep should push the cube ≥ 8 cm along +x, moved it ${dx}`);
      assert.ok(Math.abs(obs[2] - ARM_CUBE_HALF) < 0.003, `the pushed cube stays on the table, z ${obs[2]}`);
    }));

  it("the gripper pressing down on the cube pushes it neither into the table nor itself through the table", () =>
    cubeScene(({ core, obs, cx, cy, go }) => {
      go([cx, cy, HIGH], [cx, cy, HIGH], 20, 1);
      let cubeZ = Infinity;
      let flangeZ = Infinity;
      let pressed = 0;
      // The flange is driven to z = 0.137, 5.6 cm below where the closed fingertips meet the cube's top.
      const low = TIP_BELOW_FLANGE + 0.004;
      go([cx, cy, HIGH], [cx, cy, low], 20, 1, (o) => {
        cubeZ = Math.min(cubeZ, o[2]);
        if (o[12] - EEF_ABOVE_FLANGE > 2 * ARM_CUBE_HALF + TIP_BELOW_FLANGE - 0.01 && Math.hypot(o[0] - cx, o[1] - cy) < 0.02) pressed++;
      });
      go([cx, cy, low], [cx, cy, low], 30, 1, (o) => {
        cubeZ = Math.min(cubeZ, o[2]);
      });
      assert.ok(pressed >= 2, `the fingers should have rested on the cube's top for a few steps (${pressed})`);
      // The reference's soft contacts let the pressed cube sink ~4 mm into the table, not through it.
      assert.ok(cubeZ > ARM_CUBE_HALF - 0.007, `the pressed cube sank to z ${cubeZ}`);
      // Without the cube: the same fingers driven 1.2 cm below the table's surface stop on it.
      placeCube(core, obs, 0.4, REACH_Y);
      go([cx, cy, HIGH], [cx, cy, HIGH], 20, 1);
      const below = TIP_BELOW_FLANGE - 0.012;
      go([cx, cy, HIGH], [cx, cy, below], 20, 1, (o) => {
        flangeZ = Math.min(flangeZ, o[12] - EEF_ABOVE_FLANGE);
      });
      go([cx, cy, below], [cx, cy, below], 20, 1, (o) => {
        flangeZ = Math.min(flangeZ, o[12] - EEF_ABOVE_FLANGE);
      });
      assert.ok(flangeZ > TIP_BELOW_FLANGE - 0.006, `the fingertips went through the table: flange z ${flangeZ}`);
      assert.ok(flangeZ < TIP_BELOW_FLANGE + 0.01, `the fingertips should have reached the table: flange z ${flangeZ}`);
    }));

  it("closing the gripper around the cube stops at its width and lifts it (μ 1, no pass-through)", () =>
    cubeScene(({ core, obs, cx, cy, go }) => {
      // Open, down around the cube: the pads span z 0.007..0.087, the hand stays above its top.
      const grip = TIP_BELOW_FLANGE + 0.007;
      go([cx, cy, HIGH], [cx, cy, HIGH], 20, -1);
      go([cx, cy, HIGH], [cx, cy, grip], 20, -1);
      assert.ok(Math.abs(obs[16] - 0.16) < 0.002, `open gap ${obs[16]}`);
      assert.ok(Math.hypot(obs[0] - cx, obs[1] - cy) < 0.005, "the open gripper must come down around the cube without moving it");
      let gapMin = Infinity;
      go([cx, cy, grip], [cx, cy, grip], 20, 1, (o) => {
        gapMin = Math.min(gapMin, o[16]);
      });
      // The pads' inner faces sit 0.5 mm inside the finger frames: closed on the cube, the frames
      // are 6 cm − 1 mm apart.
      // The reference's soft contacts (solref 0.02) let each pad sink ~1 mm into the cube under the
      // fingers' ~15 N, ~3 mm while they close at speed; a pass-through would close the gap to 0.
      assert.ok(gapMin > CUBE_W - 0.001 - 0.008, `the fingers closed to ${gapMin}, through the ${CUBE_W} m cube`);
      assert.ok(obs[16] > CUBE_W - 0.001 - 0.004, `closed on the cube, the finger frames are ${obs[16]} apart`);
      assert.ok(obs[16] < CUBE_W * Math.SQRT2, `the gripper should be closed on the cube, gap ${obs[16]}`);
      go([cx, cy, grip], [cx, cy, HIGH], 20, 1, (o) => {
        gapMin = Math.min(gapMin, o[16]);
      });
      assert.ok(gapMin > CUBE_W - 0.001 - 0.008, `the fingers closed to ${gapMin} while holding the cube`);
      const lift = HIGH - grip;
      assert.ok(obs[2] > ARM_CUBE_HALF + 0.8 * lift, `the gripped cube should rise with the hand (by ${lift} m), z ${obs[2]}`);
      // The same closing without the cube in between shuts the fingers.
      placeCube(core, obs, cx + 0.3, cy);
      go([cx, cy, HIGH], [cx, cy, HIGH], 5, -1);
      go([cx, cy, HIGH], [cx, cy, HIGH], 10, 1);
      assert.ok(obs[16] < 0.003, `with nothing between them the fingers close, gap ${obs[16]}`);
    }));

  it("the gripper command opens and closes the fingers", async () => {
    for (const [id, open] of [
      ["arm_push_easy-v1", 0.16],
      ["arm_binpick_hard-v1", 0.16],
    ] as const) {
      const core = await armCore(id, 1);
      try {
        const obs = new Float32Array(OBS);
        const rng = rngFor(5, 0);
        core.reset(0, rng, obs);
        const act = new Float32Array(5); // arm targets at the home pose (the middle of each range)
        const run = (grip: number, steps: number): number[] => {
          act[4] = grip;
          const gaps = [obs[16]];
          for (let t = 0; t < steps; t++) {
            core.step(0, act, rng, obs);
            gaps.push(obs[16]);
          }
          return gaps;
        };
        const opening = run(-1, 10);
        assert.ok(opening[1] > opening[0] + 0.005, `${id}: open must widen the gap at once (${opening[0]} → ${opening[1]})`);
        assert.ok(Math.abs(opening[10] - open) < 0.002, `${id}: fully open gap ${opening[10]}, expected ${open}`);
        const closing = run(1, 10);
        for (let t = 1; t <= 10; t++) assert.ok(closing[t] <= closing[t - 1] + 1e-4, `${id}: closing gap grew at step ${t}`);
        assert.ok(closing[10] < 0.003, `${id}: closed gap ${closing[10]}`);
        // Any positive value closes, any other value opens (the reference's threshold at 0).
        act[4] = 0;
        core.step(0, act, rng, obs);
        assert.ok(obs[16] > closing[10] + 0.005, `${id}: a gripper command of 0 opens`);
      } finally {
        core.dispose();
      }
    }
  });

  it("binpick: the bin walls stop a cube shoved at them; on the open table the same shove carries it off", async () => {
    const shove = async (id: string): Promise<[number, number]> => {
      const core = await armCore(id, 1);
      try {
        const obs = new Float32Array(OBS);
        const rng = rngFor(6, 0);
        core.reset(0, rng, obs);
        const qpos = new Float64Array(ARM_NQ);
        const qvel = new Float64Array(ARM_NV);
        core.getState(0, qpos, qvel);
        // 2 m/s towards +x from 5.5 cm short of the wall: on the open table (μ 1) it slides ~0.2 m.
        qpos[0] = -0.2;
        qpos[1] = 0.6;
        qpos[2] = ARM_CUBE_HALF;
        qvel.fill(0);
        qvel[0] = 2;
        core.setState(0, qpos, qvel, obs);
        let xMax = -Infinity;
        const act = new Float32Array(5);
        for (let t = 0; t < 20; t++) {
          core.step(0, act, rng, obs);
          xMax = Math.max(xMax, obs[0]);
        }
        return [xMax, obs[0]];
      } finally {
        core.dispose();
      }
    };
    const wall = -0.3 + ARM_BIN_INNER_HALF; // inner face of bin A's +x wall
    const [inBin, rest] = await shove("arm_binpick_hard-v1");
    // The reference's soft contacts (solref 0.02) let a cube hitting the wall at 2 m/s sink ~1.2 cm
    // into it before it springs back; it must neither cross the wall nor stay in it.
    assert.ok(inBin < wall, `the wall at x = ${wall} must stop the cube, got cube x ${inBin}`);
    assert.ok(rest < wall - ARM_CUBE_HALF + 0.003, `the cube must come to rest inside the bin, at x ${rest}`);
    const [open] = await shove("arm_push_easy-v1");
    assert.ok(open > wall + 0.05, `without bins the shove should carry the cube past x = ${wall + 0.05}, got ${open}`);
  });
});

describe("Arm observation and wasm heap", () => {
  it("observation = cube position, joint angles, link7 position and velocity, finger gap, goal", async () => {
    const mj = await loadMujoco();
    const arm = new ScriptedArm(mj, ARM_TASKS["arm_push_hard-v1"].scene);
    const core = await armCore("arm_push_hard-v1", 1);
    try {
      const obs = new Float32Array(OBS);
      const rng = rngFor(7, 0);
      core.reset(0, rng, obs);
      const goal = Array.from(obs.subarray(17));
      const qpos = new Float64Array(ARM_NQ);
      const qvel = new Float64Array(ARM_NV);
      const prev = new Float32Array(OBS);
      let checked = 0;
      // A smooth move of the flange 0.3 m in x over 30 steps (1.5 s): the velocity is ~0.2 m/s.
      move(core, arm, rng, obs, [-0.15, REACH_Y, HIGH], [-0.15, REACH_Y, HIGH], 20, -1);
      prev.set(obs);
      move(core, arm, rng, obs, [-0.15, REACH_Y, HIGH], [0.15, REACH_Y, HIGH], 30, -1, (o) => {
        core.getState(0, qpos, qvel);
        for (let k = 0; k < 3; k++) assert.equal(o[k], Math.fround(qpos[k]), `obs[${k}] is the cube's qpos`);
        for (let j = 0; j < 7; j++) assert.equal(o[3 + j], Math.fround(qpos[ARM_JOINT_QPOS + j]), `obs[${3 + j}] is joint ${j + 1}`);
        assert.equal(o[16], Math.fround(qpos[ARM_FINGER_QPOS] + qpos[ARM_FINGER_QPOS + 1]), "obs[16] is the finger gap");
        assert.deepEqual(Array.from(o.subarray(17)), goal, "the goal is constant within an episode");
        // Velocity vs the displacement over the step. Loose: the servo targets step once per
        // control step, so the flange surges after each step and slows before the next one (at the
        // steady 0.2 m/s the end-of-step velocity reads ~15 % below the mean).
        for (let k = 0; k < 3; k++) {
          const fd = (o[10 + k] - prev[10 + k]) / 0.05;
          const mean = (o[13 + k] + prev[13 + k]) / 2;
          assert.ok(Math.abs(fd - mean) < 0.02 + 0.25 * Math.abs(fd), `eef velocity[${k}] ${mean} vs displacement/dt ${fd}`);
        }
        if (Math.abs(o[13]) > 0.1) checked++;
        prev.set(o);
      });
      assert.ok(checked >= 10, `the flange should have moved at > 0.1 m/s for a while (${checked} steps)`);
      // setState recomputes the kinematics: link7 is where the forward kinematics puts it, and its
      // velocity is the derivative of that position along the joint velocities.
      core.getState(0, qpos, qvel);
      const joints = qpos.slice(ARM_JOINT_QPOS, ARM_JOINT_QPOS + 7);
      const jointVel = [0.4, -0.3, 0.2, 0.5, -0.6, 0.3, 0.7]; // rad/s
      qvel.fill(0);
      for (let j = 0; j < 7; j++) qvel[6 + j] = jointVel[j];
      core.setState(0, qpos, qvel, obs);
      const f = arm.eefAt(joints);
      for (let k = 0; k < 3; k++) assert.ok(Math.abs(obs[10 + k] - f[k]) < 1e-6, `link7[${k}] after setState`);
      const h = 1e-6;
      const plus = arm.eefAt(joints.map((q, j) => q + h * jointVel[j]));
      const minus = arm.eefAt(joints.map((q, j) => q - h * jointVel[j]));
      for (let k = 0; k < 3; k++) {
        const d = (plus[k] - minus[k]) / (2 * h);
        assert.ok(Math.abs(obs[13 + k] - d) < 1e-5, `link7 velocity[${k}] ${obs[13 + k]} vs d(link7)/dt ${d}`);
      }
      assert.ok(Math.hypot(obs[13], obs[14], obs[15]) > 0.1, "the test velocity should be substantial");
    } finally {
      core.dispose();
      arm.dispose();
    }
  });

  it("keeps working after the wasm heap grows under it (views are re-fetched)", async () => {
    const a = await armCore("arm_push_easy-v1", 1);
    const obs = new Float32Array(OBS);
    const act = new Float32Array(5);
    const rng = rngFor(12, 0);
    a.reset(0, rng, obs);
    const oldView = (a as unknown as { views: { xpos: Float64Array }[] }).views[0].xpos;
    const big = await armCore("arm_push_hard-v1", 200);
    try {
      assert.equal(oldView.length, 0, "the heap did not grow: this test no longer exercises detached views");
      for (let t = 0; t < 5; t++) assert.equal(a.step(0, act, rng, obs), false);
      const qpos = new Float64Array(ARM_NQ);
      const qvel = new Float64Array(ARM_NV);
      a.getState(0, qpos, qvel);
      assert.equal(obs[3], Math.fround(qpos[ARM_JOINT_QPOS]));
      // 5 steps of a zero action from home: link7 on its way from (0, 0.75, 0.40) to its rest.
      assert.ok(Math.abs(obs[10]) < 0.01 && Math.abs(obs[11] - 0.75) < 0.03 && obs[12] > 0.38 && obs[12] < 0.56, `link7 (${obs[10]}, ${obs[11]}, ${obs[12]})`);
    } finally {
      big.dispose();
      a.dispose();
    }
  });
});
