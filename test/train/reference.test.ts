// The random-policy reference of the end-of-run report (issue 10): a fixed-seed rollout on the
// evaluation env, computed once per env id.
import assert from "node:assert/strict";
import { test } from "node:test";
import { randomPolicyReference, REFERENCE_EPISODES, RandomPolicy } from "../../src/train/reference.js";

test("the random policy's metrics: 32 episodes, deterministic, cached per env id", async () => {
  const a = await randomPolicyReference("simple_u_maze-v1", { episodeLength: 50, threads: 0 });
  const b = await randomPolicyReference("simple_u_maze-v1", { episodeLength: 50, threads: 0 });
  assert.equal(a, b, "the second call is the cached result");
  const fresh = await randomPolicyReference("simple_u_maze-v1", { episodeLength: 50, threads: 0, seed: 20_251_204, episodes: REFERENCE_EPISODES });
  assert.deepEqual({ ...fresh, "eval/sps": 0 }, { ...a, "eval/sps": 0 });
  assert.equal(a["eval/avg_episode_length"], 50);
  for (const k of ["eval/episode_success", "eval/episode_success_any", "eval/mean_dist", "eval/episode_dist"] as const) assert.ok(Number.isFinite(a[k]), k);
  assert.ok(a["eval/mean_dist"] > 0);
  const other = await randomPolicyReference("simple_big_maze-v1", { episodeLength: 50, threads: 0 });
  assert.notEqual(other, a);
  const out = new Float32Array(6);
  new RandomPolicy(1).act(new Float32Array(0), 3, out);
  assert.ok(out.every((v) => v >= -1 && v <= 1) && new Set(out).size === 6);
});
