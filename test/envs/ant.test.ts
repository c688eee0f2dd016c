// The MuJoCo Ant family (src/envs/mujoco/ant.ts): the Ant stands, walls stop it, the observation
// is qpos ++ qvel ++ goal, resets draw fresh starts and goals, and trajectories are a pure
// function of the rng and the actions.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseMaze } from "../../src/envs/mazes.js";
import { ANT_INIT_QPOS, ANT_NQ, ANT_NV, antXml, mazeWalls } from "../../src/envs/mujoco/ant_model.js";
import { ANT_ENV_SPECS, ANT_MAZE_CELL_SIZE, AntCore, createAntCore } from "../../src/envs/mujoco/ant.js";
import { loadMujoco } from "../../src/envs/mujoco/loader.js";
import type { EnvSpec } from "../../src/envs/types.js";
import { checkMazeResets, episodeRng, familyCore, specIn } from "./family.js";

const OBS = 31;

const spec = (id: string): EnvSpec => specIn(ANT_ENV_SPECS, id);
const antCore = (id: string, count: number): Promise<AntCore> => familyCore(createAntCore, AntCore, spec(id), count);
const rngFor = episodeRng;

describe("Ant specs", () => {
  it("lists the paper's Ant tasks with the SPEC §6 shapes and eval ids", () => {
    const ids = ANT_ENV_SPECS.map((s) => s.id).sort();
    assert.deepEqual(ids, [
      "ant-v1",
      "ant_big_maze-v1",
      "ant_big_maze_eval-v1",
      "ant_hardest_maze-v1",
      "ant_u4_maze-v1",
      "ant_u4_maze_eval-v1",
      "ant_u5_maze-v1",
      "ant_u5_maze_eval-v1",
      "ant_u_maze_stitch-v1",
      "ant_u_maze_stitch_eval-v1",
    ]);
    for (const s of ANT_ENV_SPECS) {
      assert.equal(s.stateDim, 29);
      assert.equal(s.goalDim, 2);
      assert.equal(s.obsDim, 31);
      assert.equal(s.actionDim, 8);
      assert.deepEqual(s.goalIndices, [0, 1]);
      assert.equal(s.episodeLength, 1000);
      assert.equal(s.successThreshold, 0.5);
    }
    assert.equal(spec("ant_u4_maze-v1").evalId, "ant_u4_maze_eval-v1");
    assert.equal(spec("ant_u5_maze-v1").evalId, "ant_u5_maze_eval-v1");
    assert.equal(spec("ant_big_maze-v1").evalId, "ant_big_maze_eval-v1");
    assert.equal(spec("ant_hardest_maze-v1").evalId, undefined);
    assert.equal(spec("ant-v1").evalId, undefined);
    // The stitching task (issue 15) is evaluated on its far pairs as an extra metric (eval_far/…).
    assert.equal(spec("ant_u_maze_stitch-v1").evalId, "ant_u_maze_stitch_eval-v1");
  });

  it("rejects unknown ids and bad counts", async () => {
    await assert.rejects(createAntCore({ ...spec("ant-v1"), id: "ant_nowhere-v1" }, 1), /unknown Ant env id "ant_nowhere-v1"/);
    await assert.rejects(createAntCore(spec("ant-v1"), 0), /positive integer/);
  });
});

