// MJCF of the robot arm (SPEC §6), written for this project: a 7-joint arm with the kinematics
// of a Franka Panda (the reference's panda_* models), a two-finger parallel gripper, a 6 cm cube
// on a table (the plane z = 0, the arm's base at the origin) and, for the bin-picking task, two
// open bins. Primitive geoms only; physics step 0.002 s, repeated 25 times per control step
// (env dt 0.05 s).
//
// Kinematic chain (body frames, metres; the Panda's published joint offsets):
//   link1  z 0.333 above the base           joint1  about z, ±2.8973
//   link2  rotated −90° about x             joint2  ±1.7628
//   link3  0.316 along link2's −y, +90° x   joint3  ±2.8973
//   link4  0.0825 along x, +90° x           joint4  [−3.0718, −0.0698]
//   link5  (−0.0825, 0.384, 0), −90° x      joint5  ±2.8973
//   link6  +90° x                           joint6  [−0.0175, 3.7525]
//   link7  0.088 along x, +90° x            joint7  ±2.8973
//   hand   0.107 along link7's z, −45° about z (the flange; the observation's end-effector)
//   fingers 0.0584 beyond the hand origin, sliding apart along ±y of the hand, each in
//           [0, fingerRange]; a joint equality keeps them symmetric.
// At joint angles 0 the flange is at (0.088, 0, 0.926) pointing down, as on the Panda.
// Link masses are the Panda's rounded to 10 g; their inertias come from the links' capsules
// (inertiafromgeom), which are this model's own coarse shapes of the links.
//
// Actuators: MuJoCo `position` servos on all 9 joints. Arm: kp 4500, 4500, 3500, 3500, 2000,
// 2000, 2000 and kv = kp / 10, force limits 87 N·m (joints 1–4) and 12 N·m (5–7), as the stiffness
// of the reference's servos. Fingers: kp 500, kv 50, ±500 N, target in [0, fingerRange].
// Joints: armature 0.1 and damping 5, as the reference. The velocity gains are too stiff for
// explicit Euler at this step (kv / (armature + link inertia) · dt ≈ 4 on joint 7), so the
// integrator is implicitfast (also the reference's), which treats them implicitly.
//
// Contacts, with MuJoCo's rule "contact if (contype_a & conaffinity_b) || (contype_b & conaffinity_a)":
//   table (plane)        contype 1, conaffinity 6   meets the cube and the gripper
//   bin walls (boxes)    contype 1, conaffinity 2   meet the cube only
//   cube (box)           contype 2, conaffinity 0
//   hand, finger pads    contype 4, conaffinity 2   meet the cube and the table
//   arm links            contype 0, conaffinity 0   no contacts at all
// This is the reference's set of contact pairs (it too leaves the links, and the gripper against
// the bins, out), minus finger–finger: the fingers' joint limits already keep the pads apart.
// Friction as the reference: pads 10 (a firm grip), cube 1, table 0.2 (MuJoCo uses the larger
// of the two). Friction cones are elliptic: with pyramidal cones MuJoCo softens a contact's
// normal direction in proportion to μ², and at the pads' μ = 10 the pads passed through the cube
// without moving it. Contacts are stiffer than MuJoCo's default (solref 0.005, solimp 0.95 0.99):
// the arm's servos can press with ~100 N, which sank the cube 5 mm into the table at the default.
// Solver: Newton, 6 iterations, 12 line-search iterations (the reference's values; 2 and 4 let the
// cube blow up under random actions); islands off (one articulated body and one cube gain nothing
// from them); MuJoCo's auto-reset off so that a blow-up reaches the env (see arm.ts).

/** Physics step of the model (s). */
export const ARM_TIMESTEP = 0.002;
/** Physics steps per control step: env dt = 0.05 s. */
export const ARM_FRAME_SKIP = 25;

/** Number of generalised coordinates: cube free joint (3 + 4), 7 arm hinges, 2 finger slides. */
export const ARM_NQ = 16;
/** Number of degrees of freedom: cube (6) + 7 + 2. */
export const ARM_NV = 15;
/** Number of actuators: 7 arm servos + 2 finger servos. */
export const ARM_NU = 9;
/** qpos address of the cube's position (x, y, z; then its quaternion w, x, y, z). */
export const ARM_CUBE_QPOS = 0;
/** qpos address of joint1 (joints 1..7 follow). */
export const ARM_JOINT_QPOS = 7;
/** qpos address of the left finger slide (the right one follows). */
export const ARM_FINGER_QPOS = 14;

/** Half edge of the cube (m): a 6 cm cube resting on the table has its centre at z = 0.03. */
export const ARM_CUBE_HALF = 0.03;

/** Joint ranges [low, high] (rad) of joints 1..7, the Panda's. */
export const ARM_JOINT_RANGES: readonly (readonly [number, number])[] = [
  [-2.8973, 2.8973],
  [-1.7628, 1.7628],
  [-2.8973, 2.8973],
  [-3.0718, -0.0698],
  [-2.8973, 2.8973],
  [-0.0175, 3.7525],
  [-2.8973, 2.8973],
];

