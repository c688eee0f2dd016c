// The MuJoCo Humanoid family (src/envs/mujoco/humanoid.ts): the spec shapes, the model, the
// reference's 268-dim observation layout checked against MuJoCo's own quantities, a humanoid that
// falls without control and terminates, walls that stop it, goal and start distributions, and
// trajectories that are a pure function of the rng and the actions.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { MjData, MjModel } from "@mujoco/mujoco";
import { cellCentre, parseMaze } from "../../src/envs/mazes.js";
import { mazeWalls } from "../../src/envs/mujoco/ant_model.js";
import {
  HUMANOID_ENV_SPECS,
  HUMANOID_GOAL_Z,
  HUMANOID_MAZE_CELL_SIZE,
  HUMANOID_MAZE_WALL_HEIGHT,
  HumanoidCore,
  createHumanoidCore,
} from "../../src/envs/mujoco/humanoid.js";
import {
  HUMANOID_BODIES,
  HUMANOID_INIT_QPOS,
  HUMANOID_MOTORS,
  HUMANOID_NBODY,
  HUMANOID_NQ,
  HUMANOID_NU,
  HUMANOID_NV,
  humanoidXml,
} from "../../src/envs/mujoco/humanoid_model.js";
import { loadMujoco } from "../../src/envs/mujoco/loader.js";
import { makeVecEnv } from "../../src/envs/registry.js";
import type { EnvSpec } from "../../src/envs/types.js";
import { checkMazeResets, episodeRng, familyCore, specIn } from "./family.js";

const OBS = 271;
const STATE = 268;
// State layout (see the table in humanoid.ts).
const QVEL = 26;
const CINERT = 51;
const CVEL = 171;
const QFRC = 243;

const spec = (id: string): EnvSpec => specIn(HUMANOID_ENV_SPECS, id);
const humanoidCore = (id: string, count: number): Promise<HumanoidCore> => familyCore(createHumanoidCore, HumanoidCore, spec(id), count);
const rngFor = episodeRng;

/** The core's compiled model and env i's MjData (private: the tests compare against MuJoCo itself). */
function internals(core: HumanoidCore, i: number): { model: MjModel; data: MjData } {
  const c = core as unknown as { model: MjModel; data: MjData[] };
  return { model: c.model, data: c.data[i] };
}

describe("Humanoid specs", () => {
  it("lists the paper's Humanoid tasks with the SPEC §6 shapes and eval ids", () => {
    assert.deepEqual(HUMANOID_ENV_SPECS.map((s) => s.id).sort(), [
      "humanoid-v1",
      "humanoid_big_maze-v1",
      "humanoid_big_maze_eval-v1",
      "humanoid_u_maze-v1",
      "humanoid_u_maze_eval-v1",
    ]);
    for (const s of HUMANOID_ENV_SPECS) {
      assert.equal(s.stateDim, STATE);
      assert.equal(s.goalDim, 3);
      assert.equal(s.obsDim, OBS);
      assert.equal(s.actionDim, 17);
      assert.deepEqual(s.goalIndices, [0, 1, 2]);
      assert.equal(s.episodeLength, 1000);
      assert.equal(s.successThreshold, 0.5);
    }
    assert.equal(spec("humanoid_u_maze-v1").evalId, "humanoid_u_maze_eval-v1");
    assert.equal(spec("humanoid_big_maze-v1").evalId, "humanoid_big_maze_eval-v1");
    assert.equal(spec("humanoid-v1").evalId, undefined);
    assert.equal(spec("humanoid_u_maze_eval-v1").evalId, undefined);
  });

  it("rejects unknown ids and bad counts", async () => {
    await assert.rejects(createHumanoidCore({ ...spec("humanoid-v1"), id: "humanoid_nowhere-v1" }, 1), /unknown Humanoid env id "humanoid_nowhere-v1"/);
    await assert.rejects(createHumanoidCore(spec("humanoid-v1"), 0), /positive integer/);
    assert.throws(() => humanoidXml({ timestep: 0, frameSkip: 5 }), /timestep must be positive/);
  });
});

