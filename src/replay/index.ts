// Replay (SPEC §4): per-env ring buffer and the hindsight goal sampler of Contrastive RL.
export {
  DEFAULT_MIN_REPLAY_SIZE,
  DEFAULT_REPLAY_CAPACITY,
  ReplayBuffer,
  type ReplayBufferOptions,
  type ReplayBufferState,
} from "./buffer.js";
export { type HindsightBatch, HindsightSampler, type HindsightSamplerOptions } from "./sampler.js";
