// What a training run will need, checked before anything is allocated or written (issue 10): the
// memory of the agent's networks (parameters, gradients, Adam state, target copies, forward caches
// and scratch), the agent's batch buffers, the replay buffer and sampler and the env buffers
// (checkpoints are streamed to disk: no copy), against the machine's memory; and the largest typed
// arrays against JavaScript's limits. The network sizes follow src/nn/resnet.ts exactly (a test
// compares them with real ResNets); each agent counts its own networks and buffers (its
// footprint, agents/registry.ts); the rest is counted from the shapes in buffer.ts, the samplers
// and trainer.ts. Configuration rules that need no machine (budget, window) are in config.ts.
import { availableParallelism, totalmem } from "node:os";
import type { AgentFootprint, NetworkShape } from "../agents/agent.js";
import { agentDefinition } from "../agents/registry.js";
import { getBackend } from "../engine/index.js";
import { WebGpuBackend } from "../engine/webgpu/webgpu.js";
import { extraEvals, getEnvSpec, primaryEvalId } from "../envs/registry.js";
import { vecBufferBytes } from "../envs/slice.js";
import type { TrainConfig } from "./config.js";

/** A configuration that cannot run on this machine; the message says why and what to change. */
export class TrainLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TrainLimitError";
  }
}

/** One ResNet (src/nn/resnet.ts) as the agent builds it. */
export type ResNetShape = NetworkShape;

/** Parameters (floats) and forward caches + backward scratch (floats) of one ResNet. */
export function resnetFloats(n: ResNetShape): { params: number; activations: number } {
  const { inDim, width: W, depth, maxBatch: B } = n;
  const blocks = depth / 4;
  const headOut = n.heads.reduce((a, b) => a + b, 0);
  const unit = (i: number) => i * W + 3 * W; // kernel, bias, LayerNorm scale and bias
  const params = unit(inDim) + depth * unit(W) + (n.headNorm ? 2 * W : 0) + W * headOut + headOut;
  const cache = B * W + 2 * B; // z, mean, rstd
  const blockCaches = 4 * cache + 3 * B * W; // four units' caches and three inner activations
  let activations = 2 * B * inDim + 3 * B * W + cache + (blocks + 1) * B * W; // xIn, dInput, gA/gB/gTrunk, input unit, block inputs
  activations += (n.recompute ? 1 : blocks) * blockCaches; // with recompute: one block's worth, reused
  activations += B * headOut + (n.headNorm ? B * W + 2 * B : 0);
  return { params, activations };
}

/** What the run's agent allocates (its networks and buffers), as `fathom train` builds it. */
export function agentFootprint(config: TrainConfig, recompute = config.recompute): AgentFootprint {
  const spec = getEnvSpec(config.env);
  const dims = { stateDim: spec.stateDim, goalDim: spec.goalDim, actionDim: spec.actionDim };
  // trainer.ts: makeAgent(config, max(numEnvs, numEvalEnvs))
  return agentDefinition(config.agent).footprint(dims, { ...config, recompute }, Math.max(config.numEnvs, config.numEvalEnvs, 1));
}

/** The run's agent's networks (each copy of a target network counted in agentFootprint, not here). */
export function agentNetworks(config: TrainConfig, recompute = config.recompute): { name: string; shape: ResNetShape }[] {
  return agentFootprint(config, recompute).networks.map((n) => ({ name: n.name, shape: n.shape }));
}

export interface MemoryPart {
  what: string;
  bytes: number;
  /** The flags that size this part (for the advice in errors). */
  flags: string;
}

export interface MemoryEstimate {
  /** Sum of the parts. */
  bytes: number;
  parts: MemoryPart[];
  /** Parameters of the agent's networks (target copies included). */
  params: number;
  /** The largest single typed array (elements) and what it is. */
  largestArray: { what: string; length: number };
}

/** Node.js itself, the code, the WebAssembly MuJoCo module: a fixed allowance. */
const BASE_BYTES = 256 * 2 ** 20;
/** Each env worker thread (its own isolate and, for MuJoCo, its own module instance). */
const WORKER_BYTES = 64 * 2 ** 20;

const BASE_PART = "Node.js, code and env worker threads";

