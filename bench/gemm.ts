// GEMM GFLOP/s of the native backend vs OpenBLAS sgemm (numpy, in a child process), on the
// shapes of training (DESIGN §3, W = 256): forward x[B,W]·W[W,W]; backward dx = dz·Wᵀ (transB)
// and dW += xᵀ·dz (transA, beta = 1). Also, with --layer, one fused Dense→LayerNorm→Swish layer's
// whole training step (forward, backward with dx, Adam on W) in effective GFLOP/s (6·B·W·W per
// layer), with the median µs of each part; the step also includes refilling dy and zeroing dW.
//
//   npm run bench -- gemm [--threads N] [--samples S] [--batches 256,1024,4096] [--width 256]
//                         [--simd auto|avx512bf16|avx512|avx2|generic] [--precision fp32|bf16|both]
//                         [--layer] [--no-openblas]
//
// First line: the ceiling of this machine, measured now: GFLOP/s of a register-only loop on one
// core and on every thread, fp32 FMA and (where the CPU has AVX512_BF16) vdpbf16ps. Then per
// shape an fp32 row and a bf16 row (GEMM operands rounded to bf16, fp32 accumulation), each with
// its fraction of the fp32 peak of this run (peak_ratio); the bf16 row also with its fraction of
// the bf16 peak and its speed over the fp32 row. --precision (default FATHOM_PRECISION, else
// both) keeps one of them; bf16 where it cannot run is left out with a note on stderr.
//
// One JSON line per shape; medians over S samples (each a ~5 ms batch) after a warm-up, and the
// best sample (best_*: what the code can do when the machine is shared and noisy). threads_per_job
// is the mean number of pool threads that ran each GEMM over the samples, and full_pool_samples
// how many samples had every job on every thread: a median below the best with threads_per_job
// below `threads` means workers missed jobs (asleep when a job began), not a slower kernel. The
// forward GEMM's median at half its best on an idle Zen 4 (issue 12) fits the pool stuck at one
// thread, which native/pool.c wait_job_end now prevents (docs/engine-update.md). OpenBLAS
// runs in a python3 child with the same thread count and with OPENBLAS_CORETYPE /
// OPENBLAS_L2_SIZE removed from its environment only (this machine sets them, which halves
// OpenBLAS); its samples alternate with ours so both see the same load. Its dW line is timed with beta = 0 (numpy
// has no beta), which can only favour OpenBLAS.
import * as webgpu from "./_webgpu.js";
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { Backend, Precision } from "../src/engine/backend.js";
import { precisionFromEnv, resolvePrecision } from "../src/engine/index.js";
import { loadNativeBackend, type NativeOptions, peakGflops, poolStats } from "../src/engine/native/native.js";
import { keyFromSeed, Rng } from "../src/random.js";

interface Shape {
  op: "fwd" | "bwd_dx" | "bwd_dw";
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  beta: number;
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

function filled(rng: Rng, n: number): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = rng.uniformIn(-1, 1);
  return v;
}

/**
 * A timer for fn: warm-up, then each sample() times one batch of calls lasting ~5 ms and notes,
 * in `pool`, the mean number of pool threads per job in that batch (NaN: no counters).
 */
function sampler(fn: () => void, pool: number[] = []): () => number {
  const t0 = process.hrtime.bigint();
  fn();
  const one = Math.max(Number(process.hrtime.bigint() - t0) / 1e9, 1e-7);
  const iters = Math.max(1, Math.round(5e-3 / one));
  for (let i = 0; i < 3 * iters; i++) fn();
  return () => {
    const p0 = poolStats();
    const s0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) fn();
    const sec = Number(process.hrtime.bigint() - s0) / 1e9 / iters;
    const p1 = poolStats();
    pool.push(p0 && p1 && p1.jobs > p0.jobs ? (p1.threads - p0.threads) / (p1.jobs - p0.jobs) : Number.NaN);
    return sec;
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Seconds per call of np.matmul, from a long-lived python3 child (bench/_openblas.py). */
class OpenBlas {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterator<string>;
  private constructor(threads: number) {
    const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: String(threads) };
    delete env.OPENBLAS_CORETYPE;
    delete env.OPENBLAS_L2_SIZE;
    const script = fileURLToPath(new URL("./_openblas.py", import.meta.url));
    this.child = spawn("python3", [script], { env });
    this.lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }
  /** null (with a note on stderr) when python3 + numpy are missing. */
  static async start(threads: number): Promise<OpenBlas | null> {
    const probe = spawnSync("python3", ["-c", "import numpy"], { encoding: "utf8" });
    if (probe.status !== 0) {
      console.error(`gemm bench: no OpenBLAS comparison (python3 with numpy not found): ${probe.error?.message ?? probe.stderr.trim()}`);
      return null;
    }
    return new OpenBlas(threads);
  }
  async samples(s: Shape, count: number): Promise<number[]> {
    this.child.stdin.write(`${s.m} ${s.n} ${s.k} ${s.transA ? 1 : 0} ${s.transB ? 1 : 0} ${count}\n`);
    const r = await this.lines.next();
    if (r.done) throw new Error("gemm bench: the OpenBLAS helper (bench/_openblas.py) exited");
    // OpenBLAS's idle threads keep spinning for a while after a call: let them go to sleep
    // before our samples, or they take CPU from us.
    await new Promise((res) => setTimeout(res, 300));
    return r.value.trim().split(" ").map(Number);
  }
  close(): void {
    this.child.stdin.end();
  }
}

