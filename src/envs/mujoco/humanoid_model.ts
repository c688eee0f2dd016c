// MJCF of the Humanoid (SPEC §6), written for this project. Geometry, masses (from geom volumes at
// density 1000), joints, ranges, stiffness, damping and armature follow the well-known MuJoCo /
// Brax humanoid (the reference's envs/assets/humanoid.xml): a chest (capsule + head + upper waist),
// a lower waist with two abdomen hinges (z, y), a pelvis with the third (x), two legs of
// hip (3 hinges: x, z, y) / knee / foot, two arms of shoulder (2 hinges) / elbow / hand; 17 torque
// motors with ctrl in [-0.4, 0.4] and gears 100 (abdomen, hip x/z), 300 (hip y), 200 (knee),
// 25 (arms). The standard model's left/right asymmetries (right hip y armature 0.008 vs 0.01,
// left knee stiffness 1 vs 0) are kept. The feet are sphere geoms of the shin bodies (the
// standard model hangs them on joint-less foot bodies, which Brax and MuJoCo's fusestatic merge
// into the shins anyway): 11 bodies below the world.
//
// Not in this model: the reference's "target" body (a sphere of mass 1 on two slide joints that
// touches nothing and only marks the goal); the env writes its entries into the observation itself
// (see humanoid.ts), so the physics does not carry two extra degrees of freedom.
//
// Solver: Newton, 4 iterations, 8 line-search iterations (the reference's XML asks for 8
// iterations, its MJX setting for 1 iteration and 4 line searches; Newton usually converges in
// 1–3 with warm starts, the cap only bounds the rare hard step). Implicit joint damping
// (eulerdamp) is off as in the reference's MJX setting: damping ≤ 5 on these inertias is stable
// explicitly at 3 ms, and it saves a factorisation per step. Islands are off (one articulated
// body); MuJoCo's auto-reset is off so that a blow-up reaches the env (see humanoid.ts).
//
// Contacts (the standard model lets every body geom touch the floor and walls, never each other).
// Here the floor only meets the legs (thighs, shins, feet) and the hands: while the humanoid is
// healthy (chest z ≥ 1.0, see humanoid.ts) no other geom can reach the floor: the pelvis hangs
// ≤ 0.43 below the chest and the arms are ≤ 0.62 long. Walls meet every body geom. No
// self-collision, as in the standard model. With MuJoCo's rule "contact if
// (contype_a & conaffinity_b) || (contype_b & conaffinity_a)":
//   floor   contype 0, conaffinity 1      legs, hands       contype 3, conaffinity 0
//   walls   contype 0, conaffinity 2      other body geoms  contype 2, conaffinity 0

import type { WallBox } from "./ant_model.js";

/** Number of generalised coordinates: free joint (3 + 4) + 17 hinges. */
export const HUMANOID_NQ = 24;
/** Number of degrees of freedom: free joint (6) + 17 hinges. */
export const HUMANOID_NV = 23;
/** Number of motors. */
export const HUMANOID_NU = 17;
/** Number of bodies below the world: torso, lwaist, pelvis, 2 × (thigh, shin), 2 × (upper arm, lower arm). */
export const HUMANOID_NBODY = 11;

/** Motor control range: actions in [-1, 1] map linearly onto [-0.4, 0.4]. */
export const HUMANOID_CTRL_LIMIT = 0.4;

/** Initial chest height: the standard model's; the feet start ~0.1 above the floor and drop. */
export const HUMANOID_INIT_Z = 1.4;

/**
 * Standing pose the reset noise is added to (the model's qpos0): chest at (0, 0, 1.4), identity
 * orientation, every hinge at 0 (the knees' 0 is just outside their range [-160°, -2°]; the
 * joint limit pushes them in on the first steps, as in the standard model).
 */
// [HUMANOID_NQ]
export const HUMANOID_INIT_QPOS: readonly number[] = [0, 0, HUMANOID_INIT_Z, 1, 0, 0, 0, ...new Array<number>(17).fill(0)];

/** Joint names in qpos/qvel order (the body-tree order). */
export const HUMANOID_JOINTS: readonly string[] = [
  "abdomen_z",
  "abdomen_y",
  "abdomen_x",
  "right_hip_x",
  "right_hip_z",
  "right_hip_y",
  "right_knee",
  "left_hip_x",
  "left_hip_z",
  "left_hip_y",
  "left_knee",
  "right_shoulder1",
  "right_shoulder2",
  "right_elbow",
  "left_shoulder1",
  "left_shoulder2",
  "left_elbow",
];

/** Motor order (action order) with gears: the standard humanoid's. */
export const HUMANOID_MOTORS: readonly { readonly joint: string; readonly gear: number }[] = [
  { joint: "abdomen_y", gear: 100 },
  { joint: "abdomen_z", gear: 100 },
  { joint: "abdomen_x", gear: 100 },
  { joint: "right_hip_x", gear: 100 },
  { joint: "right_hip_z", gear: 100 },
  { joint: "right_hip_y", gear: 300 },
  { joint: "right_knee", gear: 200 },
  { joint: "left_hip_x", gear: 100 },
  { joint: "left_hip_z", gear: 100 },
  { joint: "left_hip_y", gear: 300 },
  { joint: "left_knee", gear: 200 },
  { joint: "right_shoulder1", gear: 25 },
  { joint: "right_shoulder2", gear: 25 },
  { joint: "right_elbow", gear: 25 },
  { joint: "left_shoulder1", gear: 25 },
  { joint: "left_shoulder2", gear: 25 },
  { joint: "left_elbow", gear: 25 },
];

