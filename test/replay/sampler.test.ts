import assert from "node:assert/strict";
import { test } from "node:test";
import { foldIn, keyFromSeed, Rng } from "../../src/random.js";
import { ReplayBuffer } from "../../src/replay/buffer.js";
import { HindsightSampler } from "../../src/replay/sampler.js";

// Every row encodes where it came from, so a sampled tuple can be traced back:
// state = [step s, env e, episode id, 7], commanded goal = [−1, −1]; action = [s + 0.25, e].
// goalIndices [0, 1, 2] make the hindsight goal (future step, its env, its episode id).
const STATE_DIM = 4;
const OBS_DIM = 6;
const GOAL_INDICES = [0, 1, 2];

/** Fills a buffer with `steps` lockstep inserts; episodeOf(e, s) gives the episode id of env e at step s. */
function makeBuffer(numEnvs: number, capacity: number, steps: number, episodeOf: (e: number, s: number) => number): ReplayBuffer {
  const buf = new ReplayBuffer({ numEnvs, obsDim: OBS_DIM, actionDim: 2, capacity, minFill: 1 });
  const obs = new Float32Array(numEnvs * OBS_DIM); // [N, obsDim]
  const act = new Float32Array(numEnvs * 2); // [N, 2]
  const ids = new Int32Array(numEnvs); // [N]
  for (let s = 0; s < steps; s++) {
    for (let e = 0; e < numEnvs; e++) {
      const id = episodeOf(e, s);
      obs.set([s, e, id, 7, -1, -1], e * OBS_DIM);
      act.set([s + 0.25, e], e * 2);
      ids[e] = id;
    }
    buf.insert(obs, act, ids);
  }
  return buf;
}

/** Episode ids from random episode lengths in [1, maxLen], one sequence per env. */
function randomEpisodes(numEnvs: number, steps: number, maxLen: number, seed: number): (e: number, s: number) => number {
  const table = new Int32Array(numEnvs * steps); // [N, steps]
  for (let e = 0; e < numEnvs; e++) {
    const rng = new Rng(foldIn(keyFromSeed(seed), e));
    let id = 0;
    let left = 1 + rng.int(maxLen);
    for (let s = 0; s < steps; s++) {
      if (left === 0) {
        id++;
        left = 1 + rng.int(maxLen);
      }
      table[e * steps + s] = id;
      left--;
    }
  }
  return (e, s) => table[e * steps + s];
}

/** Rows after time index t in the same episode and inside [off, off + T) (the valid future rows L). */
function futureRows(buf: ReplayBuffer, e: number, t: number, off: number, T: number): number {
  const id = buf.episodeIds[e * buf.capacity + buf.slotOf(t)];
  let L = 0;
  while (t + L + 1 < off + T && buf.episodeIds[e * buf.capacity + buf.slotOf(t + L + 1)] === id) L++;
  return L;
}

/** Truncated geometric law: P(Δ = d | L) = γ^d / Σ_{k=1..L} γ^k. */
function truncGeomPmf(d: number, L: number, gamma: number): number {
  if (gamma === 1) return 1 / L;
  return (gamma ** (d - 1) * (1 - gamma)) / (1 - gamma ** L);
}

/** P(Δ ≤ d | L). */
function truncGeomCdf(d: number, L: number, gamma: number): number {
  if (d <= 0) return 0;
  if (d >= L) return 1;
  return (1 - gamma ** d) / (1 - gamma ** L);
}

/** Upper quantile of chi-square with df degrees of freedom (Wilson–Hilferty), z = normal quantile. */
function chiSquareCritical(df: number, z: number): number {
  const a = 2 / (9 * df);
  return df * (1 - a + z * Math.sqrt(a)) ** 3;
}

