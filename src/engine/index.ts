// Backend selection: "auto" (default) = the fastest available (native, else ref).
// Chosen by argument, else the FATHOM_BACKEND environment variable.
import type { Backend } from "./backend.js";
import { loadNativeBackend } from "./native/native.js";
import { RefBackend } from "./ref/ref.js";

export type { Backend } from "./backend.js";
export { RefBackend } from "./ref/ref.js";

export const BACKEND_NAMES = ["auto", "native", "ref"] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

const cache = new Map<string, Backend>();
let nativeError: string | null = null;

/** Why the native backend is unavailable (null if it loaded or was never tried). */
export function nativeBackendError(): string | null {
  return nativeError;
}

export function getBackend(name?: string): Backend {
  const requested = (name ?? process.env.FATHOM_BACKEND ?? "auto").toLowerCase();
  if (!(BACKEND_NAMES as readonly string[]).includes(requested)) {
    throw new Error(`unknown backend "${requested}": allowed are ${BACKEND_NAMES.join(", ")} (set by --backend or FATHOM_BACKEND)`);
  }
  const hit = cache.get(requested);
  if (hit) return hit;
  let backend: Backend;
  if (requested === "ref") {
    backend = new RefBackend();
  } else {
    const r = loadNativeBackend();
    if ("backend" in r) backend = r.backend;
    else {
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
