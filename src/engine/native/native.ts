// The native CPU backend: a C addon (native/, built by node-gyp into
// build/Release/fathom_native.node) with AVX-512 / AVX2 / portable kernels chosen at run time and
// a persistent thread pool (DESIGN §3). This wrapper only forwards arguments: sizes are checked
// in C, where a too-short array throws a RangeError naming the argument. GEMMs with precision
// "bf16" run on AVX512_BF16 (vdpbf16ps, native/gemm_bf16.h) where the CPU has it. The composite
// kernels (gradient norm, contrastive B × B block, tanh-Gaussian: native/composite.h) are methods
// only when the addon has them; an addon built before them leaves the shared TypeScript ones.
//
// Environment: FATHOM_THREADS (default: all cores; more than the cores is capped to them, with a
// warning; not an integer >= 1 is an error), FATHOM_SIMD (auto | avx512bf16 | avx512 | avx2 |
// generic; auto = avx512bf16 on a CPU with AVX512_BF16, and any forced level but avx512bf16 has
// float32 GEMMs only, e.g. avx512 to run as a CPU without BF16; avx2x16 = the AVX-512 code shape
// compiled for AVX2, for tests), FATHOM_SPIN_US (how long idle pool threads spin before
// sleeping, default 100).
//
// Results are bitwise identical for any thread count (same SIMD level): every output element is
// computed by one fixed sequence of float operations, whichever thread computes it.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Backend, Kernel, Precision } from "../backend.js";
import { CONTRASTIVE_LOSSES, ENERGY_FNS, GEMM_DIST_MIN_FRACTION, zeroDenseParamGrads } from "../composite.js";

/** configure() and info(): the level, the pool's threads, and why bf16 GEMMs cannot run (null: they can). */
interface AddonInfo {
  simd: string;
  threads: number;
  bf16: string | null | undefined;
  /** denseLnSwishBackward takes `overwrite` (absent from an addon built before it, which would ignore the flag). */
  gradOverwrite?: boolean;
  /** The fused layers take x and y as bf16 rows (Uint16Array) with bf16 (absent before they could; false without bf16 GEMMs). */
  bf16Activations?: boolean;
}

type Bf16Flag = [bf16: boolean];
/** A Backend method's parameters with its last one (the optional precision) replaced by the addon's bf16 flag. */
type WithBf16<F> = F extends (...args: infer A) => void ? (...args: [...Required<A> extends [...infer R, unknown] ? R : never, ...Bf16Flag]) => void : never;

/** The addon's exports (native/addon.c); argument order = the Backend interface, with a bf16 flag for the precision. */
interface Addon {
  configure(threads: number, simd: string): AddonInfo;
  info(): AddonInfo;
  /** Jobs run on the pool since the process started and the threads that ran them, summed (absent before pool statistics existed). */
  poolStats?(): { jobs: number; threads: number };
  /** Bytes from an ArrayBuffer's data to its first 64-byte boundary (absent before allocFloat32 existed). */
  alignOffset?(buf: ArrayBuffer): number;
  /** The register-only multiply-add loop: `units` × `iters` iterations (fp32 FMA, or vdpbf16ps). */
  peak(bf16: boolean, iters: number, units: number, parallel: boolean): { seconds: number; flops: number };
  gemm: WithBf16<Backend["gemm"]>;
  biasAdd: Backend["biasAdd"];
  biasBackward: Backend["biasBackward"];
  layerNormForward: Backend["layerNormForward"];
  layerNormBackward: Backend["layerNormBackward"];
  swishForward: Backend["swishForward"];
  swishBackward: Backend["swishBackward"];
  denseLnSwishForward: WithBf16<Backend["denseLnSwishForward"]>;
  /** The Backend's arguments, the precision as the bf16 flag, then `overwrite` (an addon built before it ignores it). */
  denseLnSwishBackward(
    ...args: [...(Required<Parameters<Backend["denseLnSwishBackward"]>> extends [...infer R, unknown, unknown] ? R : never), bf16: boolean, overwrite: boolean]
  ): void;
  adamStep: Backend["adamStep"];
  add: Backend["add"];
  // Composite kernels (native/composite.h); absent from an addon built before them. Enums are
  // passed as their index in ENERGY_FNS / CONTRASTIVE_LOSSES, scratch as its arrays.
  sumSquares?(x: Float32Array, n: number): number;
  pairwiseEnergy?(
    fn: number,
    phi: Float32Array,
    psi: Float32Array,
    B: number,
    d: number,
    logits: Float32Array,
    dot: Float32Array,
    aux: Float32Array,
    exact: Uint8Array,
    phiNorm: Float64Array,
    psiNorm: Float64Array,
    phiHat: Float32Array,
    psiHat: Float32Array,
    minFraction: number,
  ): number;
  pairwiseEnergyBackward?(
    fn: number,
    phi: Float32Array,
    psi: Float32Array,
    B: number,
    d: number,
    G: Float32Array,
    dPhi: Float32Array,
    dPsi: Float32Array,
    aux: Float32Array,
    h: Float32Array,
    exact: Uint8Array,
    phiNorm: Float64Array,
    psiNorm: Float64Array,
    rowSum: Float64Array,
    colSum: Float64Array,
    phiHat: Float32Array,
    psiHat: Float32Array,
  ): void;
  contrastiveLoss?(
    kind: number,
    logits: Float32Array,
    B: number,
    penalty: number,
    G: Float32Array,
    lseRow: Float64Array,
    lseCol: Float64Array,
    stats: Float64Array,
  ): void;
  tanhGaussianSample?(
    mean: Float32Array,
    raw: Float32Array,
    eps: Float32Array,
    B: number,
    A: number,
    x: Float32Array,
    a: Float32Array,
    logp: Float64Array,
    exact: boolean,
  ): void;
  tanhGaussianBackward?(
    raw: Float32Array,
    eps: Float32Array,
    a: Float32Array,
    dLogp: Float64Array,
    dA: Float32Array,
    B: number,
    A: number,
    dMean: Float32Array,
    dRaw: Float32Array,
    exact: boolean,
    x: Float32Array,
  ): void;
}

