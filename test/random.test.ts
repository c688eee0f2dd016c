// The counter-based PRNG (src/random.ts): Threefry-2x32 against the known-answer vectors of
// Random123 (the generator JAX uses), and fillNormal as n calls of normal().
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { keyFromSeed, Rng, threefry2x32 } from "../src/random.js";

describe("random", () => {
  test("threefry2x32 (20 rounds) matches Random123's known answers", () => {
    const out = new Uint32Array(2);
    threefry2x32(0, 0, 0, 0, out);
    assert.deepEqual([...out], [0x6b200159, 0x99ba4efe]);
    threefry2x32(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, out);
    assert.deepEqual([...out], [0x1cb996fc, 0xbb002be7]);
    threefry2x32(0x13198a2e, 0x03707344, 0x243f6a88, 0x85a308d3, out);
    assert.deepEqual([...out], [0xc4923a9c, 0x483df7a0]);
  });
  test("fillNormal writes what as many normal() calls return, and leaves the same state", () => {
    for (const n of [0, 1, 2, 3, 8, 255]) {
      const a = new Rng(keyFromSeed(n));
      const b = new Rng(keyFromSeed(n));
      for (let rep = 0; rep < 3; rep++) {
        const x = new Float32Array(n + 2);
        const y = new Float32Array(n + 2);
        for (let i = 0; i < n; i++) x[i] = a.normal();
        b.fillNormal(y, n);
        assert.deepEqual(y, x);
        assert.deepEqual(b.state(), a.state());
      }
    }
  });
});