test("every tuple is (state, action) of a window row and a goal from a later row of the same episode", () => {
  const N = 6;
  const cap = 50;
  const steps = 137; // wrapped ring: oldest slot 37
  const buf = makeBuffer(N, cap, steps, randomEpisodes(N, steps, 12, 11));
  const sampler = new HindsightSampler(buf, {
    stateDim: STATE_DIM,
    goalIndices: GOAL_INDICES,
    actionDim: 2,
    goalDim: 3,
    batchSize: 16,
    windowLength: 30,
    gamma: 0.9,
  });
  const firstStep = steps - cap;
  let wrapped = 0;
  let zeroDeltas = 0;
  let checked = 0;
  for (let call = 0; call < 40; call++) {
    const nb = sampler.sample(new Rng(foldIn(keyFromSeed(5), call)));
    assert.equal(nb, Math.floor((N * 29) / 16));
    const T = sampler.windowRows;
    assert.equal(T, 30);
    for (let e = 0; e < N; e++) {
      const off = sampler.windowOffset[e];
      assert.ok(off >= 0 && off <= cap - T, `window offset ${off} out of [0, ${cap - T}]`);
      if (buf.oldestSlot + off + T > cap) wrapped++;
    }
    for (let i = 0; i < nb * 16; i++) {
      const e = sampler.sourceEnv[i];
      const t = sampler.sourceTime[i];
      const off = sampler.windowOffset[e];
      assert.ok(t >= off && t < off + T - 1, "source row outside its env's window (or the window's last row)");
      const s = firstStep + t;
      const id = buf.episodeIds[e * cap + buf.slotOf(t)];
      assert.deepEqual(Array.from(sampler.state.subarray(i * 4, i * 4 + 4)), [s, e, id, 7]);
      assert.deepEqual(Array.from(sampler.action.subarray(i * 2, i * 2 + 2)), [s + 0.25, e]);
      const d = sampler.delta[i];
      const L = futureRows(buf, e, t, off, T);
      if (L === 0) {
        assert.equal(d, 0, "Δ must be 0 when no later row of the episode is in the window");
        zeroDeltas++;
      } else {
        assert.ok(d >= 1 && d <= L, `Δ = ${d} outside [1, ${L}]`);
      }
      // The goal comes from row s + Δ of the same env and the same episode.
      assert.deepEqual(Array.from(sampler.goal.subarray(i * 3, i * 3 + 3)), [s + d, e, id]);
      checked++;
    }
  }
  assert.ok(wrapped > 0, "no window crossed the ring's end; the wrap case went untested");
  assert.ok(zeroDeltas > 0, "no Δ = 0 case was drawn");
  assert.equal(checked, 40 * 160);
});

test("Δ follows the truncated geometric law on a long episode (chi-square, γ = 0.99)", () => {
  const N = 32;
  const T = 1000;
  const gamma = 0.99;
  const buf = makeBuffer(N, T, T, (e) => e); // one episode per env, filling the window
  const sampler = new HindsightSampler(buf, {
    stateDim: STATE_DIM,
    goalIndices: GOAL_INDICES,
    batchSize: 999,
    windowLength: T,
    gamma,
    maxBatches: 32,
  });
  const edges = [1, 2, 3, 4, 5, 6, 11, 21, 41, 61, 81, 101, 151, 201, 301, 401, 601, 1000]; // bin k = [edges[k], edges[k+1])
  const bins = edges.length - 1;
  // binProb[L·bins + b] = P(Δ ∈ bin b | L); meanOf[L] = E[Δ | L].
  const binProb = new Float64Array(T * bins);
  const meanOf = new Float64Array(T);
  for (let L = 1; L < T; L++) {
    for (let b = 0; b < bins; b++) {
      binProb[L * bins + b] = truncGeomCdf(edges[b + 1] - 1, L, gamma) - truncGeomCdf(edges[b] - 1, L, gamma);
    }
    for (let d = 1; d <= L; d++) meanOf[L] += d * truncGeomPmf(d, L, gamma);
  }
  const observed = new Float64Array(bins);
  const expected = new Float64Array(bins);
  let n = 0;
  for (let call = 0; call < 4; call++) {
    assert.equal(sampler.sample(new Rng(foldIn(keyFromSeed(17), call))), 32);
    for (let i = 0; i < 32 * 999; i++) {
      const L = T - 1 - sampler.sourceTime[i];
      const d = sampler.delta[i];
      assert.ok(L >= 1, "the window's last row must not be a tuple");
      n++;
      let k = 0;
      while (d >= edges[k + 1]) k++;
      observed[k]++;
      for (let b = 0; b < bins; b++) expected[b] += binProb[L * bins + b];
    }
  }
  assert.equal(n, 4 * 32 * 999);
  let chi2 = 0;
  for (let b = 0; b < bins; b++) {
    assert.ok(expected[b] > 50, `bin ${b} expects only ${expected[b]} draws; widen it`);
    chi2 += (observed[b] - expected[b]) ** 2 / expected[b];
  }
  const critical = chiSquareCritical(bins - 1, 3.09); // p = 0.001
  assert.ok(chi2 < critical, `chi-square ${chi2.toFixed(1)} ≥ ${critical.toFixed(1)} (df ${bins - 1})`);
  // Mean offset of the last call: the untruncated geometric has mean 1/(1 − γ) = 100; truncation
  // lowers it. Its standard error over 32k draws is ≈ 0.6 %.
  let mean = 0;
  let expMean = 0;
  for (let i = 0; i < 32 * 999; i++) {
    const L = T - 1 - sampler.sourceTime[i];
    mean += sampler.delta[i];
    expMean += meanOf[L];
  }
  assert.ok(Math.abs(mean / expMean - 1) < 0.03, `mean Δ ${mean} vs expected ${expMean}`);
});