/** One Dense→LN→Swish layer's training step (forward, backward with dx, Adam on W), medians. */
function layerStep(backend: Backend, rng: Rng, rows: number, width: number, samples: number, precision: Precision): Record<string, number> {
  const x = filled(rng, rows * width); // [B, W]
  const w = filled(rng, width * width).map((v) => v / Math.sqrt(width)); // [W, W]
  const b = new Float32Array(width); // [W]
  const gamma = new Float32Array(width).fill(1); // [W]
  const beta = new Float32Array(width); // [W]
  const z = new Float32Array(rows * width); // [B, W]
  const mean = new Float32Array(rows); // [B]
  const rstd = new Float32Array(rows); // [B]
  const y = new Float32Array(rows * width); // [B, W]
  const dy = new Float32Array(rows * width); // [B, W]
  const dx = new Float32Array(rows * width); // [B, W]
  const dw = new Float32Array(width * width); // [W, W]
  const [db, dg, dbe] = [new Float32Array(width), new Float32Array(width), new Float32Array(width)]; // [W]
  const [mw, vw] = [new Float32Array(width * width), new Float32Array(width * width)]; // [W, W]
  const g0 = filled(rng, rows * width); // [B, W] upstream gradient
  let step = 0;
  const parts = [0, 0, 0]; // seconds in fwd, bwd, adam since the last sample
  const now = () => Number(process.hrtime.bigint()) / 1e9;
  const sample = sampler(() => {
    const t0 = now();
    backend.denseLnSwishForward(x, w, b, gamma, beta, z, mean, rstd, y, rows, width, width, 1e-6, precision);
    const t1 = now();
    dy.set(g0);
    dw.fill(0);
    const t2 = now();
    backend.denseLnSwishBackward(dy, x, w, gamma, beta, z, mean, rstd, dx, dw, db, dg, dbe, rows, width, width, precision);
    const t3 = now();
    backend.adamStep(w, dw, mw, vw, width * width, 1e-9, 0.9, 0.999, 1e-8, ++step);
    const t4 = now();
    parts[0] += t1 - t0;
    parts[1] += t3 - t2;
    parts[2] += t4 - t3;
  });
  const steps: number[] = [];
  const split: number[][] = [[], [], []];
  for (let i = 0; i < samples; i++) {
    parts.fill(0);
    const before = step;
    steps.push(sample());
    const calls = step - before;
    for (let j = 0; j < 3; j++) split[j].push((parts[j] / calls) * 1e6);
  }
  const sec = median(steps);
  return {
    effective_gflops: +((6 * rows * width * width) / sec / 1e9).toFixed(1),
    best_effective_gflops: +((6 * rows * width * width) / Math.min(...steps) / 1e9).toFixed(1),
    step_us: +(sec * 1e6).toFixed(1),
    fwd_us: +median(split[0]).toFixed(1),
    bwd_us: +median(split[1]).toFixed(1),
    adam_us: +median(split[2]).toFixed(1),
  };
}

