// The stitching tasks (SPEC §7, issue 15): the U maze's corridor, the start–goal law (each distance
// equally likely, start before goal along the corridor), and the point-mass and Ant ids that train
// on pairs 1–3 cells apart and evaluate on pairs 4–6 apart.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { corridorPath, parseMaze, stitchPair } from "../../src/envs/mazes.js";
import { farGoalEvalId, getEnvSpec, makeVecEnv, primaryEvalId } from "../../src/envs/registry.js";
import { keyFromSeed, Rng } from "../../src/random.js";

const U_CORRIDOR = [
  [1, 1],
  [1, 2],
  [1, 3],
  [2, 3],
  [3, 3],
  [3, 2],
  [3, 1],
];

describe("the corridor and the start–goal law", () => {
  test("the U maze's corridor runs from 'R' around the wall to its far end; a branching maze has none", () => {
    assert.deepEqual(corridorPath(parseMaze("u_maze")), U_CORRIDOR);
    assert.throws(() => corridorPath(parseMaze("big_maze")), /branches at cell/);
  });

  test("each distance is equally likely, and every pair of a distance too", () => {
    const rng = new Rng(keyFromSeed(1));
    const path = corridorPath(parseMaze("u_maze"));
    const byDistance = new Map<number, number>();
    const starts = new Map<string, number>();
    const n = 30_000;
    for (let k = 0; k < n; k++) {
      const [s, g] = stitchPair(path, [1, 2, 3], rng);
      const i = path.indexOf(s);
      const d = path.indexOf(g) - i;
      assert.ok(d >= 1 && d <= 3, `distance ${d}`);
      byDistance.set(d, (byDistance.get(d) ?? 0) + 1);
      if (d === 3) starts.set(String(i), (starts.get(String(i)) ?? 0) + 1);
    }
    for (const d of [1, 2, 3]) assert.ok(Math.abs(byDistance.get(d)! / n - 1 / 3) < 0.015, `P(d = ${d}) = ${byDistance.get(d)! / n}`);
    // distance 3: starts 0..3, each 1/4 of the distance-3 pairs
    assert.equal(starts.size, 4);
    for (const c of starts.values()) assert.ok(Math.abs(c / byDistance.get(3)! - 0.25) < 0.02);
    assert.throws(() => stitchPair(path, [7], rng), /does not fit a corridor of 7 cells/);
  });
});

/** Start cell and goal cell (indices along the corridor) of every env after a reset; the start within 0.1 of its cell's centre. */
async function startsAndGoals(id: string, n: number, seed: number): Promise<[number, number][]> {
  const env = await makeVecEnv(id, { numEnvs: n, threads: 0 });
  try {
    const obs = await env.reset(seed);
    const s = env.stateDim;
    const out: [number, number][] = [];
    for (let i = 0; i < n; i++) {
      const o = obs.subarray(i * env.obsDim, (i + 1) * env.obsDim);
      const at = (x: number, y: number, tol: number) => U_CORRIDOR.findIndex(([ci, cj]) => Math.abs(x - 4 * ci) <= tol && Math.abs(y - 4 * cj) <= tol);
      const start = at(o[0], o[1], 0.1 + 1e-6);
      const goal = at(o[s], o[s + 1], 1e-6);
      assert.ok(start >= 0 && goal >= 0, `${id} env ${i}: start (${o[0]}, ${o[1]}), goal (${o[s]}, ${o[s + 1]}) are not on the corridor`);
      out.push([start, goal]);
    }
    return out;
  } finally {
    await env.close();
  }
}

describe("stitching envs", () => {
  for (const [train, evalId, n] of [
    ["simple_u_maze_stitch-v1", "simple_u_maze_stitch_eval-v1", 300],
    ["ant_u_maze_stitch-v1", "ant_u_maze_stitch_eval-v1", 30],
  ] as const) {
    test(`${train} trains on pairs 1–3 cells apart and evaluates (eval_far/) on pairs 4–6 apart`, async () => {
      assert.equal(primaryEvalId(train), train);
      assert.equal(farGoalEvalId(train), evalId);
      assert.equal(getEnvSpec(evalId).episodeLength, 1000);
      const near = await startsAndGoals(train, n, 3);
      const far = await startsAndGoals(evalId, n, 3);
      const gaps = (pairs: [number, number][]) => new Set(pairs.map(([s, g]) => g - s));
      assert.deepEqual([...gaps(near)].sort(), [1, 2, 3]);
      assert.deepEqual([...gaps(far)].sort(), [4, 5, 6]);
    });
  }
});
