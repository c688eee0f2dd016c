/// <reference types="@webgpu/types" />
// WebGPU in Node: the `webgpu` package (Dawn, prebuilt; an optional dependency). Node-only.
import { type ContextOptions, WebGpuContext } from "./context.js";

let cached: Promise<{ gpu: GPU } | { error: string }> | null = null;

/** Dawn's GPU object, or why it could not load (the package is missing or its binary fails). */
export function loadNodeGpu(): Promise<{ gpu: GPU } | { error: string }> {
  cached ??= (async () => {
    try {
      const pkg = "webgpu"; // a variable: the package is optional, so no static import
      const mod = (await import(pkg)) as { create(flags: string[]): GPU };
      return { gpu: mod.create([]) };
    } catch (e) {
      return { error: `the \`webgpu\` package (Dawn for Node) did not load: ${(e as Error).message.split("\n")[0]}; install it with \`npm install webgpu\`` };
    }
  })();
  return cached;
}

/** A WebGPU context on Node's adapter; throws a clear error when there is none. */
export async function createNodeContext(options: ContextOptions = {}): Promise<WebGpuContext> {
  const r = await loadNodeGpu();
  if ("error" in r) throw new Error(r.error);
  return WebGpuContext.create(r.gpu, options);
}
