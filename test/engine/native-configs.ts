// What the tests of the native backend's kernels (native.test.ts, composite.test.ts) share: the
// kernel builds × thread counts they run, and a test() that runs on one of them.
import { after, test } from "node:test";
import type { Backend } from "../../src/engine/backend.js";
import { loadNativeBackend, type NativeOptions } from "../../src/engine/native/native.js";

/** Kernel builds × thread counts (3 > cores here: the pool's barriers under oversubscription). "auto" first: it is what ships on this machine. */
export const NATIVE_CONFIGS: NativeOptions[] = [
  { simd: "auto", threads: 2 },
  { simd: "auto", threads: 1 },
  { simd: "auto", threads: 3 },
  { simd: "avx512", threads: 2 },
  { simd: "avx2", threads: 2 },
  { simd: "avx2x16", threads: 3 },
  { simd: "generic", threads: 2 },
];

/**
 * Loads the addon with the environment's configuration. Returns the first load's result and the
 * reason to skip (false where it loaded); once the file's tests are done, the addon is set back to
 * that configuration.
 */
export function loadNativeForTests(): { first: ReturnType<typeof loadNativeBackend>; skip: string | false } {
  const first = loadNativeBackend();
  const skip = "error" in first ? `native addon not available (${first.error}); build it with npm run build:native` : false;
  after(() => {
    if (!skip) loadNativeBackend(); // back to the environment's configuration
  });
  return { first, skip };
}

/**
 * test(name, fn) on the native backend configured as cfg, reconfigured before every test (another
 * describe may have switched the process-wide setting); skipped where this CPU cannot run cfg.
 * `check` runs on the backend first.
 */
export function nativeTest(cfg: NativeOptions, check?: (b: Backend) => void): (name: string, fn: (b: Backend) => void) => void {
  return (name, fn) =>
    test(name, (t) => {
      const r = loadNativeBackend(cfg);
      if ("error" in r) {
        t.skip(`this CPU cannot run it: ${r.error}`);
        return;
      }
      check?.(r.backend);
      fn(r.backend);
    });
}
