// CRL behind the Agent interface (./agent.ts) with everything on the WebGPU device: what `fathom
// train --agent crl --backend webgpu` runs (./registry.ts picks it for the WebGPU backend). The
// update is GpuCRL's (./crl-webgpu.ts: networks, Adam states, log α and activations stay on the
// device; per update one upload of the batch, one recorded program, the metrics read back); acting
// runs the actor's forward pass on the device and only the tanh-Gaussian draw on the host, as
// CRLAgent.act does. GpuCRL lives in the backend's device thread (./crl-webgpu-host.ts, reached by
// WebGpuBackend.hostCall), so this agent is synchronous like the others and the training loop,
// evaluation and checkpoints use it unchanged. Node-only; in a browser use GpuCRL directly.
//
// It starts from exactly the state a CRLAgent with the same config and key starts from, and its
// state tensors are CRLAgent's (same names, shapes and meaning): a checkpoint written on one
// backend loads on the other.
import { RefBackend } from "../engine/ref/ref.js";
import { type AdapterSummary, adapterLimitCheck } from "../engine/webgpu/context.js";
import type { WebGpuBackend } from "../engine/webgpu/webgpu.js";
import { declareResNetParams } from "../nn/resnet-webgpu.js";
import type { Tensor } from "../nn/safetensors.js";
import { checkParamTensors } from "../nn/serialize.js";
import type { Key, Rng } from "../random.js";
import type { ReplayBuffer } from "../replay/buffer.js";
import type { HindsightBatch } from "../replay/sampler.js";
import { actChunkRows, actInChunks, type Agent, gaussianActorHeads, type BatchSource, NonFiniteError, type SamplerEnv, type SamplerLoop, tanhGaussianActions } from "./agent.js";
import { CRL_METRIC_NAMES, CRLAgent, type CRLConfig, type CRLDims, crlSampler } from "./crl.js";
import { checkGpuCRLFits } from "./crl-webgpu.js";
import type { HostCreate, HostUpdateResult } from "./crl-webgpu-host.js";

const EXT = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
const HOST = new URL(`./crl-webgpu-host${EXT}`, import.meta.url).href;

const NETS = [
  ["actor.", "optim.actor."],
  ["sa_encoder.", "optim.sa_encoder."],
  ["goal_encoder.", "optim.goal_encoder."],
] as const;

export class GpuCRLAgent implements Agent<HindsightBatch> {
  readonly name = "crl";
  readonly metricNames = CRL_METRIC_NAMES;
  readonly config: CRLConfig;
  readonly dims: CRLDims;
  /** Gradient steps taken. */
  updates = 0;
  /** Rows per device actor call (the device actor's batch capacity). */
  readonly actChunk: number;
  /** Dispatches in one update (one compute pass, one submission). */
  readonly dispatchesPerUpdate: number;
  private readonly id: number;
  private readonly batchIo: Float32Array;
  private readonly obsIo: Float32Array;
  private readonly outIo: Float32Array;
  private destroyed = false;

  constructor(
    private readonly backend: WebGpuBackend,
    dims: CRLDims,
    config: CRLConfig,
    key: Key,
    actBatch = 0,
  ) {
    if (config.precision !== "fp32") throw new Error(`the WebGPU CRL agent runs fp32 only (${backend.bf16Unavailable()}); resolve the precision first`);
    this.config = { ...config };
    this.dims = { ...dims };
    const { stateDim: S, goalDim: G, actionDim: A } = dims;
    const B = config.batchSize;
    GpuCRLAgent.checkFits(backend.adapter, dims, config, actBatch);
    const chunk = actChunkRows(B, actBatch);
    // CRLAgent's initial state for this config and key (its key split and initialisation): from an
    // agent built for a batch of 2, whose networks are the same and whose batch buffers are tiny.
    // Its arrays move to the device thread.
    const initial = new CRLAgent(new RefBackend(), dims, { ...config, batchSize: 2 }, key, 1).stateTensors();
    const sab = (floats: number) => new SharedArrayBuffer(4 * Math.max(1, floats));
    const create: HostCreate = {
      dims: this.dims,
      config: this.config,
      actBatch,
      batch: sab(B * (S + A + G)),
      obs: sab(chunk * (S + G)),
      out: sab(Math.max(CRL_METRIC_NAMES.length, 2 * chunk * A)),
      state: initial,
    };
    const r = backend.hostCall<{ id: number; dispatches: number; actChunk: number }>(HOST, "create", create, transferOf(initial));
    this.id = r.id;
    this.dispatchesPerUpdate = r.dispatches;
    this.actChunk = r.actChunk;
    this.batchIo = new Float32Array(create.batch);
    this.obsIo = new Float32Array(create.obs);
    this.outIo = new Float32Array(create.out);
  }

  /**
   * Throws, naming the limit, the size needed and what to change, when this config would exceed
   * the adapter's buffer limits (before anything is allocated: `fathom train` checks it before it
   * makes the run directory).
   */
  static checkFits(adapter: AdapterSummary, dims: CRLDims, config: CRLConfig, actBatch = 0): void {
    checkGpuCRLFits(adapterLimitCheck(adapter), dims, config, actBatch);
  }

  describe(): string {
    return (
      `crl on the WebGPU device: ${this.dispatchesPerUpdate} dispatches per update in one submission, ` +
      `parameters, Adam states and activations resident, only the metrics read back; the actor acts on the device (up to ${this.actChunk} rows per call)`
    );
  }

