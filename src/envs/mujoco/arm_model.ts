// MJCF of the robot arm (SPEC §6): a 7-joint arm with the kinematics and measured inertias of a
// Franka Panda, a two-finger parallel gripper, a 6 cm cube on a table (the plane z = 0, the arm's
// base at the origin) and, for the bin-picking task, two open bins. Primitive geoms only; physics
// step 0.002 s, repeated 25 times per control step (env dt 0.05 s).
//
// The reference is the paper's code: scaling-crl envs/assets/panda_{push_easy,push_hard,
// binpick_hard}.xml AS ITS ENVS LOAD THEM. brax.io.mjcf.load first fuses every jointless body into
// its parent (brax/io/mjcf.py, _fuse_bodies), and that changes three things against the XML as
// written, all measured on the fused model in MuJoCo 3.14 (scripts/reference/brax_fuse.py and
// arm-reference.mts):
//   - link0 carried childclass="panda"; fused away, its class no longer reaches links 1..7, so
//     joints 1..7 run with armature 0 and damping 0, and joints 1, 3, 5, 7 have no limits (2, 4, 6
//     keep their explicit ranges). The fingers name their class and keep armature 0.1, damping 5.
//   - the hand (no joint) is fused into link7, whose explicit <inertial> then wins: the hand
//     capsule's 0.871 kg is not in the model. Here the hand body stays (welded, massless).
//   - body order cube, goal marker, link1..7, fingers: the env's "end-effector" body index 8 is
//     link7 (see arm.ts), not the hand.
//
// Kinematic chain (body frames, metres; the Panda's published joint offsets):
//   link1  z 0.333 above the base           joint1  about z, unlimited
//   link2  rotated −90° about x             joint2  ±1.7628
//   link3  0.316 along link2's −y, +90° x   joint3  unlimited
//   link4  0.0825 along x, +90° x           joint4  [−3.0718, −0.0698]
//   link5  (−0.0825, 0.384, 0), −90° x      joint5  unlimited
//   link6  +90° x                           joint6  [−0.0175, 3.7525]
//   link7  0.088 along x, +90° x            joint7  unlimited
//   hand   0.107 along link7's z, −45° about z (the flange)
//   fingers 0.0584 beyond the hand origin, sliding apart along ±y of the hand, each in [0, 0.08];
//           a joint equality keeps them symmetric.
// At joint angles 0 the flange is at (0.088, 0, 0.926) pointing down, as on the Panda.
// Masses, centres of mass and full inertia tensors of links 1..7 and the fingers are the
// reference's <inertial> elements (the Menagerie Panda's); the link capsules are this model's own
// coarse shapes, drawn but without mass or contacts.
//
// Actuators: MuJoCo `general` servos with affine bias, exactly the reference's:
//   force = gain·ctrl − kp·q − kv·q̇, gain / kp / kv per joint below. Joints 1–2 have gain = kp, so
//   they settle at their target; joints 3–4 (gain 2000, kp 3500) settle at 4/7 of it and joints
//   5–7 (1000 / 2000) at half of it (plus the gravity sag, torque / kp). Force limits 87 N·m
//   (joints 1–4) and 12 N·m (5–7). Fingers: gain 0.15686 over ctrl in [0, 255], kp 500, kv 50,
//   ±500 N: ctrl 255 targets 0.08 m. The integrator is implicitfast (the reference's), which treats
//   the velocity gains implicitly.
//
// Contacts: every geom has contype = conaffinity = 0; the reference's explicit <pair>s are the
// only contacts: cube–table, cube–hand, cube–pads, table–hand, table–pads, pad–pad, and for the
// bins cube–walls and pads/hand–walls. A pair does not take its geoms' friction: all pairs have
// MuJoCo's pair defaults, μ (1, 1, 0.005, 0.0001, 0.0001), condim 3, solref 0.02 1, solimp
// 0.9 0.95 0.001, margin 0 (the reference's pads declare μ 10 but no pair reads it; checked in
// MuJoCo 3.14). Friction cones pyramidal (the default), impratio 1, except 10 for the bin task as
// its XML sets. (An earlier version of this model gave the pads μ 10; with pyramidal cones MuJoCo
// softens a contact's normal direction in proportion to μ², and the pads passed through the cube.
// At the reference's μ 1 they do not: the closed gripper lifts the cube, test/envs/arm.test.ts.
// The reference's soft contacts let a pressed cube sink ~4 mm into the table and each pad ~1 mm
// into a gripped cube.) Solver: Newton, 6 iterations, 12 line-search iterations (the reference's
// tree_replace in arm_envs.py); islands off; MuJoCo's auto-reset off so that a blow-up reaches
// the env (see arm.ts).
//
// Departures (none changes the dynamics the agent sees, beyond what is listed):
//   | what                        | reference (as loaded)              | here                       |
//   | physics engine              | MJX (JAX)                          | MuJoCo C (WebAssembly)     |
//   | link geometry (no contacts) | Menagerie meshes, visual only      | capsules, visual only      |
//   | goal marker                 | a gravity-compensated free body    | none (the goal is data)    |
//   | hand body                   | fused into link7                   | a welded body, no mass     |

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

