// MJCF of the Ant (SPEC §6), written for this project. Geometry follows the well-known MuJoCo /
// Brax Ant: a sphere torso (radius 0.25) and four legs, each an upper link welded to the torso,
// a hip hinge about z (±30°) and an ankle hinge, all capsules of radius 0.08; eight torque motors
// with gear 150 and ctrl in [-1, 1]. Physics step 0.005 s; the env repeats it 10 times per
// control step (SPEC §6).
//
// Solver: Newton with 4 iterations, as the reference model's option. Implicit joint damping
// (eulerdamp) is off: damping 1 on armature 1 is stable explicitly at this step and it saves a
// factorisation per step; islands are off (one articulated body gains nothing from them);
// MuJoCo's auto-reset is off so that a blow-up reaches the env (see ant.ts) instead of silently
// teleporting the Ant back to the model's default pose. The collision midphase (a bounding-volume
// tree per body) is off: the Ant's bodies hold one or two geoms and the mazes' walls are a few
// merged boxes, so testing their geom pairs directly is cheaper (Ant big maze, 16 envs, one
// thread: 4.4–4.8 k → 5.1–5.2 k env steps/s) and gives the same contacts in the same order —
// trajectories are bit for bit those with it on (test/envs/ant.test.ts; and 32 evaluation
// episodes of a trained depth-4 policy, every qpos equal). The Humanoid keeps it: there it is
// faster on (its bodies have more geoms).
//
// Contacts follow the reference's choice of which geoms touch what (it keeps the contact count,
// and so the cost per step, small). In the mazes (the reference's ant_maze.xml): the floor only
// meets the feet; walls meet the torso, the upper leg links and the feet; the feet also meet the
// torso, the upper links and each other (self-collision). With MuJoCo's rule "contact if
// (contype_a & conaffinity_b) || (contype_b & conaffinity_a)":
//   floor   contype 0, conaffinity 1      torso, upper links   contype 0, conaffinity 1
//   feet    contype 1, conaffinity 1      walls                contype 1, conaffinity 1
//   lower links: no contacts.
// On open ground (ant-v1, the reference's ant.xml) the torso, upper links and feet have
// conaffinity 0: the feet meet the floor and nothing else.

import { type MazeLayout, isWall } from "../mazes.js";

/** A wall box: centre (x, y) on the floor and half-sizes (hx, hy, hz); it stands on z = 0. */
export interface WallBox {
  readonly x: number;
  readonly y: number;
  readonly hx: number;
  readonly hy: number;
  readonly hz: number;
}

/** Physics step of the model (s). */
export const ANT_TIMESTEP = 0.005;
/** Physics steps per control step: env dt = 0.05 s. */
export const ANT_FRAME_SKIP = 10;

/** Number of generalised coordinates: free joint (3 + 4) + 8 hinges. */
export const ANT_NQ = 15;
/** Number of degrees of freedom: free joint (6) + 8 hinges. */
export const ANT_NV = 14;
/** Number of motors. */
export const ANT_NU = 8;

/**
 * Standing pose the reset noise is added to: torso at z = 0.55, identity orientation, hips at 0,
 * ankles at ±1 rad (inside their limits, feet on the floor).
 */
// [ANT_NQ]
export const ANT_INIT_QPOS: readonly number[] = [0, 0, 0.55, 1, 0, 0, 0, 0, 1, 0, -1, 0, -1, 0, 1];

interface LegDef {
  /** Unit direction of the leg in the xy-plane, as (±1, ±1). */
  readonly sx: number;
  readonly sy: number;
  /** Ankle hinge axis and range (degrees). The signs make the range bend the foot down. */
  readonly ankleAxis: string;
  readonly ankleRange: string;
}

// Legs 1..4: front-left (+x, +y), front-right (−x, +y), back (−x, −y), right-back (+x, −y).
const LEGS: readonly LegDef[] = [
  { sx: 1, sy: 1, ankleAxis: "-1 1 0", ankleRange: "30 70" },
  { sx: -1, sy: 1, ankleAxis: "1 1 0", ankleRange: "-70 -30" },
  { sx: -1, sy: -1, ankleAxis: "-1 1 0", ankleRange: "-70 -30" },
  { sx: 1, sy: -1, ankleAxis: "1 1 0", ankleRange: "30 70" },
];

// Motor order of the standard Ant: leg 4, then legs 1, 2, 3; hip before ankle. Observation qpos
// order is the body-tree order (hip_1, ankle_1, ..., hip_4, ankle_4), as in the standard Ant.
const MOTOR_ORDER: readonly number[] = [4, 1, 2, 3];

function fmt(v: number): string {
  // Fixed precision keeps the XML stable across platforms; 6 decimals is far below any length here.
  return Number(v.toFixed(6)).toString();
}

