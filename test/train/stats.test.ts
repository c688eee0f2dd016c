import assert from "node:assert/strict";
import { test } from "node:test";
import { bootstrapMeanCI, mean, quantileSorted } from "../../src/train/stats.js";

test("bootstrap CI of all-equal values is the point lo = hi = mean", () => {
  for (const v of [0, 0.1, 37.5, -2]) {
    const ci = bootstrapMeanCI([v, v, v, v], { resamples: 2000 });
    assert.equal(ci.mean, mean([v, v, v, v]));
    assert.equal(ci.lo, ci.mean);
    assert.equal(ci.hi, ci.mean);
  }
  const one = bootstrapMeanCI([12.5]);
  assert.deepEqual(one, { mean: 12.5, lo: 12.5, hi: 12.5 });
});

test("bootstrap CI: two values 0 and 1 give the hand-computable binomial interval", () => {
  // A resample of {0, 1} of size 2 has mean 0, 0.5 or 1 with probability 1/4, 1/2, 1/4: the 2.5 %
  // and 97.5 % quantiles of 10,000 such means are 0 and 1.
  const ci = bootstrapMeanCI([0, 1]);
  assert.equal(ci.mean, 0.5);
  assert.equal(ci.lo, 0);
  assert.equal(ci.hi, 1);
  // At level 0.4 the interval is the central 40 %: only resample means of 0.5 lie there.
  const narrow = bootstrapMeanCI([0, 1], { level: 0.4 });
  assert.equal(narrow.lo, 0.5);
  assert.equal(narrow.hi, 0.5);
});

test("bootstrap CI contains the mean, lies within the data and shrinks with n", () => {
  const base = [3, 9, 4, 7, 1, 8, 5, 6, 2, 10];
  let lastWidth = Number.POSITIVE_INFINITY;
  for (const copies of [1, 4, 16]) {
    const values = Array.from({ length: copies }, () => base).flat();
    const ci = bootstrapMeanCI(values, { seed: 7 });
    assert.ok(ci.lo < ci.mean && ci.mean < ci.hi, JSON.stringify(ci));
    assert.ok(ci.lo >= 1 && ci.hi <= 10);
    const width = ci.hi - ci.lo;
    assert.ok(width < lastWidth, `width ${width} at n = ${values.length} should be below ${lastWidth}`);
    // ≈ 2 × 1.96 × sd / √n (sd of 1..10 is 2.87): the bootstrap is close to the normal interval
    const normal = (2 * 1.96 * 2.8723) / Math.sqrt(values.length);
    assert.ok(Math.abs(width - normal) < 0.2 * normal, `width ${width} vs normal approximation ${normal}`);
    lastWidth = width;
  }
});

test("bootstrap CI is deterministic for a seed and depends on it", () => {
  const v = [0.3, 120, 45.5, 300, 12];
  assert.deepEqual(bootstrapMeanCI(v, { seed: 3 }), bootstrapMeanCI(v, { seed: 3 }));
  assert.deepEqual(bootstrapMeanCI(v), bootstrapMeanCI(v, { seed: 0, resamples: 10_000, level: 0.95 }));
  const many = Array.from({ length: 40 }, (_, i) => Math.sin(i * 12.9898) * 100);
  assert.notDeepEqual(bootstrapMeanCI(many, { seed: 3 }), bootstrapMeanCI(many, { seed: 4 }));
});

test("bootstrap CI rejects what it cannot use", () => {
  assert.throws(() => bootstrapMeanCI([]), /no values/);
  assert.throws(() => bootstrapMeanCI([1, Number.NaN]), /finite/);
  assert.throws(() => bootstrapMeanCI([1, 2], { level: 1 }), /level/);
  assert.throws(() => bootstrapMeanCI([1, 2], { resamples: 0 }), /resamples/);
});

test("quantileSorted interpolates between order statistics", () => {
  const s = [0, 10, 20, 30];
  assert.equal(quantileSorted(s, 0), 0);
  assert.equal(quantileSorted(s, 1), 30);
  assert.equal(quantileSorted(s, 0.5), 15);
  assert.equal(quantileSorted(s, 0.25), 7.5);
});

test("bootstrapDiffCI: the difference of means, an interval around it, 0 inside when the samples overlap", async () => {
  const { bootstrapDiffCI } = await import("../../src/train/stats.js");
  const a = [1, 2, 3, 4, 5];
  const far = bootstrapDiffCI(a, [101, 102, 103, 104, 105]);
  assert.equal(far.mean, 100);
  assert.ok(far.lo > 95 && far.lo <= 100 && far.hi >= 100 && far.hi < 105, `[${far.lo}, ${far.hi}]`);
  const same = bootstrapDiffCI(a, [2, 3, 1, 5, 4]);
  assert.equal(same.mean, 0);
  assert.ok(same.lo < 0 && same.hi > 0);
  const constant = bootstrapDiffCI([3, 3], [5, 5, 5]);
  assert.deepEqual(constant, { mean: 2, lo: 2, hi: 2 });
  assert.deepEqual(bootstrapDiffCI(a, [7, 9], { seed: 4 }), bootstrapDiffCI(a, [7, 9], { seed: 4 }));
  assert.throws(() => bootstrapDiffCI([], [1]), /both samples/);
});
