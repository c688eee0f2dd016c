// `npm run bench -- webgpu [--depths 4,16,64,256,1024] [--batches 256,512,1024,2048,4096]
//                          [--width 256] [--reps 5] [--vs-native] [--no-gemm] [--tiny]`
// The WebGPU table of issue 16 in one command, for a machine with a GPU: the adapter's measured
// fp32 peak, GEMM GFLOP/s at 256³ and 4096×256×256 and up (--no-gemm skips them), then one
// resident CRL update per depth × batch (width 256, Ant dimensions) with GFLOP/s and its fraction
// of the peak. --depths, --batches and --width limit the sizes (e.g. a quick check on a software
// adapter: --depths 4,16 --batches 64 --width 64; --tiny: depth 4, batch 16, width 32). --vs-native also
// times CRLAgent.update on the native backend (depths ≤ 64; FATHOM_THREADS applies, e.g. 2 for
// the 2-core baseline) and adds native_ms and speedup. Prints JSON lines, then a Markdown
// table on stderr. Depth ≥ 256 uses activation recomputation. Targets on a real GPU: GEMM ≥ 50 %
// of peak at 4096×256×256 and larger; depth 64, batch 512 ≥ 20× the 2-core native backend.
import { CRL_DEFAULTS, CRLAgent } from "../src/agents/crl.js";
import { getBackend } from "../src/engine/index.js";
import { keyFromSeed, Rng } from "../src/random.js";
import { argList, crl, DIMS, gemm } from "./_webgpu.js";

function nativeMs(depth: number, batch: number, width: number, reps: number): number {
  const agent = new CRLAgent(getBackend("native"), DIMS, { ...CRL_DEFAULTS, actorDepth: depth, criticDepth: depth, actorWidth: width, criticWidth: width, batchSize: batch }, keyFromSeed(0));
  const rng = new Rng(keyFromSeed(1));
  const f = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  const s = f(batch * DIMS.stateDim);
  const a = f(batch * DIMS.actionDim).map(Math.tanh);
  const g = f(batch * DIMS.goalDim);
  agent.update(s, a, g);
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    agent.update(s, a, g);
    t.push(performance.now() - t0);
  }
  return t.sort((x, y) => x - y)[Math.floor(t.length / 2)];
}

export async function run(args: string[]): Promise<void> {
  const tiny = args.includes("--tiny");
  const vsNative = args.includes("--vs-native");
  const depths = argList(args, "depths", tiny ? [4] : [4, 16, 64, 256, 1024]);
  const batches = argList(args, "batches", tiny ? [16] : [256, 512, 1024, 2048, 4096]);
  const reps = argList(args, "reps", [tiny ? 1 : 5])[0];
  const width = argList(args, "width", [tiny ? 32 : 256])[0];
  if (!args.includes("--no-gemm")) await gemm(args);
  const rows: string[] = [];
  const log = console.log;
  console.log = (line: string) => {
    log(line);
    const r = JSON.parse(line) as Record<string, number>;
    rows.push(`| ${r.depth} | ${r.batch} | ${r.ms} | ${r.gflops} | ${(100 * r.peak_ratio).toFixed(1)} % | ${r.native_ms ?? "–"} | ${r.speedup ?? "–"} |`);
  };
  try {
    await crl(["--depths", depths.join(","), "--batches", batches.join(","), "--width", String(width), "--reps", String(reps), ...(tiny ? ["--tiny"] : [])], (depth, batch, ms) => {
      if (!vsNative || depth > 64) return {};
      const n = nativeMs(depth, batch, width, Math.min(reps, 3));
      return { native: getBackend("native").describe(), native_ms: +n.toFixed(1), speedup: +(n / ms).toFixed(2) };
    });
  } finally {
    console.log = log;
  }
  console.error(["| depth | batch | ms / update | GFLOP/s | of peak | native ms | speedup |", "|---|---|---|---|---|---|---|", ...rows].join("\n"));
}