/** Body names in MuJoCo body order (body 1 … 11). */
export const HUMANOID_BODIES: readonly string[] = [
  "torso",
  "lwaist",
  "pelvis",
  "right_thigh",
  "right_shin",
  "left_thigh",
  "left_shin",
  "right_upper_arm",
  "right_lower_arm",
  "left_upper_arm",
  "left_lower_arm",
];

/** Physics options of one task: step (s) and steps per control step. */
export interface HumanoidPhysics {
  readonly timestep: number;
  readonly frameSkip: number;
}

function fmt(v: number): string {
  return Number(v.toFixed(6)).toString();
}

function vec(v: readonly number[]): string {
  return v.map(fmt).join(" ");
}

interface HingeDef {
  readonly name: string;
  readonly axis: readonly number[];
  /** Range in degrees. */
  readonly range: readonly [number, number];
  readonly armature: number;
  readonly damping: number;
  readonly stiffness: number;
  readonly pos?: readonly number[];
}

function hinge(j: HingeDef): string {
  const pos = j.pos === undefined ? "" : ` pos="${vec(j.pos)}"`;
  return `<joint name="${j.name}" type="hinge" axis="${vec(j.axis)}"${pos} range="${fmt(j.range[0])} ${fmt(j.range[1])}" armature="${fmt(j.armature)}" damping="${fmt(j.damping)}" stiffness="${fmt(j.stiffness)}"/>`;
}

// Contact classes (see the header).
const LIMB = 'contype="3" conaffinity="0"';
const BODY = 'contype="2" conaffinity="0"';

function capsule(name: string, from: readonly number[], to: readonly number[], r: number, cls: string): string {
  return `<geom name="${name}" type="capsule" fromto="${vec(from)} ${vec(to)}" size="${fmt(r)}" ${cls}/>`;
}

function sphere(name: string, pos: readonly number[], r: number, cls: string): string {
  return `<geom name="${name}" type="sphere" pos="${vec(pos)}" size="${fmt(r)}" ${cls}/>`;
}

/** One leg; s = −1 for the right leg (−y side), +1 for the left. */
function legXml(side: "right" | "left", indent: string): string {
  const s = side === "right" ? -1 : 1;
  const hipArmatureY = side === "right" ? 0.008 : 0.01;
  const kneeStiffness = side === "right" ? 0 : 1;
  const i1 = `${indent}  `;
  const i2 = `${i1}  `;
  return [
    `${indent}<body name="${side}_thigh" pos="${vec([0, 0.1 * s, -0.04])}">`,
    `${i1}${hinge({ name: `${side}_hip_x`, axis: [-s, 0, 0], range: [-25, 5], armature: 0.01, damping: 5, stiffness: 10 })}`,
    `${i1}${hinge({ name: `${side}_hip_z`, axis: [0, 0, -s], range: [-60, 35], armature: 0.01, damping: 5, stiffness: 10 })}`,
    `${i1}${hinge({ name: `${side}_hip_y`, axis: [0, 1, 0], range: [-110, 20], armature: hipArmatureY, damping: 5, stiffness: 20 })}`,
    `${i1}${capsule(`${side}_thigh`, [0, 0, 0], [0, -0.01 * s, -0.34], 0.06, LIMB)}`,
    `${i1}<body name="${side}_shin" pos="${vec([0, -0.01 * s, -0.403])}">`,
    `${i2}${hinge({ name: `${side}_knee`, axis: [0, -1, 0], pos: [0, 0, 0.02], range: [-160, -2], armature: 0.006, damping: 1, stiffness: kneeStiffness })}`,
    `${i2}${capsule(`${side}_shin`, [0, 0, 0], [0, 0, -0.3], 0.049, LIMB)}`,
    `${i2}${sphere(`${side}_foot`, [0, 0, -0.35], 0.075, LIMB)}`,
    `${i1}</body>`,
    `${indent}</body>`,
  ].join("\n");
}

