// Backend selection: "auto" (default) = the fastest available CPU backend (native, else ref);
// "webgpu" only when asked for (auto never starts a GPU device on its own, so it never picks a
// software adapter silently).
// Chosen by argument, else the FATHOM_BACKEND environment variable (an invalid value is an error).
// GEMM precision: "fp32" (default) or "bf16", by argument (config key `precision`), else
// FATHOM_PRECISION; resolvePrecision falls back to fp32, with a note, where bf16 cannot run.
import { type Backend, PRECISIONS, type Precision } from "./backend.js";
import { loadNativeBackend } from "./native/native.js";
import { RefBackend } from "./ref/ref.js";
import { loadWebGpuBackend } from "./webgpu/webgpu.js";

export { type Backend, PRECISIONS, type Precision } from "./backend.js";
export { RefBackend } from "./ref/ref.js";
export { allocFloat32 } from "./alloc.js";

export const BACKEND_NAMES = ["auto", "native", "ref", "webgpu"] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

const cache = new Map<string, Backend>();
let nativeError: string | null = null;

/** Why the native backend is unavailable (null if it loaded or was never tried). */
export function nativeBackendError(): string | null {
  return nativeError;
}

/**
 * The backend FATHOM_BACKEND names (undefined when it is unset or empty). A value that is not a
 * backend name is an error naming the allowed values. Case does not matter.
 */
export function backendFromEnv(): BackendName | undefined {
  const raw = process.env.FATHOM_BACKEND;
  if (raw === undefined || raw.trim() === "") return undefined;
  const v = raw.trim().toLowerCase();
  if (!(BACKEND_NAMES as readonly string[]).includes(v)) {
    throw new Error(`FATHOM_BACKEND="${raw}" is not allowed: use one of ${BACKEND_NAMES.join(", ")}, or unset it (default auto)`);
  }
  return v as BackendName;
}

/** The backend named by `name`, else by FATHOM_BACKEND, else "auto"; an invalid FATHOM_BACKEND is an error either way. */
export function getBackend(name?: string): Backend {
  const fromEnv = backendFromEnv();
  const requested = (name ?? fromEnv ?? "auto").toLowerCase();
  if (!(BACKEND_NAMES as readonly string[]).includes(requested)) {
    throw new Error(`unknown backend "${requested}": allowed are ${BACKEND_NAMES.join(", ")} (set by --backend or FATHOM_BACKEND)`);
  }
  const hit = cache.get(requested);
  if (hit) return hit;
  let backend: Backend;
  if (requested === "ref") {
    backend = new RefBackend();
  } else if (requested === "webgpu") {
    const r = loadWebGpuBackend();
    if ("error" in r) throw new Error(`the WebGPU backend is not available: ${r.error}. Use --backend native or ref`);
    backend = r.backend;
  } else {
    const r = loadNativeBackend();
    if ("backend" in r) backend = r.backend;
    else if (r.setting) {
      // a bad FATHOM_THREADS / FATHOM_SIMD is the user's to fix, not a reason to fall back to ref
      throw new Error(r.error);
    } else {
      nativeError = r.error;
      if (requested === "native") {
        throw new Error(`the native backend is not available: ${r.error}. Rebuild it with \`npm run build:native\`, or use --backend ref`);
      }
      backend = new RefBackend();
    }
  }
  cache.set(requested, backend);
  return backend;
}

/**
 * The precision FATHOM_PRECISION names (undefined when it is unset or empty). A value that is not
 * a precision is an error naming the allowed values. Case does not matter.
 */
export function precisionFromEnv(): Precision | undefined {
  const raw = process.env.FATHOM_PRECISION;
  if (raw === undefined || raw.trim() === "") return undefined;
  const v = raw.trim().toLowerCase();
  if (!(PRECISIONS as readonly string[]).includes(v)) {
    throw new Error(`FATHOM_PRECISION="${raw}" is not allowed: use one of ${PRECISIONS.join(", ")}, or unset it (default fp32)`);
  }
  return v as Precision;
}

/**
 * The precision the backend will run for a requested one: bf16 where the backend can, else fp32
 * with a one-line note saying why (for the log; null when nothing changed).
 */
export function resolvePrecision(backend: Backend, requested: Precision): { precision: Precision; note: string | null } {
  if (requested === "fp32") return { precision: "fp32", note: null };
  const why = backend.bf16Unavailable();
  if (why === null) return { precision: "bf16", note: null };
  return { precision: "fp32", note: `precision bf16 was requested but ${backend.describe()} cannot run it (${why}): running in fp32` };
}
