// The deep-actor stability probe of docs/results.md ("Deep actors"): a CRL agent with a deep
// actor on 2-D actions (the point mazes), N updates on one fixed batch of point-maze-like tuples,
// for each actor variant and seed; prints one JSON line per (variant, seed) with the final
// entropy, log α, log-std range, the largest number of stuck log-std dims seen, and ms/update.
//
//   node --import tsx scripts/studies/deep-actor-probe.ts [--depth 64] [--width 128] [--batch 32]
//        [--updates 200] [--seeds 4] [--critic-depth 4] [--critic-width 64] [--variants a,b,…]
import { parseArgs } from "node:util";
import { type CRLConfig, CRLAgent } from "../../src/agents/crl.js";
import { getBackend } from "../../src/engine/index.js";
import { keyFromSeed, Rng } from "../../src/random.js";

const { values } = parseArgs({
  options: {
    depth: { type: "string", default: "64" },
    width: { type: "string", default: "128" },
    batch: { type: "string", default: "32" },
    updates: { type: "string", default: "200" },
    seeds: { type: "string", default: "4" },
    "critic-depth": { type: "string", default: "4" },
    "critic-width": { type: "string", default: "64" },
    variants: { type: "string" },
  },
});
const n = (k: keyof typeof values) => Number(values[k]);
const VARIANTS: Record<string, Partial<CRLConfig>> = {
  paper: { actorHeadNorm: false, tanhLogDet: "reference" },
  exact_logdet: { tanhLogDet: "exact" },
  head_norm: { actorHeadNorm: true },
  head_norm_exact: { actorHeadNorm: true, tanhLogDet: "exact" },
  head_init_0_01: { actorHeadInitScale: 0.01 },
  lr_warmup_1000: { actorLrWarmup: 1000 },
  head_norm_init_0_01: { actorHeadNorm: true, actorHeadInitScale: 0.01 },
  head_norm_exact_init_0_01: { actorHeadNorm: true, tanhLogDet: "exact", actorHeadInitScale: 0.01 },
  head_norm_exact_warmup_1000: { actorHeadNorm: true, tanhLogDet: "exact", actorLrWarmup: 1000 },
  raw_penalty_1: { logStdRawPenalty: 1 },
  head_norm_exact_penalty_1: { actorHeadNorm: true, tanhLogDet: "exact", logStdRawPenalty: 1 },
};
const chosen = values.variants ? values.variants.split(",") : Object.keys(VARIANTS);
for (const v of chosen) if (!(v in VARIANTS)) throw new Error(`unknown variant ${v}: allowed are ${Object.keys(VARIANTS).join(", ")}`);
const S = 4;
const G = 2;
const A = 2;
const B = n("batch");
const be = getBackend();
for (let seed = 0; seed < n("seeds"); seed++) {
  const rng = new Rng(keyFromSeed(100 + seed));
  const state = new Float32Array(B * S);
  const action = new Float32Array(B * A);
  const goal = new Float32Array(B * G);
  for (let i = 0; i < B; i++) {
    for (let k = 0; k < S; k++) state[i * S + k] = k < 2 ? 1 + 10 * rng.uniform() : rng.normal();
    for (let k = 0; k < A; k++) action[i * A + k] = 2 * rng.uniform() - 1;
    for (let k = 0; k < G; k++) goal[i * G + k] = state[i * S + k] + rng.normal();
  }
  for (const variant of chosen) {
    const v = VARIANTS[variant];
    const agent = new CRLAgent(
      be,
      { stateDim: S, goalDim: G, actionDim: A },
      { actorDepth: n("depth"), actorWidth: n("width"), criticDepth: n("critic-depth"), criticWidth: n("critic-width"), batchSize: B, ...v },
      keyFromSeed(seed),
    );
    const t0 = performance.now();
    let maxStuck = 0;
    let m = agent.update(state, action, goal);
    for (let u = 1; u < n("updates"); u++) {
      m = agent.update(state, action, goal);
      maxStuck = Math.max(maxStuck, m.log_std_stuck_dims);
    }
    const ms = (performance.now() - t0) / n("updates");
    console.log(
      JSON.stringify({
        variant,
        seed,
        depth: n("depth"),
        width: n("width"),
        batch: B,
        updates: n("updates"),
        entropy: +m.entropy.toFixed(3),
        target_entropy: agent.targetEntropy,
        log_alpha: +m.log_alpha.toFixed(4),
        log_std_min: +m.log_std_min.toFixed(3),
        log_std_max: +m.log_std_max.toFixed(3),
        max_stuck_dims: maxStuck,
        ms_per_update: +ms.toFixed(1),
      }),
    );
  }
}