/**
 * Joint ranges [low, high] (rad) of joints 1..7 as the reference's model runs: only joints 2, 4
 * and 6 are limited (see the header: the fused link0's childclass no longer reaches joints 1, 3, 5,
 * 7). null = unlimited.
 */
export const ARM_JOINT_RANGES: readonly (readonly [number, number] | null)[] = [
  null,
  [-1.7628, 1.7628],
  null,
  [-3.0718, -0.0698],
  null,
  [-0.0175, 3.7525],
  null,
];

/** Control range [low, high] (rad) of the servos of joints 1..7 (MuJoCo clamps ctrl into it). */
export const ARM_CTRL_RANGES: readonly (readonly [number, number])[] = [
  [-2.8973, 2.8973],
  [-1.7628, 1.7628],
  [-2.8973, 2.8973],
  [-3.0718, -0.0698],
  [-2.8973, 2.8973],
  [-0.0175, 3.7525],
  [-2.8973, 2.8973],
];

/** Servo gain on ctrl (N·m/rad) of joints 1..7: the reference's gainprm. */
export const ARM_GAIN: readonly number[] = [4500, 4500, 2000, 2000, 1000, 1000, 1000];
/** Servo stiffness (N·m/rad) of joints 1..7: the reference's −biasprm[1]. */
export const ARM_KP: readonly number[] = [4500, 4500, 3500, 3500, 2000, 2000, 2000];
/** Servo damping (N·m·s/rad) of joints 1..7: the reference's −biasprm[2]. */
export const ARM_KV: readonly number[] = [450, 450, 350, 350, 200, 200, 200];
/** Servo force limit (N·m) of joints 1..7. */
export const ARM_FORCE_LIMIT: readonly number[] = [87, 87, 87, 87, 12, 12, 12];
/**
 * Where each servo of joints 1..7 settles per unit of target without load: gain / kp (1 for
 * joints 1–2, 4/7 for joints 3–4, 1/2 for joints 5–7).
 */
export const ARM_SERVO_RATIO: readonly number[] = ARM_GAIN.map((g, j) => g / ARM_KP[j]);

/** Finger servo: gain on ctrl (N per ctrl unit), stiffness (N/m), damping (N·s/m), force limit (N). */
export const ARM_FINGER_GAIN = 0.15686;
export const ARM_FINGER_KP = 500;
export const ARM_FINGER_KV = 50;
export const ARM_FINGER_FORCE = 500;
/** Finger ctrl that opens the gripper: 255 targets 0.15686 · 255 / 500 = 0.08 m per finger. */
export const ARM_FINGER_OPEN_CTRL = 255;
/** Range of each finger's slide (m): the gripper opens to twice this. */
export const ARM_FINGER_RANGE = 0.08;

/**
 * The reference's measured inertias of links 1..7 (mass kg; centre of mass in the body frame, m;
 * full inertia Ixx Iyy Izz Ixy Ixz Iyz, kg·m²), as its <inertial> elements.
 */
const LINK_INERTIAL: readonly { mass: number; pos: readonly number[]; full: readonly number[] }[] = [
  { mass: 4.970684, pos: [0.003875, 0.002081, -0.04762], full: [0.70337, 0.70661, 0.009117, -0.000139, 0.006772, 0.019169] },
  { mass: 0.646926, pos: [-0.003141, -0.02872, 0.003495], full: [0.007962, 0.02811, 0.025995, -0.003925, 0.010254, 0.000704] },
  { mass: 3.228604, pos: [0.027518, 0.039252, -0.066502], full: [0.037242, 0.036155, 0.01083, -0.004761, -0.011396, -0.012805] },
  { mass: 3.587895, pos: [-0.05317, 0.104419, 0.027454], full: [0.025853, 0.019552, 0.028323, 0.007796, -0.001332, 0.008641] },
  { mass: 1.225946, pos: [-0.011953, 0.041065, -0.038437], full: [0.035549, 0.029474, 0.008627, -0.002117, -0.004037, 0.000229] },
  { mass: 1.666555, pos: [0.060149, -0.014117, -0.010517], full: [0.001964, 0.004354, 0.005433, 0.000109, -0.001158, 0.000341] },
  { mass: 0.735522, pos: [0.010517, -0.004252, 0.061597], full: [0.012516, 0.010027, 0.004815, -0.000428, -0.001196, -0.000741] },
];
/** Each finger: mass (kg) and diagonal inertia at the finger frame's origin, the reference's. */
const FINGER_MASS = 0.015;
const FINGER_INERTIA: readonly number[] = [2.375e-6, 2.375e-6, 7.5e-7];

