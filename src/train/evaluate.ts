// Evaluation (SPEC §1, §8): fresh envs, deterministic actor tanh(μ), one episode per env.
// Time at goal = steps of the episode spent within the success threshold (counting stops when the
// episode ends, e.g. the Ant falls), averaged over envs.
import type { VecEnv } from "../envs/types.js";

/** Anything that maps observations [n, obsDim] to actions [n, actionDim] (e.g. a CRLAgent). */
export interface Policy {
  act(obs: Float32Array, n: number, out: Float32Array, deterministic: boolean): void;
}

export interface EvalMetrics {
  /** Mean steps at the goal per episode (the paper's "time at goal", out of episodeLength). */
  "eval/episode_success": number;
  /** Fraction of episodes that were at the goal at least once. */
  "eval/episode_success_any": number;
  /**
   * The same two numbers under names that say what they are (the reference's names above are
   * kept, SPEC §8, so runs compare with the paper's logs): steps at the goal per episode, and the
   * fraction of episodes that reached the goal at least once.
   */
  "eval/time_at_goal": number;
  "eval/success_rate": number;
  /**
   * The reference's `eval/episode_dist` (Brax EvalWrapper): the distance to the goal summed over
   * the live steps of an episode, averaged over episodes (≈ mean distance × episode length).
   */
  "eval/episode_dist": number;
  /** Mean distance to the goal over all live steps of all episodes. */
  "eval/mean_dist": number;
  "eval/avg_episode_length": number;
  /** Env steps per second of the evaluation. */
  "eval/sps": number;
}

export interface Trajectories {
  env: string;
  goalDim: number;
  /** [episodes][steps][goalDim]: achieved goal (agent position) per step. */
  achieved: number[][][];
  /** [episodes][goalDim]: the commanded goal of each episode. */
  goals: number[][];
  /** [episodes][steps]: 1 where the step was within the threshold. */
  success: number[][];
}

export interface EvalOptions {
  seed: number;
  /** Record achieved-goal trajectories (for plotting). */
  recordTrajectories?: boolean;
  /** Stop after this many steps (default: the env's episode length). */
  maxSteps?: number;
}

/** Runs one episode in every env of `env` with the deterministic actor. */
export async function evaluate(agent: Policy, env: VecEnv, options: EvalOptions): Promise<{ metrics: EvalMetrics; trajectories?: Trajectories }> {
  const N = env.numEnvs;
  const { stateDim, goalDim, actionDim, goalIndices } = env;
  const obsDim = env.obsDim;
  const steps = options.maxSteps ?? env.episodeLength;
  const t0 = performance.now();
  let obs = await env.reset(options.seed);
  const actions = new Float32Array(N * actionDim); // [N, A]
  const alive = new Uint8Array(N).fill(1);
  const atGoal = new Float64Array(N);
  const anyGoal = new Uint8Array(N);
  const length = new Float64Array(N);
  let distSum = 0;
  let distCount = 0;
  const episodeDist = new Float64Array(N);
  const rec = options.recordTrajectories
    ? {
        env: env.id,
        goalDim,
        achieved: Array.from({ length: N }, () => [] as number[][]),
        goals: Array.from({ length: N }, (_, i) => Array.from(obs.subarray(i * obsDim + stateDim, (i + 1) * obsDim))),
        success: Array.from({ length: N }, () => [] as number[]),
      }
    : undefined;
  let envSteps = 0;
  for (let t = 0; t < steps; t++) {
    agent.act(obs, N, actions, true);
    const r = await env.step(actions);
    envSteps += N;
    let live = 0;
    for (let i = 0; i < N; i++) {
      if (!alive[i]) continue;
      length[i]++;
      atGoal[i] += r.success[i];
      if (r.success[i]) anyGoal[i] = 1;
      distSum += r.dist[i];
      episodeDist[i] += r.dist[i];
      distCount++;
      if (rec) {
        const o = i * obsDim;
        rec.achieved[i].push(goalIndices.map((g) => r.finalObs[o + g]));
        rec.success[i].push(r.success[i]);
      }
      if (r.terminated[i] || r.truncated[i]) alive[i] = 0;
      else live++;
    }
    obs = r.obs;
    if (live === 0) break;
  }
  const secs = (performance.now() - t0) / 1000;
  let sSucc = 0;
  let sAny = 0;
  let sLen = 0;
  let sDist = 0;
  for (let i = 0; i < N; i++) {
    sDist += episodeDist[i];
    sSucc += atGoal[i];
    sAny += anyGoal[i];
    sLen += length[i];
  }
  return {
    metrics: {
      "eval/episode_success": sSucc / N,
      "eval/episode_success_any": sAny / N,
      "eval/time_at_goal": sSucc / N,
      "eval/success_rate": sAny / N,
      "eval/episode_dist": sDist / N,
      "eval/mean_dist": distCount ? distSum / distCount : 0,
      "eval/avg_episode_length": sLen / N,
      "eval/sps": envSteps / Math.max(secs, 1e-9),
    },
    trajectories: rec,
  };
}