/** The addon's composite kernels as Backend methods (an addon built before them has none: the shared TypeScript ones run). */
function compositeMethods(addon: Addon): Partial<Backend> {
  const m: Partial<Backend> = {};
  const { sumSquares, pairwiseEnergy, pairwiseEnergyBackward, contrastiveLoss, tanhGaussianSample, tanhGaussianBackward } = addon;
  if (sumSquares) m.sumSquares = (x, n) => sumSquares(x, n);
  if (pairwiseEnergy) {
    m.pairwiseEnergy = (fn, phi, psi, B, d, s, logits) => {
      s.exactCount = pairwiseEnergy(ENERGY_FNS.indexOf(fn), phi, psi, B, d, logits, s.dot, s.aux, s.exact, s.phiNorm, s.psiNorm, s.phiHat, s.psiHat, GEMM_DIST_MIN_FRACTION);
    };
  }
  if (pairwiseEnergyBackward) {
    m.pairwiseEnergyBackward = (fn, phi, psi, dLogits, B, d, s, dPhi, dPsi) => {
      pairwiseEnergyBackward(ENERGY_FNS.indexOf(fn), phi, psi, B, d, dLogits, dPhi, dPsi, s.aux, s.h, s.exact, s.phiNorm, s.psiNorm, s.rowSum, s.colSum, s.phiHat, s.psiHat);
    };
  }
  if (contrastiveLoss) {
    m.contrastiveLoss = (kind, logits, B, penalty, s, dLogits) => {
      const o = s.statsOut;
      contrastiveLoss(CONTRASTIVE_LOSSES.indexOf(kind), logits, B, penalty, dLogits, s.lseRow, s.lseCol, o);
      const st = s.stats;
      st.criticLoss = o[0];
      st.logsumexp = o[1];
      st.categoricalAccuracy = o[2];
      st.logitsPos = o[3];
      st.logitsNeg = o[4];
      return st;
    };
  }
  if (tanhGaussianSample) {
    m.tanhGaussianSample = (mean, raw, eps, B, A, x, a, logp, logDet) => tanhGaussianSample(mean, raw, eps, B, A, x, a, logp, logDet === "exact");
  }
  if (tanhGaussianBackward) {
    m.tanhGaussianBackward = (raw, eps, a, dLogp, dA, B, A, dMean, dRaw, logDet, x) =>
      tanhGaussianBackward(raw, eps, a, dLogp, dA, B, A, dMean, dRaw, logDet === "exact", x);
  }
  return m;
}

export const SIMD_LEVELS = ["auto", "avx512bf16", "avx512", "avx2", "avx2x16", "generic"] as const;

export interface NativeOptions {
  /** Threads in the pool, caller included (default FATHOM_THREADS, else all cores). */
  threads?: number;
  /** Kernel build to use (default FATHOM_SIMD, else "auto" = the widest this CPU supports). */
  simd?: (typeof SIMD_LEVELS)[number];
}

