// Fathom's public API (the package entry). See README.md.
export { AGENT_NAMES, type Agent, type AgentName, NonFiniteError } from "./agents/agent.js";
export { CRL_DEFAULTS, CRLAgent, type CRLConfig, CRLConfigSchema, type CRLDims, type CRLMetrics } from "./agents/crl.js";
export { type AgentDefinition, agentDefinition } from "./agents/registry.js";
export { GCBCAgent, GCBCConfigSchema } from "./agents/gcbc.js";
export { SACAgent, SACConfigSchema } from "./agents/sac.js";
export { TD3Agent, TD3ConfigSchema } from "./agents/td3.js";
export { CONTRASTIVE_LOSSES, ENERGY_FNS, type ContrastiveLoss, type EnergyFn } from "./agents/losses.js";
export { BACKEND_NAMES, type Backend, type BackendName, getBackend, nativeBackendError, RefBackend } from "./engine/index.js";
export { formatEnvTable, getEnvSpec, listEnvs, makeVecEnv } from "./envs/registry.js";
export type { EnvSpec, MakeEnvOptions, StepResult, VecEnv } from "./envs/types.js";
export {
  ADAM_DEFAULTS,
  Adam,
  type AdamConfig,
  decodeSafetensors,
  encodeSafetensors,
  type HeadSpec,
  LAYER_NORM_EPS,
  ParamStore,
  ResNet,
  type ResNetConfig,
  SafetensorsError,
  type Tensor,
} from "./nn/index.js";
export { foldIn, type Key, keyFromSeed, Rng, split } from "./random.js";
export { HindsightSampler } from "./replay/sampler.js";
export { ReplayBuffer } from "./replay/buffer.js";
export { TransitionSampler } from "./replay/transitions.js";
export { loadNetwork, saveNetwork } from "./train/checkpoint.js";
export { CPU_PRESET, PAPER_PRESET, PRESETS, presetFor, type TrainConfig, TrainConfigSchema, trainSchemaFor } from "./train/config.js";
export { collectRows, loadDataset, offlineConfig, readDatasetInfo, writeDataset } from "./train/dataset.js";
export { evaluate } from "./train/evaluate.js";
export { loadAgentCheckpoint, makeAgent, train } from "./train/trainer.js";
