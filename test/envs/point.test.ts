// Physics of the point-mass mazes (src/envs/point/point.ts): free motion, walls, goals.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseMaze } from "../../src/envs/mazes.js";
import {
  POINT_DAMPING,
  POINT_DT,
  POINT_ENV_SPECS,
  POINT_HALF_SIZE,
  POINT_MAX_ACCEL,
  PointMazeCore,
} from "../../src/envs/point/point.js";
import type { EnvSpec } from "../../src/envs/types.js";
import { Rng, keyFromSeed } from "../../src/random.js";

function spec(id: string): EnvSpec {
  return POINT_ENV_SPECS.find((s) => s.id === id)!;
}

function core(id: string, count = 1): { c: PointMazeCore; rng: Rng; obs: Float32Array; act: Float32Array } {
  const c = new PointMazeCore(spec(id), count);
  const rng = new Rng(keyFromSeed(1));
  const obs = new Float32Array(6); // [obsDim]
  for (let i = 0; i < count; i++) c.reset(i, rng, obs);
  return { c, rng, obs, act: new Float32Array(2) };
}

test("free motion follows v ← (1 − c·dt)·v + A·dt·a, x ← x + dt·v", () => {
  const { c, rng, obs, act } = core("simple_u_maze-v1");
  c.setBodyState(0, 4, 4, 0, 0);
  act[0] = 0;
  act[1] = 0.6;
  let y = 4;
  let v = 0;
  for (let k = 0; k < 12; k++) {
    c.step(0, act, rng, obs);
    v = (1 - POINT_DAMPING * POINT_DT) * v + POINT_MAX_ACCEL * POINT_DT * Math.fround(0.6); // actions are float32
    y += POINT_DT * v;
  }
  const [bx, by, bvx, bvy] = c.bodyState(0);
  assert.equal(bx, 4);
  assert.equal(bvx, 0);
  assert.ok(Math.abs(by - y) < 1e-12, `y ${by} vs ${y}`);
  assert.ok(Math.abs(bvy - v) < 1e-12);
  assert.deepEqual(Array.from(obs.subarray(0, 4)), [Math.fround(bx), Math.fround(by), Math.fround(bvx), Math.fround(bvy)]);
  // Top speed is A / c = 2.5 m/s.
  for (let k = 0; k < 20; k++) c.step(0, act, rng, obs);
  assert.ok(c.bodyState(0)[1] < 13.5 + 1e-9);
});

test("a body pushing into a wall stops flush at the wall, with zero velocity into it", () => {
  const { c, rng, obs, act } = core("simple_u_maze-v1");
  const r = POINT_HALF_SIZE;
  // Cell (1, 1) spans x ∈ [2, 6]; rows 0 and 2 are walls there.
  c.setBodyState(0, 4, 4, 0, 0);
  act[0] = -1;
  act[1] = 0;
  for (let k = 0; k < 100; k++) c.step(0, act, rng, obs);
  assert.deepEqual(c.bodyState(0), [2 + r, 4, 0, 0]);
  act[0] = 1;
  for (let k = 0; k < 100; k++) c.step(0, act, rng, obs);
  assert.deepEqual(c.bodyState(0), [6 - r, 4, 0, 0]);
  // Column 0 is a wall: pushing −y stops at y = 2 + r.
  act[0] = 0;
  act[1] = -1;
  for (let k = 0; k < 100; k++) c.step(0, act, rng, obs);
  assert.deepEqual(c.bodyState(0), [6 - r, 2 + r, 0, 0]);
});

