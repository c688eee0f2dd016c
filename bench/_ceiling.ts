// The machine's ceiling beside a bench line, so that a figure from one CPU can be read as a
// fraction of what that CPU can do (issue 12): the register-only peak loop (src/engine/native,
// no memory traffic) of the precision that ran, on every thread of the backend's pool, measured
// in the same process just before the line is printed.
import type { Backend } from "../src/engine/backend.js";
import type { Precision } from "../src/engine/index.js";
import { peakGflops } from "../src/engine/native/native.js";

/** Peak GFLOP/s per precision, measured once per process (≈ 0.3 s each). */
const measured = new Map<Precision, number>();

/** `ceiling_gflops` and `ceiling_ratio` (= gflops / ceiling) for a native backend; nothing for another. */
export function ceilingFields(be: Backend, precision: Precision, gflops: number): Record<string, number> {
  if (be.name !== "native") return {};
  let peak = measured.get(precision);
  if (peak === undefined) {
    peak = peakGflops(precision, true);
    measured.set(precision, peak);
  }
  return { ceiling_gflops: +peak.toFixed(1), ceiling_ratio: +(gflops / peak).toFixed(3) };
}