describe("Humanoid model", () => {
  it("compiles with 24 qpos, 23 qvel, 11 bodies and the standard humanoid's 17 motors", async () => {
    const mj = await loadMujoco();
    const m = mj.MjModel.from_xml_string(humanoidXml({ timestep: 0.003, frameSkip: 5 }));
    try {
      assert.equal(m.nq, HUMANOID_NQ);
      assert.equal(m.nv, HUMANOID_NV);
      assert.equal(m.nu, HUMANOID_NU);
      assert.equal(m.nbody, HUMANOID_NBODY + 1);
      assert.equal(m.opt.timestep, 0.003);
      const gear = m.actuator_gear as Float64Array; // [nu, 6]
      const range = m.actuator_ctrlrange as Float64Array; // [nu, 2]
      assert.deepEqual(
        HUMANOID_MOTORS.map((x) => x.gear),
        [100, 100, 100, 100, 100, 300, 200, 100, 100, 300, 200, 25, 25, 25, 25, 25, 25],
      );
      for (let a = 0; a < HUMANOID_NU; a++) {
        assert.equal(gear[6 * a], HUMANOID_MOTORS[a].gear);
        assert.deepEqual([range[2 * a], range[2 * a + 1]], [-0.4, 0.4]);
      }
      // Density-1000 capsules and spheres: the standard humanoid weighs about 40 kg.
      const mass = Array.from(m.body_mass as Float64Array).reduce((a, b) => a + b, 0);
      assert.ok(mass > 38 && mass < 45, `total mass ${mass}`);
    } finally {
      m.delete();
    }
  });

  it("puts the maze walls (cell 2, 1 m tall) around the cells the maze marks '#'", async () => {
    const mj = await loadMujoco();
    for (const name of ["u_maze", "big_maze_eval"]) {
      const layout = parseMaze(name);
      const boxes = mazeWalls(layout, HUMANOID_MAZE_CELL_SIZE, HUMANOID_MAZE_WALL_HEIGHT);
      const m = mj.MjModel.from_xml_string(humanoidXml({ timestep: 0.0015, frameSkip: 10 }, boxes));
      try {
        assert.equal(m.opt.timestep, 0.0015);
        const ngeom = m.ngeom;
        const type = m.geom_type as Int32Array;
        const size = m.geom_size as Float64Array; // [ngeom, 3]
        const pos = m.geom_pos as Float64Array; // [ngeom, 3]
        const walls: number[] = [];
        for (let g = 0; g < ngeom; g++) if (type[g] === mj.mjtGeom.mjGEOM_BOX.value) walls.push(g);
        assert.equal(walls.length, boxes.length);
        for (let i = 0; i < layout.rows; i++) {
          for (let j = 0; j < layout.cols; j++) {
            const [x, y] = cellCentre([i, j], HUMANOID_MAZE_CELL_SIZE);
            const inside = walls.filter((g) => Math.abs(x - pos[3 * g]) < size[3 * g] && Math.abs(y - pos[3 * g + 1]) < size[3 * g + 1]).length;
            assert.equal(inside, layout.grid[i][j] === "#" ? 1 : 0, `${name} cell (${i}, ${j})`);
          }
        }
        for (const g of walls) {
          assert.equal(size[3 * g + 2], 0.5);
          assert.equal(pos[3 * g + 2], 0.5);
        }
      } finally {
        m.delete();
      }
    }
  });
});

