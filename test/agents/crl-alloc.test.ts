// An update allocates nothing that grows with the networks or the batch (issue 12 §2): every
// buffer, view and list is made once. In a file of its own, so the process's JIT has seen one
// backend only, as in training (call sites that have seen several backends box more numbers).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import v8 from "node:v8";
import vm from "node:vm";
import { CRLAgent } from "../../src/agents/crl.js";
import { loadNativeBackend } from "../../src/engine/native/native.js";
import { keyFromSeed, Rng } from "../../src/random.js";

const dims = { stateDim: 5, goalDim: 2, actionDim: 3 };
const cfg = { actorWidth: 32, criticWidth: 32, reprDim: 16 };
const native = loadNativeBackend();
const noNative = "error" in native ? `native addon not available (${native.error})` : false;

function batch(seed: number, B: number) {
  const rng = new Rng(keyFromSeed(seed));
  const f = (n: number, s = 1) => Float32Array.from({ length: n }, () => s * rng.normal());
  return { state: f(B * dims.stateDim), action: f(B * dims.actionDim, 0.5).map(Math.tanh), goal: f(B * dims.goalDim) };
}

describe("an update allocates nothing that grows with the networks or the batch", { skip: noNative }, () => {
  // Heap bytes per update in steady state, the least over several windows (a window in which V8
  // compiles a function allocates more). What remains is the metrics object the update returns
  // and a few boxed numbers: the same at every size. One Float32Array view costs ~100 bytes and a
  // buffer B × W floats, so a buffer or a per-layer view made per update would show at depth 12.
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc") as () => void;
  const budget = 2048;
  for (const [depth, B] of [
    [4, 16],
    [12, 48],
  ]) {
    test(`depth ${depth}, batch ${B}: < ${budget} heap bytes per update, no new ArrayBuffer memory`, () => {
      assert.ok("backend" in native);
      const agent = new CRLAgent(native.backend, dims, { ...cfg, actorDepth: depth, criticDepth: depth, batchSize: B }, keyFromSeed(8), 40);
      const b = batch(9, B);
      const acts = new Float32Array(40 * dims.actionDim);
      const obsIn = Float32Array.from({ length: 40 * (dims.stateDim + dims.goalDim) }, (_, i) => Math.sin(i));
      const rng = new Rng(keyFromSeed(11));
      for (let i = 0; i < 400; i++) {
        agent.update(b.state, b.action, b.goal);
        if (i % 4 === 0) agent.act(obsIn, 40, acts, false, rng); // acting in between, as in training
      }
      let least = Number.POSITIVE_INFINITY;
      let buffers = Number.POSITIVE_INFINITY;
      for (let w = 0; w < 8; w++) {
        gc();
        const h0 = v8.getHeapStatistics().used_heap_size;
        const a0 = process.memoryUsage().arrayBuffers;
        for (let i = 0; i < 20; i++) agent.update(b.state, b.action, b.goal);
        const h1 = v8.getHeapStatistics().used_heap_size;
        const a1 = process.memoryUsage().arrayBuffers;
        least = Math.min(least, (h1 - h0) / 20);
        buffers = Math.min(buffers, a1 - a0);
      }
      assert.ok(least < budget, `${least.toFixed(0)} heap bytes per update`);
      // process.memoryUsage().arrayBuffers is process-wide: memory freed meanwhile (an earlier
      // test's worker threads, the collector) makes a window's difference negative, never growth.
      assert.ok(buffers <= 0, `ArrayBuffer memory grew by ${buffers} bytes in every window of 20 updates`);
    });
  }
});
