// VecEnv.getState / setState (issue 10): a saved env state continues every episode exactly —
// physics, goal, step count within the episode, the episode's random stream — into a VecEnv with
// any number of worker threads, so a resumed training run goes on as the uninterrupted one.
import assert from "node:assert/strict";
import { test } from "node:test";
import { makeVecEnv } from "../../src/envs/registry.js";
import type { VecEnv } from "../../src/envs/types.js";
import { keyFromSeed, Rng } from "../../src/random.js";

/** Steps `env` with `n` seeded random actions; returns every step's obs, finalObs, dist and episode ids. */
async function roll(env: VecEnv, n: number, rng: Rng): Promise<number[][]> {
  const out: number[][] = [];
  const a = new Float32Array(env.numEnvs * env.actionDim);
  for (let t = 0; t < n; t++) {
    for (let k = 0; k < a.length; k++) a[k] = 2 * rng.uniform() - 1;
    const r = await env.step(a);
    out.push([...r.obs, ...r.finalObs, ...r.dist, ...r.episodeId, ...r.truncated]);
  }
  return out;
}

test("point maze: a VecEnv state restored into new VecEnvs (0 or 2 threads) continues exactly", async () => {
  const opts = { numEnvs: 3, episodeLength: 7 }; // episodes end within the test, so resets continue too
  const a = await makeVecEnv("simple_u_maze-v1", { ...opts, threads: 2 });
  try {
    await a.reset(42);
    await roll(a, 10, new Rng(keyFromSeed(1)));
    const saved = await a.getState!();
    assert.ok(saved, "the point core saves its state");
    assert.equal(saved.numEnvs, 3);
    const expected = await roll(a, 20, new Rng(keyFromSeed(2)));
    for (const threads of [0, 2]) {
      const b = await makeVecEnv("simple_u_maze-v1", { ...opts, threads });
      try {
        const obs = await b.setState!(saved);
        assert.equal(obs.length, 3 * 6);
        assert.deepEqual(await roll(b, 20, new Rng(keyFromSeed(2))), expected, `threads ${threads}`);
      } finally {
        await b.close();
      }
    }
    const wrong = await makeVecEnv("simple_u_maze-v1", { numEnvs: 2, threads: 0 });
    try {
      await assert.rejects(wrong.setState!(saved), /saved env state is of simple_u_maze-v1 with 3 envs .* this VecEnv has 2 envs/);
    } finally {
      await wrong.close();
    }
  } finally {
    await a.close();
  }
});

for (const id of ["ant_u4_maze-v1", "humanoid-v1", "arm_push_easy-v1"]) {
  test(`MuJoCo ${id}: a restored env state (time, qpos, qvel, act, warm start, ctrl, goal) continues bit for bit`, async () => {
    const opts = { numEnvs: 2, episodeLength: 9 };
    const a = await makeVecEnv(id, { ...opts, threads: 0 });
    try {
      await a.reset(7);
      await roll(a, 5, new Rng(keyFromSeed(3)));
      const saved = await a.getState!();
      assert.ok(saved, `${id} saves its state`);
      const expected = await roll(a, 12, new Rng(keyFromSeed(4)));
      const b = await makeVecEnv(id, { ...opts, threads: 1 });
      try {
        await b.reset(99); // another episode first: setState must overwrite everything
        await roll(b, 3, new Rng(keyFromSeed(5)));
        await b.setState!(saved);
        assert.deepEqual(await roll(b, 12, new Rng(keyFromSeed(4))), expected);
      } finally {
        await b.close();
      }
    } finally {
      await a.close();
    }
  });
}
