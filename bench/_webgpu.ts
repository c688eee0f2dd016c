// WebGPU benchmarks (issue 16), used by `npm run bench -- crl|train|gemm-webgpu --backend webgpu`
// and by bench/webgpu.ts (the depth × batch table). Each line is one JSON object with the
// adapter's name, GFLOP/s and the ratio to the adapter's peak measured here by a register-only
// FMA shader (WebGPU exposes no advertised peak). On a software adapter (lavapipe) the numbers
// only show that the path runs.
import { CRL_DEFAULTS, CRLAgent } from "../src/agents/crl.js";
import { GpuCRL } from "../src/agents/crl-webgpu.js";
import { RefBackend } from "../src/engine/ref/ref.js";
import { gview, type KernelDef, type WebGpuContext } from "../src/engine/webgpu/context.js";
import { WebGpuKernels } from "../src/engine/webgpu/kernels.js";
import { createNodeContext } from "../src/engine/webgpu/node.js";
import { GpuResNet } from "../src/nn/resnet-webgpu.js";
import { keyFromSeed, Rng } from "../src/random.js";

export const DIMS = { stateDim: 29, goalDim: 2, actionDim: 8 };

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
}

export function argList(args: string[], name: string, def: number[]): number[] {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = args[i + 1]?.split(",").map(Number) ?? [];
  if (v.length === 0 || v.some((x) => !Number.isInteger(x) || x < 1)) throw new Error(`--${name} needs a comma-separated list of positive integers`);
  return v;
}

export function backendArg(args: string[]): string | undefined {
  const i = args.indexOf("--backend");
  return i >= 0 ? args[i + 1] : undefined;
}

let ctxPromise: Promise<WebGpuContext> | null = null;
export function context(): Promise<WebGpuContext> {
  ctxPromise ??= createNodeContext().then((ctx) => {
    console.error(`webgpu bench: adapter ${ctx.adapter.description || ctx.adapter.device}${ctx.adapter.software ? " (software: numbers only show that it runs)" : ""}`);
    return ctx;
  });
  return ctxPromise;
}

function adapterName(ctx: WebGpuContext): string {
  const a = ctx.adapter;
  return `${a.description || [a.vendor, a.architecture, a.device].filter((s) => s).join(" ")}${a.software ? " [software]" : ""}`;
}

// 16 independent FMA chains per thread (4 × vec4): 32 flops per iteration.
const PEAK: KernelDef = {
  name: "bench_peak_fma",
  ops: [{ name: "out", write: true }],
  scalars: [["iters", "u32"]],
  body: `@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let s = f32(gid.x) * 1e-9;
  var a = vec4<f32>(s, s + 1.0, s + 2.0, s + 3.0);
  var b = a + 0.5; var c = a + 0.25; var d = a + 0.125;
  let m = vec4<f32>(0.999999);
  let k = vec4<f32>(1e-7);
  for (var i = 0u; i < u.iters; i++) {
    a = fma(a, m, k); b = fma(b, m, k); c = fma(c, m, k); d = fma(d, m, k);
  }
  let r = a + b + c + d;
  out_st(gid.x, r.x + r.y + r.z + r.w);
}`,
};

/** The adapter's fp32 FMA rate in GFLOP/s, measured (best of 3). */
export async function peakGflops(ctx: WebGpuContext, tiny: boolean): Promise<number> {
  const groups = tiny ? 16 : 4096;
  const iters = tiny ? 256 : 4096;
  const out = ctx.createBuffer(groups * 256, "peak out");
  const run = async () => {
    const t0 = performance.now();
    ctx.dispatch(PEAK, { out: gview(out) }, { iters }, groups);
    await ctx.finish();
    return performance.now() - t0;
  };
  await run();
  const ms = Math.min(await run(), await run(), await run());
  out.destroy();
  return (groups * 256 * iters * 32) / (ms * 1e6);
}

async function timeIt(reps: number, warm: number, once: () => Promise<void>): Promise<number> {
  for (let i = 0; i < warm; i++) await once();
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await once();
    t.push(performance.now() - t0);
  }
  return median(t);
}

/** GEMM GFLOP/s in the three layouts the ResNet uses. */
export async function gemm(args: string[]): Promise<void> {
  const ctx = await context();
  const tiny = args.includes("--tiny");
  const reps = argList(args, "reps", [tiny ? 1 : 5])[0];
  const peak = await peakGflops(ctx, tiny);
  const K = new WebGpuKernels(ctx);
  const shapes = tiny ? [[64, 64, 64]] : [[256, 256, 256], [4096, 256, 256], [4096, 1024, 1024]];
  for (const [m, n, k] of shapes) {
    const a = ctx.createBuffer(Math.max(m, n) * k + m * n, "a");
    const b = ctx.createBuffer(k * Math.max(m, n), "b");
    const c = ctx.createBuffer(Math.max(m, n) * Math.max(m, n, k), "c");
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
    ] as const) {
      const ms = await timeIt(reps, 1, async () => {
        K.gemm(ta, tb, m, n, k, 1, gview(a), gview(b), 0, gview(c));
        await ctx.finish();
      });
      const gflops = (2 * m * n * k) / (ms * 1e6);
      console.log(JSON.stringify({ bench: "gemm", backend: "webgpu", adapter: adapterName(ctx), m, n, k, transA: ta, transB: tb, ms: +ms.toFixed(3), gflops: +gflops.toFixed(1), peak_gflops: +peak.toFixed(1), peak_ratio: +(gflops / peak).toFixed(3) }));
    }
    for (const x of [a, b, c]) x.destroy();
  }
}

