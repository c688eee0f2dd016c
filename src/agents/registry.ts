// `--agent <name>` → the algorithm: its config schema (the one source of its hyperparameters),
// how to build it and what it allocates. An agent's config is derived from a training config by
// taking exactly the keys of its schema (no hand copy of keys anywhere).
import type { z } from "zod";
import type { Backend } from "../engine/backend.js";
import type { AdapterSummary } from "../engine/webgpu/context.js";
import { WebGpuBackend } from "../engine/webgpu/webgpu.js";
import type { Key } from "../random.js";
import { AGENT_NAMES, type Agent, type AgentDims, type AgentFootprint, type AgentName } from "./agent.js";
import { CRLAgent, CRLConfigSchema, crlFootprint } from "./crl.js";
import { GpuCRLAgent } from "./crl-webgpu-agent.js";
import { GCBCAgent, GCBCConfigSchema, gcbcFootprint } from "./gcbc.js";
import { SACAgent, SACConfigSchema, sacFootprint } from "./sac.js";
import { TD3Agent, TD3ConfigSchema, td3Footprint } from "./td3.js";

export interface AgentDefinition {
  readonly name: AgentName;
  /** One line for help texts. */
  readonly summary: string;
  readonly configSchema: z.ZodObject;
  /** Whether it has a critic network (criticDepth, criticWidth). */
  readonly hasCritic: boolean;
  /** Whether it trains from an offline dataset (`--offline`): never, optionally, or only. */
  readonly offline: "never" | "allowed" | "only";
  /** Its own config out of a training config (the keys of configSchema, validated). */
  configOf(trainConfig: object): Record<string, unknown>;
  /** Builds it; `actBatch` = the most observations one act() call gets. */
  create(backend: Backend, dims: AgentDims, trainConfig: object, key: Key, actBatch: number): Agent;
  footprint(dims: AgentDims, trainConfig: object, actBatch: number): AgentFootprint;
  /**
   * For an agent that keeps its state on a WebGPU device: throws, before a run starts, when the
   * config exceeds the adapter's buffer limits (the error names the limit, the size and what to change).
   */
  checkWebGpu?(adapter: AdapterSummary, dims: AgentDims, trainConfig: object, actBatch: number): void;
}

function define<S extends z.ZodObject>(d: {
  name: AgentName;
  summary: string;
  schema: S;
  hasCritic: boolean;
  offline: "never" | "allowed" | "only";
  create: (backend: Backend, dims: AgentDims, c: z.output<S>, key: Key, actBatch: number) => Agent;
  footprint: (dims: AgentDims, c: z.output<S>, actBatch: number) => AgentFootprint;
  checkWebGpu?: (adapter: AdapterSummary, dims: AgentDims, c: z.output<S>, actBatch: number) => void;
}): AgentDefinition {
  const keys = Object.keys(d.schema.shape);
  const pick = (t: object): z.output<S> => {
    const values = t as Record<string, unknown>;
    return d.schema.parse(Object.fromEntries(keys.map((k) => [k, values[k]]))) as z.output<S>;
  };
  return {
    name: d.name,
    summary: d.summary,
    configSchema: d.schema,
    hasCritic: d.hasCritic,
    offline: d.offline,
    configOf: (t) => pick(t) as Record<string, unknown>,
    create: (backend, dims, t, key, actBatch) => d.create(backend, dims, pick(t), key, actBatch),
    footprint: (dims, t, actBatch) => d.footprint(dims, pick(t), actBatch),
    checkWebGpu: d.checkWebGpu && ((adapter, dims, t, actBatch) => d.checkWebGpu?.(adapter, dims, pick(t), actBatch)),
  };
}

const DEFINITIONS: Record<AgentName, AgentDefinition> = {
  crl: define({
    name: "crl",
    summary: "Contrastive RL (SPEC §3): InfoNCE critic, tanh-Gaussian actor, hindsight goals, no reward",
    schema: CRLConfigSchema,
    hasCritic: true,
    offline: "allowed",
    // on the WebGPU backend the whole update stays on the device (crl-webgpu-agent.ts), instead
    // of each kernel call of CRLAgent making a round trip to it
    create: (backend, dims, c, key, actBatch) => (backend instanceof WebGpuBackend ? new GpuCRLAgent(backend, dims, c, key, actBatch) : new CRLAgent(backend, dims, c, key, actBatch)),
    footprint: crlFootprint,
    checkWebGpu: (adapter, dims, c, actBatch) => GpuCRLAgent.checkFits(adapter, dims, c, actBatch),
  }),
  sac: define({
    name: "sac",
    summary: "Soft Actor-Critic (JaxGCRL's defaults) on the sparse reward 1[‖achieved − goal‖ < threshold], trained for the commanded goals",
    schema: SACConfigSchema,
    hasCritic: true,
    offline: "never",
    create: (backend, dims, c, key, actBatch) => new SACAgent(backend, dims, c, key, actBatch, false),
    footprint: sacFootprint,
  }),
  sac_her: define({
    name: "sac_her",
    summary: "SAC with hindsight relabelling: goals replaced by the episode's final achieved goal where it lies in the sampled window (JaxGCRL's HER)",
    schema: SACConfigSchema,
    hasCritic: true,
    offline: "never",
    create: (backend, dims, c, key, actBatch) => new SACAgent(backend, dims, c, key, actBatch, true),
    footprint: sacFootprint,
  }),
  td3_her: define({
    name: "td3_her",
    summary: "TD3 with hindsight relabelling (JaxGCRL's defaults and HER), sparse reward",
    schema: TD3ConfigSchema,
    hasCritic: true,
    offline: "never",
    create: (backend, dims, c, key, actBatch) => new TD3Agent(backend, dims, c, key, actBatch),
    footprint: td3Footprint,
  }),
  gcbc: define({
    name: "gcbc",
    summary: "goal-conditioned behavioural cloning (OGBench's defaults) from an offline dataset: imitate the action taken, given a goal reached later in the episode",
    schema: GCBCConfigSchema,
    hasCritic: false,
    offline: "only",
    create: (backend, dims, c, key, actBatch) => new GCBCAgent(backend, dims, c, key, actBatch),
    footprint: gcbcFootprint,
  }),
};

/** The definition of agent `name`; an unknown name is an error that lists the known ones. */
export function agentDefinition(name: string): AgentDefinition {
  if (!Object.hasOwn(DEFINITIONS, name)) throw new Error(`unknown agent "${name}": allowed are ${AGENT_NAMES.join(", ")}`);
  return DEFINITIONS[name as AgentName];
}
