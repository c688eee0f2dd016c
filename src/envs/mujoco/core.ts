// What every MuJoCo task family (Ant, Humanoid, arm) does the same way: one compiled MjModel per
// thread shared by `count` MjData instances; typed views into the wasm heap, re-fetched when the
// heap grows (another core built on the same thread later, say); physics stepping with a check
// for a non-finite state; state read/write for tests and scripted scenes; disposal. A family
// supplies its model, the views it reads, and reset / step / observation. The legged maze families
// (Ant, Humanoid) share more: ./legged.ts.
//
// Divergence: the models are built with MuJoCo's auto-reset off, so a blow-up reaches the env
// instead of silently teleporting the body back to the model's default pose. stepPhysics() then
// restores the state from before the control step, recomputes the derived quantities for it
// (mj_forward) and reports false; the family ends the episode and the VecEnv's reset restores
// the instance.

import type { MainModule, MjData, MjModel } from "@mujoco/mujoco";
import type { Rng } from "../../random.js";
import type { EnvCore } from "../core.js";
import type { EnvSpec } from "../types.js";

/** The views every family reads: generalised positions, velocities and controls of one MjData. */
export interface MujocoViews {
  readonly qpos: Float64Array; // [nq]
  readonly qvel: Float64Array; // [nv]
  readonly ctrl: Float64Array; // [nu]
}

/** The views of MjData d that every family reads; a family's own views spread these and add theirs. */
export function mujocoViews(d: MjData): MujocoViews {
  return { qpos: d.qpos as Float64Array, qvel: d.qvel as Float64Array, ctrl: d.ctrl as Float64Array };
}

/**
 * Checks a core factory's arguments and returns the family's entry for `spec.id`.
 * `factory` names the factory in errors (e.g. "createAntCore"), `family` the task family.
 */
export function familyEntry<T>(factory: string, family: string, table: Readonly<Record<string, T>>, spec: EnvSpec, count: number): T {
  const entry = table[spec.id];
  if (entry === undefined) {
    throw new Error(`${factory}: unknown ${family} env id "${spec.id}"; known ids are ${Object.keys(table).join(", ")}`);
  }
  if (!Number.isInteger(count) || count < 1) {
    throw new Error(`${factory}: count must be a positive integer, got ${count}`);
  }
  return entry;
}

/** Base class of the MuJoCo cores; see the file header. */
export abstract class MujocoCore<V extends MujocoViews> implements EnvCore {
  readonly spec: EnvSpec;
  readonly count: number;
  /** Physics steps per control step: the spec's (a run may override the env's default). */
  protected readonly frameSkip: number;
  /** Control steps that ended with a non-finite physics state (reported as terminations). */
  divergences = 0;

  protected readonly mj: MainModule;
  protected model: MjModel | null;
  protected readonly data: MjData[] = [];
  /** [count] typed views of each env's MjData; see liveModel(). */
  protected views: V[] = [];
  private readonly makeViews: (d: MjData) => V;
  private readonly nq: number;
  private readonly nv: number;
  private readonly prevQpos: Float64Array; // [nq] state before the current control step
  private readonly prevQvel: Float64Array; // [nv]

  /**
   * Takes ownership of `model` (deleted by dispose(), also when this constructor throws) and
   * allocates `count` MjData instances with their views.
   */
  protected constructor(mj: MainModule, spec: EnvSpec, count: number, model: MjModel, makeViews: (d: MjData) => V) {
    this.mj = mj;
    this.spec = spec;
    this.count = count;
    if (spec.frameSkip === undefined || !Number.isInteger(spec.frameSkip) || spec.frameSkip < 1) {
      model.delete();
      throw new Error(`${spec.id}: a MuJoCo env needs a positive integer frameSkip in its spec, got ${spec.frameSkip}`);
    }
    this.frameSkip = spec.frameSkip;
    this.model = model;
    this.makeViews = makeViews;
    this.nq = model.nq;
    this.nv = model.nv;
    this.prevQpos = new Float64Array(this.nq);
    this.prevQvel = new Float64Array(this.nv);
    try {
      for (let i = 0; i < count; i++) this.data.push(new mj.MjData(model));
    } catch (err) {
      this.dispose();
      throw new Error(
        `could not allocate ${count} MuJoCo instances for ${spec.id} on one thread (${err instanceof Error ? err.message : String(err)}); ` +
          "use more worker threads or fewer envs",
      );
    }
    this.refreshViews();
  }

  abstract reset(i: number, rng: Rng, obs: Float32Array): void;
  abstract step(i: number, action: Float32Array, rng: Rng, obs: Float32Array): boolean;
  /** Writes env i's observation (state ++ commanded goal; the family's file gives the layout) into obs [obsDim]. */
  protected abstract writeObs(i: number, obs: Float32Array): void;

  private refreshViews(): void {
    this.views = this.data.map(this.makeViews);
  }

  /** The model, after re-fetching the views if the wasm heap grew; throws once disposed. */
  protected liveModel(): MjModel {
    if (this.model === null) throw new Error(`${this.spec.id}: this EnvCore was disposed`);
    if (this.views[0].qpos.length === 0) this.refreshViews();
    return this.model;
  }

