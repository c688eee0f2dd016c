// `npm run bench -- crl [--depths 4,16,64] [--batches 256,512] [--reps 5] [--precision fp32|bf16]`
// (precision: of the networks' residual-block GEMMs; default FATHOM_PRECISION, else fp32; bf16
// where it cannot run runs fp32 with a note on stderr; each line says which ran)
// One CRL gradient step (actor + α, then critic; SPEC §3) on the Ant dimensions (state 29,
// goal 2, action 8), width 256, same depth for actor and critic:
//   {"bench":"crl","depth":64,"batch":256,"ms":…,"gflops":…,"target_ms":200,"ratio":…}
// GFLOP counts 13 network passes per update (actor fwd+bwd, φ fwd+bwd and ψ fwd in the actor
// step, φ and ψ fwd+bwd in the critic step; ≈ 28 GFLOP at depth 64, batch 256). Fathom reuses ψ's
// forward between the two steps and skips φ's weight gradient in the actor step, so it runs ≈ 11;
// the saving shows as a higher effective rate.
import * as webgpu from "./_webgpu.js";
import { CRLAgent } from "../src/agents/crl.js";
import { getBackend, type Precision, PRECISIONS, precisionFromEnv, resolvePrecision } from "../src/engine/index.js";
import { keyFromSeed, Rng } from "../src/random.js";

const DIMS = { stateDim: 29, goalDim: 2, actionDim: 8 };

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
}

function parseList(args: string[], name: string, def: number[]): number[] {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return def;
  return args[i + 1].split(",").map(Number);
}

export async function run(args: string[]): Promise<void> {
  if (webgpu.backendArg(args) === "webgpu") return webgpu.crl(args); // --backend webgpu: bench/_webgpu.ts
  const depths = parseList(args, "depths", [4, 16, 64]);
  const batches = parseList(args, "batches", [256, 512]);
  const reps = parseList(args, "reps", [5])[0];
  const pi = args.indexOf("--precision");
  const requested = (pi >= 0 ? args[pi + 1] : (precisionFromEnv() ?? "fp32")) as Precision;
  if (!PRECISIONS.includes(requested)) throw new Error(`--precision ${requested} is not allowed: use ${PRECISIONS.join(" or ")}`);
  const be = getBackend();
  const { precision, note } = resolvePrecision(be, requested);
  if (note) console.error(`crl bench: ${note}`);
  for (const depth of depths) {
    for (const batch of batches) {
      const agent = new CRLAgent(be, DIMS, { actorDepth: depth, criticDepth: depth, batchSize: batch, precision }, keyFromSeed(0));
      const rng = new Rng(keyFromSeed(1));
      const f = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
      const state = f(batch * DIMS.stateDim);
      const action = f(batch * DIMS.actionDim).map(Math.tanh);
      const goal = f(batch * DIMS.goalDim);
      for (let i = 0; i < 2; i++) agent.update(state, action, goal);
      const times: number[] = [];
      for (let i = 0; i < reps; i++) {
        const t0 = performance.now();
        agent.update(state, action, goal);
        times.push(performance.now() - t0);
      }
      const ms = median(times);
      const flops = 2 * batch * agent.macsPerUpdateRow;
      const line: Record<string, unknown> = {
        bench: "crl",
        backend: be.describe(),
        precision,
        depth,
        width: 256,
        batch,
        ms: +ms.toFixed(2),
        gflop_per_update: +(flops / 1e9).toFixed(2),
        gflops: +(flops / (ms * 1e6)).toFixed(1),
        reps,
      };
      if (depth === 64 && batch === 256) {
        line.target_ms = 200;
        line.ratio = +(200 / ms).toFixed(3);
      }
      console.log(JSON.stringify(line));
    }
  }
}