describe("Humanoid observation", () => {
  it("is qpos ++ goal xy ++ qvel ++ 0 ++ link inertias ++ link velocities ++ actuator forces ++ goal, for the state the step reached", async () => {
    const mj = await loadMujoco();
    const core = await humanoidCore("humanoid_big_maze-v1", 1);
    try {
      const { model, data } = internals(core, 0);
      const obs = new Float32Array(OBS);
      const rng = rngFor(6, 0);
      core.reset(0, rng, obs);
      const goal = Array.from(obs.subarray(STATE));
      assert.equal(goal[2], HUMANOID_GOAL_Z);
      const act = new Float32Array(17);
      const actRng = rngFor(60, 0);
      const qpos = new Float64Array(HUMANOID_NQ);
      const qvel = new Float64Array(HUMANOID_NV);
      const vel = new mj.DoubleBuffer(6);
      try {
        for (let t = 0; t < 6; t++) {
          for (let a = 0; a < 17; a++) act[a] = actRng.uniformIn(-1, 1);
          assert.equal(core.step(0, act, rng, obs), false, `terminated at step ${t}`);
          core.getState(0, qpos, qvel);
          for (let k = 0; k < HUMANOID_NQ; k++) assert.equal(obs[k], Math.fround(qpos[k]), `obs[${k}] vs qpos[${k}]`);
          assert.deepEqual([obs[24], obs[25]], [goal[0], goal[1]], "the goal marker's qpos is the commanded goal");
          for (let k = 0; k < HUMANOID_NV; k++) assert.equal(obs[QVEL + k], Math.fround(qvel[k]), `obs[${QVEL + k}] vs qvel[${k}]`);
          assert.deepEqual([obs[49], obs[50]], [0, 0]);
          assert.deepEqual(Array.from(obs.subarray(STATE)), goal, "the goal is constant within an episode");

          // MuJoCo's own quantities for the state reached, recomputed from scratch.
          mj.mj_forward(model, data);
          const mass = model.body_mass as Float64Array;
          const xipos = data.xipos as Float64Array;
          const cinert = data.cinert as Float64Array; // [nbody, 10] about subtree_com of the root
          const sub = data.subtree_com as Float64Array;
          let M = 1;
          const c = [goal[0], goal[1], goal[2]];
          for (let b = 1; b <= HUMANOID_NBODY; b++) {
            M += mass[b];
            for (let k = 0; k < 3; k++) c[k] += mass[b] * xipos[3 * b + k];
          }
          for (let k = 0; k < 3; k++) c[k] /= M;
          for (let b = 1; b <= HUMANOID_NBODY; b++) {
            const o = CINERT + 10 * (b - 1);
            assert.equal(obs[o + 9], Math.fround(mass[b]), `${HUMANOID_BODIES[b - 1]} mass`);
            // MuJoCo's inertia about s = subtree_com[1], moved to the system centre c.
            const ci = cinert.subarray(10 * b, 10 * b + 10);
            const iS = [ci[0], ci[3], ci[4], ci[3], ci[1], ci[5], ci[4], ci[5], ci[2]];
            const d = [0, 1, 2].map((k) => xipos[3 * b + k] - sub[3 + k]);
            const p = [0, 1, 2].map((k) => xipos[3 * b + k] - c[k]);
            const d2 = d[0] ** 2 + d[1] ** 2 + d[2] ** 2;
            const p2 = p[0] ** 2 + p[1] ** 2 + p[2] ** 2;
            for (let u = 0; u < 3; u++) {
              for (let v = 0; v < 3; v++) {
                const delta = u === v ? 1 : 0;
                const want = iS[3 * u + v] - mass[b] * (delta * d2 - d[u] * d[v]) + mass[b] * (delta * p2 - p[u] * p[v]);
                assert.ok(Math.abs(obs[o + 3 * u + v] - want) <= 1e-5 * Math.max(1, Math.abs(want)), `${HUMANOID_BODIES[b - 1]} inertia [${u}][${v}]: ${obs[o + 3 * u + v]} vs ${want}`);
              }
            }
            // Velocity of the body's centre of mass (world frame), scaled by m / M; angular velocity.
            mj.mj_objectVelocity(model, data, mj.mjtObj.mjOBJ_BODY.value, b, vel, 0);
            const w = vel.GetView() as Float64Array; // [angular 3, linear 3]
            for (let k = 0; k < 3; k++) {
              const lin = (mass[b] / M) * w[3 + k];
              assert.ok(Math.abs(obs[CVEL + 6 * (b - 1) + k] - lin) <= 1e-5 * Math.max(1, Math.abs(lin)), `${HUMANOID_BODIES[b - 1]} velocity[${k}]`);
              assert.ok(Math.abs(obs[CVEL + 6 * (b - 1) + 3 + k] - w[k]) <= 1e-5 * Math.max(1, Math.abs(w[k])), `${HUMANOID_BODIES[b - 1]} angular velocity[${k}]`);
            }
          }
          // The goal marker: mass 1, inertia 0.1·E about its centre, at rest.
          const to = CINERT + 10 * HUMANOID_NBODY;
          const q = [goal[0] - c[0], goal[1] - c[1], goal[2] - c[2]];
          const q2 = q[0] ** 2 + q[1] ** 2 + q[2] ** 2;
          assert.ok(Math.abs(obs[to] - (0.1 + q2 - q[0] ** 2)) < 1e-4, "goal marker inertia xx");
          assert.ok(Math.abs(obs[to + 1] + q[0] * q[1]) < 1e-4, "goal marker inertia xy");
          assert.equal(obs[to + 9], 1);
          assert.deepEqual(Array.from(obs.subarray(CVEL + 6 * HUMANOID_NBODY, QFRC)), [0, 0, 0, 0, 0, 0]);
          // Actuator forces: MuJoCo's qfrc_actuator, then the goal marker's two zeros.
          const qfrc = data.qfrc_actuator as Float64Array;
          for (let k = 0; k < HUMANOID_NV; k++) assert.ok(Math.abs(obs[QFRC + k] - qfrc[k]) <= 1e-4, `qfrc_actuator[${k}]: ${obs[QFRC + k]} vs ${qfrc[k]}`);
          // Motor order differs from dof order: motor 0 drives abdomen_y (dof 7), motor 1 abdomen_z (dof 6).
          assert.ok(Math.abs(obs[QFRC + 6] - 100 * 0.4 * act[1]) < 1e-4, "abdomen_z (dof 6) is driven by motor 1 with gear 100");
          assert.ok(Math.abs(obs[QFRC + 7] - 100 * 0.4 * act[0]) < 1e-4, "abdomen_y (dof 7) is driven by motor 0 with gear 100");
          assert.ok(Math.abs(obs[QFRC + 11] - 300 * 0.4 * act[5]) < 1e-4, "right_hip_y (dof 11) is driven by motor 5 with gear 300");
          assert.deepEqual([obs[266], obs[267]], [0, 0]);
        }
      } finally {
        vel.delete();
      }
    } finally {
      core.dispose();
    }
  });
});

