/// <reference types="@webgpu/types" />
// The page side of webgpu-browser.test.ts: loaded in Chromium as an ES module (the test's server
// compiles it and the sources it imports), it opens navigator.gpu's adapter through the browser
// entry point and answers the test's packed kernel calls (CallRunner) and CRL updates (GpuCRL).
import type { CRLConfig, CRLDims, CRLMetrics } from "../../src/agents/crl.js";
import { GpuCRL } from "../../src/agents/crl-webgpu.js";
import { type CallRequest, CallRunner, createBrowserContext, describeAdapter, type WebGpuContext } from "../../src/engine/webgpu/browser.js";
import type { Tensor } from "../../src/nn/safetensors.js";

let ctx: WebGpuContext | null = null;
let runner: CallRunner | null = null;

/** Opens the page's adapter: its line (describeAdapter), or why there is none. */
export async function setup(): Promise<{ adapter: string; software: boolean } | { missing: string }> {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu) return { missing: "the page has no navigator.gpu" };
  if (!(await gpu.requestAdapter())) return { missing: "navigator.gpu.requestAdapter() gave no adapter" };
  ctx = await createBrowserContext();
  runner = new CallRunner(ctx);
  return { adapter: describeAdapter(ctx.adapter), software: ctx.adapter.software };
}

/** One packed Backend call (packCall) on the page's device: the written groups' new contents. */
export function runCall(req: CallRequest): Promise<Float32Array[]> {
  if (!runner) throw new Error("setup() first");
  return runner.run(req);
}

export interface CrlRun {
  metrics: CRLMetrics[];
  state: [string, Tensor][];
  dispatches: number;
}

/** A GpuCRL from `state` (CRLAgent.stateTensors()), one update per batch; its metrics and final state. */
export async function crlUpdates(
  dims: CRLDims,
  config: CRLConfig,
  state: [string, Tensor][],
  batches: { state: Float32Array; action: Float32Array; goal: Float32Array }[],
): Promise<CrlRun> {
  if (!ctx) throw new Error("setup() first");
  const crl = new GpuCRL(ctx, dims, config);
  try {
    crl.loadStateTensors(new Map(state));
    const metrics: CRLMetrics[] = [];
    for (const b of batches) metrics.push(await crl.update(b.state, b.action, b.goal));
    return { metrics, state: [...(await crl.stateTensors())], dispatches: crl.dispatchesPerUpdate };
  } finally {
    crl.destroy();
  }
}