/** Servo stiffness (N·m/rad) of joints 1..7; the velocity gain of each is a tenth of it. */
export const ARM_KP: readonly number[] = [4500, 4500, 3500, 3500, 2000, 2000, 2000];
/** Servo force limit (N·m) of joints 1..7. */
export const ARM_FORCE_LIMIT: readonly number[] = [87, 87, 87, 87, 12, 12, 12];
/** Finger servo stiffness (N/m); velocity gain 50, force limit 500 N. */
export const ARM_FINGER_KP = 500;

/** Link masses (kg) of links 1..7 and the hand. */
const LINK_MASS: readonly number[] = [4.97, 0.65, 3.23, 3.59, 1.23, 1.67, 0.74, 0.73];
/** Mass of each finger (kg). */
const FINGER_MASS = 0.015;

/** Finger pad: half-sizes (across, thickness, length) and the z of its centre in the finger frame. */
const PAD_HALF: readonly [number, number, number] = [0.015, 0.005, 0.04];
const PAD_Z = 0.035;

/** A bin: four wall boxes around the centre (x, y) on the table. */
export interface ArmBin {
  readonly x: number;
  readonly y: number;
}

/** Inner half-width of a bin (m): the walls' inner faces are this far from its centre. */
export const ARM_BIN_INNER_HALF = 0.185;
/** Wall thickness of the bins (m). */
export const ARM_BIN_WALL = 0.01;
/** Wall height of the bins (m): a resting cube (0.06) fits below the rim. */
export const ARM_BIN_HEIGHT = 0.066;

/** What differs between the arm tasks' scenes. */
export interface ArmScene {
  /** Range of each finger's slide (m): the gripper opens to twice this. */
  readonly fingerRange: number;
  /** Open bins on the table (none for the push tasks). */
  readonly bins: readonly ArmBin[];
  /** Where the cube body sits in the compiled model (resets overwrite it). */
  readonly cubeStart: readonly [number, number, number];
}

function fmt(v: number): string {
  // Fixed precision keeps the XML stable across platforms; 6 decimals is far below any length here.
  return Number(v.toFixed(6)).toString();
}

function vec(v: readonly number[]): string {
  return v.map(fmt).join(" ");
}

// Quaternions (w x y z) of ±90° about x and −45° about z.
const S = Math.SQRT1_2;
const QX_POS = vec([S, S, 0, 0]);
const QX_NEG = vec([S, -S, 0, 0]);
const QZ_HAND = vec([Math.cos(Math.PI / 8), 0, 0, -Math.sin(Math.PI / 8)]);

function rangeAttr(j: number): string {
  return vec(ARM_JOINT_RANGES[j]);
}

function link(k: number, fromto: readonly number[], radius: number): string {
  return `<geom name="link${k}" type="capsule" fromto="${vec(fromto)}" size="${fmt(radius)}" mass="${fmt(LINK_MASS[k - 1])}"/>`;
}

function finger(side: "left" | "right", range: string): string {
  const quat = side === "right" ? ` quat="0 0 0 1"` : "";
  // The pad's inner face lies on the finger frame's origin plane, so the gap between the pads is
  // exactly the sum of the two slide coordinates.
  return `
                      <body name="${side}_finger" pos="0 0 0.0584"${quat}>
                        <joint name="${side}_finger" type="slide" axis="0 1 0" range="0 ${range}"/>
                        <geom name="${side}_pad" class="gripper" type="box" pos="${vec([0, PAD_HALF[1], PAD_Z])}" size="${vec(PAD_HALF)}" mass="${fmt(FINGER_MASS)}" friction="10 0.005 0.0001"/>
                      </body>`;
}

function binXml(b: ArmBin, n: number): string {
  const c = ARM_BIN_INNER_HALF + ARM_BIN_WALL / 2; // wall centre line
  const h = ARM_BIN_HEIGHT / 2;
  const t = ARM_BIN_WALL / 2;
  const walls: [number, number, number, number][] = [
    // centre dx, dy, half-sizes hx, hy: the ±y walls span the full width, the ±x walls fit between.
    [0, -c, c + t, t],
    [0, c, c + t, t],
    [c, 0, t, ARM_BIN_INNER_HALF],
    [-c, 0, t, ARM_BIN_INNER_HALF],
  ];
  return walls
    .map(
      ([dx, dy, hx, hy], w) =>
        `\n    <geom name="bin${n}_wall${w}" type="box" pos="${vec([b.x + dx, b.y + dy, h])}" size="${vec([hx, hy, h])}" contype="1" conaffinity="2" rgba="0.3 0.3 0.8 1"/>`,
    )
    .join("");
}

/**
 * The arm scene's MJCF. `memoryBytes` bounds MuJoCo's per-instance arena (see antXml): without it
 * MuJoCo reserves ~14 MiB per MjData. 192 KiB is ample: a cube gripped over the table under random
 * actions (about 20 contacts) peaked at a small fraction of it (see the arm tests).
 */