/** One training step (forward, backward, Adam) of a width-256 ResNet, resident, per line. */
export async function train(args: string[]): Promise<void> {
  const ctx = await context();
  const tiny = args.includes("--tiny");
  const depths = argList(args, "depths", tiny ? [4] : [4, 16, 64, 256]);
  const batches = argList(args, "batches", tiny ? [16] : [256, 512, 1024]);
  const reps = argList(args, "reps", [tiny ? 1 : 5])[0];
  const width = tiny ? 32 : 256;
  const peak = await peakGflops(ctx, tiny);
  const K = new WebGpuKernels(ctx);
  for (const depth of depths) {
    for (const batch of batches) {
      const net = new GpuResNet(ctx, { inDim: 64, width, depth, heads: [{ name: "out", dim: 64 }], maxBatch: batch, recompute: depth >= 256 });
      const rng = new Rng(keyFromSeed(0));
      const p = Float32Array.from({ length: net.layout.numel }, () => rng.normal() * 0.05);
      net.setParams(p);
      const io = ctx.createBuffer(batch * 128 + 4, "io");
      const adam = ctx.createBuffer(2 * net.layout.numel, "adam");
      const hp = ctx.createBuffer(4, "hp");
      ctx.write(gview(io), Float32Array.from({ length: batch * 128 }, () => rng.normal() * 1e-3));
      ctx.write(gview(hp), new Float32Array([1e-4, 0.1, 0.001, 1]));
      ctx.beginProgram();
      net.forward(gview(io, 0, batch * 64), batch);
      net.zeroGrad();
      net.backward([gview(io, batch * 64, batch * 64)]);
      K.adamStep(net.params, net.grad, gview(adam, 0, net.layout.numel), gview(adam, net.layout.numel, net.layout.numel), net.layout.numel, gview(hp, 0, 3), gview(hp, 3, 1), 0.9, 0.999, 1e-8);
      const program = ctx.endProgram("train step");
      const ms = await timeIt(reps, depth >= 256 ? 1 : 2, async () => {
        program.run();
        await ctx.finish();
      });
      const flops = 6 * batch * net.macsPerRow;
      const gflops = flops / (ms * 1e6);
      console.log(
        JSON.stringify({ bench: "train_step", backend: "webgpu", adapter: adapterName(ctx), depth, width, batch, ms: +ms.toFixed(2), gflops: +gflops.toFixed(1), peak_gflops: +peak.toFixed(1), peak_ratio: +(gflops / peak).toFixed(3), dispatches: program.dispatches }),
      );
      program.destroy();
      net.destroy();
      for (const x of [io, adam, hp]) x.destroy();
    }
  }
}

/** One CRL update (agents/crl-webgpu.ts) per line, on the Ant dimensions, width 256 (--width). */
export async function crl(args: string[], extra: (depth: number, batch: number, ms: number) => Record<string, unknown> = () => ({})): Promise<void> {
  const ctx = await context();
  const tiny = args.includes("--tiny");
  const depths = argList(args, "depths", tiny ? [4] : [4, 16, 64]);
  const batches = argList(args, "batches", tiny ? [16] : [256, 512]);
  const reps = argList(args, "reps", [tiny ? 1 : 5])[0];
  const width = argList(args, "width", [tiny ? 32 : 256])[0];
  const peak = await peakGflops(ctx, tiny);
  for (const depth of depths) {
    for (const batch of batches) {
      const cfg = { ...CRL_DEFAULTS, actorDepth: depth, criticDepth: depth, actorWidth: width, criticWidth: width, batchSize: batch, recompute: depth >= 256 };
      const gpu = new GpuCRL(ctx, DIMS, cfg);
      // a fresh CRLAgent's initial state (networks as a run starts them), not all-zero parameters
      gpu.loadStateTensors(new CRLAgent(new RefBackend(), DIMS, { ...cfg, batchSize: 2 }, keyFromSeed(0), 1).stateTensors());
      const rng = new Rng(keyFromSeed(1));
      const f = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
      const state = f(batch * DIMS.stateDim);
      const action = f(batch * DIMS.actionDim).map(Math.tanh);
      const goal = f(batch * DIMS.goalDim);
      const ms = await timeIt(reps, depth >= 256 ? 1 : 2, async () => {
        await gpu.update(state, action, goal);
      });
      const flops = 2 * batch * gpu.macsPerUpdateRow;
      const gflops = flops / (ms * 1e6);
      console.log(
        JSON.stringify({
          bench: "crl",
          backend: "webgpu",
          adapter: adapterName(ctx),
          depth,
          width,
          batch,
          ms: +ms.toFixed(2),
          gflop_per_update: +(flops / 1e9).toFixed(2),
          gflops: +gflops.toFixed(1),
          peak_gflops: +peak.toFixed(1),
          peak_ratio: +(gflops / peak).toFixed(3),
          dispatches: gpu.dispatchesPerUpdate,
          reps,
          ...extra(depth, batch, ms),
        }),
      );
      gpu.destroy();
    }
  }
}
