// What a trained agent's numbers mean: the same evaluation (evaluate.ts) with a uniformly random
// policy, on the same env, as a floor to compare with (issue 10). A short rollout — 32 episodes,
// a fixed seed — cached per env id in memory only. The end-of-run report of `fathom train` puts
// the last evaluation next to it.
import { makeVecEnv } from "../envs/registry.js";
import { keyFromSeed, Rng } from "../random.js";
import { type EvalMetrics, evaluate, type Policy } from "./evaluate.js";

export const REFERENCE_EPISODES = 32;
export const REFERENCE_SEED = 20_251_204;

/** Uniform actions in [−1, 1] from its own seeded stream (ignores the observation). */
export class RandomPolicy implements Policy {
  private readonly rng: Rng;
  constructor(seed: number) {
    this.rng = new Rng(keyFromSeed(seed));
  }
  act(_obs: Float32Array, _n: number, out: Float32Array): void {
    for (let i = 0; i < out.length; i++) out[i] = 2 * this.rng.uniform() - 1;
  }
}

export interface ReferenceOptions {
  episodeLength: number;
  /** Physics frame skip override (MuJoCo envs; as --frame-skip). */
  frameSkip?: number;
  /** Env worker threads (as --threads; default one per core). */
  threads?: number;
  episodes?: number;
  seed?: number;
}

const cache = new Map<string, Promise<EvalMetrics>>();

/** The random policy's evaluation metrics on `envId` (eval/… keys as evaluate() returns them). */
export function randomPolicyReference(envId: string, options: ReferenceOptions): Promise<EvalMetrics> {
  const episodes = options.episodes ?? REFERENCE_EPISODES;
  const seed = options.seed ?? REFERENCE_SEED;
  const key = `${envId}|${options.episodeLength}|${options.frameSkip ?? "default"}|${episodes}|${seed}`;
  let hit = cache.get(key);
  if (!hit) {
    hit = (async () => {
      const env = await makeVecEnv(envId, { numEnvs: episodes, threads: options.threads, episodeLength: options.episodeLength, frameSkip: options.frameSkip });
      try {
        return (await evaluate(new RandomPolicy(seed), env, { seed })).metrics;
      } finally {
        await env.close();
      }
    })();
    cache.set(key, hit);
    hit.catch(() => cache.delete(key));
  }
  return hit;
}

/** One evaluation of the agent next to the random policy, as aligned lines. */
export function compareWithReference(
  agent: { success: number; successAny: number; meanDist: number },
  ref: EvalMetrics,
  episodeLength: number,
): string[] {
  const rows: [string, string, string][] = [
    ["success rate (episodes that reached the goal)", pct(agent.successAny), pct(ref["eval/episode_success_any"])],
    [`time at goal (steps of ${episodeLength})`, agent.success.toFixed(1), ref["eval/episode_success"].toFixed(1)],
    ["mean distance to the goal", agent.meanDist.toFixed(2), ref["eval/mean_dist"].toFixed(2)],
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max("agent".length, ...rows.map((r) => r[1].length));
  const head = `  ${"".padEnd(w0)}  ${"agent".padStart(w1)}  random policy`;
  return [head, ...rows.map(([a, b, c]) => `  ${a.padEnd(w0)}  ${b.padStart(w1)}  ${c.padStart(13)}`)];
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)} %`;
}