export function armXml(scene: ArmScene, memoryBytes = 192 * 1024): string {
  if (!(scene.fingerRange > 0 && scene.fingerRange <= 0.1)) {
    throw new Error(`armXml: fingerRange must be in (0, 0.1] m, got ${scene.fingerRange}`);
  }
  const bins = scene.bins.map(binXml).join("");
  const arm = ARM_JOINT_RANGES.map((_, j) => {
    const k = j + 1;
    const kv = ARM_KP[j] / 10;
    return `\n    <position name="joint${k}" joint="joint${k}" kp="${ARM_KP[j]}" kv="${kv}" ctrlrange="${rangeAttr(j)}" forcerange="${-ARM_FORCE_LIMIT[j]} ${ARM_FORCE_LIMIT[j]}"/>`;
  }).join("");
  const r = fmt(scene.fingerRange);
  const fingers = ["left", "right"]
    .map(
      (s) =>
        `\n    <position name="${s}_finger" joint="${s}_finger" kp="${ARM_FINGER_KP}" kv="50" ctrlrange="0 ${r}" forcerange="-500 500"/>`,
    )
    .join("");
  return `<mujoco model="fathom_arm">
  <compiler angle="radian" inertiafromgeom="true" autolimits="true"/>
  <size memory="${Math.ceil(memoryBytes / 1024)}K"/>
  <option timestep="${ARM_TIMESTEP}" integrator="implicitfast" solver="Newton" cone="elliptic" iterations="6" ls_iterations="12">
    <flag island="disable" autoreset="disable"/>
  </option>
  <default>
    <joint armature="0.1" damping="5"/>
    <geom contype="0" conaffinity="0" condim="3" solref="0.005 1" solimp="0.95 0.99 0.001" rgba="0.9 0.9 0.9 1"/>
    <default class="gripper">
      <geom contype="4" conaffinity="2" rgba="0.25 0.25 0.25 1"/>
    </default>
  </default>
  <worldbody>
    <geom name="table" type="plane" pos="0 0.2 0" size="2.8 2.4 0.1" contype="1" conaffinity="6" friction="0.2 0.005 0.0001" rgba="0.8 0.8 0.75 1"/>${bins}
    <body name="cube" pos="${vec(scene.cubeStart)}">
      <freejoint name="cube"/>
      <geom name="cube" type="box" size="${vec([ARM_CUBE_HALF, ARM_CUBE_HALF, ARM_CUBE_HALF])}" contype="2" conaffinity="0" friction="1 0.005 0.0001" rgba="0.1 0.6 0.1 1"/>
    </body>
    <body name="link0">
      <geom name="link0" type="capsule" fromto="0 0 0.02 0 0 0.2" size="0.07"/>
      <body name="link1" pos="0 0 0.333">
        <joint name="joint1" axis="0 0 1" range="${rangeAttr(0)}"/>
        ${link(1, [0, 0, -0.14, 0, 0, 0], 0.06)}
        <body name="link2" quat="${QX_NEG}">
          <joint name="joint2" axis="0 0 1" range="${rangeAttr(1)}"/>
          ${link(2, [0, 0, 0, 0, -0.12, 0], 0.06)}
          <body name="link3" pos="0 -0.316 0" quat="${QX_POS}">
            <joint name="joint3" axis="0 0 1" range="${rangeAttr(2)}"/>
            ${link(3, [0, 0, -0.2, 0, 0, 0], 0.06)}
            <body name="link4" pos="0.0825 0 0" quat="${QX_POS}">
              <joint name="joint4" axis="0 0 1" range="${rangeAttr(3)}"/>
              ${link(4, [0, 0, 0, -0.0825, 0.12, 0], 0.06)}
              <body name="link5" pos="-0.0825 0.384 0" quat="${QX_NEG}">
                <joint name="joint5" axis="0 0 1" range="${rangeAttr(4)}"/>
                ${link(5, [0, 0, -0.26, 0, 0, 0], 0.05)}
                <body name="link6" quat="${QX_POS}">
                  <joint name="joint6" axis="0 0 1" range="${rangeAttr(5)}"/>
                  ${link(6, [0, 0, 0, 0.088, 0, 0], 0.05)}
                  <body name="link7" pos="0.088 0 0" quat="${QX_POS}">
                    <joint name="joint7" axis="0 0 1" range="${rangeAttr(6)}"/>
                    ${link(7, [0, 0, 0, 0, 0, 0.07], 0.045)}
                    <body name="hand" pos="0 0 0.107" quat="${QZ_HAND}">
                      <geom name="hand" class="gripper" type="capsule" fromto="0 -0.06 0.035 0 0.06 0.035" size="0.04" mass="${fmt(LINK_MASS[7])}"/>${finger("left", r)}${finger("right", r)}
                    </body>
                  </body>
                </body>
              </body>
            </body>
          </body>
        </body>
      </body>
    </body>
  </worldbody>
  <equality>
    <joint joint1="left_finger" joint2="right_finger" solimp="0.95 0.99 0.001" solref="0.005 1"/>
  </equality>
  <actuator>${arm}${fingers}
  </actuator>
</mujoco>
`;
}