/** Finger pad: half-sizes (across, thickness, length) and its centre in the finger frame, the reference's. */
const PAD_HALF: readonly [number, number, number] = [0.015, 0.005, 0.04];
const PAD_POS: readonly [number, number, number] = [0, 0.0055, 0.035];

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
  /** Open bins on the table (none for the push tasks). */
  readonly bins: readonly ArmBin[];
  /** Where the cube body sits in the compiled model (resets overwrite it). */
  readonly cubeStart: readonly [number, number, number];
  /** MuJoCo's impratio (friction-to-normal impedance ratio): 1, or 10 in the bin task's XML. */
  readonly impratio: number;
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

function jointAttr(j: number): string {
  const r = ARM_JOINT_RANGES[j];
  return r === null ? "" : ` range="${vec(r)}"`;
}

/** A link body's inertial and its (massless, contact-free) capsule. */
function link(k: number, fromto: readonly number[], radius: number): string {
  const i = LINK_INERTIAL[k - 1];
  return `<inertial mass="${i.mass}" pos="${i.pos.join(" ")}" fullinertia="${i.full.join(" ")}"/>
        <geom name="link${k}" type="capsule" fromto="${vec(fromto)}" size="${fmt(radius)}" mass="0"/>`;
}

function finger(side: "left" | "right"): string {
  const quat = side === "right" ? ` quat="0 0 0 1"` : "";
  return `
                      <body name="${side}_finger" pos="0 0 0.0584"${quat}>
                        <inertial mass="${FINGER_MASS}" pos="0 0 0" diaginertia="${FINGER_INERTIA.join(" ")}"/>
                        <joint name="${side}_finger" type="slide" axis="0 1 0" range="0 ${fmt(ARM_FINGER_RANGE)}" armature="0.1" damping="5"/>
                        <geom name="${side}_pad" type="box" pos="${vec(PAD_POS)}" size="${vec(PAD_HALF)}" mass="0" rgba="0.25 0.25 0.25 1"/>
                      </body>`;
}

/** Names of a bin's four wall geoms. */
function wallNames(n: number): string[] {
  return [0, 1, 2, 3].map((w) => `bin${n}_wall${w}`);
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
  const names = wallNames(n);
  return walls
    .map(
      ([dx, dy, hx, hy], w) =>
        `\n    <geom name="${names[w]}" type="box" pos="${vec([b.x + dx, b.y + dy, h])}" size="${vec([hx, hy, h])}" rgba="0.3 0.3 0.8 1"/>`,
    )
    .join("");
}

/**
 * The contact pairs of a scene, in the reference's order: the only contacts the model has. Each
 * pair takes MuJoCo's pair defaults (μ 1, condim 3, solref 0.02 1, solimp 0.9 0.95 0.001).
 */
export function armContactPairs(scene: ArmScene): [string, string][] {
  const pairs: [string, string][] = [
    ["cube", "table"],
    ["cube", "hand"],
    ["cube", "left_pad"],
    ["cube", "right_pad"],
  ];
  const walls = scene.bins.flatMap((_, n) => wallNames(n));
  for (const w of walls) pairs.push(["cube", w]);
  pairs.push(["table", "hand"], ["table", "left_pad"], ["table", "right_pad"]);
  for (const g of ["left_pad", "right_pad", "hand"]) for (const w of walls) pairs.push([g, w]);
  pairs.push(["left_pad", "right_pad"]);
  return pairs;
}

/**
 * The arm scene's MJCF. `memoryBytes` bounds MuJoCo's per-instance arena (see antXml): without it
 * MuJoCo reserves ~14 MiB per MjData. 192 KiB is ample: a cube gripped over the table under random
 * actions (about 20 contacts) peaked at a small fraction of it (see the arm tests).
 */