/** Estimated peak memory of `fathom train` with this configuration (bytes). */
export function estimateTrainMemory(config: TrainConfig, options: { recompute?: boolean } = {}): MemoryEstimate {
  const recompute = options.recompute ?? config.recompute;
  const spec = getEnvSpec(config.env);
  const A = spec.actionDim;
  const O = spec.obsDim;
  const B = config.batchSize;
  const N = config.numEnvs;
  const footprint = agentFootprint(config, recompute);
  const nets = footprint.networks.map((n) => ({ ...n, ...resnetFloats(n.shape) }));
  // An optimised network has values, gradients and Adam m and v; a target copy only its values.
  const params = nets.reduce((a, n) => a + n.copies * n.params, 0);
  const paramFloats = nets.reduce((a, n) => a + n.copies * (n.optimised ? 4 : 1) * n.params, 0);
  // An agent resident on a WebGPU device (checkWebGpu, e.g. crl) keeps its activations and batch
  // buffers there; on the host it builds its initial parameters and Adam state (counted above) and
  // reads them back for checkpoints. Its device buffers are checked by checkTrainLimits.
  const onDevice = config.backend === "webgpu" && agentDefinition(config.agent).checkWebGpu !== undefined;
  const activations = onDevice ? 0 : nets.reduce((a, n) => a + n.copies * n.activations, 0);
  const agentScratch = onDevice ? 0 : footprint.scratchFloats;
  const replayRows = N * config.maxReplaySize;
  const replayFloats = replayRows * (O + A + 1); // obs, actions, episode ids (4 bytes each)
  // sampler.ts: one training step's batches and the window bookkeeping
  const T = Math.min(config.windowLength, config.maxReplaySize);
  const rows = Math.min(config.sgdBatchesPerStep, Math.floor((N * (T - 1)) / B)) * B;
  const samplerWords = rows * footprint.samplerTupleFloats + N * T + 2 * N * (T - 1) + 2 * N + 2 * (config.windowLength + 1);
  const evalIds = [primaryEvalId(config.env), ...extraEvals(config.env, { far: config.farGoalEval, all: config.allGoalEval }).map((x) => x.id)];
  const envBytes = vecBufferBytes(spec, N) + evalIds.reduce((a, id) => a + vecBufferBytes(getEnvSpec(id), config.numEvalEnvs), 0) + 2 * N * (O + A) * 4;
  const threads = config.threads ?? availableParallelism();
  const parts: MemoryPart[] = [
    { what: "network parameters, gradients and Adam state", bytes: 4 * paramFloats, flags: "--actor-depth/--critic-depth or --actor-width/--critic-width" },
    {
      what: `activations kept for backward${onDevice ? " (on the GPU, not here)" : recompute ? " (with --recompute)" : ""}`,
      bytes: 4 * activations,
      flags: "--batch-size or the depths and widths",
    },
    { what: `agent batch buffers${config.agent === "crl" ? " (B × B logits)" : ""}`, bytes: 4 * agentScratch, flags: "--batch-size" },
    { what: "replay buffer", bytes: 4 * replayFloats, flags: "--num-envs × --max-replay-size" },
    { what: "hindsight sampler", bytes: 4 * samplerWords, flags: "--num-envs × --window-length, --sgd-batches-per-step × --batch-size" },
    { what: "env buffers", bytes: envBytes, flags: "--num-envs, --num-eval-envs" },
    { what: BASE_PART, bytes: BASE_BYTES + threads * WORKER_BYTES, flags: "--threads" },
  ];
  const arrays: { what: string; length: number }[] = [
    ...nets.map((n) => ({ what: `the ${n.name}'s parameters`, length: n.params })),
    { what: "the replay buffer's observations", length: replayRows * O },
    { what: "the sampler's window index", length: N * T },
  ];
  const largestArray = arrays.reduce((a, b) => (b.length > a.length ? b : a));
  return { bytes: parts.reduce((a, p) => a + p.bytes, 0), parts, params, largestArray };
}