test("Δ near episode ends follows γ^Δ / Σ_{k≤L} γ^k for small L (γ = 0.5 and γ = 1)", () => {
  const N = 64;
  const T = 600;
  const epLen = 6; // L ∈ {0..5}
  const buf = makeBuffer(N, T, T, (e, s) => 1000 * e + Math.floor((s + e) / epLen)); // envs out of phase
  for (const gamma of [0.5, 1]) {
    const sampler = new HindsightSampler(buf, {
      stateDim: STATE_DIM,
      goalIndices: GOAL_INDICES,
      batchSize: 599,
      windowLength: T,
      gamma,
      maxBatches: 64,
    });
    const counts = new Float64Array(6 * 6); // [L, Δ]
    for (let call = 0; call < 2; call++) {
      assert.equal(sampler.sample(new Rng(foldIn(keyFromSeed(23), call))), 64);
      for (let i = 0; i < 64 * 599; i++) {
        const e = sampler.sourceEnv[i];
        const t = sampler.sourceTime[i];
        const L = futureRows(buf, e, t, 0, T);
        counts[L * 6 + sampler.delta[i]]++;
      }
    }
    for (let L = 0; L <= 5; L++) {
      let nL = 0;
      for (let d = 0; d <= 5; d++) nL += counts[L * 6 + d];
      assert.ok(nL > 5000, `only ${nL} rows with L = ${L}`);
      if (L === 0) {
        assert.equal(counts[0], nL, "rows with no future row must get Δ = 0");
        continue;
      }
      assert.equal(counts[L * 6], 0, `Δ = 0 drawn although L = ${L}`);
      for (let d = 1; d <= 5; d++) {
        const c = counts[L * 6 + d];
        if (d > L) {
          assert.equal(c, 0, `Δ = ${d} > L = ${L} crosses the episode end`);
          continue;
        }
        const p = truncGeomPmf(d, L, gamma);
        const tol = 5 * Math.sqrt((p * (1 - p)) / nL); // 5 standard errors of a frequency
        assert.ok(Math.abs(c / nL - p) <= tol + 1e-12, `γ ${gamma}, L ${L}, Δ ${d}: frequency ${(c / nL).toFixed(4)} vs ${p.toFixed(4)} ± ${tol.toFixed(4)}`);
      }
    }
  }
});

