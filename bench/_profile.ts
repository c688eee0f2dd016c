// Where the time of a CRL update goes (bench -- crl --profile): a Backend that times every kernel
// call by kind, a calibration that splits the fused Dense→LayerNorm→Swish calls into their GEMMs,
// their element-wise work and the cost of cold operands, and the heap bytes and GC time per update.
//
//   gemm         plain GEMM calls (heads, the contrastive B×B GEMMs where they run in TypeScript)
//                + the GEMM part of the fused layers (the same shapes timed as plain GEMMs)
//   elementwise  bias, LayerNorm, Swish, residual add, Adam + the fused layers' element-wise
//                work (bias, LayerNorm and Swish and their backward, column sums: a fused call
//                timed with its operands in cache, less its GEMMs)
//   cold_operands  what the fused layers lost to operands that were not in cache (their time in
//                the update less the same calls timed with their operands in cache)
//   composite    gradient norms, pairwise energy, contrastive loss, tanh-Gaussian (the kernels of
//                issue 12 §2; their B×B GEMMs count here when the backend runs them itself)
//   typescript   the update's wall time minus every kernel call (the JS around the kernels:
//                concatenations, the per-row energy, diagnostics, ε, N-API argument passing),
//                less the profiler's own cost (two clock reads per call, measured here)
//   allocation   heap bytes allocated per update (least over a few windows, after a warm-up, on an
//                agent without the profiler) and GC pause time per update
import { PerformanceObserver } from "node:perf_hooks";
import v8 from "node:v8";
import vm from "node:vm";
import type { Backend, Precision } from "../src/engine/backend.js";
import { COMPOSITE_KERNELS } from "../src/engine/composite.js";

const KINDS: Record<string, "gemm" | "fused" | "elementwise" | "composite"> = {
  gemm: "gemm",
  denseLnSwishForward: "fused",
  denseLnSwishBackward: "fused",
  biasAdd: "elementwise",
  biasBackward: "elementwise",
  layerNormForward: "elementwise",
  layerNormBackward: "elementwise",
  swishForward: "elementwise",
  swishBackward: "elementwise",
  adamStep: "elementwise",
  add: "elementwise",
};
for (const k of COMPOSITE_KERNELS) KINDS[k] = "composite";

export interface KernelTime {
  calls: number;
  ms: number;
}

/** A fused layer call's shape: what its GEMMs are. */
interface FusedShape {
  forward: boolean;
  rows: number;
  inDim: number;
  outDim: number;
  dx: boolean;
  dw: boolean;
  precision: Precision;
  calls: number;
}

export class Profiler {
  readonly backend: Backend;
  readonly kernels = new Map<string, KernelTime>();
  private readonly fused = new Map<string, FusedShape>();

  constructor(private readonly inner: Backend) {
    const w: Record<string, unknown> = {
      name: inner.name,
      threads: inner.threads,
      describe: () => inner.describe(),
      bf16Unavailable: () => inner.bf16Unavailable(),
    };
    for (const name of Object.keys(KINDS)) {
      const f = (inner as unknown as Record<string, unknown>)[name];
      if (typeof f !== "function") continue; // an optional kernel the backend lacks stays absent
      const call = (f as (...a: unknown[]) => unknown).bind(inner);
      const rec: KernelTime = { calls: 0, ms: 0 };
      this.kernels.set(name, rec);
      w[name] = (...args: unknown[]) => {
        const t0 = performance.now();
        const r = call(...args);
        rec.ms += performance.now() - t0;
        rec.calls++;
        if (name === "denseLnSwishForward") this.noteFused(true, args);
        else if (name === "denseLnSwishBackward") this.noteFused(false, args);
        return r;
      };
    }
    this.backend = w as unknown as Backend;
  }

  private noteFused(forward: boolean, a: unknown[]): void {
    const s: Omit<FusedShape, "calls"> = forward
      ? { forward, rows: a[9] as number, inDim: a[10] as number, outDim: a[11] as number, dx: false, dw: false, precision: (a[13] as Precision) ?? "fp32" }
      : { forward, rows: a[13] as number, inDim: a[14] as number, outDim: a[15] as number, dx: a[8] !== null, dw: a[9] !== null, precision: (a[16] as Precision) ?? "fp32" };
    const key = JSON.stringify(s);
    const hit = this.fused.get(key);
    if (hit) hit.calls++;
    else this.fused.set(key, { ...s, calls: 1 });
  }

  reset(): void {
    for (const r of this.kernels.values()) {
      r.calls = 0;
      r.ms = 0;
    }
    this.fused.clear();
  }

  /** Milliseconds of kernel calls by kind, summed. */
  byKind(): Record<"gemm" | "fused" | "elementwise" | "composite", number> {
    const t = { gemm: 0, fused: 0, elementwise: 0, composite: 0 };
    for (const [name, r] of this.kernels) t[KINDS[name]] += r.ms;
    return t;
  }

  get calls(): number {
    let n = 0;
    for (const r of this.kernels.values()) n += r.calls;
    return n;
  }

