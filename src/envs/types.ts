// The batched, Gymnasium-shaped environment API (DESIGN §4, SPEC §6).
//
// Contract
// - N envs step in lockstep. Observations are [N, obsDim] rows, each row = state ++ commanded goal
//   (state = the first `stateDim` values, goal = the last `goalDim` values).
// - `goalIndices` pick the achieved goal out of the *state* part of a row (e.g. torso x, y).
// - Actions are [N, actionDim] in [-1, 1]; values outside are clipped; a NaN action is an error.
// - Same-step auto-reset: when an env terminates or truncates, `step` returns its *final*
//   observation in `finalObs` and the first observation of the next episode in `obs`;
//   `episodeId` increments for that env. Every reset draws a fresh start and a fresh goal.
// - `terminated` and `truncated` are never both 1 (Brax's convention): a step that terminates at
//   the last allowed step counts as a termination only.
// - Seeding: `reset(seed)` makes all future trajectories a pure function of (seed, actions),
//   whatever the number of worker threads.
// - `success` is 1 when ‖achieved − commanded‖ < successThreshold, computed on the observation
//   reached by the step (the final observation when the step ended an episode).

export interface EnvSpec {
  /** Versioned id, e.g. "ant_u4_maze-v1". */
  readonly id: string;
  /** One line shown by `fathom envs`. */
  readonly description: string;
  readonly stateDim: number;
  readonly goalDim: number;
  /** stateDim + goalDim. */
  readonly obsDim: number;
  readonly actionDim: number;
  /** Indices into the state part of an observation that form the achieved goal. */
  readonly goalIndices: readonly number[];
  readonly episodeLength: number;
  readonly successThreshold: number;
  /** Id of the env evaluation should use (the `_eval` layout), if it differs from this one. */
  readonly evalId?: string;
  /**
   * Physics steps per control step, for envs with a physics engine (MuJoCo): the env's own value
   * here, a run's override through MakeEnvOptions.frameSkip. Absent for envs that have no such step
   * (the point mazes integrate in closed form).
   */
  readonly frameSkip?: number;
}

export interface StepResult {
  /** [N, obsDim]: observation after the step (first obs of the next episode where one ended). */
  readonly obs: Float32Array;
  /** [N, obsDim]: the observation reached by the step, before any auto-reset. */
  readonly finalObs: Float32Array;
  /** [N]: 1 where the episode ended by termination (e.g. the Ant fell). */
  readonly terminated: Uint8Array;
  /** [N]: 1 where the episode ended by reaching episodeLength. */
  readonly truncated: Uint8Array;
  /** [N]: 1 where the achieved goal is within successThreshold of the commanded goal. */
  readonly success: Uint8Array;
  /** [N]: ‖achieved − commanded‖ at finalObs. */
  readonly dist: Float32Array;
  /** [N]: episode counter of each env for the returned `obs` (increments at every reset). */
  readonly episodeId: Int32Array;
}

export interface VecEnv extends EnvSpec {
  readonly numEnvs: number;
  /** Worker threads stepping the envs (0: the calling thread steps them). */
  readonly threads: number;
  /**
   * [N, actionDim]: the VecEnv's own action buffer. Writing actions here and passing it to
   * step() saves a copy.
   */
  readonly actionBuffer: Float32Array;
  /** Resets all envs; returns [N, obsDim]. */
  reset(seed: number): Promise<Float32Array>;
  /** Steps all envs with actions [N, actionDim]. Buffers in the result are reused across calls. */
  step(actions: Float32Array): Promise<StepResult>;
  /** Frees workers and physics instances. */
  close(): Promise<void>;
  /**
   * The complete state of every env (physics, goals, step counts within episodes, random
   * streams, current observations), for checkpoints: setState on a VecEnv of the same id and
   * numEnvs continues every episode exactly where it was (any number of threads). Absent, or
   * null when the env's cores cannot save their state.
   */
  getState?(): Promise<VecEnvState | null>;
  /**
   * Restores a state from getState (instead of reset); returns [N, obsDim] as reset does. Throws
   * if it does not fit this VecEnv.
   */
  setState?(state: VecEnvState): Promise<Float32Array>;
}

/** A VecEnv's saved state (VecEnv.getState). */
export interface VecEnvState {
  readonly id: string;
  readonly numEnvs: number;
  /** The seed key of reset(seed); later episodes' random streams derive from it. */
  readonly seedKey: readonly [number, number];
  /** [N] episode counter of each env. */
  readonly episodeId: Int32Array;
  /** Values per env in `data`. */
  readonly stride: number;
  /** [N, stride] per env: steps into the episode, its random stream, its observation, the core's state. */
  readonly data: Float64Array;
}

export interface MakeEnvOptions {
  numEnvs: number;
  /** Worker threads; default = one per core (at most numEnvs). 0 = step on the calling thread. */
  threads?: number;
  /** Override the episode length (default: the env's own, 1000 for the paper's tasks). */
  episodeLength?: number;
  /**
   * Override the physics steps per control step (EnvSpec.frameSkip; MuJoCo envs only). The
   * physics timestep stays the model's, so the control step becomes frameSkip × timestep.
   */
  frameSkip?: number;
  /**
   * Reproduce the reference's auto-reset bug (JaxGCRL issue #53, SPEC §4): every reset of an env
   * restores its first start state and goal forever. Off by default; only for comparisons.
   */
  referenceResetBug?: boolean;
}
