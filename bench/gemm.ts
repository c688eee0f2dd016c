// GEMM GFLOP/s of the native backend vs OpenBLAS sgemm (numpy, in a child process), on the
// shapes of training (DESIGN §3, W = 256): forward x[B,W]·W[W,W]; backward dx = dz·Wᵀ (transB)
// and dW += xᵀ·dz (transA, beta = 1). Also, with --layer, one fused Dense→LayerNorm→Swish layer's
// whole training step (forward, backward, Adam) in effective GFLOP/s (6·B·W·W per layer).
//
//   npm run bench -- gemm [--threads N] [--samples S] [--batches 256,1024,4096] [--width 256]
//                         [--simd auto|avx512|avx2|generic] [--layer] [--no-openblas]
//
// One JSON line per shape; medians over S samples after a warm-up. OpenBLAS runs with the same
// thread count and with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE removed from its environment only
// (this machine sets them, which halves OpenBLAS). Its dW line is timed with beta = 0 (numpy
// has no beta), which can only favour OpenBLAS.
import { spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import type { Backend } from "../src/engine/backend.js";
import { loadNativeBackend, type NativeOptions } from "../src/engine/native/native.js";
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

/** Median seconds per call of fn, over `samples` batches sized to ~5 ms each, after a warm-up. */
function medianSeconds(fn: () => void, samples: number): number {
  let t0 = process.hrtime.bigint();
  fn();
  const one = Math.max(Number(process.hrtime.bigint() - t0) / 1e9, 1e-7);
  const iters = Math.max(1, Math.round(5e-3 / one));
  for (let i = 0; i < 3 * iters; i++) fn();
  const times: number[] = [];
  for (let s = 0; s < samples; s++) {
    t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e9 / iters);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

function openblas(shapes: Shape[], threads: number, samples: number): (number | null)[] {
  const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: String(threads) };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const script = fileURLToPath(new URL("./_openblas.py", import.meta.url));
  const list = JSON.stringify(shapes.map((s) => [s.m, s.n, s.k, s.transA ? 1 : 0, s.transB ? 1 : 0]));
  const r = spawnSync("python3", [script, list, String(samples)], { env, encoding: "utf8" });
  if (r.status !== 0) {
    console.error(`gemm bench: OpenBLAS side skipped (python3 + numpy needed): ${r.error?.message ?? r.stderr.trim().split("\n").pop()}`);
    return shapes.map(() => null);
  }
  const lines = r.stdout.trim().split("\n");
  return shapes.map((_, i) => (JSON.parse(lines[i]) as { gflops: number }).gflops);
}

function layerStep(backend: Backend, rng: Rng, rows: number, width: number, samples: number): number {
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
  const sec = medianSeconds(() => {
    backend.denseLnSwishForward(x, w, b, gamma, beta, z, mean, rstd, y, rows, width, width, 1e-6);
    dy.set(g0);
    dw.fill(0);
    backend.denseLnSwishBackward(dy, x, w, gamma, beta, z, mean, rstd, dx, dw, db, dg, dbe, rows, width, width);
    backend.adamStep(w, dw, mw, vw, width * width, 1e-9, 0.9, 0.999, 1e-8, ++step);
  }, samples);
  return (6 * rows * width * width) / sec / 1e9;
}

export async function run(args: string[]): Promise<void> {
  const threads = Number(option(args, "threads") ?? process.env.FATHOM_THREADS ?? availableParallelism());
  const samples = Number(option(args, "samples") ?? 15);
  const width = Number(option(args, "width") ?? 256);
  const batches = (option(args, "batches") ?? "256,1024,4096").split(",").map(Number);
  const simd = (option(args, "simd") ?? process.env.FATHOM_SIMD ?? "auto") as NativeOptions["simd"];
  const r = loadNativeBackend({ threads, simd });
  if ("error" in r) throw new Error(`gemm bench needs the native backend: ${r.error}`);
  const backend = r.backend;
  const shapes: Shape[] = [];
  for (const B of batches) {
    shapes.push({ op: "fwd", m: B, n: width, k: width, transA: false, transB: false, beta: 0 });
    shapes.push({ op: "bwd_dx", m: B, n: width, k: width, transA: false, transB: true, beta: 0 });
    shapes.push({ op: "bwd_dw", m: width, n: width, k: B, transA: true, transB: false, beta: 1 });
  }
  const ob = args.includes("--no-openblas") ? shapes.map(() => null) : openblas(shapes, threads, samples);
  const rng = new Rng(keyFromSeed(7));
  shapes.forEach((s, i) => {
    const a = filled(rng, s.m * s.k);
    const b = filled(rng, s.k * s.n);
    const c = filled(rng, s.m * s.n);
    const sec = medianSeconds(() => backend.gemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, b, s.beta, c), samples);
    const gflops = (2 * s.m * s.n * s.k) / sec / 1e9;
    const line: Record<string, unknown> = {
      bench: "gemm",
      backend: backend.describe(),
      op: s.op,
      m: s.m,
      k: s.k,
      n: s.n,
      transA: s.transA,
      transB: s.transB,
      beta: s.beta,
      threads: backend.threads,
      gflops: +gflops.toFixed(1),
    };
    if (ob[i] !== null) {
      line.openblas_gflops = +ob[i]!.toFixed(1);
      line.ratio = +(gflops / ob[i]!).toFixed(3);
    }
    console.log(JSON.stringify(line));
  });
  if (args.includes("--layer")) {
    for (const B of batches) {
      const gflops = layerStep(backend, rng, B, width, samples);
      console.log(
        JSON.stringify({ bench: "gemm-layer", backend: backend.describe(), rows: B, width, threads: backend.threads, effective_gflops: +gflops.toFixed(1) }),
      );
    }
  }
}
