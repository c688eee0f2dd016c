// Env checker: runs a registered env through the VecEnv contract of src/envs/types.ts and throws an
// AssertionError naming the first broken promise. Reusable for any env id (point mazes, MuJoCo).
//
// What it checks
// - spec: obsDim = stateDim + goalDim, goalIndices inside the state, positive length/threshold
// - shapes and dtypes of reset/step outputs
// - seeding: the same seed and actions give bit-identical trajectories with threads 0, 1 and 2;
//   reset(seed) twice gives the same; another seed gives another start
// - obs = state ++ commanded goal: the goal part is constant within an episode and finalObs keeps it
// - dist = ‖finalObs[goalIndices] − commanded goal‖ and success iff dist < successThreshold
// - truncation exactly at episodeLength (overridden small), auto-reset on truncation and
//   termination, finalObs = obs except where an episode ended, episode ids +1 at each reset
// - actions outside [-1, 1] act as if clipped; a NaN action throws an error that says "NaN" and
//   leaves the envs untouched
// - fresh start and goal at each reset; with referenceResetBug, every reset repeats the first one
// - checkHistoryIndependence: a core's episode does not depend on what the instance simulated
//   before (one test per family in checker.test.ts)
import assert from "node:assert/strict";
import type { EnvCore } from "../../src/envs/core.js";
import { loadCoreFactory } from "../../src/envs/protocol.js";
import { getCoreFactory, getEnvSpec, makeVecEnv } from "../../src/envs/registry.js";
import { Rng, foldIn, keyFromSeed } from "../../src/random.js";
import type { EnvSpec, StepResult, VecEnv } from "../../src/envs/types.js";

export interface CheckOptions {
  /** Envs per VecEnv; 5 makes the two-thread slices uneven. */
  numEnvs?: number;
  /** Steps per trajectory. */
  steps?: number;
  /** episodeLength override, small so that truncation happens several times. */
  episodeLength?: number;
  /** Thread counts whose trajectories must agree bit for bit. */
  threadCounts?: number[];
  /**
   * Where the achieved goal starts (e.g. the maze's 'R' cell centre), and how far it may be; or
   * the places it may start at (`anyOf`: e.g. a stitching task's start cells).
   */
  start?: { goal: readonly number[]; tol: number } | { anyOf: readonly (readonly number[])[]; tol: number };
}

export interface CheckReport {
  id: string;
  steps: number;
  resets: number;
  terminations: number;
  truncations: number;
  successes: number;
}

/** A recorded trajectory of every env: copies of the step outputs. */
interface Trace {
  reset: Float32Array; // [N, obsDim]
  obs: Float32Array[]; // T × [N, obsDim]
  finalObs: Float32Array[]; // T × [N, obsDim]
  terminated: Uint8Array[]; // T × [N]
  truncated: Uint8Array[]; // T × [N]
  success: Uint8Array[]; // T × [N]
  dist: Float32Array[]; // T × [N]
  episodeId: Int32Array[]; // T × [N]
}

/** Actions for step t: uniform in [-1.5, 1.5] so that some need clipping. */
function actionSequence(spec: EnvSpec, n: number, steps: number): Float32Array[] {
  const rng = new Rng(keyFromSeed(20251124));
  const out: Float32Array[] = [];
  for (let t = 0; t < steps; t++) {
    const a = new Float32Array(n * spec.actionDim); // [N, actionDim]
    for (let k = 0; k < a.length; k++) a[k] = rng.uniformIn(-1.5, 1.5);
    out.push(a);
  }
  return out;
}

function clipped(a: Float32Array): Float32Array {
  return a.map((v) => Math.min(1, Math.max(-1, v)));
}

async function record(env: VecEnv, seed: number, actions: Float32Array[]): Promise<Trace> {
  const tr: Trace = { reset: (await env.reset(seed)).slice(), obs: [], finalObs: [], terminated: [], truncated: [], success: [], dist: [], episodeId: [] };
  for (const a of actions) {
    const r: StepResult = await env.step(a);
    tr.obs.push(r.obs.slice());
    tr.finalObs.push(r.finalObs.slice());
    tr.terminated.push(r.terminated.slice());
    tr.truncated.push(r.truncated.slice());
    tr.success.push(r.success.slice());
    tr.dist.push(r.dist.slice());
    tr.episodeId.push(r.episodeId.slice());
  }
  return tr;
}

