// The learning test (issue 4): CRL on the point-mass U-maze, from scratch, must reach the far
// goals of the evaluation layout within a bounded number of env steps; a uniformly random policy
// must fail the same bar. Runs in a few minutes on 2 cores with the native backend.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { makeVecEnv } from "../../src/envs/registry.js";
import { keyFromSeed, Rng } from "../../src/random.js";
import { CPU_PRESET, TrainConfigSchema } from "../../src/train/config.js";
import { evaluate, type Policy } from "../../src/train/evaluate.js";
import { train } from "../../src/train/trainer.js";

/**
 * Bars on the last three evaluations (48 episodes each, far goals of the U): mean
 * `eval/episode_success_any` (fraction of episodes that reach the goal) and mean distance to the
 * goal. Measured with this config (depth 4): 0.27–0.5 success and 3.5–5 m over seeds 0 and 1; a
 * uniformly random policy: 0.0 and ≈ 9 m. Depth 4 reaches the far goals at the open end of the U
 * and fails the one behind the wall (it pushes straight into it), as the paper's shallow networks
 * do in the Ant U-mazes.
 */
const SUCCESS_BAR = 0.2;
const DIST_BAR = 5.5;
const ENV_STEPS = 480_000;

const config = TrainConfigSchema.parse({
  ...CPU_PRESET,
  env: "simple_u_maze-v1",
  seed: 1,
  totalEnvSteps: ENV_STEPS,
  numEvals: 8,
  threads: 0,
});

describe("CRL learns to reach goals (simple_u_maze-v1)", () => {
  test(`reaches eval/episode_success_any >= ${SUCCESS_BAR} within ${ENV_STEPS} env steps`, async () => {
    const res = await train(config, { runDir: null });
    assert.equal(res.status, "done");
    const last = res.evals.slice(-3);
    const success = last.reduce((a, e) => a + e["eval/episode_success_any"], 0) / last.length;
    const dist = last.reduce((a, e) => a + e["eval/mean_dist"], 0) / last.length;
    const curve = res.evals
      .map((e) => `${e.envsteps}: any ${e["eval/episode_success_any"].toFixed(2)}, at goal ${e["eval/episode_success"].toFixed(0)}, dist ${e["eval/mean_dist"].toFixed(2)}`)
      .join("; ");
    assert.ok(success >= SUCCESS_BAR, `mean success_any of the last 3 evaluations ${success.toFixed(3)} < ${SUCCESS_BAR} (${curve})`);
    assert.ok(dist <= DIST_BAR, `mean distance of the last 3 evaluations ${dist.toFixed(2)} > ${DIST_BAR} (${curve})`);
  });

  test(`a uniformly random policy stays below ${SUCCESS_BAR}`, async () => {
    const env = await makeVecEnv("simple_u_maze_eval-v1", { numEnvs: 48, threads: 0 });
    const rng = new Rng(keyFromSeed(3));
    const random: Policy = {
      act(_obs, n, out) {
        for (let i = 0; i < n * 2; i++) out[i] = 2 * rng.uniform() - 1;
      },
    };
    try {
      const { metrics } = await evaluate(random, env, { seed: 5 });
      assert.ok(metrics["eval/episode_success_any"] < SUCCESS_BAR, `random policy success_any ${metrics["eval/episode_success_any"]}`);
      assert.ok(metrics["eval/mean_dist"] > DIST_BAR, `random policy distance ${metrics["eval/mean_dist"]}`);
    } finally {
      await env.close();
    }
  });
});