export async function run(args: string[]): Promise<void> {
  if (webgpu.backendArg(args) === "webgpu") return webgpu.gemm(args); // --backend webgpu: bench/_webgpu.ts
  const threads = Number(option(args, "threads") ?? process.env.FATHOM_THREADS ?? availableParallelism());
  const samples = Number(option(args, "samples") ?? 15);
  const width = Number(option(args, "width") ?? 256);
  const batches = (option(args, "batches") ?? "256,1024,4096").split(",").map(Number);
  const simd = (option(args, "simd") ?? process.env.FATHOM_SIMD ?? "auto") as NativeOptions["simd"];
  const r = loadNativeBackend({ threads, simd });
  if ("error" in r) throw new Error(`gemm bench needs the native backend: ${r.error}`);
  const backend = r.backend;
  const which = option(args, "precision") ?? precisionFromEnv() ?? "both";
  if (!["fp32", "bf16", "both"].includes(which)) throw new Error(`--precision ${which} is not allowed: use fp32, bf16 or both`);
  const precisions: Precision[] = [];
  if (which !== "bf16") precisions.push("fp32");
  if (which !== "fp32") {
    const res = resolvePrecision(backend, "bf16");
    if (res.precision === "bf16") precisions.push("bf16");
    else {
      console.error(`gemm bench: no bf16 rows: ${res.note}`);
      if (which === "bf16") precisions.push("fp32");
    }
  }
  // The ceiling, measured now (register-only loops: no memory traffic).
  const peak = { fp32: peakGflops("fp32", true), bf16: precisions.includes("bf16") ? peakGflops("bf16", true) : null };
  const peakLine: Record<string, unknown> = {
    bench: "gemm-peak",
    backend: backend.describe(),
    threads: backend.threads,
    fp32_gflops_per_core: +peakGflops("fp32", false).toFixed(1),
    fp32_gflops: +peak.fp32.toFixed(1),
  };
  if (peak.bf16 !== null) {
    const core = peakGflops("bf16", false);
    peakLine.bf16_gflops_per_core = +core.toFixed(1);
    peakLine.bf16_gflops = +peak.bf16.toFixed(1);
    peakLine.bf16_over_fp32 = +(peak.bf16 / peak.fp32).toFixed(3);
  }
  console.log(JSON.stringify(peakLine));
  const shapes: Shape[] = [];
  for (const B of batches) {
    shapes.push({ op: "fwd", m: B, n: width, k: width, transA: false, transB: false, beta: 0 });
    shapes.push({ op: "bwd_dx", m: B, n: width, k: width, transA: false, transB: true, beta: 0 });
    shapes.push({ op: "bwd_dw", m: width, n: width, k: B, transA: true, transB: false, beta: 1 });
  }
  const ob = args.includes("--no-openblas") ? null : await OpenBlas.start(threads);
  const rng = new Rng(keyFromSeed(7));
  for (const s of shapes) {
    const a = filled(rng, s.m * s.k);
    const b = filled(rng, s.k * s.n);
    const c = filled(rng, s.m * s.n);
    // OpenBLAS, then ours, back to back on each shape, so both see about the same load.
    const tBlas = ob ? await ob.samples(s, samples) : [];
    const flops = 2 * s.m * s.n * s.k;
    let fp32Gflops: number | null = null;
    for (const precision of precisions) {
      const pool: number[] = [];
      const ours = sampler(() => backend.gemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, b, s.beta, c, precision), pool);
      const tOurs = Array.from({ length: samples }, ours);
      const gflops = flops / median(tOurs) / 1e9;
      const line: Record<string, unknown> = {
        bench: "gemm",
        backend: backend.describe(),
        precision,
        op: s.op,
        m: s.m,
        k: s.k,
        n: s.n,
        transA: s.transA,
        transB: s.transB,
        beta: s.beta,
        threads: backend.threads,
        gflops: +gflops.toFixed(1),
        best_gflops: +(flops / Math.min(...tOurs) / 1e9).toFixed(1),
        peak_ratio: +(gflops / peak.fp32).toFixed(3),
      };
      if (pool.every(Number.isFinite)) {
        line.threads_per_job = +(pool.reduce((x, y) => x + y, 0) / pool.length).toFixed(2);
        line.full_pool_samples = pool.filter((t) => t >= backend.threads - 1e-9).length;
      }
      if (precision === "fp32") {
        fp32Gflops = gflops;
        if (ob) {
          const blas = flops / median(tBlas) / 1e9;
          line.openblas_gflops = +blas.toFixed(1);
          line.ratio = +(gflops / blas).toFixed(3);
          line.openblas_best_gflops = +(flops / Math.min(...tBlas) / 1e9).toFixed(1);
        }
      } else {
        if (peak.bf16 !== null) line.bf16_peak_ratio = +(gflops / peak.bf16).toFixed(3);
        if (fp32Gflops !== null) line.over_fp32 = +(gflops / fp32Gflops).toFixed(3);
      }
      console.log(JSON.stringify(line));
    }
  }
  ob?.close();
  if (args.includes("--layer")) {
    for (const B of batches) {
      for (const precision of precisions) {
        const r = layerStep(backend, rng, B, width, samples, precision);
        console.log(JSON.stringify({ bench: "gemm-layer", backend: backend.describe(), precision, rows: B, width, threads: backend.threads, ...r }));
      }
    }
  }
}