  /**
   * Runs `frames` physics steps of env i (controls already written). Returns true if the state
   * reached is finite; otherwise restores the state from before the call with its derived
   * quantities, counts a divergence and returns false (the caller ends the episode).
   */
  protected stepPhysics(i: number, frames: number): boolean {
    const model = this.liveModel();
    const data = this.data[i];
    const { qpos, qvel } = this.views[i];
    this.prevQpos.set(qpos);
    this.prevQvel.set(qvel);
    const mj = this.mj;
    for (let f = 0; f < frames; f++) mj.mj_step(model, data);
    let finite = true;
    for (let k = 0; k < this.nq && finite; k++) finite = Number.isFinite(qpos[k]);
    for (let k = 0; k < this.nv && finite; k++) finite = Number.isFinite(qvel[k]);
    if (finite) return true;
    this.divergences++;
    qpos.set(this.prevQpos);
    qvel.set(this.prevQvel);
    mj.mj_forward(model, data);
    return false;
  }

  /**
   * The physics of env i's control step (controls already written): frameSkip physics steps, then
   * its observation into obs. Returns whether the state reached is finite (see stepPhysics).
   */
  protected controlStep(i: number, obs: Float32Array): boolean {
    const finite = this.stepPhysics(i, this.frameSkip);
    this.writeObs(i, obs);
    return finite;
  }

  /**
   * This core's compiled model and its thread's MuJoCo module, for read-only use outside the
   * family (the viewer reads the model's geoms and computes body poses of recorded states on a
   * MjData of its own). Throws once disposed.
   */
  get mujoco(): { readonly mj: MainModule; readonly model: MjModel } {
    return { mj: this.mj, model: this.liveModel() };
  }

  /** Copies env i's physics state into qpos [nq] and qvel [nv]. */
  getState(i: number, qpos: Float64Array, qvel: Float64Array): void {
    this.liveModel();
    qpos.set(this.views[i].qpos);
    qvel.set(this.views[i].qvel);
  }

  /**
   * Overwrites env i's physics state with qpos [nq] and qvel [nv] (layouts: the family's model
   * file; a quaternion is used as given), recomputes its derived quantities; controls and the
   * commanded goal are kept. Writes the resulting observation into obs [obsDim].
   */
  setState(i: number, qpos: ArrayLike<number>, qvel: ArrayLike<number>, obs: Float32Array): void {
    const model = this.liveModel();
    if (qpos.length !== this.nq || qvel.length !== this.nv) {
      throw new Error(`${this.constructor.name}.setState: qpos must have ${this.nq} values and qvel ${this.nv}, got ${qpos.length} and ${qvel.length}`);
    }
    this.views[i].qpos.set(qpos);
    this.views[i].qvel.set(qvel);
    this.mj.mj_forward(model, this.data[i]);
    this.writeObs(i, obs);
  }

  /**
   * The per-env values of the family that getEnvState saves besides the physics: by convention a
   * `goal` Float64Array of [count, goalDim] (every family keeps its commanded goals there). A
   * family with other per-env state overrides this.
   */
  protected envExtras(): { values: Float64Array; perEnv: number } | null {
    const goal = (this as unknown as { goal?: unknown }).goal;
    if (!(goal instanceof Float64Array) || goal.length % this.count !== 0) return null;
    return { values: goal, perEnv: goal.length / this.count };
  }

  /**
   * Values per env of getEnvState: MuJoCo's integration state (time, qpos, qvel, act, the
   * constraint solver's warm start qacc_warmstart, ctrl) and the family's extras (the goal), so
   * that a restored env steps bit for bit as the original.
   */
  get stateSize(): number {
    const m = this.liveModel();
    return 1 + m.nq + 2 * m.nv + m.na + m.nu + (this.envExtras()?.perEnv ?? 0);
  }

  getEnvState(i: number, out: Float64Array): void {
    const m = this.liveModel();
    const d = this.data[i];
    let o = 0;
    const put = (a: ArrayLike<number>, n: number) => {
      for (let k = 0; k < n; k++) out[o++] = a[k];
    };
    out[o++] = d.time;
    put(d.qpos as Float64Array, m.nq);
    put(d.qvel as Float64Array, m.nv);
    put(d.act as Float64Array, m.na);
    put(d.qacc_warmstart as Float64Array, m.nv);
    put(d.ctrl as Float64Array, m.nu);
    const x = this.envExtras();
    if (x) put(x.values.subarray(i * x.perEnv, (i + 1) * x.perEnv), x.perEnv);
  }

  setEnvState(i: number, s: Float64Array): void {
    const m = this.liveModel();
    const d = this.data[i];
    let o = 0;
    const take = (a: Float64Array, n: number) => {
      for (let k = 0; k < n; k++) a[k] = s[o++];
    };
    d.time = s[o++];
    take(d.qpos as Float64Array, m.nq);
    take(d.qvel as Float64Array, m.nv);
    take(d.act as Float64Array, m.na);
    const warm = o;
    o += m.nv;
    take(d.ctrl as Float64Array, m.nu);
    const x = this.envExtras();
    if (x) take(x.values.subarray(i * x.perEnv, (i + 1) * x.perEnv), x.perEnv);
    // Derived quantities for the restored state (as after a reset); the warm start last, since
    // mj_forward may write it.
    this.mj.mj_forward(m, d);
    const ws = d.qacc_warmstart as Float64Array;
    for (let k = 0; k < m.nv; k++) ws[k] = s[warm + k];
  }

  dispose(): void {
    for (const d of this.data) d.delete();
    this.data.length = 0;
    this.views = [];
    if (this.model !== null) {
      this.model.delete();
      this.model = null;
    }
  }
}