class NativeBackend implements Backend {
  readonly name = "native";
  // Composite kernels: set from the addon in the constructor (absent when the addon predates them).
  readonly sumSquares?: Backend["sumSquares"];
  readonly pairwiseEnergy?: Backend["pairwiseEnergy"];
  readonly pairwiseEnergyBackward?: Backend["pairwiseEnergyBackward"];
  readonly contrastiveLoss?: Backend["contrastiveLoss"];
  readonly tanhGaussianSample?: Backend["tanhGaussianSample"];
  readonly tanhGaussianBackward?: Backend["tanhGaussianBackward"];
  /** The addon writes gradients with `overwrite` (else the wrapper zeroes them first; see AddonInfo). */
  private readonly gradOverwrite: boolean;
  /** Whether the fused layers take bf16 rows (re-read from the addon: a reconfigured level may lack bf16). */
  get bf16Activations(): boolean {
    return this.addon.info().bf16Activations === true;
  }
  /** 64-byte-aligned zeros (absent with an addon built before alignOffset: then plain arrays). */
  readonly allocFloat32?: Backend["allocFloat32"];
  constructor(private readonly addon: Addon) {
    Object.assign(this, compositeMethods(addon));
    this.gradOverwrite = addon.info().gradOverwrite === true;
    const alignOffset = addon.alignOffset?.bind(addon);
    if (alignOffset) {
      // An ArrayBuffer's data never moves (V8 keeps it off the heap), so an offset found once holds.
      this.allocFloat32 = (n) => {
        const buf = new ArrayBuffer(4 * n + 64);
        return new Float32Array(buf, alignOffset(buf), n);
      };
    }
  }

  get threads(): number {
    return this.addon.info().threads;
  }

  describe(): string {
    const i = this.addon.info();
    return `native (${i.simd}, ${i.threads} thread${i.threads === 1 ? "" : "s"})`;
  }

  bf16Unavailable(): string | null {
    const why = this.addon.info().bf16;
    // an addon built before bf16 support has no such field
    return why === undefined ? "the native addon was built without bf16 support: rebuild it with `npm run build:native`" : why;
  }

  // The kernels forward their arguments to the addon (bf16: the addon's flag for the precision).
  gemm: Kernel<"gemm"> = (transA, transB, m, n, k, alpha, a, b, beta, c, precision = "fp32") =>
    this.addon.gemm(transA, transB, m, n, k, alpha, a, b, beta, c, precision === "bf16");
  biasAdd: Kernel<"biasAdd"> = (x, bias, rows, cols) => this.addon.biasAdd(x, bias, rows, cols);
  biasBackward: Kernel<"biasBackward"> = (dy, db, rows, cols) => this.addon.biasBackward(dy, db, rows, cols);
  layerNormForward: Kernel<"layerNormForward"> = (x, gamma, beta, y, mean, rstd, rows, cols, eps) =>
    this.addon.layerNormForward(x, gamma, beta, y, mean, rstd, rows, cols, eps);
  layerNormBackward: Kernel<"layerNormBackward"> = (dy, x, mean, rstd, gamma, dx, dgamma, dbeta, rows, cols) =>
    this.addon.layerNormBackward(dy, x, mean, rstd, gamma, dx, dgamma, dbeta, rows, cols);
  swishForward: Kernel<"swishForward"> = (x, y, n) => this.addon.swishForward(x, y, n);
  swishBackward: Kernel<"swishBackward"> = (dy, x, dx, n) => this.addon.swishBackward(dy, x, dx, n);
  denseLnSwishForward: Kernel<"denseLnSwishForward"> = (x, w, b, gamma, beta, z, mean, rstd, y, rows, inDim, outDim, eps, precision = "fp32") =>
    this.addon.denseLnSwishForward(x, w, b, gamma, beta, z, mean, rstd, y, rows, inDim, outDim, eps, precision === "bf16");
  denseLnSwishBackward: Kernel<"denseLnSwishBackward"> = (dy, x, w, gamma, beta, z, mean, rstd, dx, dw, db, dgamma, dbeta, rows, inDim, outDim, precision = "fp32", overwrite = false) => {
    // an addon built before `overwrite` accumulates whatever it is given: give it zeros
    if (overwrite && !this.gradOverwrite) zeroDenseParamGrads(dw, db, dgamma, dbeta, inDim, outDim);
    this.addon.denseLnSwishBackward(dy, x, w, gamma, beta, z, mean, rstd, dx, dw, db, dgamma, dbeta, rows, inDim, outDim, precision === "bf16", overwrite);
  };
  adamStep: Kernel<"adamStep"> = (param, grad, m, v, n, lr, beta1, beta2, eps, step) => this.addon.adamStep(param, grad, m, v, n, lr, beta1, beta2, eps, step);
  add: Kernel<"add"> = (a, b, out, n) => this.addon.add(a, b, out, n);
}