describe("Humanoid physics", () => {
  it("stays healthy for the first steps, then falls without control and the VecEnv reports the termination", async () => {
    const env = await makeVecEnv("humanoid-v1", { numEnvs: 3, threads: 0 });
    try {
      const obs = await env.reset(1);
      for (let i = 0; i < 3; i++) assert.ok(Math.abs(obs[i * OBS + 2] - 1.4) <= 0.01 + 1e-6, `start z ${obs[i * OBS + 2]}`);
      const zero = new Float32Array(3 * 17);
      const ended = new Int32Array(3).fill(-1); // [N] step of the first termination
      for (let t = 0; t < 200 && ended.includes(-1); t++) {
        const r = await env.step(zero);
        for (let i = 0; i < 3; i++) {
          if (ended[i] >= 0) continue;
          assert.equal(r.truncated[i], 0);
          if (r.terminated[i] === 1) {
            ended[i] = t;
            const z = r.finalObs[i * OBS + 2];
            assert.ok(z < 1.0, `env ${i} terminated at torso z ${z}`);
            assert.equal(r.episodeId[i], 1);
            assert.ok(Math.abs(r.obs[i * OBS + 2] - 1.4) <= 0.01 + 1e-6, "the next episode starts standing");
          } else {
            const z = r.obs[i * OBS + 2];
            assert.ok(z >= 1.0 && z <= 2.0, `env ${i} not terminated at torso z ${z}`);
          }
        }
      }
      for (let i = 0; i < 3; i++) {
        assert.ok(ended[i] >= 5, `env ${i} fell after ${ended[i] + 1} control steps; it should stand a few`);
        assert.ok(ended[i] >= 0 && ended[i] < 200, `env ${i} did not fall within 200 control steps`);
      }
    } finally {
      await env.close();
    }
  });

  it("terminates when the torso leaves z in [1.0, 2.0] and when the physics diverges", async () => {
    const core = await humanoidCore("humanoid-v1", 1);
    try {
      const obs = new Float32Array(OBS);
      const rng = rngFor(4, 0);
      core.reset(0, rng, obs);
      const qpos = Float64Array.from(HUMANOID_INIT_QPOS);
      const qvel = new Float64Array(HUMANOID_NV);
      const zero = new Float32Array(17);
      qpos[2] = 2.5;
      core.setState(0, qpos, qvel, obs);
      assert.equal(core.step(0, zero, rng, obs), true, "torso at z = 2.5 must terminate");
      qpos[2] = 1.4;
      core.setState(0, qpos, qvel, obs);
      assert.equal(core.step(0, zero, rng, obs), false, "standing torso must not terminate");
      qvel.fill(1e30);
      core.setState(0, qpos, qvel, obs);
      assert.equal(core.step(0, zero, rng, obs), true, "a non-finite state must end the episode");
      assert.equal(core.divergences, 1);
      assert.ok(obs.every(Number.isFinite), "the step reports the last finite state");
      core.reset(0, rng, obs);
      assert.equal(core.step(0, zero, rng, obs), false, "a reset restores the instance");
    } finally {
      core.dispose();
    }
  });

  it("a wall stops a humanoid pushed into it; open ground does not", async () => {
    // u_maze: 'R' is cell (1, 1) at (2, 2); cell (2, 1) below it is a wall, its face at x = 3.
    const layout = parseMaze("u_maze");
    assert.deepEqual(layout.start, [1, 1]);
    assert.equal(layout.grid[2][1], "#");
    const wallFace = 3;
    const legs = ["pelvis", "right_thigh", "right_shin", "left_thigh", "left_shin"].map((n) => HUMANOID_BODIES.indexOf(n));
    const push = async (id: string): Promise<{ legs: number; chest: number }> => {
      const core = await humanoidCore(id, 1);
      try {
        const obs = new Float32Array(OBS);
        const rng = rngFor(5, 0);
        core.reset(0, rng, obs);
        const qpos = Float64Array.from(HUMANOID_INIT_QPOS);
        const qvel = new Float64Array(HUMANOID_NV);
        qpos[0] = 2.5;
        qpos[1] = 2;
        core.setState(0, qpos, qvel, obs);
        const zero = new Float32Array(17);
        const bodies = new Float64Array(3 * HUMANOID_NBODY);
        let legMax = -Infinity;
        let chestMax = -Infinity;
        // Scripted push: every control step the root is given 2 m/s towards +x, for 0.9 s.
        for (let t = 0; t < 60; t++) {
          core.getState(0, qpos, qvel);
          qvel[0] = 2;
          core.setState(0, qpos, qvel, obs);
          core.step(0, zero, rng, obs);
          core.getBodyPositions(0, bodies);
          for (const b of legs) legMax = Math.max(legMax, bodies[3 * b]);
          chestMax = Math.max(chestMax, obs[0]);
        }
        return { legs: legMax, chest: chestMax };
      } finally {
        core.dispose();
      }
    };
    const open = await push("humanoid-v1");
    assert.ok(open.legs > wallFace + 0.5, `without walls the push should carry the legs well past x = ${wallFace}, got ${open.legs}`);
    const maze = await push("humanoid_u_maze-v1");
    // The legs (capsules of radius ≥ 0.049 around these centres of mass) stay in front of the
    // face; the wall is 1 m tall, so the chest may lean over it, but not cross it.
    assert.ok(maze.legs < wallFace + 0.02, `the wall at x = ${wallFace} must stop the legs, got a leg centre of mass at x ${maze.legs}`);
    assert.ok(maze.chest < wallFace + 0.5, `the chest must not pass the wall, got x ${maze.chest}`);
  });
});

