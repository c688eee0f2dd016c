// `npm run bench -- layers [--depth 64] [--rows 256] [--width 256] [--precision fp32|bf16] [--act fp32|bf16] [--reps 15]
//                         [--trace 20]`
// What a deep network's fused Dense→LayerNorm→Swish layers lose to operands that are not in cache
// (issue 12): µs per layer of
//   chain_forward / chain_backward  the forward and backward of a chain of --depth distinct layers
//                  (each its own weights and activations, as in a ResNet: they come from L3/DRAM)
//   hot_forward / hot_backward      the same call repeated --depth times on one layer's operands
//   gemm_*         the layer's GEMMs as plain calls (x·W; xᵀ·dz into dW; dz·Wᵀ into dx), hot
// and the ratios chain/hot. One JSON line per measurement; medians over --reps.
//
// --trace N: instead, N windows (15 × --depth calls each) of the forward GEMM's GFLOP/s with the
// pool threads per job in each window, to see whether a two-thread median mixes states of the
// host (docs/engine-update.md, "the host's two speeds"): a window at one thread's rate with 2.00
// threads per job is a slow second vCPU, not a worker that missed its jobs.
import { getBackend, type Precision, resolvePrecision } from "../src/engine/index.js";
import { poolStats } from "../src/engine/native/native.js";
import { keyFromSeed, Rng } from "../src/random.js";

function option(args: string[], name: string, def: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
}

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  return s[s.length >> 1];
}