test("no tunnelling at any speed; sliding along a wall keeps the parallel motion", () => {
  const { c, rng, obs, act } = core("simple_u_maze-v1");
  const r = POINT_HALF_SIZE;
  act[0] = 0;
  act[1] = 0;
  for (const speed of [1e3, 1e9, Number.POSITIVE_INFINITY]) {
    c.setBodyState(0, 4, 4, speed, 0);
    c.step(0, act, rng, obs);
    assert.deepEqual(c.bodyState(0), [6 - r, 4, 0, 0], `vx = ${speed}`);
    c.setBodyState(0, 4, 4, 0, -speed);
    c.step(0, act, rng, obs);
    assert.deepEqual(c.bodyState(0), [4, 2 + r, 0, 0], `vy = ${-speed}`);
  }
  // Along the corridor of row 1 (free from y = 2 to 14): a fast body stops at the far end.
  c.setBodyState(0, 4, 4, 0, 1e6);
  c.step(0, act, rng, obs);
  assert.deepEqual(c.bodyState(0), [4, 14 - r, 0, 0]);
  // Pressed against the wall at x = 2 and pushed along +y: slides.
  c.setBodyState(0, 2 + r, 4, 0, 0);
  act[0] = -1;
  act[1] = 1;
  for (let k = 0; k < 10; k++) c.step(0, act, rng, obs);
  const [x, y] = c.bodyState(0);
  assert.equal(x, 2 + r);
  assert.ok(y > 4.5, `slid to y = ${y}`);
});

test("the body never overlaps a wall cell under long random pushes (hardest maze)", () => {
  const id = "simple_hardest_maze-v1";
  const n = 8;
  const { c, obs, act } = core(id, n);
  const maze = parseMaze("hardest_maze");
  const rng = new Rng(keyFromSeed(99));
  const reach = 2 + POINT_HALF_SIZE - 1e-9;
  let moved = 0;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 3000; k++) {
      if (k % 25 === 0) {
        act[0] = rng.uniformIn(-1, 1);
        act[1] = rng.uniformIn(-1, 1);
      }
      c.step(i, act, rng, obs);
      const [x, y] = c.bodyState(i);
      for (const [wi, wj] of maze.walls) {
        assert.ok(!(Math.abs(x - 4 * wi) < reach && Math.abs(y - 4 * wj) < reach), `env ${i} step ${k}: body at (${x}, ${y}) overlaps wall cell (${wi}, ${wj})`);
      }
    }
    const [x, y] = c.bodyState(i);
    moved = Math.max(moved, Math.hypot(x - 4, y - 4));
  }
  assert.ok(moved > 6, `the bodies explored only ${moved} m from the start`);
});

test("a cell is crossed in a few dozen steps at full push", () => {
  const { c, rng, obs, act } = core("simple_u_maze-v1");
  c.setBodyState(0, 4, 4, 0, 0);
  act[1] = 1;
  let steps = 0;
  while (c.bodyState(0)[1] < 8) {
    c.step(0, act, rng, obs);
    steps++;
  }
  assert.ok(steps >= 10 && steps <= 40, `crossed one cell (4 m) in ${steps} steps`);
});

test("starts at the 'R' centre ± 0.1; goals uniform over 'G' cells, centre ± 1", () => {
  const id = "simple_u_maze-v1";
  const c = new PointMazeCore(spec(id), 1);
  const maze = parseMaze("u_maze");
  const counts = new Map<string, number>();
  const obs = new Float32Array(6); // [obsDim]
  const draws = 1200;
  for (let e = 0; e < draws; e++) {
    c.reset(0, new Rng([3, e]), obs);
    assert.ok(Math.abs(obs[0] - 4) <= 0.1 && Math.abs(obs[1] - 4) <= 0.1);
    assert.equal(obs[2], 0);
    assert.equal(obs[3], 0);
    const gi = Math.round(obs[4] / 4);
    const gj = Math.round(obs[5] / 4);
    assert.ok(Math.abs(obs[4] - 4 * gi) <= 1 && Math.abs(obs[5] - 4 * gj) <= 1);
    assert.ok(maze.goals.some(([i, j]) => i === gi && j === gj), `goal in cell (${gi}, ${gj}), not a 'G' cell`);
    counts.set(`${gi},${gj}`, (counts.get(`${gi},${gj}`) ?? 0) + 1);
  }
  assert.equal(counts.size, maze.goals.length);
  // Uniform over 6 cells: each ~200 of 1200; 5 sigma ≈ 65.
  for (const [cell, k] of counts) assert.ok(Math.abs(k - draws / maze.goals.length) < 65, `cell ${cell} drawn ${k} times`);
  // Eval layout: only the far cells (row 3).
  const ce = new PointMazeCore(spec("simple_u_maze_eval-v1"), 1);
  for (let e = 0; e < 50; e++) {
    ce.reset(0, new Rng([4, e]), obs);
    assert.equal(Math.round(obs[4] / 4), 3);
  }
});