describe("Humanoid resets", () => {
  it("humanoid-v1 starts at the origin and draws goals at distance U(1, 5), height 1.25, fresh at every reset", async () => {
    const core = await humanoidCore("humanoid-v1", 1);
    try {
      const obs = new Float32Array(OBS);
      const rng = rngFor(7, 0);
      const radii: number[] = [];
      const angles = new Set<number>();
      for (let e = 0; e < 200; e++) {
        core.reset(0, rng, obs);
        assert.ok(Math.abs(obs[0]) <= 0.01 && Math.abs(obs[1]) <= 0.01, `start (${obs[0]}, ${obs[1]}) must be within ±0.01 of the origin`);
        assert.ok(Math.abs(obs[2] - 1.4) <= 0.01 + 1e-6, `start z ${obs[2]}`);
        for (let k = QVEL; k < QVEL + HUMANOID_NV; k++) assert.ok(Math.abs(obs[k]) <= 0.01, `reset qvel[${k - QVEL}] = ${obs[k]}`);
        assert.equal(obs[STATE + 2], Math.fround(1.25));
        const r = Math.hypot(obs[STATE], obs[STATE + 1]);
        assert.ok(r >= 1 - 1e-5 && r <= 5 + 1e-5, `goal distance ${r}`);
        radii.push(r);
        angles.add(Math.round(Math.atan2(obs[STATE + 1], obs[STATE]) * 1000));
      }
      assert.ok(Math.min(...radii) < 1.2 && Math.max(...radii) > 4.8, "goal distances should cover [1, 5]");
      const mean = radii.reduce((a, b) => a + b, 0) / radii.length;
      assert.ok(Math.abs(mean - 3) < 0.3, `mean goal distance ${mean}; U(1, 5) has mean 3`);
      assert.ok(angles.size > 190, "every reset draws a fresh goal");
    } finally {
      core.dispose();
    }
  });

  it("maze resets start at the 'R' cell ±0.01 and pick goals among the 'G' cells at cell size 2 (eval: the far ones)", async () => {
    for (const [id, layoutName] of [
      ["humanoid_u_maze-v1", "u_maze"],
      ["humanoid_u_maze_eval-v1", "u_maze_eval"],
      ["humanoid_big_maze-v1", "big_maze"],
      ["humanoid_big_maze_eval-v1", "big_maze_eval"],
    ] as const) {
      const core = await humanoidCore(id, 1);
      try {
        checkMazeResets(core, id, layoutName, {
          obsDim: OBS,
          cellSize: 2,
          tolerance: 0.01,
          goalOf: (obs) => Array.from(obs.subarray(STATE)),
          goalOfCell: (xy) => [...xy, Math.fround(1.25)],
        });
      } finally {
        core.dispose();
      }
    }
  });
});

