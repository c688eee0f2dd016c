// The per-thread side of a VecEnv: one EnvCore steps a contiguous slice of the envs, synchronously,
// on whichever thread hosts it (a worker, or the calling thread when threads = 0). The VecEnv
// (src/envs/vec.ts) owns the shared buffers, auto-reset bookkeeping, seeding and the workers; a
// task family (point mazes, MuJoCo Ant, ...) only implements this interface.
//
// Randomness: env `globalIndex` is reset with an Rng whose key is foldIn(foldIn(seedKey,
// globalIndex), episodeId), so trajectories do not depend on how envs are spread over threads.
// (Under MakeEnvOptions.referenceResetBug the VecEnv hands every reset episode 0's key instead.)
// The SliceRunner (./slice.ts) calls these methods; a core never sees the shared buffers whole.
import type { Rng } from "../random.js";
import type { EnvSpec } from "./types.js";

export interface EnvCore {
  readonly spec: EnvSpec;
  /** Number of envs in this slice. */
  readonly count: number;
  /**
   * Start a new episode of slice-local env i: draw a fresh start and goal with `rng`, write the
   * observation (state ++ goal) into obs [obsDim].
   */
  reset(i: number, rng: Rng, obs: Float32Array): void;
  /**
   * Advance slice-local env i by one control step with action [actionDim] (already clipped to
   * [-1, 1]); write the new observation into obs [obsDim]. Returns true if the episode terminated
   * (e.g. the Ant fell); truncation at episodeLength is the VecEnv's job.
   * `rng` is the env's episode stream, for tasks with stochastic dynamics.
   */
  step(i: number, action: Float32Array, rng: Rng, obs: Float32Array): boolean;
  /** Free physics instances. */
  dispose(): void;
  /**
   * Values in one env's saved state (getEnvState / setEnvState): everything step() and the
   * observation depend on (physics, commanded goal, ...). Absent: the core cannot save its envs,
   * and a resumed run starts new episodes instead of continuing them.
   */
  readonly stateSize?: number;
  /** Writes slice-local env i's complete state into out [stateSize]. */
  getEnvState?(i: number, out: Float64Array): void;
  /** Restores slice-local env i to a state written by getEnvState (the same env id and build). */
  setEnvState?(i: number, state: Float64Array): void;
}

/**
 * How a task family builds cores. Must be loadable inside a worker by module path + export name,
 * so factories are registered in src/envs/registry.ts with the module that defines them.
 */
export type EnvCoreFactory = (spec: EnvSpec, count: number) => EnvCore | Promise<EnvCore>;
