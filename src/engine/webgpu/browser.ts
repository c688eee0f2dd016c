/// <reference types="@webgpu/types" />
// Fathom's WebGPU backend in a browser page: the same device layer (context.ts), WGSL kernels
// (kernels.ts) and kernel calls (calls.ts) as in Node, on the page's navigator.gpu. Every module
// here and below imports nothing from Node; the compiled files (dist/, `npm run build`) are plain
// ES modules a page imports as they are (docs/webgpu-browser.md). The device-resident CRL update,
// agents/crl-webgpu.ts (GpuCRL), runs in a page too; it also imports zod (an import map entry).
import { type ContextOptions, WebGpuContext } from "./context.js";

export { CallRunner, type CallRequest, type Operand, type PackedCall, PackedKernels, packCall } from "./calls.js";
export { type AdapterSummary, adapterName, describeAdapter, GpuBuf, type GpuView, gview, sub, WebGpuContext } from "./context.js";
export { WebGpuKernels } from "./kernels.js";

/** A WebGPU context on the page's adapter (navigator.gpu); throws a clear error when there is none. */
export async function createBrowserContext(options: ContextOptions = {}): Promise<WebGpuContext> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (!nav?.gpu) {
    throw new Error(
      "this page has no navigator.gpu: WebGPU needs a browser that has it (e.g. Chrome or Edge 113 and later), a secure context " +
        "(https:// or http://localhost), and on Linux Chromium may need --enable-unsafe-webgpu",
    );
  }
  return WebGpuContext.create(nav.gpu, options);
}