  private call<T>(method: string, args: Record<string, unknown> = {}, transfer: ArrayBuffer[] = []): T {
    if (this.destroyed) throw new Error("this WebGPU CRL agent was destroyed");
    return this.backend.hostCall<T>(HOST, method, { id: this.id, ...args }, transfer);
  }

  /** Hindsight batches (SPEC §4), as CRLAgent's. */
  makeSampler(buffer: ReplayBuffer, env: SamplerEnv, loop: SamplerLoop): BatchSource<HindsightBatch> {
    return crlSampler(buffer, env, loop, this.dims, this.config);
  }

  /** One CRL gradient step on the device (CRLAgent.update's contract); metrics into out in CRL_METRIC_NAMES order. */
  updateOn(batch: HindsightBatch, out: Float64Array): void {
    const { stateDim: S, goalDim: G, actionDim: A } = this.dims;
    const B = this.config.batchSize;
    const io = this.batchIo;
    io.set(batch.state.subarray(0, B * S), 0);
    io.set(batch.action.subarray(0, B * A), B * S);
    io.set(batch.goal.subarray(0, B * G), B * (S + A));
    const bad = this.call<HostUpdateResult>("update");
    if (bad) throw new NonFiniteError(bad.network, bad.loss, bad.value);
    for (let k = 0; k < CRL_METRIC_NAMES.length; k++) out[k] = this.outIo[k];
    this.updates++;
  }

  /** CRLAgent.act with the actor's forward pass on the device. */
  act(obs: Float32Array, n: number, out: Float32Array, deterministic: boolean, rng?: Rng): void {
    const { stateDim: S, goalDim: G, actionDim: A } = this.dims;
    actInChunks(obs, n, S + G, this.actChunk, this.obsIo, deterministic, rng, (m, start) => {
      this.call("act", { n: m });
      // outIo: the mean [m, A], then the raw log-std [m, A]
      tanhGaussianActions(this.outIo, this.outIo, m * A, m * A, deterministic, rng, out, start * A);
    });
  }

  /** CRLAgent.stateTensors()'s names and layout, read back from the device. */
  stateTensors(): Map<string, Tensor> {
    return this.call<Map<string, Tensor>>("state");
  }

  /** Restores stateTensors() (CRLAgent's or this agent's); validates everything before changing anything. */
  loadStateTensors(t: ReadonlyMap<string, Tensor>, what = "checkpoint"): void {
    const c = this.config;
    const { stateDim: S, goalDim: G, actionDim: A } = this.dims;
    const R = c.reprDim;
    const layouts = [
      declareResNetParams(
        {
          inDim: S + G,
          width: c.actorWidth,
          depth: c.actorDepth,
          heads: gaussianActorHeads(A),
          maxBatch: 1,
          headNorm: c.actorHeadNorm,
        },
        false,
      ).params,
      declareResNetParams({ inDim: S + A, width: c.criticWidth, depth: c.criticDepth, heads: [{ name: "repr", dim: R }], maxBatch: 1 }, false).params,
      declareResNetParams({ inDim: G, width: c.criticWidth, depth: c.criticDepth, heads: [{ name: "repr", dim: R }], maxBatch: 1 }, false).params,
    ];
    NETS.forEach(([prefix, opt], i) => {
      checkParamTensors(layouts[i], t, prefix, what);
      for (const k of ["m", "v"]) {
        const x = t.get(`${opt}${k}`);
        if (!x) throw new Error(`${what} lacks optimizer tensor "${opt}${k}"`);
        if (x.dtype !== "F32" || x.data.length !== layouts[i].numel) {
          throw new Error(`${what}: optimizer tensor "${opt}${k}" has ${x.data.length} ${x.dtype} values, expected ${layouts[i].numel} F32`);
        }
      }
      const s = t.get(`${opt}step`);
      if (!s || s.data.length !== 1 || !Number.isInteger(s.data[0]) || s.data[0] < 0) throw new Error(`${what}: optimizer step "${opt}step" missing or invalid`);
    });
    const a = t.get("alpha.state");
    const r = t.get("rng.state");
    if (!a || a.data.length !== 5) throw new Error(`${what} lacks "alpha.state" (log α and its optimizer)`);
    if (!r || r.data.length !== 6) throw new Error(`${what} lacks "rng.state"`);
    // own copies of only the tensors the device needs (a checkpoint's tensors may be views of one
    // large file buffer, which a message would otherwise copy whole), moved to the device thread
    const state = new Map<string, Tensor>();
    for (const [k, x] of t) {
      if (NETS.some(([p, o]) => k.startsWith(p) || k.startsWith(o)) || k === "alpha.state" || k === "rng.state") {
        state.set(k, { dtype: x.dtype, shape: [...x.shape], data: x.data.slice() } as Tensor);
      }
    }
    this.call("load", { state }, transferOf(state));
    this.updates = a.data[4];
  }

  /** Frees the agent's device buffers (the backend stays); later calls throw. */
  destroy(): void {
    if (this.destroyed) return;
    this.call("destroy");
    this.destroyed = true;
  }
}

function transferOf(t: ReadonlyMap<string, Tensor>): ArrayBuffer[] {
  return [...new Set([...t.values()].map((x) => x.data.buffer as ArrayBuffer))];
}