/** One arm; s = −1 for the right arm (−y side), +1 for the left. */
function armXml(side: "right" | "left", indent: string): string {
  const s = side === "right" ? -1 : 1;
  // The standard model's shoulder ranges mirror: right [-85, 60], left [-60, 85].
  const range: [number, number] = side === "right" ? [-85, 60] : [-60, 85];
  const i1 = `${indent}  `;
  const i2 = `${i1}  `;
  return [
    `${indent}<body name="${side}_upper_arm" pos="${vec([0, 0.17 * s, 0.06])}">`,
    `${i1}${hinge({ name: `${side}_shoulder1`, axis: [2, -s, 1], range, armature: 0.0068, damping: 1, stiffness: 1 })}`,
    `${i1}${hinge({ name: `${side}_shoulder2`, axis: [0, s, 1], range, armature: 0.0051, damping: 1, stiffness: 1 })}`,
    `${i1}${capsule(`${side}_upper_arm`, [0, 0, 0], [0.16, 0.16 * s, -0.16], 0.04, BODY)}`,
    `${i1}<body name="${side}_lower_arm" pos="${vec([0.18, 0.18 * s, -0.18])}">`,
    `${i2}${hinge({ name: `${side}_elbow`, axis: [0, -1, -s], range: [-90, 50], armature: 0.0028, damping: 1, stiffness: 0 })}`,
    `${i2}${capsule(`${side}_lower_arm`, [0.01, -0.01 * s, 0.01], [0.17, -0.17 * s, 0.17], 0.031, BODY)}`,
    `${i2}${sphere(`${side}_hand`, [0.18, -0.18 * s, 0.18], 0.04, LIMB)}`,
    `${i1}</body>`,
    `${indent}</body>`,
  ].join("\n");
}

/**
 * The Humanoid's MJCF for `physics` (step and frame skip; only the step goes into the model), with
 * optional wall boxes. `memoryBytes` bounds MuJoCo's per-instance arena (see antXml): humanoids
 * falling about the U-maze under random actions peaked at 17 KiB, one started inside a wall block
 * at 38 KiB.
 */
export function humanoidXml(physics: HumanoidPhysics, walls: readonly WallBox[] = [], memoryBytes = 256 * 1024): string {
  if (!(physics.timestep > 0) || !Number.isInteger(physics.frameSkip) || physics.frameSkip < 1) {
    throw new Error(`humanoidXml: timestep must be positive and frameSkip a positive integer, got ${physics.timestep} and ${physics.frameSkip}`);
  }
  const wallGeoms = walls
    .map(
      (w, n) =>
        `\n    <geom name="wall_${n}" type="box" pos="${vec([w.x, w.y, w.hz])}" size="${vec([w.hx, w.hy, w.hz])}" contype="0" conaffinity="2" rgba="0.7 0.5 0.3 1"/>`,
    )
    .join("");
  const motors = HUMANOID_MOTORS.map((m) => `\n    <motor name="${m.joint}" joint="${m.joint}" gear="${fmt(m.gear)}"/>`).join("");
  const ind = "      ";
  return `<mujoco model="fathom_humanoid">
  <compiler angle="degree" inertiafromgeom="true"/>
  <size memory="${Math.ceil(memoryBytes / 1024)}K"/>
  <option timestep="${fmt(physics.timestep)}" iterations="4" ls_iterations="8">
    <flag eulerdamp="disable" island="disable" autoreset="disable"/>
  </option>
  <default>
    <joint limited="true"/>
    <geom condim="3" density="1000" rgba="0.8 0.6 0.4 1"/>
    <motor ctrllimited="true" ctrlrange="${fmt(-HUMANOID_CTRL_LIMIT)} ${fmt(HUMANOID_CTRL_LIMIT)}"/>
  </default>
  <worldbody>
    <geom name="floor" type="plane" size="100 100 0.125" friction="1 0.1 0.1" contype="0" conaffinity="1" rgba="0.8 0.9 0.8 1"/>${wallGeoms}
    <body name="torso" pos="0 0 ${fmt(HUMANOID_INIT_Z)}">
      <freejoint name="root"/>
      ${capsule("torso", [0, -0.07, 0], [0, 0.07, 0], 0.07, BODY)}
      ${sphere("head", [0, 0, 0.19], 0.09, BODY)}
      ${capsule("uwaist", [-0.01, -0.06, -0.12], [-0.01, 0.06, -0.12], 0.06, BODY)}
      <body name="lwaist" pos="-0.01 0 -0.26" quat="1 0 -0.002 0">
        ${capsule("lwaist", [0, -0.06, 0], [0, 0.06, 0], 0.06, BODY)}
        ${hinge({ name: "abdomen_z", axis: [0, 0, 1], pos: [0, 0, 0.065], range: [-45, 45], armature: 0.02, damping: 5, stiffness: 20 })}
        ${hinge({ name: "abdomen_y", axis: [0, 1, 0], pos: [0, 0, 0.065], range: [-75, 30], armature: 0.02, damping: 5, stiffness: 10 })}
        <body name="pelvis" pos="0 0 -0.165" quat="1 0 -0.002 0">
          ${hinge({ name: "abdomen_x", axis: [1, 0, 0], pos: [0, 0, 0.1], range: [-35, 35], armature: 0.02, damping: 5, stiffness: 10 })}
          ${capsule("butt", [-0.02, -0.07, 0], [-0.02, 0.07, 0], 0.09, BODY)}
${legXml("right", `${ind}    `)}
${legXml("left", `${ind}    `)}
        </body>
      </body>
${armXml("right", ind)}
${armXml("left", ind)}
    </body>
  </worldbody>
  <actuator>${motors}
  </actuator>
</mujoco>
`;
}