/** Where node-gyp puts the addon: build/Release under the package root (two levels above src/ or dist/). */
export function addonPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const p = join(dir, "build", "Release", "fathom_native.node");
    if (existsSync(p)) return p;
    dir = dirname(dir);
  }
  return join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "build", "Release", "fathom_native.node");
}

let warnedThreads = false;

/**
 * FATHOM_THREADS: unset or empty = all cores; an integer from 1 up; more than the cores is capped
 * to the cores with a warning (a compute pool gains nothing from more threads than cores, and
 * 999 threads on 2 cores only thrash). Anything else is an error naming the variable and the range.
 */
export function parseThreads(raw: string | undefined, cores = availableParallelism()): number | string {
  if (raw === undefined || raw.trim() === "") return cores;
  const t = Number(raw.trim());
  if (!/^\s*\d+\s*$/.test(raw) || !Number.isSafeInteger(t) || t < 1) {
    return `FATHOM_THREADS="${raw}" is not allowed: use an integer from 1 to ${cores} (the cores of this machine; more are capped to ${cores}), or unset it for all ${cores} cores`;
  }
  if (t > cores) {
    if (!warnedThreads) {
      warnedThreads = true;
      process.stderr.write(`warning: FATHOM_THREADS=${t} is more than the ${cores} cores of this machine: using ${cores} threads\n`);
    }
    return cores;
  }
  return t;
}

let addon: Addon | null = null;

/**
 * Loads the addon and configures it (threads, SIMD level). Never throws: returns why it is
 * unavailable instead. The addon's configuration is process-wide, so a later call with other
 * options reconfigures every native backend object already handed out.
 */
export function loadNativeBackend(options: NativeOptions = {}): { backend: Backend } | { error: string; setting?: boolean } {
  const threads = options.threads ?? parseThreads(process.env.FATHOM_THREADS);
  // setting: the error is in an environment variable (the caller reports it instead of falling back)
  if (typeof threads === "string") return { error: threads, setting: true };
  const simd = options.simd ?? process.env.FATHOM_SIMD ?? "auto";
  if (!(SIMD_LEVELS as readonly string[]).includes(simd)) {
    return { error: `FATHOM_SIMD="${simd}" is not allowed: use one of ${SIMD_LEVELS.join(", ")}`, setting: options.simd === undefined };
  }
  if (!addon) {
    const path = addonPath();
    if (!existsSync(path)) return { error: `the addon ${path} is not built (run \`npm run build:native\`)` };
    try {
      addon = createRequire(import.meta.url)(path) as Addon;
    } catch (e) {
      return { error: `the addon ${path} failed to load: ${(e as Error).message}` };
    }
  }
  try {
    addon.configure(threads, simd);
  } catch (e) {
    return { error: (e as Error).message };
  }
  return { backend: new NativeBackend(addon) };
}

/**
 * A backend over an addon object of the native/addon.c interface — for tests that stand in an
 * older addon (one without a feature) for the built one; applications use loadNativeBackend.
 * @internal
 */
export function nativeBackendOver(addon: object): Backend {
  return new NativeBackend(addon as Addon);
}

/**
 * GFLOP/s of the register-only multiply-add loop of the loaded addon's level (no memory
 * traffic: the ceiling a GEMM is judged against): float32 FMA, or vdpbf16ps for "bf16". On one
 * core (the caller), or on every pool thread. Best of `reps` runs of about `seconds` each, after
 * a warm-up. Throws when the addon is not loaded or "bf16" is unavailable.
 */
export function peakGflops(precision: Precision, allThreads: boolean, seconds = 0.05, reps = 5): number {
  if (!addon) throw new Error("peakGflops: the native addon is not loaded (call loadNativeBackend first)");
  const a = addon;
  const bf16 = precision === "bf16";
  const units = allThreads ? 4 * a.info().threads : 1;
  const probe = a.peak(bf16, 100_000, units, allThreads);
  const perIter = probe.seconds / 100_000;
  const iters = Math.max(1000, Math.round(seconds / Math.max(perIter, 1e-12) / (allThreads ? 4 : 1)));
  let best = 0;
  for (let r = 0; r < reps; r++) {
    const p = a.peak(bf16, iters, units, allThreads);
    best = Math.max(best, p.flops / p.seconds / 1e9);
  }
  return best;
}

/**
 * The thread pool's counters (benchmarks): jobs run on the pool since the process started and the
 * threads that ran them, summed. threads / jobs below the pool's size means workers missed jobs
 * (they woke after the job's first barrier). null when the addon is not loaded or predates them.
 */
export function poolStats(): { jobs: number; threads: number } | null {
  return addon?.poolStats ? addon.poolStats() : null;
}
