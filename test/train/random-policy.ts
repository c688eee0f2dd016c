// The control of the learning tests (learning.test.ts, learning-td.test.ts): a uniformly random
// policy evaluated on a point maze as the loop evaluates an agent (48 episodes).
import { makeVecEnv } from "../../src/envs/registry.js";
import { keyFromSeed, Rng } from "../../src/random.js";
import { type EvalMetrics, evaluate, type Policy } from "../../src/train/evaluate.js";

/** The evaluation metrics (eval/…) of uniform actions in [−1, 1]² on env `id` (its own episode length unless given). */
export async function randomPolicyMetrics(id: string, episodeLength?: number): Promise<EvalMetrics> {
  const env = await makeVecEnv(id, { numEnvs: 48, threads: 0, ...(episodeLength === undefined ? {} : { episodeLength }) });
  const rng = new Rng(keyFromSeed(3));
  const random: Policy = {
    act(_obs, n, out) {
      for (let i = 0; i < n * 2; i++) out[i] = 2 * rng.uniform() - 1;
    },
  };
  try {
    return (await evaluate(random, env, { seed: 5 })).metrics;
  } finally {
    await env.close();
  }
}