test("unknown point-maze ids are refused with the known ids", () => {
  assert.throws(() => new PointMazeCore({ ...spec("simple_u_maze-v1"), id: "simple_nope-v1" }, 1), /not a point-maze id: known are simple_u_maze-v1/);
});

/** Next waypoint from (x, y) towards goal (gx, gy): BFS over free cells, centre of the next cell. */
function waypoint(maze: ReturnType<typeof parseMaze>, x: number, y: number, gx: number, gy: number): [number, number] {
  const ci = Math.round(x / 4);
  const cj = Math.round(y / 4);
  const ti = Math.round(gx / 4);
  const tj = Math.round(gy / 4);
  if (ci === ti && cj === tj) return [gx, gy];
  // BFS backwards from the goal cell, so the first step from the current cell is read off directly.
  const dist = new Map<string, number>([[`${ti},${tj}`, 0]]);
  const queue: [number, number][] = [[ti, tj]];
  while (queue.length > 0) {
    const [i, j] = queue.shift()!;
    for (const [di, dj] of [
      [1, 0],
      [-1, 0],
      [0, 1],
      [0, -1],
    ]) {
      const a = i + di;
      const b = j + dj;
      if (maze.grid[a][b] !== "#" && !dist.has(`${a},${b}`)) {
        dist.set(`${a},${b}`, dist.get(`${i},${j}`)! + 1);
        queue.push([a, b]);
      }
    }
  }
  const here = dist.get(`${ci},${cj}`)!;
  for (const [di, dj] of [
    [1, 0],
    [-1, 0],
    [0, 1],
    [0, -1],
  ]) {
    if (dist.get(`${ci + di},${cj + dj}`) === here - 1) return [4 * (ci + di), 4 * (cj + dj)];
  }
  throw new Error(`no path from (${ci}, ${cj})`);
}

test("a scripted BFS + PD controller reaches every goal well within an episode (the mazes are solvable)", async () => {
  const { makeVecEnv } = await import("../../src/envs/registry.js");
  for (const [id, mazeName] of [
    ["simple_u_maze-v1", "u_maze"],
    ["simple_big_maze-v1", "big_maze"],
    ["simple_hardest_maze-v1", "hardest_maze"],
  ] as const) {
    const maze = parseMaze(mazeName);
    const n = 16;
    const env = await makeVecEnv(id, { numEnvs: n, threads: 0 });
    try {
      let obs = await env.reset(11);
      const reached = new Int32Array(n).fill(-1); // [N] first step at the goal
      const act = new Float32Array(2 * n); // [N, 2]
      for (let t = 0; t < 1000; t++) {
        for (let i = 0; i < n; i++) {
          const o = obs.subarray(6 * i, 6 * i + 6);
          const [wx, wy] = waypoint(maze, o[0], o[1], o[4], o[5]);
          act[2 * i] = Math.max(-1, Math.min(1, 1.0 * (wx - o[0]) - 0.8 * o[2]));
          act[2 * i + 1] = Math.max(-1, Math.min(1, 1.0 * (wy - o[1]) - 0.8 * o[3]));
        }
        const r = await env.step(act);
        obs = r.obs;
        for (let i = 0; i < n; i++) if (r.success[i] && reached[i] < 0) reached[i] = t;
        if (r.truncated.some((v) => v === 1)) break;
      }
      const worst = Math.max(...reached);
      assert.ok(reached.every((t) => t >= 0), `${id}: goals not reached: ${Array.from(reached)}`);
      assert.ok(worst < 600, `${id}: the slowest goal took ${worst} steps`);
    } finally {
      await env.close();
    }
  }
});
