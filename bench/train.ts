// `npm run bench -- train [--depths 4,16,64,256] [--batches 256,512,1024] [--reps 5] [--no-deep]
//                        [--precision fp32|bf16]` (default FATHOM_PRECISION, else fp32; bf16 where
//                        it cannot run runs fp32 with a note on stderr; each line says which ran)
// One training step (forward, backward, Adam) of a width-256 ResNet per line:
//   {"bench":"train_step","depth":64,"width":256,"batch":256,"ms":…,"gflops":…,"rss_mb":…,"ceiling_gflops":…,"ceiling_ratio":…,"target_gflops":…,"ratio":…}
// ceiling_gflops: this machine's register-only peak (all threads) for the precision that ran,
// measured in the same process; ceiling_ratio = gflops / ceiling_gflops (bench/_ceiling.ts).
// Each configuration runs in its own process so that rss_mb is that configuration's peak RSS.
// Effective GFLOP/s counts 6·B·in·out per Dense layer (forward 2, backward 4), as the issue does.
import { ceilingFields } from "./_ceiling.js";
import * as webgpu from "./_webgpu.js";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { getBackend, type Precision, PRECISIONS, precisionFromEnv, resolvePrecision } from "../src/engine/index.js";
import { Adam } from "../src/nn/adam.js";
import { ResNet } from "../src/nn/resnet.js";
import { keyFromSeed, Rng } from "../src/random.js";

const WIDTH = 256;
const IN_DIM = 64;
const OUT_DIM = 64;

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
}

/** Effective GFLOP/s targets: issue 4's float32 ones, and issue 12's 300 with bf16 GEMMs at batch ≥ 1024. */
function target(depth: number, batch: number, precision: Precision): number | null {
  if (depth === 64 && batch === 256) return precision === "fp32" ? 120 : null;
  if (depth === 64 && batch >= 1024) return precision === "bf16" ? 300 : 140;
  return null;
}

async function one(depth: number, batch: number, reps: number, recompute: boolean, requested: Precision): Promise<void> {
  const be = getBackend();
  const { precision, note } = resolvePrecision(be, requested);
  if (note) console.error(`train bench: ${note}`);
  const net = new ResNet(be, { inDim: IN_DIM, width: WIDTH, depth, heads: [{ name: "out", dim: OUT_DIM }], maxBatch: batch, recompute, precision });
  net.init(new Rng(keyFromSeed(0)));
  const adam = new Adam(be, net.params);
  const rng = new Rng(keyFromSeed(1));
  const x = Float32Array.from({ length: batch * IN_DIM }, () => rng.normal());
  const d = Float32Array.from({ length: batch * OUT_DIM }, () => rng.normal() * 1e-3);
  const step = () => {
    net.forward(x, batch);
    net.backward([d], false, true, true); // gradients written, not accumulated: no zeroGrad pass (as the agents' updates)
    adam.update();
  };
  const warm = depth >= 256 ? 1 : 3;
  for (let i = 0; i < warm; i++) step();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    step();
    times.push(performance.now() - t0);
  }
  const ms = median(times);
  const flops = 6 * batch * net.macsPerRow;
  const gflops = flops / (ms * 1e6);
  const t = target(depth, batch, precision);
  const rssMb = process.resourceUsage().maxRSS / 1024;
  const line: Record<string, unknown> = {
    bench: "train_step",
    backend: be.describe(),
    precision,
    depth,
    width: WIDTH,
    batch,
    recompute,
    ms: +ms.toFixed(2),
    gflops: +gflops.toFixed(1),
    rss_mb: Math.round(rssMb),
    reps,
    ...ceilingFields(be, precision, gflops),
  };
  if (t !== null) {
    line.target_gflops = t;
    line.ratio = +(gflops / t).toFixed(3);
  }
  if (depth >= 1024) {
    line.target_rss_mb = 4096;
    line.rss_ratio = +(rssMb / 4096).toFixed(3);
  }
  console.log(JSON.stringify(line));
}

function parseList(args: string[], name: string, def: number[]): number[] {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return def;
  return args[i + 1].split(",").map((v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} takes a comma-separated list of positive integers, got ${args[i + 1]}`);
    return n;
  });
}

export async function run(args: string[]): Promise<void> {
  if (webgpu.backendArg(args) === "webgpu") return webgpu.train(args); // --backend webgpu: bench/_webgpu.ts
  if (args[0] === "--one") {
    await one(Number(args[1]), Number(args[2]), Number(args[3]), args[4] === "1", args[5] as Precision);
    return;
  }
  const pi = args.indexOf("--precision");
  const precision = (pi >= 0 ? args[pi + 1] : (precisionFromEnv() ?? "fp32")) as Precision;
  if (!PRECISIONS.includes(precision)) throw new Error(`--precision ${precision} is not allowed: use ${PRECISIONS.join(" or ")}`);
  const depths = parseList(args, "depths", [4, 16, 64, 256]);
  const batches = parseList(args, "batches", [256, 512, 1024]);
  const reps = parseList(args, "reps", [5])[0];
  const configs: [number, number, boolean][] = [];
  for (const d of depths) for (const b of batches) if (!(b === 1024 && d !== 64)) configs.push([d, b, false]);
  if (!args.includes("--no-deep")) configs.push([1024, 256, true]);
  const self = fileURLToPath(import.meta.url);
  for (const [d, b, rc] of configs) {
    const r = spawnSync(process.execPath, ["--import", "tsx", self, "--one", String(d), String(b), String(d >= 1024 ? Math.min(reps, 3) : reps), rc ? "1" : "0", precision], {
      stdio: ["ignore", "inherit", "inherit"],
    });
    if (r.status !== 0) console.log(JSON.stringify({ bench: "train_step", depth: d, batch: b, error: `exit ${r.status}` }));
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await run(process.argv.slice(2));