function assertSameTrace(a: Trace, b: Trace, what: string): void {
  assert.deepEqual(b.reset, a.reset, `${what}: reset observations differ`);
  for (let t = 0; t < a.obs.length; t++) {
    assert.deepEqual(b.obs[t], a.obs[t], `${what}: obs differ at step ${t}`);
    assert.deepEqual(b.finalObs[t], a.finalObs[t], `${what}: finalObs differ at step ${t}`);
    assert.deepEqual(b.terminated[t], a.terminated[t], `${what}: terminated differ at step ${t}`);
    assert.deepEqual(b.truncated[t], a.truncated[t], `${what}: truncated differ at step ${t}`);
    assert.deepEqual(b.dist[t], a.dist[t], `${what}: dist differ at step ${t}`);
    assert.deepEqual(b.episodeId[t], a.episodeId[t], `${what}: episodeId differ at step ${t}`);
  }
}

function row(a: Float32Array, i: number, dim: number): Float32Array {
  return a.subarray(i * dim, (i + 1) * dim);
}

function checkSpec(s: EnvSpec): void {
  assert.equal(s.obsDim, s.stateDim + s.goalDim, `${s.id}: obsDim must be stateDim + goalDim`);
  assert.equal(s.goalIndices.length, s.goalDim, `${s.id}: goalIndices must have goalDim entries`);
  for (const g of s.goalIndices) assert.ok(Number.isInteger(g) && g >= 0 && g < s.stateDim, `${s.id}: goal index ${g} outside the state`);
  assert.ok(s.actionDim > 0 && Number.isInteger(s.actionDim), `${s.id}: actionDim`);
  assert.ok(s.episodeLength > 0 && Number.isInteger(s.episodeLength), `${s.id}: episodeLength`);
  assert.ok(s.successThreshold > 0, `${s.id}: successThreshold`);
}

/** Checks the env's own trajectory against the contract; returns counts of what happened. */
function checkTrace(spec: EnvSpec, n: number, len: number, tr: Trace, start: CheckOptions["start"]): CheckReport {
  const { obsDim: od, stateDim: sd, goalDim: gd } = spec;
  const rep: CheckReport = { id: spec.id, steps: tr.obs.length, resets: 0, terminations: 0, truncations: 0, successes: 0 };
  const elapsed = new Int32Array(n); // [N]
  const checkStart = (o: Float32Array, i: number, when: string) => {
    if (start === undefined) return;
    if ("anyOf" in start) {
      const got = spec.goalIndices.map((g) => o[g]);
      const near = start.anyOf.some((p) => p.every((v, k) => Math.abs(got[k] - v) <= start.tol));
      assert.ok(near, `${spec.id} env ${i} ${when}: achieved goal ${got.join(", ")} is not within ${start.tol} of any of ${start.anyOf.map((p) => `(${p.join(", ")})`).join(" ")}`);
      return;
    }
    for (let k = 0; k < gd; k++) {
      const v = o[spec.goalIndices[k]];
      assert.ok(Math.abs(v - start.goal[k]) <= start.tol, `${spec.id} env ${i} ${when}: achieved goal[${k}] = ${v}, expected ${start.goal[k]} ± ${start.tol}`);
    }
  };
  for (let i = 0; i < n; i++) checkStart(row(tr.reset, i, od), i, "at reset");
  let prev = tr.reset;
  let prevEp: Int32Array = new Int32Array(n); // [N] all episodes start at 0
  for (let t = 0; t < tr.obs.length; t++) {
    const obs = tr.obs[t];
    const fin = tr.finalObs[t];
    for (let i = 0; i < n; i++) {
      const o = row(obs, i, od);
      const f = row(fin, i, od);
      const p = row(prev, i, od);
      for (let k = 0; k < od; k++) assert.ok(Number.isFinite(f[k]) && Number.isFinite(o[k]), `${spec.id}: non-finite observation at step ${t}, env ${i}`);
      // The commanded goal (last goalDim values) does not change within an episode.
      assert.deepEqual(f.subarray(sd), p.subarray(sd), `${spec.id}: commanded goal changed within an episode at step ${t}, env ${i}`);
      // dist and success from the final observation and goalIndices.
      let d2 = 0;
      for (let k = 0; k < gd; k++) d2 += (f[spec.goalIndices[k]] - f[sd + k]) ** 2;
      const d = Math.sqrt(d2);
      assert.ok(Math.abs(tr.dist[t][i] - d) <= 1e-5 * Math.max(1, d), `${spec.id}: dist ${tr.dist[t][i]} ≠ ‖achieved − commanded‖ = ${d} at step ${t}, env ${i}`);
      assert.equal(tr.success[t][i], tr.dist[t][i] < spec.successThreshold ? 1 : 0, `${spec.id}: success must be dist < ${spec.successThreshold}`);
      rep.successes += tr.success[t][i];
      elapsed[i]++;
      const term = tr.terminated[t][i];
      const trunc = tr.truncated[t][i];
      assert.ok(term <= 1 && trunc <= 1, `${spec.id}: flags must be 0 or 1`);
      assert.ok(!(term && trunc), `${spec.id}: a step is not both terminated and truncated`);
      if (!term) assert.equal(trunc, elapsed[i] === len ? 1 : 0, `${spec.id}: env ${i} step ${t}: truncated must be 1 exactly after ${len} steps (elapsed ${elapsed[i]})`);
      const ep = tr.episodeId[t][i];
      if (term || trunc) {
        rep.resets++;
        rep.terminations += term;
        rep.truncations += trunc;
        elapsed[i] = 0;
        assert.equal(ep, prevEp[i] + 1, `${spec.id}: episodeId must increase by 1 at a reset (step ${t}, env ${i})`);
        checkStart(o, i, `after the reset at step ${t}`);
      } else {
        assert.equal(ep, prevEp[i], `${spec.id}: episodeId changed without a reset (step ${t}, env ${i})`);
        assert.deepEqual(o, f, `${spec.id}: obs must equal finalObs when no episode ended (step ${t}, env ${i})`);
      }
    }
    prev = obs;
    prevEp = tr.episodeId[t];
  }
  return rep;
}