/** One leg; `aff` is the conaffinity of its upper link and foot (1 in the mazes, 0 on open ground). */
function legXml(k: number, leg: LegDef, aff: number): string {
  const ux = 0.2 * leg.sx;
  const uy = 0.2 * leg.sy;
  const lx = 0.4 * leg.sx;
  const ly = 0.4 * leg.sy;
  return `
      <body name="leg_${k}" pos="0 0 0">
        <geom name="upper_${k}" type="capsule" fromto="0 0 0 ${fmt(ux)} ${fmt(uy)} 0" size="0.08" conaffinity="${aff}"/>
        <body name="thigh_${k}" pos="${fmt(ux)} ${fmt(uy)} 0">
          <joint name="hip_${k}" type="hinge" axis="0 0 1" range="-30 30"/>
          <geom name="thigh_${k}" type="capsule" fromto="0 0 0 ${fmt(ux)} ${fmt(uy)} 0" size="0.08"/>
          <body name="shin_${k}" pos="${fmt(ux)} ${fmt(uy)} 0">
            <joint name="ankle_${k}" type="hinge" axis="${leg.ankleAxis}" range="${leg.ankleRange}"/>
            <geom name="shin_${k}" type="capsule" fromto="0 0 0 ${fmt(lx)} ${fmt(ly)} 0" size="0.08"/>
            <geom name="foot_${k}" type="sphere" pos="${fmt(lx)} ${fmt(ly)} 0" size="0.08" mass="0" contype="1" conaffinity="${aff}"/>
          </body>
        </body>
      </body>`;
}

/**
 * The Ant's MJCF, with optional wall boxes. `memoryBytes` bounds MuJoCo's per-instance arena:
 * without it MuJoCo reserves ~14 MiB per MjData and a few hundred instances exhaust the 32-bit
 * wasm heap (DESIGN §4). 256 KiB is ample: an Ant pushed into a maze corner under random actions
 * (7 contacts) peaked at 18 KiB of arena. `midphase` turns MuJoCo's collision midphase back on
 * (off by default: see the top of this file).
 */
export function antXml(walls: readonly WallBox[] = [], memoryBytes = 256 * 1024, selfContact = walls.length > 0, midphase = false): string {
  const aff = selfContact ? 1 : 0;
  const legs = LEGS.map((leg, k) => legXml(k + 1, leg, aff)).join("");
  const wallGeoms = walls
    .map(
      (w, n) =>
        `\n    <geom name="wall_${n}" type="box" pos="${fmt(w.x)} ${fmt(w.y)} ${fmt(w.hz)}" size="${fmt(w.hx)} ${fmt(w.hy)} ${fmt(w.hz)}" contype="1" conaffinity="1" rgba="0.7 0.5 0.3 1"/>`,
    )
    .join("");
  const motors = MOTOR_ORDER.flatMap((k) => [
    `\n    <motor name="hip_${k}" joint="hip_${k}"/>`,
    `\n    <motor name="ankle_${k}" joint="ankle_${k}"/>`,
  ]).join("");
  return `<mujoco model="fathom_ant">
  <compiler angle="degree" inertiafromgeom="true"/>
  <size memory="${Math.ceil(memoryBytes / 1024)}K"/>
  <option timestep="${ANT_TIMESTEP}" iterations="4" ls_iterations="8">
    <flag eulerdamp="disable" island="disable" autoreset="disable"${midphase ? "" : ' midphase="disable"'}/>
  </option>
  <default>
    <joint armature="1" damping="1" limited="true"/>
    <geom contype="0" conaffinity="0" condim="3" density="5" friction="1 0.5 0.5" rgba="0.8 0.6 0.4 1"/>
    <motor ctrllimited="true" ctrlrange="-1 1" gear="150"/>
  </default>
  <worldbody>
    <geom name="floor" type="plane" size="200 200 0.1" conaffinity="1" rgba="0.8 0.9 0.8 1"/>${wallGeoms}
    <body name="torso" pos="0 0 0.75">
      <joint name="root" type="free" armature="0" damping="0" limited="false"/>
      <geom name="torso" type="sphere" size="0.25" conaffinity="${aff}"/>${legs}
    </body>
  </worldbody>
  <actuator>${motors}
  </actuator>
</mujoco>
`;
}

/**
 * Wall boxes of a maze layout for cell size s and wall height h. The solid is the union of the
 * '#' cells (each a box of half-size (s/2, s/2, h/2) around its centre), but it is built from as
 * few boxes as possible: runs of wall cells are merged greedily into rectangles (widest run along
 * a row first, then grown down the rows). The solid is the same; collision detection is cheaper
 * (fewer geoms, and no seams between touching boxes for a leg to catch on).
 */
export function mazeWalls(layout: MazeLayout, cellSize: number, height: number): WallBox[] {
  const { rows, cols } = layout;
  const used = new Uint8Array(rows * cols); // [rows, cols] 1 = wall cell already in a box
  const free = (i: number, j: number): boolean => !isWall(layout, i, j) || used[i * cols + j] === 1;
  const boxes: WallBox[] = [];
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      if (free(i, j)) continue;
      let j1 = j;
      while (j1 + 1 < cols && !free(i, j1 + 1)) j1++;
      let i1 = i;
      for (;;) {
        if (i1 + 1 >= rows) break;
        let full = true;
        for (let jj = j; jj <= j1 && full; jj++) full = !free(i1 + 1, jj);
        if (!full) break;
        i1++;
      }
      for (let ii = i; ii <= i1; ii++) for (let jj = j; jj <= j1; jj++) used[ii * cols + jj] = 1;
      boxes.push({
        x: ((i + i1) / 2) * cellSize,
        y: ((j + j1) / 2) * cellSize,
        hx: ((i1 - i + 1) * cellSize) / 2,
        hy: ((j1 - j + 1) * cellSize) / 2,
        hz: height / 2,
      });
    }
  }
  return boxes;
}