export function armXml(scene: ArmScene, memoryBytes = 192 * 1024): string {
  if (!(scene.impratio >= 1)) throw new Error(`armXml: impratio must be ≥ 1, got ${scene.impratio}`);
  const bins = scene.bins.map(binXml).join("");
  const arm = ARM_CTRL_RANGES.map((range, j) => {
    const k = j + 1;
    return `\n    <general name="joint${k}" joint="joint${k}" biastype="affine" gainprm="${ARM_GAIN[j]}" biasprm="0 ${-ARM_KP[j]} ${-ARM_KV[j]}" ctrlrange="${vec(range)}" forcerange="${-ARM_FORCE_LIMIT[j]} ${ARM_FORCE_LIMIT[j]}"/>`;
  }).join("");
  const fingers = ["left", "right"]
    .map(
      (s) =>
        `\n    <general name="${s}_finger" joint="${s}_finger" biastype="affine" gainprm="${ARM_FINGER_GAIN}" biasprm="0 ${-ARM_FINGER_KP} ${-ARM_FINGER_KV}" ctrlrange="0 ${ARM_FINGER_OPEN_CTRL}" forcerange="${-ARM_FINGER_FORCE} ${ARM_FINGER_FORCE}"/>`,
    )
    .join("");
  const pairs = armContactPairs(scene)
    .map(([a, b]) => `\n    <pair geom1="${a}" geom2="${b}"/>`)
    .join("");
  return `<mujoco model="fathom_arm">
  <compiler angle="radian" autolimits="true"/>
  <size memory="${Math.ceil(memoryBytes / 1024)}K"/>
  <option timestep="${ARM_TIMESTEP}" integrator="implicitfast" solver="Newton" cone="pyramidal" impratio="${fmt(scene.impratio)}" iterations="6" ls_iterations="12">
    <flag island="disable" autoreset="disable"/>
  </option>
  <default>
    <geom contype="0" conaffinity="0" rgba="0.9 0.9 0.9 1"/>
  </default>
  <worldbody>
    <geom name="table" type="plane" pos="0 0.2 0" size="2.8 2.4 0.1" rgba="0.8 0.8 0.75 1"/>${bins}
    <body name="cube" pos="${vec(scene.cubeStart)}">
      <freejoint name="cube"/>
      <geom name="cube" type="box" size="${vec([ARM_CUBE_HALF, ARM_CUBE_HALF, ARM_CUBE_HALF])}" rgba="0.1 0.6 0.1 1"/>
    </body>
    <body name="link0">
      <geom name="link0" type="capsule" fromto="0 0 0.02 0 0 0.2" size="0.07" mass="0"/>
      <body name="link1" pos="0 0 0.333">
        <joint name="joint1" axis="0 0 1"${jointAttr(0)}/>
        ${link(1, [0, 0, -0.14, 0, 0, 0], 0.06)}
        <body name="link2" quat="${QX_NEG}">
          <joint name="joint2" axis="0 0 1"${jointAttr(1)}/>
          ${link(2, [0, 0, 0, 0, -0.12, 0], 0.06)}
          <body name="link3" pos="0 -0.316 0" quat="${QX_POS}">
            <joint name="joint3" axis="0 0 1"${jointAttr(2)}/>
            ${link(3, [0, 0, -0.2, 0, 0, 0], 0.06)}
            <body name="link4" pos="0.0825 0 0" quat="${QX_POS}">
              <joint name="joint4" axis="0 0 1"${jointAttr(3)}/>
              ${link(4, [0, 0, 0, -0.0825, 0.12, 0], 0.06)}
              <body name="link5" pos="-0.0825 0.384 0" quat="${QX_NEG}">
                <joint name="joint5" axis="0 0 1"${jointAttr(4)}/>
                ${link(5, [0, 0, -0.26, 0, 0, 0], 0.05)}
                <body name="link6" quat="${QX_POS}">
                  <joint name="joint6" axis="0 0 1"${jointAttr(5)}/>
                  ${link(6, [0, 0, 0, 0.088, 0, 0], 0.05)}
                  <body name="link7" pos="0.088 0 0" quat="${QX_POS}">
                    <joint name="joint7" axis="0 0 1"${jointAttr(6)}/>
                    ${link(7, [0, 0, 0, 0, 0, 0.07], 0.045)}
                    <body name="hand" pos="0 0 0.107" quat="${QZ_HAND}">
                      <geom name="hand" type="capsule" fromto="0 -0.06 0.035 0 0.06 0.035" size="0.04" mass="0" rgba="0.25 0.25 0.25 1"/>${finger("left")}${finger("right")}
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
  <contact>${pairs}
  </contact>
  <equality>
    <joint joint1="left_finger" joint2="right_finger" solimp="0.95 0.99 0.001" solref="0.005 1"/>
  </equality>
  <actuator>${arm}${fingers}
  </actuator>
</mujoco>
`;
}