/** "1.5 GiB", "312 MiB", "4.0 KiB". */
export function formatBytes(b: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
  let v = b;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${Math.round(v)} B` : `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}`;
}

/** The machine's memory: os.totalmem(), or the cgroup limit when it is lower (containers). */
export function machineMemory(): number {
  const total = totalmem();
  const constrained = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.();
  return constrained !== undefined && constrained > 0 && constrained < total ? constrained : total;
}

/** What a run may use of `memory`: all but a margin of 10 % (at least 512 MiB) for the OS and the rest. */
export function usableMemory(memory: number): number {
  return memory - Math.max(0.1 * memory, 512 * 2 ** 20);
}

/** JavaScript's largest typed array on 64-bit Node.js (elements); the replay buffer allows 2^31 − 1 per field. */
const MAX_TYPED_ARRAY = 2 ** 32 - 1;
const MAX_REPLAY_FIELD = 2 ** 31 - 1;

export interface LimitOptions {
  /** Bytes of memory to check against (default: machineMemory()). */
  memory?: number;
}

/**
 * Throws a TrainLimitError when the configuration cannot run on this machine: more memory than it
 * has (with --recompute suggested when that would fit), or an array longer than JavaScript allows.
 * Returns the estimate otherwise.
 */
export function checkTrainLimits(config: TrainConfig, options: LimitOptions = {}): MemoryEstimate {
  checkWebGpuLimits(config);
  const est = estimateTrainMemory(config);
  checkMemory([est], config.recompute ? null : [estimateTrainMemory(config, { recompute: true })], options.memory ?? machineMemory(), "this configuration");
  const spec = getEnvSpec(config.env);
  const replayLen = config.numEnvs * config.maxReplaySize * Math.max(spec.obsDim, spec.actionDim);
  if (replayLen > MAX_REPLAY_FIELD) {
    throw new TrainLimitError(
      `the replay buffer would hold ${config.numEnvs} envs × ${config.maxReplaySize} rows × ${Math.max(spec.obsDim, spec.actionDim)} floats = ${replayLen} values in one array, ` +
        `more than the ${MAX_REPLAY_FIELD} allowed; lower --num-envs or --max-replay-size`,
    );
  }
  if (est.largestArray.length > MAX_TYPED_ARRAY) {
    throw new TrainLimitError(
      `${est.largestArray.what} would need one array of ${est.largestArray.length} floats, more than the ${MAX_TYPED_ARRAY} JavaScript allows; lower the depth or width`,
    );
  }
  return est;
}

/** On the WebGPU backend: the agent's device buffers against the adapter's limits (agents that keep state there). */
function checkWebGpuLimits(config: TrainConfig): void {
  if (config.backend !== "webgpu") return;
  const def = agentDefinition(config.agent);
  if (!def.checkWebGpu) return;
  const backend = getBackend("webgpu");
  if (!(backend instanceof WebGpuBackend)) return;
  const spec = getEnvSpec(config.env);
  const dims = { stateDim: spec.stateDim, goalDim: spec.goalDim, actionDim: spec.actionDim };
  try {
    def.checkWebGpu(backend.adapter, dims, config, Math.max(config.numEnvs, config.numEvalEnvs, 1)); // trainer.ts's actBatch
  } catch (e) {
    throw new TrainLimitError((e as Error).message);
  }
}

/**
 * Throws when `estimates` (runs at the same time) need more than the usable part of `memory`;
 * `withRecompute` (the same runs with --recompute, or null) decides whether to suggest it.
 */
export function checkMemory(estimates: MemoryEstimate[], withRecompute: MemoryEstimate[] | null, memory: number, who: string, alsoAdvise?: string): void {
  const need = estimates.reduce((a, e) => a + e.bytes, 0);
  const usable = usableMemory(memory);
  if (need <= usable) return;
  const parts = new Map<string, MemoryPart>();
  for (const e of estimates) {
    for (const p of e.parts) {
      const q = parts.get(p.what);
      parts.set(p.what, { ...p, bytes: (q?.bytes ?? 0) + p.bytes });
    }
  }
  const top = [...parts.values()]
    .filter((p) => p.what !== BASE_PART)
    .sort((a, b) => b.bytes - a.bytes)
    .filter((p, i) => i === 0 || p.bytes >= 0.05 * need)
    .slice(0, 3);
  const recomputeNeed = withRecompute?.reduce((a, e) => a + e.bytes, 0);
  const advice =
    recomputeNeed !== undefined && recomputeNeed <= usable
      ? `add --recompute (activation checkpointing), which brings it down to about ${formatBytes(recomputeNeed)}`
      : `lower ${top[0].flags}`;
  throw new TrainLimitError(
    `${who} needs about ${formatBytes(need)} of memory, but this machine has ${formatBytes(memory)} ` +
      `(${formatBytes(usable)} usable, keeping a margin for the system). ` +
      `Mostly: ${top.map((p) => `${p.what} ${formatBytes(p.bytes)}`).join(", ")}. To fit: ${advice}${alsoAdvise ? `, or ${alsoAdvise}` : ""}.`,
  );
}

/**
 * How many evaluations come right after the prefill, before any training step: evaluation k runs
 * once envSteps ≥ round(k × totalEnvSteps / numEvals) (trainer.ts), and the prefill's
 * numEnvs × minReplaySize env steps count in envSteps.
 */
export function evaluationsBeforeTraining(c: Pick<TrainConfig, "numEnvs" | "minReplaySize" | "totalEnvSteps" | "numEvals">): number {
  const prefill = c.numEnvs * c.minReplaySize;
  const evalAt = (k: number) => Math.round((k * c.totalEnvSteps) / c.numEvals);
  let k = Math.max(0, Math.min(c.numEvals, Math.floor((prefill * c.numEvals) / c.totalEnvSteps) - 2));
  while (k < c.numEvals && evalAt(k + 1) <= prefill) k++;
  return k;
}