/** The reset observations of env i: the first obs of each of its episodes. */
function resetRows(spec: EnvSpec, tr: Trace, i: number): Float32Array[] {
  const out = [row(tr.reset, i, spec.obsDim)];
  for (let t = 0; t < tr.obs.length; t++) {
    if (tr.terminated[t][i] || tr.truncated[t][i]) out.push(row(tr.obs[t], i, spec.obsDim));
  }
  return out;
}

/** Runs every check on env `id`; throws on the first failure. */
export async function checkEnv(id: string, options: CheckOptions = {}): Promise<CheckReport> {
  const spec = getEnvSpec(id);
  checkSpec(spec);
  const n = options.numEnvs ?? 5;
  const steps = options.steps ?? 40;
  const len = options.episodeLength ?? 7;
  const threadCounts = options.threadCounts ?? [0, 1, 2];
  const actions = actionSequence(spec, n, steps);
  const seed = 7;

  const traces: Trace[] = [];
  let report: CheckReport | undefined;
  for (const threads of threadCounts) {
    const env = await makeVecEnv(id, { numEnvs: n, threads, episodeLength: len });
    try {
      assert.equal(env.numEnvs, n);
      assert.equal(env.episodeLength, len, "episodeLength override must show on the VecEnv");
      for (const key of ["id", "stateDim", "goalDim", "obsDim", "actionDim", "successThreshold"] as const) {
        assert.equal(env[key], spec[key], `VecEnv.${key} must match the spec`);
      }
      const tr = await record(env, seed, actions);
      assert.ok(tr.reset instanceof Float32Array && tr.reset.length === n * spec.obsDim, `${id}: reset must return a Float32Array [N, obsDim]`);
      const r = await env.step(actions[0]);
      assert.ok(r.obs instanceof Float32Array && r.obs.length === n * spec.obsDim, "obs [N, obsDim] Float32Array");
      assert.ok(r.finalObs instanceof Float32Array && r.finalObs.length === n * spec.obsDim, "finalObs [N, obsDim] Float32Array");
      for (const k of ["terminated", "truncated", "success"] as const) assert.ok(r[k] instanceof Uint8Array && r[k].length === n, `${k} [N] Uint8Array`);
      assert.ok(r.dist instanceof Float32Array && r.dist.length === n, "dist [N] Float32Array");
      assert.ok(r.episodeId instanceof Int32Array && r.episodeId.length === n, "episodeId [N] Int32Array");
      traces.push(tr);
      if (report === undefined) {
        report = checkTrace(spec, n, len, tr, options.start);
        // Same seed again on the same VecEnv: the same trajectory.
        assertSameTrace(tr, await record(env, seed, actions), `${id}: second reset(${seed})`);
        // Another seed: other starts or goals.
        const other = await env.reset(seed + 1);
        assert.notDeepEqual(other, tr.reset, `${id}: reset(${seed + 1}) gave the same observations as reset(${seed})`);
        // NaN action: a clear error, and no env moves.
        await env.reset(seed);
        const bad = actions[0].slice();
        bad[bad.length - 1] = Number.NaN;
        await assert.rejects(env.step(bad), (e: Error) => /NaN/.test(e.message) && e.message.includes(`env ${n - 1}`), `${id}: a NaN action must throw an error naming NaN and the env`);
        const after = await env.step(actions[0]);
        assert.deepEqual(after.obs, tr.obs[0], `${id}: a rejected NaN step must leave every env as it was`);
      }
    } finally {
      await env.close();
    }
  }
  for (let k = 1; k < traces.length; k++) {
    assertSameTrace(traces[0], traces[k], `${id}: threads ${threadCounts[0]} vs ${threadCounts[k]}`);
  }

  // Out-of-range actions act exactly as their clipped values.
  {
    const env = await makeVecEnv(id, { numEnvs: n, threads: 0, episodeLength: len });
    try {
      assertSameTrace(traces[0], await record(env, seed, actions.map(clipped)), `${id}: actions outside [-1, 1] must act as clipped`);
    } finally {
      await env.close();
    }
  }

  // Fresh goals at each reset; the same start and goal forever under referenceResetBug.
  const tr = traces[0];
  for (let i = 0; i < n; i++) {
    const rows = resetRows(spec, tr, i);
    assert.ok(rows.length >= 3, `${id}: env ${i} reset only ${rows.length - 1} times; give more steps than episodeLength`);
    const goals = new Set(rows.map((r) => Array.from(r.subarray(spec.stateDim)).join(",")));
    const starts = new Set(rows.map((r) => Array.from(r.subarray(0, spec.stateDim)).join(",")));
    assert.ok(goals.size > 1 || starts.size === rows.length, `${id}: env ${i} got the same goal at all ${rows.length} resets`);
    assert.equal(starts.size, rows.length, `${id}: env ${i} started two episodes from the exact same state; each reset must draw a fresh start`);
  }
  {
    const env = await makeVecEnv(id, { numEnvs: n, threads: 0, episodeLength: len, referenceResetBug: true });
    try {
      const bug = await record(env, seed, actions);
      for (let i = 0; i < n; i++) {
        const rows = resetRows(spec, bug, i);
        for (const r of rows.slice(1)) assert.deepEqual(r, rows[0], `${id}: with referenceResetBug every reset of env ${i} must repeat its first start and goal`);
        assert.deepEqual(rows[0], row(tr.reset, i, spec.obsDim), `${id}: referenceResetBug must not change the first episode`);
      }
    } finally {
      await env.close();
    }
  }
  return report!;
}