test("number of batches = min(maxBatches, floor(N·(T − 1) / B)); T = whole ring when it holds fewer rows", () => {
  const opts = { stateDim: STATE_DIM, goalIndices: GOAL_INDICES, batchSize: 16, windowLength: 50 };
  const rng = new Rng(keyFromSeed(1));
  const full = makeBuffer(4, 100, 100, (e) => e);
  assert.equal(new HindsightSampler(full, opts).sample(rng), 12); // floor(4·49/16)
  assert.equal(new HindsightSampler(full, { ...opts, maxBatches: 5 }).sample(rng), 5);
  const part = makeBuffer(4, 100, 30, (e) => e);
  const sp = new HindsightSampler(part, opts);
  assert.equal(sp.sample(rng), 7); // floor(4·29/16)
  assert.equal(sp.windowRows, 30);
  assert.deepEqual(Array.from(sp.windowOffset), [0, 0, 0, 0]);
  // Whole ring: goals stay inside the 30 stored rows.
  for (let i = 0; i < 7 * 16; i++) assert.ok(sp.goal[i * 3] < 30);
  const tiny = makeBuffer(4, 100, 3, (e) => e);
  const st = new HindsightSampler(tiny, opts);
  assert.equal(st.sample(rng), 0);
  assert.throws(() => st.batch(0), /index must be an integer in \[0, 0\)/);
  assert.throws(
    () => new HindsightSampler(full, { ...opts, batchSize: 300 }),
    /batchSize 300 exceeds the tuples one call can draw \(numEnvs 4 × \(min\(windowLength 50, capacity 100\) − 1\) = 196\)/,
  );
  assert.throws(() => new HindsightSampler(full, { ...opts, goalIndices: [4] }), /goal index 4 is outside the state \[0, 4\)/);
  assert.throws(() => new HindsightSampler(full, { ...opts, gamma: 0 }), /gamma must be in \(0, 1\]/);
  assert.throws(() => new HindsightSampler(full, { ...opts, actionDim: 3 }), /actionDim 3 differs from the buffer's actionDim 2/);
  // The paper's batch counts (SPEC §4): 512 envs × 999 tuples (a 1000-row window less its last row).
  const paper = new ReplayBuffer({ numEnvs: 512, obsDim: 2, actionDim: 1, capacity: 1000, minFill: 1000 });
  for (const [B, want] of [
    [256, 800],
    [1024, 499],
    [2048, 249],
  ]) {
    assert.equal(new HindsightSampler(paper, { stateDim: 1, goalIndices: [0], batchSize: B }).capacityBatches, want);
  }
});

test("batch(i) returns cached views of the output buffers (no copy)", () => {
  const buf = makeBuffer(4, 100, 100, (e) => e);
  const s = new HindsightSampler(buf, { stateDim: STATE_DIM, goalIndices: GOAL_INDICES, batchSize: 16, windowLength: 50 });
  const nb = s.sample(new Rng(keyFromSeed(2)));
  for (let i = 0; i < nb; i++) {
    const b = s.batch(i);
    assert.equal(b, s.batch(i));
    assert.equal(b.state.buffer, s.state.buffer);
    assert.equal(b.state.byteOffset, i * 16 * STATE_DIM * 4);
    assert.equal(b.state.length, 16 * STATE_DIM);
    assert.equal(b.action.length, 16 * 2);
    assert.equal(b.goal.length, 16 * 3);
    assert.equal(b.goal[0], s.goal[i * 16 * 3]);
  }
});

test("deterministic under the same key, different under another", () => {
  const buf = makeBuffer(5, 80, 200, randomEpisodes(5, 200, 20, 3));
  const opts = { stateDim: STATE_DIM, goalIndices: GOAL_INDICES, batchSize: 32, windowLength: 40 };
  const a = new HindsightSampler(buf, opts);
  const b = new HindsightSampler(buf, opts);
  assert.equal(a.sample(new Rng(keyFromSeed(9))), 6);
  assert.equal(b.sample(new Rng(keyFromSeed(9))), 6);
  assert.deepEqual(a.state, b.state);
  assert.deepEqual(a.action, b.action);
  assert.deepEqual(a.goal, b.goal);
  assert.deepEqual(a.delta, b.delta);
  b.sample(new Rng(keyFromSeed(10)));
  let differ = 0;
  for (let i = 0; i < a.goal.length; i++) if (a.goal[i] !== b.goal[i]) differ++;
  assert.ok(differ > a.goal.length / 2, `only ${differ} of ${a.goal.length} goal values changed with the key`);
});

test("shuffling mixes envs: full draws are a permutation of all tuples; partial draws are uniform", () => {
  const N = 8;
  const buf = makeBuffer(N, 64, 64, (e, s) => 100 * e + (s >> 4));
  // All tuples used: 8 envs × 63 rows = 504 = 8 batches of 63.
  const s = new HindsightSampler(buf, { stateDim: STATE_DIM, goalIndices: GOAL_INDICES, batchSize: 63, windowLength: 64 });
  assert.equal(s.sample(new Rng(keyFromSeed(4))), 8);
  const seen = new Uint8Array(N * 64); // [N, 64]
  let sameAsNext = 0;
  for (let i = 0; i < 504; i++) {
    seen[s.sourceEnv[i] * 64 + s.sourceTime[i]]++;
    if (i < 503 && s.sourceEnv[i] === s.sourceEnv[i + 1]) sameAsNext++;
  }
  for (let e = 0; e < N; e++) {
    for (let t = 0; t < 64; t++) assert.equal(seen[e * 64 + t], t < 63 ? 1 : 0, `tuple (env ${e}, row ${t}) drawn ${seen[e * 64 + t]} times`);
  }
  // Unshuffled data would give 496 equal neighbours; a shuffle gives ≈ 503·62/503 = 62.
  assert.ok(sameAsNext > 30 && sameAsNext < 100, `${sameAsNext} neighbouring tuples share an env`);
  for (let b = 0; b < 8; b++) {
    const envs = new Set<number>();
    for (let i = b * 63; i < (b + 1) * 63; i++) envs.add(s.sourceEnv[i]);
    assert.ok(envs.size >= 6, `batch ${b} holds only ${envs.size} envs`);
  }
  // Partial draws (2 batches of 64 out of 504 tuples): distinct tuples, envs and rows chosen uniformly.
  const p = new HindsightSampler(buf, { stateDim: STATE_DIM, goalIndices: GOAL_INDICES, batchSize: 64, windowLength: 64, maxBatches: 2 });
  const perEnv = new Float64Array(N);
  let older = 0;
  const calls = 200;
  for (let c = 0; c < calls; c++) {
    assert.equal(p.sample(new Rng(foldIn(keyFromSeed(8), c))), 2);
    const once = new Uint8Array(N * 64);
    for (let i = 0; i < 128; i++) {
      const k = p.sourceEnv[i] * 64 + p.sourceTime[i];
      assert.equal(once[k], 0, "a tuple was drawn twice in one call");
      once[k] = 1;
      perEnv[p.sourceEnv[i]]++;
      if (p.sourceTime[i] < 32) older++;
    }
  }
  let chi2 = 0;
  const expEnv = (calls * 128) / N;
  for (let e = 0; e < N; e++) chi2 += (perEnv[e] - expEnv) ** 2 / expEnv;
  // Without replacement the counts vary less than multinomial, so this bound is conservative.
  assert.ok(chi2 < chiSquareCritical(N - 1, 3.09), `env counts ${Array.from(perEnv)} are not uniform (chi-square ${chi2.toFixed(1)})`);
  const draws = calls * 128;
  const pOld = 32 / 63;
  const sd = Math.sqrt(draws * pOld * (1 - pOld));
  assert.ok(Math.abs(older - draws * pOld) < 4 * sd, `${older} of ${draws} draws from rows 0..31, expected ${(draws * pOld).toFixed(0)} ± ${(4 * sd).toFixed(0)}`);
});

test("goal = goalIndices slice of the future row's state, in the given order (non-contiguous indices)", () => {
  const buf = makeBuffer(3, 40, 40, (e, s) => 10 * e + (s >> 3));
  const s = new HindsightSampler(buf, { stateDim: STATE_DIM, goalIndices: [2, 0], batchSize: 16, windowLength: 40, gamma: 0.8 });
  const nb = s.sample(new Rng(keyFromSeed(12)));
  assert.equal(nb, Math.floor((3 * 39) / 16));
  for (let i = 0; i < nb * 16; i++) {
    const e = s.sourceEnv[i];
    const futureStep = s.sourceTime[i] + s.delta[i]; // the ring holds steps 0..39, time index = step
    const futureId = buf.episodeIds[e * 40 + futureStep];
    assert.deepEqual(Array.from(s.goal.subarray(i * 2, i * 2 + 2)), [futureId, futureStep]);
    assert.equal(futureId, 10 * e + (s.sourceTime[i] >> 3), "goal row left the episode");
  }
});
