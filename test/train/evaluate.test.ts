// Evaluation metrics: the reference's names (SPEC §8), their plain-named twins, and the
// reference's eval/episode_dist (distance summed over each episode, Brax EvalWrapper).
import assert from "node:assert/strict";
import { test } from "node:test";
import { makeVecEnv } from "../../src/envs/registry.js";
import { evaluate, type Policy } from "../../src/train/evaluate.js";

test("time at goal and success rate under both names; episode_dist = summed distance per episode", async () => {
  const env = await makeVecEnv("simple_u_maze-v1", { numEnvs: 8, threads: 0, episodeLength: 200 });
  // Head for the goal: action = clipped (goal − position); reaches near goals, not those behind walls.
  const toGoal: Policy = {
    act(obs, n, out) {
      for (let i = 0; i < n; i++) {
        const o = i * 6;
        for (let k = 0; k < 2; k++) out[i * 2 + k] = Math.max(-1, Math.min(1, obs[o + 4 + k] - obs[o + k]));
      }
    },
  };
  try {
    const { metrics: m } = await evaluate(toGoal, env, { seed: 3 });
    assert.equal(m["eval/time_at_goal"], m["eval/episode_success"]);
    assert.equal(m["eval/success_rate"], m["eval/episode_success_any"]);
    assert.ok(m["eval/time_at_goal"] > 0 && m["eval/time_at_goal"] <= 200, `time at goal ${m["eval/time_at_goal"]}`);
    assert.ok(m["eval/success_rate"] > 0 && m["eval/success_rate"] <= 1);
    // Point-maze episodes never terminate early: every episode is 200 steps long, so the summed
    // distance per episode is 200 × the per-step mean.
    assert.equal(m["eval/avg_episode_length"], 200);
    assert.ok(Math.abs(m["eval/episode_dist"] - 200 * m["eval/mean_dist"]) < 1e-6 * m["eval/episode_dist"]);
  } finally {
    await env.close();
  }
});