describe("Humanoid wasm heap", () => {
  it("keeps working after the wasm heap grows under it (views are re-fetched)", async () => {
    const a = await humanoidCore("humanoid-v1", 1);
    const obs = new Float32Array(OBS);
    const zero = new Float32Array(17);
    const rng = rngFor(12, 0);
    a.reset(0, rng, obs);
    const oldView = (a as unknown as { views: { qpos: Float64Array }[] }).views[0].qpos;
    // 160 more instances × 256 KiB arenas (40 MiB) force the heap to grow, detaching a's old views.
    const big = await humanoidCore("humanoid_u_maze-v1", 160);
    try {
      assert.equal(oldView.length, 0, "the heap did not grow: this test no longer exercises detached views");
      for (let t = 0; t < 3; t++) assert.equal(a.step(0, zero, rng, obs), false);
      const qpos = new Float64Array(HUMANOID_NQ);
      const qvel = new Float64Array(HUMANOID_NV);
      a.getState(0, qpos, qvel);
      assert.equal(obs[2], Math.fround(qpos[2]));
      assert.ok(qpos[2] > 1.2 && qpos[2] < 1.45, `torso z ${qpos[2]}`);
    } finally {
      big.dispose();
      a.dispose();
    }
  });
});

describe("Humanoid action mapping", () => {
  it("torque per unit action is the paper's code's: ctrl = (a + 1)·(hi − lo)/2 + lo = 0.4·a, not clip(a, ±0.4)", async () => {
    // scaling-crl envs/humanoid.py (and humanoid_maze.py, JaxGCRL's too) rescale the action to the
    // motors' ctrlrange [−0.4, 0.4] before Brax's actuator clips it to the same range (a no-op).
    const refCtrl = (a: number) => (a + 1) * (0.4 - -0.4) * 0.5 + -0.4;
    const core = await humanoidCore("humanoid-v1", 1);
    try {
      const obs = new Float32Array(OBS);
      const rng = rngFor(21, 0);
      for (const a of [-1, -0.5, -0.1, 0, 0.3, 0.75, 1]) {
        core.reset(0, rng, obs);
        const act = new Float32Array(HUMANOID_NU).fill(a);
        core.step(0, act, rng, obs);
        // Motor 5 (right_hip_y, gear 300) drives dof 11; motor 0 (abdomen_y, gear 100) dof 7.
        assert.ok(Math.abs(obs[QFRC + 11] - 300 * refCtrl(a)) < 1e-4, `a = ${a}: hip torque ${obs[QFRC + 11]}, reference ${300 * refCtrl(a)}`);
        assert.ok(Math.abs(obs[QFRC + 7] - 100 * refCtrl(a)) < 1e-4, `a = ${a}: abdomen torque ${obs[QFRC + 7]}`);
      }
    } finally {
      core.dispose();
    }
  });
});
