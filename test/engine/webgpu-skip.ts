// Whether this machine has a WebGPU adapter, for the WebGPU suites' `skip`. Without one the
// suites are skipped with a loud message, unless FATHOM_REQUIRE_WEBGPU=1 (CI, which installs
// lavapipe): then a missing adapter is a failure, not a silent pass.
import { loadNodeGpu } from "../../src/engine/webgpu/node.js";

let probed: Promise<string | false> | null = null;

async function probe(): Promise<string | false> {
  const r = await loadNodeGpu();
  if ("error" in r) return r.error;
  const adapter = await r.gpu.requestAdapter();
  if (!adapter) {
    return "no WebGPU adapter (Dawn needs a Vulkan driver; on a CPU-only Debian 12 machine install mesa-vulkan-drivers from bookworm-backports: see README)";
  }
  return false;
}

/** false when an adapter exists, else the reason (printed loudly; thrown under FATHOM_REQUIRE_WEBGPU=1). */
export async function webgpuSkip(): Promise<string | false> {
  probed ??= probe();
  const why = await probed;
  return why === false ? false : webgpuMissing(why);
}

/** `why` there is no adapter, printed loudly; thrown instead under FATHOM_REQUIRE_WEBGPU=1 (also the browser's adapter). */
export function webgpuMissing(why: string): string {
  if (process.env.FATHOM_REQUIRE_WEBGPU === "1") throw new Error(`FATHOM_REQUIRE_WEBGPU=1 but ${why}`);
  const bar = "!".repeat(78);
  console.error(`${bar}\n!! WebGPU TESTS SKIPPED: ${why}\n${bar}`);
  return why;
}