export async function run(args: string[]): Promise<void> {
  const be = getBackend();
  const L = Number(option(args, "depth", "64"));
  const R = Number(option(args, "rows", "256"));
  const W = Number(option(args, "width", "256"));
  const reps = Number(option(args, "reps", "15"));
  const { precision, note } = resolvePrecision(be, option(args, "precision", "fp32") as Precision);
  // --act bf16: each layer's output y as bf16 rows, as a bf16 ResNet keeps them inside its blocks
  // (Backend.bf16Activations); the chains then pass them from layer to layer.
  const act = option(args, "act", "fp32");
  if (act !== "fp32" && act !== "bf16") throw new Error(`--act ${act} is not allowed: use fp32 or bf16`);
  const act16 = act === "bf16" && precision === "bf16" && be.bf16Activations === true;
  if (act === "bf16" && !act16) console.error("layers bench: --act bf16 needs precision bf16 on a backend with bf16 activations; float32 activations");
  if (note) console.error(`layers bench: ${note}`);
  const rng = new Rng(keyFromSeed(0));
  const f = (n: number, scale = 1) => Float32Array.from({ length: n }, () => scale * rng.uniformIn(-0.5, 0.5));
  const layer = () => ({
    w: f(W * W, 0.1),
    b: f(W),
    g: new Float32Array(W).fill(1),
    bb: f(W),
    z: new Float32Array(R * W),
    mean: new Float32Array(R),
    rstd: new Float32Array(R),
    y: act16 ? new Uint16Array(R * (W + (W & 1))) : new Float32Array(R * W),
    dw: new Float32Array(W * W),
    db: new Float32Array(W),
    dg: new Float32Array(W),
    dbb: new Float32Array(W),
    dx: new Float32Array(R * W),
    dy: new Float32Array(R * W),
  });
  const layers = Array.from({ length: L }, layer);
  const x0 = f(R * W);
  const dTop = f(R * W);
  const fwd = (l: ReturnType<typeof layer>, x: Float32Array | Uint16Array) =>
    be.denseLnSwishForward(x, l.w, l.b, l.g, l.bb, l.z, l.mean, l.rstd, l.y, R, W, W, 1e-5, precision);
  const chainForward = () => {
    let x: Float32Array | Uint16Array = x0;
    for (const l of layers) {
      fwd(l, x);
      x = l.y;
    }
  };
  // As in a ResNet, each layer's input gradient is written straight into the upstream gradient of
  // the layer below (its dy; the backward overwrites dy as scratch), so only the top layer's dy is
  // copied in, once per chain. (Until 2026-12-06 every layer copied its dy from the layer above
  // with a JS set, which the ResNet does not do: chain_backward figures before then include a
  // 1-MB copy per layer at 1024 rows.)
  const bwd = (l: ReturnType<typeof layer>, x: Float32Array | Uint16Array, dx = l.dx) =>
    be.denseLnSwishBackward(l.dy, x, l.w, l.g, l.bb, l.z, l.mean, l.rstd, dx, l.dw, l.db, l.dg, l.dbb, R, W, W, precision);
  const chainBackward = () => {
    layers[L - 1].dy.set(dTop);
    for (let i = L - 1; i >= 0; i--) bwd(layers[i], i > 0 ? layers[i - 1].y : x0, i > 0 ? layers[i - 1].dy : layers[0].dx);
  };
  const h = layers[0];
  const hotForward = () => {
    for (let i = 0; i < L; i++) fwd(h, x0);
  };
  const hotBackward = () => {
    for (let i = 0; i < L; i++) {
      h.dy.set(dTop);
      bwd(h, x0);
    }
  };
  const c = new Float32Array(R * W);
  const gemmForward = () => {
    for (let i = 0; i < L; i++) be.gemm(false, false, R, W, W, 1, x0, h.w, 0, c, precision);
  };
  const gemmDw = () => {
    for (let i = 0; i < L; i++) be.gemm(true, false, W, W, R, 1, x0, dTop, 1, h.dw, precision);
  };
  const gemmDx = () => {
    for (let i = 0; i < L; i++) be.gemm(false, true, R, W, W, 1, dTop, h.w, 0, c, precision);
  };
  const usPerLayer = (fn: () => void, before?: () => void) => {
    for (let i = 0; i < 2; i++) {
      before?.();
      fn();
    }
    const t: number[] = [];
    for (let i = 0; i < reps; i++) {
      before?.();
      const t0 = performance.now();
      fn();
      t.push(performance.now() - t0);
    }
    return (median(t) / L) * 1000;
  };
  const base = { backend: be.describe(), precision, act: act16 ? "bf16" : "fp32", depth: L, rows: R, width: W, reps };

  const trace = args.indexOf("--trace");
  if (trace >= 0) {
    const windows = Number(args[trace + 1]);
    const gflops: number[] = [];
    const threads: number[] = [];
    for (let w = 0; w < windows; w++) {
      const p0 = poolStats();
      const us = usPerLayer(gemmForward);
      const p1 = poolStats();
      gflops.push(+((2 * R * W * W) / (us * 1e3)).toFixed(1));
      threads.push(p0 && p1 && p1.jobs > p0.jobs ? +((p1.threads - p0.threads) / (p1.jobs - p0.jobs)).toFixed(2) : Number.NaN);
    }
    console.log(JSON.stringify({ bench: "layers-trace", ...base, gemm_forward_gflops: gflops, threads_per_job: threads }));
    return;
  }

  const cf = usPerLayer(chainForward);
  const cb = usPerLayer(chainBackward, chainForward); // each backward after a forward, as in training
  const hf = usPerLayer(hotForward);
  const hb = usPerLayer(hotBackward);
  const g = { forward: usPerLayer(gemmForward), dw: usPerLayer(gemmDw), dx: usPerLayer(gemmDx) };
  const r = (x: number) => +x.toFixed(1);
  console.log(
    JSON.stringify({
      bench: "layers",
      ...base,
      chain_forward_us: r(cf),
      chain_backward_us: r(cb),
      hot_forward_us: r(hf),
      hot_backward_us: r(hb),
      gemm_forward_us: r(g.forward),
      gemm_dw_us: r(g.dw),
      gemm_dx_us: r(g.dx),
      cold_ratio_forward: +(cf / hf).toFixed(3),
      cold_ratio_backward: +(cb / hb).toFixed(3),
    }),
  );
}
