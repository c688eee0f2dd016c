// The device-thread half of GpuCRLAgent (./crl-webgpu-agent.ts): loaded into the WebGPU backend's
// device thread (engine/webgpu/worker.ts, WebGpuBackend.hostCall), it keeps each agent's GpuCRL
// (./crl-webgpu.ts) there and runs its calls. Batches, observations and results pass through
// SharedArrayBuffers the agent hands over at creation, so a call moves only a few numbers;
// state tensors (checkpoints) are moved, not copied.
import type { WebGpuContext } from "../engine/webgpu/context.js";
import type { Tensor } from "../nn/safetensors.js";
import { CRL_METRIC_NAMES, type CRLConfig, type CRLDims, NonFiniteError } from "./crl.js";
import { GpuCRL } from "./crl-webgpu.js";

export interface HostCreate {
  dims: CRLDims;
  config: CRLConfig;
  actBatch: number;
  /** [B·S state | B·A action | B·G goal] of the next update. */
  batch: SharedArrayBuffer;
  /** [actChunk, S+G] observations of the next actorForward. */
  obs: SharedArrayBuffer;
  /** Results: the metrics in CRL_METRIC_NAMES order, or the actor's mean then raw log-std [n, A] each. */
  out: SharedArrayBuffer;
  /** The initial state (CRLAgent.stateTensors()). */
  state: Map<string, Tensor>;
}

/** What "update" answers: null, or the NonFiniteError to throw on the agent's side. */
export type HostUpdateResult = { network: string; loss: string; value: number } | null;

interface Instance {
  gpu: GpuCRL;
  batch: Float32Array;
  obs: Float32Array;
  out: Float32Array;
}

const instances = new Map<number, Instance>();
let nextId = 1;

function instance(id: number): Instance {
  const x = instances.get(id);
  if (!x) throw new Error(`no GpuCRL with id ${id} on the device thread (destroyed?)`);
  return x;
}

/** DeviceModule.handle (engine/webgpu/worker.ts). */
export async function handle(ctx: WebGpuContext, method: string, args: unknown): Promise<{ value: unknown; transfer?: ArrayBuffer[] }> {
  const a = args as { id: number } & Record<string, unknown>;
  switch (method) {
    case "create": {
      const c = args as HostCreate;
      const gpu = new GpuCRL(ctx, c.dims, c.config, { actBatch: c.actBatch });
      try {
        gpu.loadStateTensors(c.state);
      } catch (e) {
        gpu.destroy();
        throw e;
      }
      const id = nextId++;
      instances.set(id, { gpu, batch: new Float32Array(c.batch), obs: new Float32Array(c.obs), out: new Float32Array(c.out) });
      return { value: { id, dispatches: gpu.dispatchesPerUpdate, actChunk: gpu.actChunk } };
    }
    case "update": {
      const x = instance(a.id);
      const { stateDim: S, goalDim: G, actionDim: A } = x.gpu.dims;
      const B = x.gpu.config.batchSize;
      try {
        const m = await x.gpu.update(x.batch.subarray(0, B * S), x.batch.subarray(B * S, B * (S + A)), x.batch.subarray(B * (S + A), B * (S + A + G)));
        CRL_METRIC_NAMES.forEach((k, i) => {
          x.out[i] = m[k];
        });
        return { value: null };
      } catch (e) {
        if (e instanceof NonFiniteError) return { value: { network: e.network, loss: e.loss, value: e.value } satisfies HostUpdateResult };
        throw e;
      }
    }
    case "act": {
      const x = instance(a.id);
      const n = a.n as number;
      const A = x.gpu.dims.actionDim;
      const { mean, raw } = await x.gpu.actorForward(x.obs, n);
      x.out.set(mean, 0);
      x.out.set(raw, n * A);
      return { value: null };
    }
    case "state": {
      const t = await instance(a.id).gpu.stateTensors();
      return { value: t, transfer: [...t.values()].map((v) => v.data.buffer as ArrayBuffer) };
    }
    case "load": {
      instance(a.id).gpu.loadStateTensors(a.state as Map<string, Tensor>);
      return { value: null };
    }
    case "destroy": {
      instances.get(a.id)?.gpu.destroy();
      instances.delete(a.id);
      return { value: null };
    }
    default:
      throw new Error(`GpuCRL host: unknown call "${method}"`);
  }
}