  /**
   * Calibration of the fused-layer calls since reset(), in ms, each distinct shape timed on the
   * unprofiled backend (median of `reps`) and multiplied by its call count:
   *   gemm  the shape's GEMMs (forward x·W; backward xᵀ·dz into dW and dz·Wᵀ into dx, as the call
   *         had them) as plain GEMM calls
   *   hot   the fused call itself, repeated on one set of operands, so they are in cache (a
   *         backward call also refills its dy, which it overwrites: a rows × out fill, counted
   *         with the element-wise work)
   * hot − gemm is the layer's element-wise work (bias, LayerNorm, Swish and their backward, column
   * sums); the calls' measured time − hot is what they lost to operands that were not in cache
   * (in a deep network each layer's activations and weights come from L3 or DRAM).
   */
  fusedCalibration(reps = 7): { gemm: number; hot: number } {
    let gemm = 0;
    let hot = 0;
    const be = this.inner;
    const median = (f: () => void) => {
      f();
      const times: number[] = [];
      for (let r = 0; r < reps; r++) {
        const t0 = performance.now();
        f();
        times.push(performance.now() - t0);
      }
      times.sort((p, q) => p - q);
      return times[times.length >> 1];
    };
    for (const s of this.fused.values()) {
      const { rows, inDim, outDim, precision } = s;
      const x = new Float32Array(rows * inDim).fill(0.01); // [rows, in]
      const w = new Float32Array(inDim * outDim).fill(0.01); // [in, out]
      const dz = new Float32Array(rows * outDim).fill(0.01); // [rows, out]
      const dw = new Float32Array(inDim * outDim); // [in, out]
      const dx = new Float32Array(rows * inDim); // [rows, in]
      const vec = () => new Float32Array(outDim).fill(1); // bias, gamma, beta and their gradients
      const [b, gamma, beta, db, dgamma, dbeta] = [vec(), vec(), vec(), vec(), vec(), vec()];
      const z = new Float32Array(rows * outDim).fill(0.01); // [rows, out]
      const y = new Float32Array(rows * outDim); // [rows, out]
      const mean = new Float32Array(rows);
      const rstd = new Float32Array(rows).fill(1);
      const dy = new Float32Array(rows * outDim);
      gemm +=
        s.calls *
        median(() => {
          if (s.forward) be.gemm(false, false, rows, outDim, inDim, 1, x, w, 0, dz, precision);
          else {
            if (s.dw) be.gemm(true, false, inDim, outDim, rows, 1, x, dz, 1, dw, precision);
            if (s.dx) be.gemm(false, true, rows, inDim, outDim, 1, dz, w, 0, dx, precision);
          }
        });
      hot +=
        s.calls *
        median(() => {
          if (s.forward) be.denseLnSwishForward(x, w, b, gamma, beta, z, mean, rstd, y, rows, inDim, outDim, 1e-5, precision);
          else {
            dy.fill(0.01); // the backward overwrites dy
            be.denseLnSwishBackward(dy, x, w, gamma, beta, z, mean, rstd, s.dx ? dx : null, s.dw ? dw : null, db, dgamma, dbeta, rows, inDim, outDim, precision);
          }
        });
    }
    return { gemm, hot };
  }

  /** ms the profiler adds per kernel call (two clock reads and a wrapper call), measured. */
  static overheadMsPerCall(): number {
    const rec = { calls: 0, ms: 0 };
    const noop = (..._a: unknown[]) => 0;
    const wrapped = (...args: unknown[]) => {
      const t0 = performance.now();
      const r = noop(...args);
      rec.ms += performance.now() - t0;
      rec.calls++;
      return r;
    };
    const n = 200_000;
    for (let i = 0; i < n; i++) wrapped(i, i, i, i, i, i, i, i, i, i, i, i, i, i); // warm-up
    const t0 = performance.now();
    for (let i = 0; i < n; i++) wrapped(i, i, i, i, i, i, i, i, i, i, i, i, i, i);
    const withWrapper = performance.now() - t0;
    const t1 = performance.now();
    for (let i = 0; i < n; i++) noop(i, i, i, i, i, i, i, i, i, i, i, i, i, i);
    return Math.max(0, withWrapper - (performance.now() - t1)) / n;
  }
}

let gcFn: (() => void) | null = null;
function gc(): void {
  if (!gcFn) {
    v8.setFlagsFromString("--expose-gc");
    gcFn = vm.runInNewContext("gc") as () => void;
  }
  gcFn();
}

/**
 * Heap bytes allocated per call of `step` (the least over `windows` windows of `per` calls, after
 * `warm` calls, each window after a full GC) and GC pause ms per call over all windows.
 */
export async function allocationPerCall(step: () => void, warm: number, windows: number, per: number): Promise<{ bytes: number; gcMs: number }> {
  for (let i = 0; i < warm; i++) step();
  let gcMs = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMs += e.duration;
  });
  let least = Number.POSITIVE_INFINITY;
  let calls = 0;
  for (let w = 0; w < windows; w++) {
    gc();
    await new Promise((r) => setImmediate(r)); // the forced GC's entry is delivered before we observe
    obs.observe({ entryTypes: ["gc"] });
    const h0 = v8.getHeapStatistics().used_heap_size;
    for (let i = 0; i < per; i++) step();
    const h1 = v8.getHeapStatistics().used_heap_size;
    calls += per;
    await new Promise((r) => setImmediate(r)); // let the observer see this window's GC entries
    obs.disconnect();
    least = Math.min(least, (h1 - h0) / per);
  }
  return { bytes: Math.max(0, least), gcMs: gcMs / calls };
}