describe("Ant model", () => {
  it("compiles with 15 qpos, 14 qvel, 8 motors of gear 150 and timestep 0.005", async () => {
    const mj = await loadMujoco();
    const m = mj.MjModel.from_xml_string(antXml());
    try {
      assert.equal(m.nq, ANT_NQ);
      assert.equal(m.nv, ANT_NV);
      assert.equal(m.nu, 8);
      assert.equal(m.opt.timestep, 0.005);
      const gear = m.actuator_gear as Float64Array; // [nu, 6]
      for (let a = 0; a < 8; a++) assert.equal(gear[6 * a], 150);
    } finally {
      m.delete();
    }
  });

  it("contacts as the reference: on open ground feet–floor only (ant.xml); in a maze also walls and self-contact (ant_maze.xml)", async () => {
    const mj = await loadMujoco();
    const pairsOf = (xml: string): string[] => {
      const m = mj.MjModel.from_xml_string(xml);
      try {
        const ct = m.geom_contype as Int32Array;
        const ca = m.geom_conaffinity as Int32Array;
        const body = m.geom_bodyid as Int32Array;
        const parent = m.body_parentid as Int32Array;
        const name = (g: number) => mj.mj_id2name(m, mj.mjtObj.mjOBJ_GEOM.value, g).replace(/_\d+$/, "");
        const out = new Set<string>();
        for (let a = 0; a < m.ngeom; a++) {
          for (let b = a + 1; b < m.ngeom; b++) {
            if ((ct[a] & ca[b]) === 0 && (ct[b] & ca[a]) === 0) continue;
            // MuJoCo filters contacts within one body and between a body and its parent (not the world).
            if (body[a] === body[b] || (body[b] !== 0 && parent[body[a]] === body[b]) || (body[a] !== 0 && parent[body[b]] === body[a])) continue;
            out.add([name(a), name(b)].sort().join("-"));
          }
        }
        return [...out].sort();
      } finally {
        m.delete();
      }
    };
    assert.deepEqual(pairsOf(antXml()), ["floor-foot"]);
    const walls = mazeWalls(parseMaze("u4_maze"), 4, 2);
    assert.deepEqual(pairsOf(antXml(walls)), ["floor-foot", "foot-foot", "foot-torso", "foot-upper", "foot-wall", "torso-wall", "upper-wall"].sort());
  });

  it("the collision midphase is off and changes nothing: an Ant driven into a wall moves bit for bit as with it on", async () => {
    const mj = await loadMujoco();
    const walls = mazeWalls(parseMaze("big_maze"), 4, 2);
    assert.match(antXml(walls), /midphase="disable"/);
    assert.doesNotMatch(antXml(walls, undefined, true, true), /midphase/);
    // A wall box with free floor on its −x side: the Ant starts 1.2 m from its face and is driven
    // into it (torso velocity +x) under random motor commands, so torso, legs and feet hit it.
    const w = walls.find((b) => b.hx <= 2.01 && !walls.some((o) => o !== b && Math.abs(o.x + o.hx - (b.x - b.hx)) < 1e-9 && Math.abs(o.y - b.y) < o.hy + b.hy))!;
    assert.ok(w, "a wall with open floor before it");
    const face = w.x - w.hx;
    const run = (midphase: boolean): { q: Float64Array[]; maxX: number } => {
      const m = mj.MjModel.from_xml_string(antXml(walls, undefined, true, midphase));
      const d = new mj.MjData(m);
      try {
        const qpos = d.qpos as Float64Array;
        const qvel = d.qvel as Float64Array;
        const ctrl = d.ctrl as Float64Array;
        qpos.set(ANT_INIT_QPOS);
        qpos[0] = face - 1.2;
        qpos[1] = w.y;
        let seed = 7;
        const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
        const q: Float64Array[] = [];
        let maxX = -Infinity;
        for (let t = 0; t < 600; t++) {
          if (t % 10 === 0) for (let j = 0; j < 8; j++) ctrl[j] = rnd();
          if (t < 200) qvel[0] = 3; // pushed toward the wall
          mj.mj_step(m, d);
          q.push(Float64Array.from(qpos));
          maxX = Math.max(maxX, qpos[0]);
        }
        return { q, maxX };
      } finally {
        d.delete();
        m.delete();
      }
    };
    const off = run(false);
    const on = run(true);
    // It reached the wall and the wall stopped it: the torso's centre (radius 0.25, pushed at 3 m/s
    // into soft contacts) came within 0.6 m of the face and never passed it (without the wall it
    // travels ≈ 3 m in those 200 steps).
    assert.ok(off.maxX < face && off.maxX > face - 0.6, `torso x reached ${off.maxX}, wall face at ${face}`);
    for (let t = 0; t < off.q.length; t++) {
      for (let i = 0; i < ANT_NQ; i++) {
        if (!Object.is(off.q[t][i], on.q[t][i])) assert.fail(`step ${t}, qpos[${i}]: ${off.q[t][i]} (midphase off) vs ${on.q[t][i]} (on)`);
      }
    }
  });

  it("maze walls cover exactly the '#' cells", () => {
    for (const name of ["u4_maze", "u5_maze", "big_maze", "hardest_maze", "ant_big_maze_eval"]) {
      const layout = parseMaze(name);
      const boxes = mazeWalls(layout, 4, 2);
      // Each cell centre must be inside exactly one box if it is a wall, and in none otherwise.
      for (let i = 0; i < layout.rows; i++) {
        for (let j = 0; j < layout.cols; j++) {
          const x = 4 * i;
          const y = 4 * j;
          const inside = boxes.filter((b) => Math.abs(x - b.x) < b.hx && Math.abs(y - b.y) < b.hy).length;
          assert.equal(inside, layout.grid[i][j] === "#" ? 1 : 0, `${name} cell (${i}, ${j})`);
        }
      }
      const area = boxes.reduce((a, b) => a + 4 * b.hx * b.hy, 0);
      assert.equal(area, 16 * layout.walls.length, `${name}: boxes overlap or leave gaps`);
      for (const b of boxes) assert.equal(b.hz, 1);
    }
  });
});

