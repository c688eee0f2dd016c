// `npm run bench -- envs [ids...] [--envs=1,64,512] [--threads=1,2] [--seconds=1]`
// Env steps per second (numEnvs × VecEnv steps / s, auto-resets included) for each env id, env count
// and worker-thread count (threads 0 = the calling thread, point mazes only). One JSON line each.
// Targets (for 512 envs): point mazes ≥ 2 M env steps/s; MuJoCo Ant ≥ 10 k env steps/s on 2 threads;
// Humanoid ≥ 4 k (humanoid-v1; its mazes step twice as many physics steps per control step: 2 k);
// arm tasks ≥ 3 k (25 physics steps of 0.002 s per control step).
import { getEnvSpec, listEnvs, makeVecEnv } from "../src/envs/registry.js";
import { Rng, keyFromSeed } from "../src/random.js";

const DEFAULT_IDS = ["simple_u_maze-v1", "ant-v1", "ant_big_maze-v1", "humanoid-v1", "arm_push_easy-v1"];

/** Env steps/s target of a MuJoCo env id at 512 envs on 2 threads (see the header). */
function mujocoTarget(id: string): number {
  if (id === "humanoid-v1") return 4_000;
  if (id.startsWith("humanoid_")) return 2_000;
  if (id.startsWith("arm_")) return 3_000;
  return 10_000;
}

function intList(args: string[], name: string, fallback: number[]): number[] {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  if (a === undefined) return fallback;
  const v = a
    .slice(name.length + 3)
    .split(",")
    .map(Number);
  if (v.some((x) => !Number.isInteger(x) || x < 0)) throw new Error(`--${name} takes comma-separated non-negative integers, got "${a}"`);
  return v;
}

export async function run(args: string[]): Promise<void> {
  const ids = args.filter((a) => !a.startsWith("--"));
  const envCounts = intList(args, "envs", [1, 64, 512]);
  const threadCounts = intList(args, "threads", [0, 1, 2]);
  const secArg = args.find((x) => x.startsWith("--seconds="));
  const seconds = secArg === undefined ? 1 : Number(secArg.slice(10));
  if (!(seconds > 0)) throw new Error(`--seconds takes a positive number, got "${secArg}"`);
  const known = new Set(listEnvs());
  for (const id of ids.length > 0 ? ids : DEFAULT_IDS) {
    if (!known.has(id)) {
      console.log(JSON.stringify({ bench: "envs", env: id, skipped: "not registered", known: [...known] }));
      continue;
    }
    const spec = getEnvSpec(id);
    const mujoco = !spec.id.startsWith("simple_"); // every registered env but the point mazes is MuJoCo
    const target = mujoco ? mujocoTarget(spec.id) : 2_000_000;
    for (const numEnvs of envCounts) {
      for (const threads of threadCounts) {
        // The calling thread would run MuJoCo's wasm on the event loop; only the point mazes offer it here.
        if (threads === 0 && mujoco) continue;
        if (threads > numEnvs) continue;
        const rssBefore = process.memoryUsage().rss;
        const env = await makeVecEnv(id, { numEnvs, threads });
        try {
          // A few action sets drawn once, cycled, so the bench measures stepping, not action drawing.
          const rng = new Rng(keyFromSeed(0));
          const actions: Float32Array[] = [];
          for (let k = 0; k < 8; k++) {
            const a = new Float32Array(numEnvs * spec.actionDim); // [N, actionDim]
            for (let j = 0; j < a.length; j++) a[j] = rng.uniformIn(-1, 1);
            actions.push(a);
          }
          await env.reset(0);
          for (let s = 0; s < 20; s++) await env.step(actions[s & 7]);
          const mem = process.memoryUsage().rss - rssBefore;
          let steps = 0;
          const t0 = performance.now();
          let dt = 0;
          while (dt < seconds * 1000 || steps < 5) {
            for (let s = 0; s < 8; s++) await env.step(actions[s]);
            steps += 8;
            dt = performance.now() - t0;
          }
          const sps = (steps * numEnvs) / (dt / 1000);
          const at512 = numEnvs === 512;
          console.log(
            JSON.stringify({
              bench: "envs",
              env: id,
              num_envs: numEnvs,
              threads,
              steps_per_s: Math.round(sps),
              us_per_vec_step: Number(((dt * 1000) / steps).toFixed(1)),
              target: at512 ? target : null,
              ratio: at512 ? Number((sps / target).toFixed(3)) : null,
              mem_mb_per_env: Number((mem / numEnvs / 2 ** 20).toFixed(3)),
            }),
          );
        } finally {
          await env.close();
        }
      }
    }
  }
}
