// The native CPU backend: a C addon (native/, built by node-gyp into
// build/Release/fathom_native.node) with AVX-512 / AVX2 / portable kernels chosen at run time and
// a persistent thread pool (DESIGN §3). This wrapper only forwards arguments: sizes are checked
// in C, where a too-short array throws a RangeError naming the argument.
//
// Environment: FATHOM_THREADS (default: all cores; more than the cores is capped to them, with a
// warning; not an integer >= 1 is an error), FATHOM_SIMD (auto | avx512 | avx2 | generic;
// avx2x16 = the AVX-512 code shape compiled for AVX2, for tests), FATHOM_SPIN_US (how long idle
// pool threads spin before sleeping, default 100).
//
// Results are bitwise identical for any thread count (same SIMD level): every output element is
// computed by one fixed sequence of float operations, whichever thread computes it.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Backend } from "../backend.js";

/** The addon's exports (native/addon.c); argument order = the Backend interface. */
interface Addon {
  configure(threads: number, simd: string): { simd: string; threads: number };
  info(): { simd: string; threads: number };
  gemm: Backend["gemm"];
  biasAdd: Backend["biasAdd"];
  biasBackward: Backend["biasBackward"];
  layerNormForward: Backend["layerNormForward"];
  layerNormBackward: Backend["layerNormBackward"];
  swishForward: Backend["swishForward"];
  swishBackward: Backend["swishBackward"];
  denseLnSwishForward: Backend["denseLnSwishForward"];
  denseLnSwishBackward: Backend["denseLnSwishBackward"];
  adamStep: Backend["adamStep"];
  add: Backend["add"];
}

export const SIMD_LEVELS = ["auto", "avx512", "avx2", "avx2x16", "generic"] as const;

export interface NativeOptions {
  /** Threads in the pool, caller included (default FATHOM_THREADS, else all cores). */
  threads?: number;
  /** Kernel build to use (default FATHOM_SIMD, else "auto" = the widest this CPU supports). */
  simd?: (typeof SIMD_LEVELS)[number];
}

class NativeBackend implements Backend {
  readonly name = "native";
  constructor(private readonly addon: Addon) {}

  get threads(): number {
    return this.addon.info().threads;
  }

  describe(): string {
    const i = this.addon.info();
    return `native (${i.simd}, ${i.threads} thread${i.threads === 1 ? "" : "s"})`;
  }

  gemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Float32Array,
    b: Float32Array,
    beta: number,
    c: Float32Array,
  ): void {
    this.addon.gemm(transA, transB, m, n, k, alpha, a, b, beta, c);
  }

  biasAdd(x: Float32Array, bias: Float32Array, rows: number, cols: number): void {
    this.addon.biasAdd(x, bias, rows, cols);
  }

  biasBackward(dy: Float32Array, db: Float32Array, rows: number, cols: number): void {
    this.addon.biasBackward(dy, db, rows, cols);
  }

  layerNormForward(
    x: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    y: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    rows: number,
    cols: number,
    eps: number,
  ): void {
    this.addon.layerNormForward(x, gamma, beta, y, mean, rstd, rows, cols, eps);
  }

  layerNormBackward(
    dy: Float32Array,
    x: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    gamma: Float32Array,
    dx: Float32Array,
    dgamma: Float32Array,
    dbeta: Float32Array,
    rows: number,
    cols: number,
  ): void {
    this.addon.layerNormBackward(dy, x, mean, rstd, gamma, dx, dgamma, dbeta, rows, cols);
  }

  swishForward(x: Float32Array, y: Float32Array, n: number): void {
    this.addon.swishForward(x, y, n);
  }

  swishBackward(dy: Float32Array, x: Float32Array, dx: Float32Array, n: number): void {
    this.addon.swishBackward(dy, x, dx, n);
  }

  denseLnSwishForward(
    x: Float32Array,
    w: Float32Array,
    b: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    z: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    y: Float32Array,
    rows: number,
    inDim: number,
    outDim: number,
    eps: number,
  ): void {
    this.addon.denseLnSwishForward(x, w, b, gamma, beta, z, mean, rstd, y, rows, inDim, outDim, eps);
  }

  denseLnSwishBackward(
    dy: Float32Array,
    x: Float32Array,
    w: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    z: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    dx: Float32Array | null,
    dw: Float32Array | null,
    db: Float32Array,
    dgamma: Float32Array,
    dbeta: Float32Array,
    rows: number,
    inDim: number,
    outDim: number,
  ): void {
    this.addon.denseLnSwishBackward(dy, x, w, gamma, beta, z, mean, rstd, dx, dw, db, dgamma, dbeta, rows, inDim, outDim);
  }

  adamStep(
    param: Float32Array,
    grad: Float32Array,
    m: Float32Array,
    v: Float32Array,
    n: number,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    step: number,
  ): void {
    this.addon.adamStep(param, grad, m, v, n, lr, beta1, beta2, eps, step);
  }

  add(a: Float32Array, b: Float32Array, out: Float32Array, n: number): void {
    this.addon.add(a, b, out, n);
  }
}

/** Where node-gyp puts the addon: build/Release under the package root (two levels above src/ or dist/). */
function addonPath(): string {
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