describe("Ant physics", () => {
  it("stands with zero action for 100 steps (torso z in [0.2, 1.0])", async () => {
    const core = await antCore("ant-v1", 2);
    try {
      const obs = new Float32Array(OBS);
      const zero = new Float32Array(8);
      for (let i = 0; i < 2; i++) {
        const rng = rngFor(3, i);
        core.reset(i, rng, obs);
        let zMin = Infinity;
        let zMax = -Infinity;
        for (let t = 0; t < 100; t++) {
          assert.equal(core.step(i, zero, rng, obs), false, `env ${i} terminated at step ${t}`);
          zMin = Math.min(zMin, obs[2]);
          zMax = Math.max(zMax, obs[2]);
        }
        // The reset noise (qvel 0.1·N(0, 1), qpos ±0.1) makes it bob a little before it settles.
        assert.ok(zMin >= 0.3 && zMax <= 0.8, `torso z range [${zMin}, ${zMax}] should stay near the standing 0.55`);
        assert.ok(Math.abs(obs[2] - 0.53) < 0.05, `settled torso z ${obs[2]}`);
        // At rest after 5 s: the body barely moves.
        for (let k = 15; k < 29; k++) assert.ok(Math.abs(obs[k]) < 0.05, `qvel[${k - 15}] = ${obs[k]} after 100 zero-action steps`);
      }
    } finally {
      core.dispose();
    }
  });

  it("terminates when the torso leaves z in [0.2, 1.0]", async () => {
    const core = await antCore("ant-v1", 1);
    try {
      const obs = new Float32Array(OBS);
      const rng = rngFor(4, 0);
      core.reset(0, rng, obs);
      const qpos = Float64Array.from(ANT_INIT_QPOS);
      const qvel = new Float64Array(ANT_NV);
      const zero = new Float32Array(8);
      qpos[2] = 1.5;
      core.setState(0, qpos, qvel, obs);
      assert.equal(core.step(0, zero, rng, obs), true, "torso at z = 1.5 must terminate");
      // Upside down at z = 0.15: only the feet touch the floor, so nothing holds the torso up.
      qpos[2] = 0.15;
      qpos[3] = 0;
      qpos[4] = 1;
      core.setState(0, qpos, qvel, obs);
      assert.equal(core.step(0, zero, rng, obs), true, "torso at z = 0.15 must terminate");
      qpos[2] = 0.55;
      qpos[3] = 1;
      qpos[4] = 0;
      core.setState(0, qpos, qvel, obs);
      assert.equal(core.step(0, zero, rng, obs), false, "standing torso must not terminate");
    } finally {
      core.dispose();
    }
  });

  it("a wall stops an Ant pushed into it; open ground does not", async () => {
    // u4_maze: 'R' is cell (2, 1) at (8, 4); cell (3, 1) below it is a wall, its face at x = 10.
    const layout = parseMaze("u4_maze");
    assert.deepEqual(layout.start, [2, 1]);
    assert.equal(layout.grid[3][1], "#");
    const wallFace = 10;
    const push = async (id: string): Promise<number> => {
      const core = await antCore(id, 1);
      try {
        const obs = new Float32Array(OBS);
        const rng = rngFor(5, 0);
        core.reset(0, rng, obs);
        const qpos = Float64Array.from(ANT_INIT_QPOS);
        const qvel = new Float64Array(ANT_NV);
        qpos[0] = 8;
        qpos[1] = 4;
        core.setState(0, qpos, qvel, obs);
        const zero = new Float32Array(8);
        let xMax = -Infinity;
        // Scripted push: every control step the torso is given 4 m/s towards +x (z kept), for 3 s.
        for (let t = 0; t < 60; t++) {
          core.getState(0, qpos, qvel);
          qvel[0] = 4;
          core.setState(0, qpos, qvel, obs);
          core.step(0, zero, rng, obs);
          xMax = Math.max(xMax, obs[0]);
        }
        return xMax;
      } finally {
        core.dispose();
      }
    };
    const xOpen = await push("ant-v1");
    assert.ok(xOpen > wallFace + 2, `without walls the push should carry the Ant well past x = ${wallFace}, got ${xOpen}`);
    const xMaze = await push("ant_u4_maze-v1");
    // The torso sphere (radius 0.25) may not cross the wall face beyond a few cm of contact softness.
    assert.ok(xMaze < wallFace - 0.25 + 0.05, `the wall at x = ${wallFace} must stop the torso, got torso x ${xMaze}`);
  });
});

