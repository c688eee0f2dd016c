// The transition sampler of the TD baselines (replay/transitions.ts): every tuple is a same-episode
// row pair, the goal is the commanded one or (HER "final") the episode's last achieved goal when the
// episode ends inside the window, the reward is the sparse success of s_{t+1}, and the draw is a
// pure function of the key.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { foldIn, keyFromSeed, Rng } from "../../src/random.js";
import { ReplayBuffer } from "../../src/replay/buffer.js";
import { TransitionSampler } from "../../src/replay/transitions.js";

// Every row says where it came from: state = [step s, 100·env, episode id, env, 7], achieved goal =
// state[0..2) = (s, 100·e); commanded goal = (s + 1, 100·e) on even steps (so the next row reaches
// it: reward 1), (−1000, −1000) on odd steps (never reached). Action = [s + 0.25, e].
const S = 5;
const OBS = 7;
const GOAL_INDICES = [0, 1];

function makeBuffer(numEnvs: number, capacity: number, steps: number, seed: number, maxLen: number): ReplayBuffer {
  const buf = new ReplayBuffer({ numEnvs, obsDim: OBS, actionDim: 2, capacity, minFill: 1 });
  const obs = new Float32Array(numEnvs * OBS);
  const act = new Float32Array(numEnvs * 2);
  const ids = new Int32Array(numEnvs);
  const rngs = Array.from({ length: numEnvs }, (_, e) => new Rng(foldIn(keyFromSeed(seed), e)));
  const left = Array.from({ length: numEnvs }, (_, e) => 1 + rngs[e].int(maxLen));
  for (let s = 0; s < steps; s++) {
    for (let e = 0; e < numEnvs; e++) {
      if (left[e] === 0) {
        ids[e]++;
        left[e] = 1 + rngs[e].int(maxLen);
      }
      left[e]--;
      const goal = s % 2 === 0 ? [s + 1, 100 * e] : [-1000, -1000];
      obs.set([s, 100 * e, ids[e], e, 7, ...goal], e * OBS);
      act.set([s + 0.25, e], e * 2);
    }
    buf.insert(obs, act, ids);
  }
  return buf;
}

const rowId = (buf: ReplayBuffer, e: number, t: number) => buf.episodeIds[e * buf.capacity + buf.slotOf(t)];
const stepAt = (buf: ReplayBuffer, e: number, t: number) => buf.obs[(e * buf.capacity + buf.slotOf(t)) * OBS];

describe("TransitionSampler", () => {
  for (const relabel of ["none", "final"] as const) {
    test(`relabel ${relabel}: same-episode pairs, the right goal and reward in every tuple`, () => {
      const buf = makeBuffer(6, 300, 450, 1, 60); // a wrapped ring
      const sampler = new TransitionSampler(buf, { stateDim: S, goalIndices: GOAL_INDICES, successThreshold: 0.5, batchSize: 32, windowLength: 120, maxBatches: 1000, relabel });
      const n = sampler.sample(new Rng(keyFromSeed(2)));
      const T = sampler.windowRows;
      assert.equal(T, 120);
      // every valid pair of every window, counted independently
      let valid = 0;
      for (let e = 0; e < 6; e++) {
        const off = sampler.windowOffset[e];
        for (let t = off; t < off + T - 1; t++) if (rowId(buf, e, t) === rowId(buf, e, t + 1)) valid++;
      }
      assert.equal(sampler.transitions, valid);
      assert.equal(n, Math.min(1000, Math.floor(valid / 32)));
      let relabelled = 0;
      let rewarded = 0;
      for (let i = 0; i < n * 32; i++) {
        const e = sampler.sourceEnv[i];
        const t = sampler.sourceTime[i];
        const off = sampler.windowOffset[e];
        assert.ok(t >= off && t < off + T - 1, "row t and t + 1 inside the window");
        const st = sampler.state.subarray(i * S, (i + 1) * S);
        const nx = sampler.nextState.subarray(i * S, (i + 1) * S);
        assert.equal(st[0], stepAt(buf, e, t));
        assert.equal(st[3], e);
        assert.equal(nx[0], st[0] + 1, "s_{t+1} is the next row");
        assert.equal(nx[2], st[2], "of the same episode");
        assert.deepEqual(Array.from(sampler.action.subarray(i * 2, i * 2 + 2)), [st[0] + 0.25, e]);
        // the episode's last row inside the window, if the episode ends there
        let last: number = t;
        while (last + 1 < off + T && rowId(buf, e, last + 1) === st[2]) last++;
        const endsInside: boolean = last + 1 < off + T;
        const g = Array.from(sampler.goal.subarray(i * 2, i * 2 + 2));
        const shouldRelabel: boolean = relabel === "final" && endsInside;
        assert.equal(sampler.relabelled[i], shouldRelabel ? 1 : 0);
        if (shouldRelabel) assert.deepEqual(g, [stepAt(buf, e, last), 100 * e]);
        else assert.deepEqual(g, st[0] % 2 === 0 ? [st[0] + 1, 100 * e] : [-1000, -1000]);
        const dist = Math.hypot(nx[0] - g[0], nx[1] - g[1]);
        assert.equal(sampler.reward[i], dist < 0.5 ? 1 : 0);
        relabelled += sampler.relabelled[i];
        rewarded += sampler.reward[i];
      }
      if (relabel === "final") assert.ok(relabelled > 0.5 * n * 32, `most episodes of ≤ 60 rows end inside a 120-row window (${relabelled})`);
      else assert.equal(relabelled, 0);
      assert.ok(rewarded > 0, "some tuples reach their goal");
    });
  }

  test("the draw is a pure function of the key; batches are views into it", () => {
    const buf = makeBuffer(4, 200, 200, 3, 40);
    const opts = { stateDim: S, goalIndices: GOAL_INDICES, successThreshold: 0.5, batchSize: 16, windowLength: 100, maxBatches: 5, relabel: "final" as const };
    const a = new TransitionSampler(buf, opts);
    const b = new TransitionSampler(buf, opts);
    assert.equal(a.sample(new Rng(keyFromSeed(9))), 5);
    b.sample(new Rng(keyFromSeed(9)));
    assert.deepEqual(Array.from(a.goal), Array.from(b.goal));
    assert.deepEqual(Array.from(a.nextState), Array.from(b.nextState));
    const c = new TransitionSampler(buf, opts);
    c.sample(new Rng(keyFromSeed(10)));
    assert.notDeepEqual(Array.from(c.state), Array.from(a.state));
    const batch = a.batch(2);
    assert.deepEqual(Array.from(batch.reward), Array.from(a.reward.subarray(32, 48)));
    assert.throws(() => a.batch(5), /index must be an integer in \[0, 5\)/);
  });

  test("bad options are errors that say what is allowed", () => {
    const buf = makeBuffer(2, 50, 50, 4, 10);
    const base = { stateDim: S, goalIndices: GOAL_INDICES, successThreshold: 0.5, batchSize: 16, windowLength: 50, maxBatches: 5, relabel: "none" as const };
    assert.throws(() => new TransitionSampler(buf, { ...base, batchSize: 1000 }), /batchSize 1000 exceeds the transitions one call can draw/);
    assert.throws(() => new TransitionSampler(buf, { ...base, stateDim: 4 }), /must equal the buffer's obsDim 7/);
    assert.throws(() => new TransitionSampler(buf, { ...base, relabel: "future" as never }), /relabel must be one of none, final/);
  });
});
