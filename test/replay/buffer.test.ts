import assert from "node:assert/strict";
import { test } from "node:test";
import { keyFromSeed, Rng } from "../../src/random.js";
import { ReplayBuffer } from "../../src/replay/buffer.js";
import { HindsightSampler } from "../../src/replay/sampler.js";

// Row of env e at insertion step s: obs = [s, e, 1000·e + s], action = [−s, e + 0.5].
function stepArrays(n: number, s: number, episodeOf: (e: number, s: number) => number) {
  const obs = new Float32Array(n * 3); // [N, 3]
  const act = new Float32Array(n * 2); // [N, 2]
  const ids = new Int32Array(n); // [N]
  for (let e = 0; e < n; e++) {
    obs.set([s, e, 1000 * e + s], e * 3);
    act.set([-s, e + 0.5], e * 2);
    ids[e] = episodeOf(e, s);
  }
  return { obs, act, ids };
}

function fill(buf: ReplayBuffer, from: number, to: number, episodeOf: (e: number, s: number) => number) {
  for (let s = from; s < to; s++) {
    const { obs, act, ids } = stepArrays(buf.numEnvs, s, episodeOf);
    buf.insert(obs, act, ids);
  }
}

const epi = (e: number, s: number) => 10 * e + Math.floor(s / 4);

test("ring keeps the newest rows in time order after wrapping, with their episode ids", () => {
  const buf = new ReplayBuffer({ numEnvs: 3, obsDim: 3, actionDim: 2, capacity: 5, minFill: 2 });
  assert.equal(buf.size, 0);
  assert.equal(buf.ready, false);
  fill(buf, 0, 1, epi);
  assert.equal(buf.ready, false);
  fill(buf, 1, 3, epi);
  assert.equal(buf.size, 3);
  assert.equal(buf.head, 3);
  assert.equal(buf.oldestSlot, 0);
  assert.equal(buf.ready, true);
  fill(buf, 3, 12, epi);
  assert.equal(buf.size, 5);
  assert.equal(buf.head, 12 % 5);
  assert.equal(buf.transitions, 15);
  for (let e = 0; e < 3; e++) {
    for (let t = 0; t < 5; t++) {
      const s = 7 + t; // rows 7..11 survive, oldest first
      const slot = buf.slotOf(t);
      const row = e * 5 + slot;
      assert.deepEqual(Array.from(buf.obs.subarray(row * 3, row * 3 + 3)), [s, e, 1000 * e + s]);
      assert.deepEqual(Array.from(buf.actions.subarray(row * 2, row * 2 + 2)), [-s, e + 0.5]);
      assert.equal(buf.episodeIds[row], epi(e, s));
    }
  }
  assert.throws(() => buf.slotOf(5), /time index must be an integer in \[0, 5\)/);
  buf.clear();
  assert.equal(buf.size, 0);
  assert.equal(buf.head, 0);
});

test("insert and options reject wrong shapes with the expected sizes", () => {
  const buf = new ReplayBuffer({ numEnvs: 2, obsDim: 3, actionDim: 2, capacity: 4, minFill: 1 });
  assert.throws(() => buf.insert(new Float32Array(5), new Float32Array(4), new Int32Array(2)), /expected numEnvs × obsDim = 2 × 3 = 6/);
  assert.throws(() => buf.insert(new Float32Array(6), new Float32Array(3), new Int32Array(2)), /actions has 3 floats/);
  assert.throws(() => buf.insert(new Float32Array(6), new Float32Array(4), new Int32Array(1)), /episodeId has 1 entries/);
  assert.throws(() => new ReplayBuffer({ numEnvs: 2, obsDim: 3, actionDim: 2, capacity: 4, minFill: 5 }), /minFill \(5\) exceeds capacity \(4\)/);
  assert.throws(() => new ReplayBuffer({ numEnvs: 0, obsDim: 3, actionDim: 2 }), /numEnvs must be a positive integer, got 0/);
  const d = new ReplayBuffer({ numEnvs: 1, obsDim: 1, actionDim: 1 });
  assert.equal(d.capacity, 10_000);
  assert.equal(d.minFill, 1_000);
});

test("save/restore round trip: a restored buffer continues exactly (inserts and sampling)", () => {
  const opts = { numEnvs: 4, obsDim: 3, actionDim: 2, capacity: 16, minFill: 4 };
  const a = new ReplayBuffer(opts);
  fill(a, 0, 23, epi); // wrapped: head 7
  const saved = a.state();
  // A checkpoint holds copies (the live arrays keep changing).
  const copy = {
    ...saved,
    obs: saved.obs.slice(),
    actions: saved.actions.slice(),
    episodeIds: saved.episodeIds.slice(),
  };
  const b = new ReplayBuffer(opts);
  b.restore(copy);
  assert.equal(b.head, 7);
  assert.equal(b.size, 16);
  fill(a, 23, 30, epi);
  fill(b, 23, 30, epi);
  assert.deepEqual(b.obs, a.obs);
  assert.deepEqual(b.actions, a.actions);
  assert.deepEqual(b.episodeIds, a.episodeIds);
  assert.equal(b.head, a.head);
  const sa = new HindsightSampler(a, { stateDim: 2, goalIndices: [0], batchSize: 8, windowLength: 10 });
  const sb = new HindsightSampler(b, { stateDim: 2, goalIndices: [0], batchSize: 8, windowLength: 10 });
  assert.equal(sa.sample(new Rng(keyFromSeed(3))), 4); // floor(4 envs × 9 rows / 8)
  assert.equal(sb.sample(new Rng(keyFromSeed(3))), 4);
  assert.deepEqual(sb.state, sa.state);
  assert.deepEqual(sb.goal, sa.goal);
  assert.deepEqual(sb.action, sa.action);
});

test("restore rejects mismatched shapes and inconsistent head/size", () => {
  const opts = { numEnvs: 2, obsDim: 3, actionDim: 2, capacity: 8, minFill: 1 };
  const a = new ReplayBuffer(opts);
  fill(a, 0, 3, epi);
  const s = a.state();
  const b = new ReplayBuffer({ ...opts, capacity: 9 });
  assert.throws(() => b.restore(s), /capacity 8.*but this buffer has numEnvs 2, capacity 9/);
  const c = new ReplayBuffer(opts);
  assert.throws(() => c.restore({ ...s, obs: new Float32Array(10) }), /obs must be a Float32Array of 48 floats/);
  assert.throws(() => c.restore({ ...s, episodeIds: new Float32Array(16) as unknown as Int32Array }), /episodeIds must be an Int32Array of 16/);
  assert.throws(() => c.restore({ ...s, size: 9 }), /size must be an integer in \[0, 8\]/);
  assert.throws(() => c.restore({ ...s, head: 5 }), /must have head = size, got head 5/);
  assert.throws(() => c.restore({ ...s, head: 8 }), /head must be an integer in \[0, 8\)/);
});