describe("Ant observation and resets", () => {
  it("observation = qpos ++ qvel ++ goal", async () => {
    const core = await antCore("ant_big_maze-v1", 1);
    try {
      const obs = new Float32Array(OBS);
      const rng = rngFor(6, 0);
      core.reset(0, rng, obs);
      const act = new Float32Array(8);
      const actRng = rngFor(60, 0);
      const qpos = new Float64Array(ANT_NQ);
      const qvel = new Float64Array(ANT_NV);
      const goal = [obs[29], obs[30]];
      for (let t = 0; t < 20; t++) {
        for (let a = 0; a < 8; a++) act[a] = actRng.uniformIn(-1, 1);
        if (core.step(0, act, rng, obs)) break;
        core.getState(0, qpos, qvel);
        for (let k = 0; k < ANT_NQ; k++) assert.equal(obs[k], Math.fround(qpos[k]), `obs[${k}] vs qpos[${k}]`);
        for (let k = 0; k < ANT_NV; k++) assert.equal(obs[ANT_NQ + k], Math.fround(qvel[k]), `obs[${ANT_NQ + k}] vs qvel[${k}]`);
        assert.deepEqual([obs[29], obs[30]], goal, "the goal is constant within an episode");
        // qpos[3..6] is the torso quaternion: unit length.
        assert.ok(Math.abs(Math.hypot(qpos[3], qpos[4], qpos[5], qpos[6]) - 1) < 1e-9);
      }
    } finally {
      core.dispose();
    }
  });

  it("ant-v1 resets near the origin with goals on the radius-10 circle, fresh at every reset", async () => {
    const core = await antCore("ant-v1", 1);
    try {
      const obs = new Float32Array(OBS);
      const rng = rngFor(7, 0);
      const angles = new Set<number>();
      for (let e = 0; e < 20; e++) {
        core.reset(0, rng, obs);
        assert.ok(Math.abs(obs[0]) <= 0.1 && Math.abs(obs[1]) <= 0.1, `start (${obs[0]}, ${obs[1]}) must be within ±0.1 of the origin`);
        assert.ok(Math.abs(obs[2] - 0.55) <= 0.1, `start z ${obs[2]}`);
        assert.ok(Math.abs(Math.hypot(obs[29], obs[30]) - 10) < 1e-4, `goal (${obs[29]}, ${obs[30]}) must lie on the radius-10 circle`);
        angles.add(Math.round(Math.atan2(obs[30], obs[29]) * 1000));
        for (let k = 15; k < 29; k++) assert.ok(Math.abs(obs[k]) < 0.6, `reset qvel[${k - 15}] = ${obs[k]} is far beyond 0.1·N(0, 1)`);
      }
      assert.equal(angles.size, 20, "every reset draws a fresh goal");
    } finally {
      core.dispose();
    }
  });

  it("maze resets start at the 'R' cell ±0.1 and pick goals among the 'G' cells (eval: the far ones)", async () => {
    for (const [id, layoutName] of [
      ["ant_u4_maze-v1", "u4_maze"],
      ["ant_u4_maze_eval-v1", "u4_maze_eval"],
      ["ant_hardest_maze-v1", "hardest_maze"],
    ] as const) {
      const core = await antCore(id, 1);
      try {
        checkMazeResets(core, id, layoutName, { obsDim: OBS, cellSize: ANT_MAZE_CELL_SIZE, tolerance: 0.1, goalOf: (obs) => [obs[29], obs[30]] });
      } finally {
        core.dispose();
      }
    }
  });
});

