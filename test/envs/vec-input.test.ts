// A VecEnv step with no actions array is a clear error, like the other bad actions (issue 10).
import assert from "node:assert/strict";
import { test } from "node:test";
import { makeVecEnv } from "../../src/envs/registry.js";

test("step(null) and step(<not an array>) throw an error that says what step needs", async () => {
  const env = await makeVecEnv("simple_u_maze-v1", { numEnvs: 2, threads: 0 });
  try {
    await env.reset(0);
    for (const [bad, got] of [
      [null, "null"],
      [undefined, "undefined"],
      [3, "a number"],
      [{ length: 4 }, "Object"],
    ] as const) {
      await assert.rejects(env.step(bad as unknown as Float32Array), {
        name: "TypeError",
        message: `simple_u_maze-v1: step needs a Float32Array of 2×2 = 4 actions in [-1, 1], got ${got}`,
      });
    }
    const r = await env.step(new Float32Array(4)); // the env is unharmed
    assert.equal(r.obs.length, 2 * env.obsDim);
  } finally {
    await env.close();
  }
});