/**
 * An EnvCore's episodes depend only on their rng and actions, not on what the instance simulated
 * before: instance 1 of a two-env core, after a history of random episodes, then instance 0 of
 * the same core and instance 0 of a fresh one-env core, all follow the same trajectory from the
 * same rng and actions (for MuJoCo: mj_resetData at every reset, solver warm-starts included);
 * another rng gives another start.
 */
export async function checkHistoryIndependence(id: string, steps = 30): Promise<void> {
  const spec = getEnvSpec(id);
  const factory = await loadCoreFactory(getCoreFactory(id));
  const a = await factory(spec, 2);
  const b = await factory(spec, 1);
  const key = (seed: number, env: number) => new Rng(foldIn(foldIn(keyFromSeed(seed), env), 0));
  try {
    const obsA = new Float32Array(spec.obsDim);
    const obsB = new Float32Array(spec.obsDim);
    const act = new Float32Array(spec.actionDim);
    const warm = key(90, 1);
    a.reset(1, warm, obsA);
    for (let t = 0; t < steps; t++) {
      for (let k = 0; k < act.length; k++) act[k] = warm.uniformIn(-1, 1);
      if (a.step(1, act, warm, obsA)) a.reset(1, warm, obsA);
    }
    const run = (core: EnvCore, i: number, obs: Float32Array): Float32Array => {
      const rng = key(9, 0);
      const actRng = key(10, 0);
      const traj = new Float32Array(steps * spec.obsDim); // [T, obsDim]
      core.reset(i, rng, obs);
      for (let t = 0; t < steps; t++) {
        for (let k = 0; k < act.length; k++) act[k] = actRng.uniformIn(-1, 1);
        if (core.step(i, act, rng, obs)) core.reset(i, rng, obs);
        traj.set(obs, t * spec.obsDim);
      }
      return traj;
    };
    const t1 = run(a, 1, obsA);
    assert.deepEqual(run(b, 0, obsB), t1, `${id}: a fresh instance follows another trajectory`);
    assert.deepEqual(run(a, 0, obsA), t1, `${id}: instance 0 of the same core follows another trajectory`);
    a.reset(0, key(11, 0), obsA);
    assert.notDeepEqual(Array.from(obsA), Array.from(t1.subarray(0, spec.obsDim)), `${id}: another rng gives the same start`);
  } finally {
    a.dispose();
    b.dispose();
  }
}