describe("Ant wasm heap", () => {
  it("keeps working after the wasm heap grows under it (views are re-fetched)", async () => {
    const a = await antCore("ant-v1", 1);
    const obs = new Float32Array(OBS);
    const act = Float32Array.from({ length: 8 }, (_, k) => (k % 2 === 0 ? 0.8 : -0.6));
    const rng = rngFor(12, 0);
    a.reset(0, rng, obs);
    const start = Float32Array.from(obs);
    // 160 more instances × 256 KiB arenas (40 MiB) force the heap to grow, detaching a's old views.
    const oldView = (a as unknown as { views: { qpos: Float64Array }[] }).views[0].qpos;
    const big = await antCore("ant_u4_maze-v1", 160);
    const ref = await antCore("ant-v1", 1);
    try {
      assert.equal(oldView.length, 0, "the heap did not grow: this test no longer exercises detached views");
      // a's first call after the growth is a step with non-zero controls: they must reach the
      // physics, so a follows the same trajectory as an instance built after the growth (a stale
      // ctrl view would leave a's motors at zero).
      const obsR = new Float32Array(OBS);
      const rngR = rngFor(12, 0);
      ref.reset(0, rngR, obsR);
      assert.deepEqual(Array.from(obsR), Array.from(start));
      for (let t = 0; t < 5; t++) {
        assert.equal(a.step(0, act, rng, obs), false);
        ref.step(0, act, rngR, obsR);
      }
      assert.deepEqual(Array.from(obs), Array.from(obsR));
      assert.notDeepEqual(Array.from(obs.subarray(7, 15)), Array.from(start.subarray(7, 15)), "the joints did not move");
      const qpos = new Float64Array(ANT_NQ);
      const qvel = new Float64Array(ANT_NV);
      a.getState(0, qpos, qvel);
      assert.equal(obs[2], Math.fround(qpos[2]));
      assert.ok(qpos[2] > 0.3 && qpos[2] < 0.8, `torso z ${qpos[2]}`);
    } finally {
      ref.dispose();
      big.dispose();
      a.dispose();
    }
  });
});
