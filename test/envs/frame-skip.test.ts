// The physics frame skip is a per-env option (issue 11): each MuJoCo env declares its own in its
// spec, a run may override it, and the override means exactly "this many physics steps per
// control step" (one step of 2k frames = two steps of k frames under the same action).
import assert from "node:assert/strict";
import { test } from "node:test";
import { getEnvSpec, makeVecEnv } from "../../src/envs/registry.js";

test("every MuJoCo env declares its frame skip; the point mazes have none", () => {
  const expected: Record<string, number> = {
    "ant-v1": 10,
    "ant_big_maze-v1": 10,
    "humanoid-v1": 5,
    "humanoid_u_maze-v1": 10,
    "humanoid_big_maze_eval-v1": 10,
    "arm_push_easy-v1": 25,
    "arm_binpick_hard-v1": 25,
  };
  for (const [id, k] of Object.entries(expected)) assert.equal(getEnvSpec(id).frameSkip, k, id);
  assert.equal(getEnvSpec("simple_u_maze-v1").frameSkip, undefined);
});

test("a bad or inapplicable frame skip is a clear error", async () => {
  await assert.rejects(makeVecEnv("simple_u_maze-v1", { numEnvs: 1, threads: 0, frameSkip: 2 }), /simple_u_maze-v1 has no physics frame skip to set/);
  for (const bad of [0, 2.5, -1, 1001]) {
    await assert.rejects(makeVecEnv("humanoid-v1", { numEnvs: 1, threads: 0, frameSkip: bad }), /frameSkip must be an integer in \[1, 1000\], got .* \(default for humanoid-v1: 5\)/);
  }
});

test("humanoid-v1 with frame skip 10: one control step is two of the default 5", async () => {
  const a = await makeVecEnv("humanoid-v1", { numEnvs: 2, threads: 0 });
  const b = await makeVecEnv("humanoid-v1", { numEnvs: 2, threads: 0, frameSkip: 10 });
  try {
    assert.equal(b.frameSkip, 10);
    const oa = await a.reset(3);
    const ob = await b.reset(3);
    assert.deepEqual(ob, oa, "the reset does not depend on the frame skip");
    const act = new Float32Array(2 * a.actionDim).map((_, k) => Math.sin(k));
    await a.step(act);
    const ra = await a.step(act);
    const rb = await b.step(act);
    // qpos and qvel (the first 51 values of each env's observation) agree to the last bit.
    for (let e = 0; e < 2; e++) {
      const base = e * a.obsDim;
      assert.deepEqual(rb.obs.subarray(base, base + 51), ra.obs.subarray(base, base + 51), `env ${e}`);
    }
    const ro = await a.step(act); // and the default really is 5 frames: a third step differs
    assert.notDeepEqual(Array.from(ro.obs.subarray(0, 24)), Array.from(rb.obs.subarray(0, 24)));
  } finally {
    await a.close();
    await b.close();
  }
});
