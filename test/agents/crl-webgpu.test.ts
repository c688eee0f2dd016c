// One CRL update resident on WebGPU (agents/crl-webgpu.ts) against CRLAgent.update on the native
// backend (ref where the addon is missing), from the same state, batch and random draws: metrics,
// every network's gradient and the parameter step must agree within float32 tolerance. Also the
// state round trip and the non-finite gate; element-wise work split over several dispatches (large
// networks), the buffer-limit errors, and the training loop's agent (GpuCRLAgent) against
// CRLAgent at the start. Skipped loudly without an adapter.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CRL_DEFAULTS, type CRLConfig, CRLAgent, NonFiniteError } from "../../src/agents/crl.js";
import { GpuCRL } from "../../src/agents/crl-webgpu.js";
import { GpuCRLAgent } from "../../src/agents/crl-webgpu-agent.js";
import { getBackend } from "../../src/engine/index.js";
import type { WebGpuBackend } from "../../src/engine/webgpu/webgpu.js";
import { gview, sub, type WebGpuContext } from "../../src/engine/webgpu/context.js";
import { WEBGPU_KERNELS } from "../../src/engine/webgpu/kernels.js";
import { createNodeContext } from "../../src/engine/webgpu/node.js";
import { keyFromSeed, Rng } from "../../src/random.js";
import { webgpuSkip } from "../engine/webgpu-skip.js";

const skip = await webgpuSkip();
const dims = { stateDim: 5, goalDim: 2, actionDim: 3 };
const small = { actorDepth: 4, criticDepth: 4, actorWidth: 32, criticWidth: 32, reprDim: 16, batchSize: 16 };

function batch(seed: number, B: number) {
  const rng = new Rng(keyFromSeed(seed));
  const f = (n: number, s = 1) => Float32Array.from({ length: n }, () => s * rng.normal());
  return { state: f(B * dims.stateDim), action: f(B * dims.actionDim, 0.5).map(Math.tanh), goal: f(B * dims.goalDim) };
}

function relNorm(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
}

const cpu = () => {
  const b = getBackend("auto");
  return b;
};

describe("CRL update on WebGPU vs the CPU agent", { skip }, () => {
  let ctx: WebGpuContext;
  const report: string[] = [];
  before(async () => {
    ctx = await createNodeContext();
  });
  after(() => {
    console.log(`# CRL update WebGPU vs ${cpu().name}: ${report.join("; ")}`);
    ctx?.destroy();
  });

  const cases: { name: string; cfg: Partial<CRLConfig>; updates: number }[] = [
    { name: "paper defaults (norm, fwd InfoNCE)", cfg: {}, updates: 2 },
    { name: "l2, sym InfoNCE, exact tanh, penalty, head norm, warmup", cfg: { energyFn: "l2", contrastiveLoss: "sym_infonce", tanhLogDet: "exact", logStdRawPenalty: 0.5, actorHeadNorm: true, actorLrWarmup: 3, recompute: true }, updates: 1 },
    { name: "dot, binary NCE", cfg: { energyFn: "dot", contrastiveLoss: "binary_nce", criticDepth: 0 }, updates: 1 },
    { name: "cosine, bwd InfoNCE", cfg: { energyFn: "cosine", contrastiveLoss: "bwd_infonce", actorDepth: 8 }, updates: 1 },
  ];
  for (const c of cases) {
    test(`${c.name}: metrics, gradients and the parameter step match`, async () => {
      const cfg = { ...CRL_DEFAULTS, ...small, ...c.cfg };
      const agent = new CRLAgent(cpu(), dims, cfg, keyFromSeed(7));
      // a few CPU updates first, so Adam's moments and log α are not at their initial values
      for (let i = 0; i < 2; i++) {
        const b = batch(40 + i, cfg.batchSize);
        agent.update(b.state, b.action, b.goal);
      }
      const gpu = new GpuCRL(ctx, dims, cfg);
      gpu.loadStateTensors(agent.stateTensors());
      let worstMetric = 0;
      let worstGrad = 0;
      let worstStep = 0;
      for (let u = 0; u < c.updates; u++) {
        const before = [agent.actor, agent.saEncoder, agent.goalEncoder].map((n) => Float32Array.from(n.params.data));
        const b = batch(50 + u, cfg.batchSize);
        const mc = agent.update(b.state, b.action, b.goal);
        const mg = await gpu.update(b.state, b.action, b.goal);
        for (const [k, v] of Object.entries(mc)) {
          const g = (mg as unknown as Record<string, number>)[k];
          const e = Math.abs(g - v) / (Math.abs(v) + 1e-3);
          worstMetric = Math.max(worstMetric, e);
          assert.ok(e < 2e-4, `${k}: WebGPU ${g} vs CPU ${v}`);
        }
        const grads = await ctx.readMany([gpu.actor.net.grad, gpu.sa.net.grad, gpu.goal.net.grad]);
        const state = await gpu.stateTensors();
        [agent.actor, agent.saEncoder, agent.goalEncoder].forEach((net, i) => {
          const eg = relNorm(grads[i], net.params.grad);
          worstGrad = Math.max(worstGrad, eg);
          assert.ok(eg < 1e-4, `network ${i} gradient: relative error ${eg}`);
          const prefix = ["actor.", "sa_encoder.", "goal_encoder."][i];
          const stepCpu = new Float32Array(net.params.data.length);
          const stepGpu = new Float32Array(net.params.data.length);
          for (const t of net.params.tensors) {
            const g = state.get(prefix + t.name)!.data as Float32Array;
            for (let j = 0; j < t.size; j++) {
              stepCpu[t.offset + j] = net.params.data[t.offset + j] - before[i][t.offset + j];
              stepGpu[t.offset + j] = g[j] - before[i][t.offset + j];
            }
          }
          // Adam's step is ±lr wherever |g| ≫ √v·eps; entries whose gradient is rounding noise may differ
          const es = relNorm(stepGpu, stepCpu);
          worstStep = Math.max(worstStep, es);
          assert.ok(es < 1e-3, `network ${i} parameter step: relative error ${es}`);
        });
        assert.equal(gpu.updates, agent.updates);
      }
      report.push(`${c.name}: metrics ${worstMetric.toExponential(1)}, gradients ${worstGrad.toExponential(1)}, parameter steps ${worstStep.toExponential(1)}`);
      gpu.destroy();
    });
  }

  test("the state reads back into a CPU agent that then continues identically to the device", async () => {
    const cfg = { ...CRL_DEFAULTS, ...small };
    const agent = new CRLAgent(cpu(), dims, cfg, keyFromSeed(9));
    const gpu = new GpuCRL(ctx, dims, cfg);
    gpu.loadStateTensors(agent.stateTensors());
    const b = batch(60, cfg.batchSize);
    await gpu.update(b.state, b.action, b.goal);
    const back = new CRLAgent(cpu(), dims, cfg, keyFromSeed(99));
    back.loadStateTensors(await gpu.stateTensors());
    assert.equal(back.updates, 1);
    const b2 = batch(61, cfg.batchSize);
    const mc = back.update(b2.state, b2.action, b2.goal);
    const mg = await gpu.update(b2.state, b2.action, b2.goal);
    assert.ok(Math.abs(mc.critic_loss - mg.critic_loss) < 1e-3 * Math.abs(mc.critic_loss), `${mc.critic_loss} vs ${mg.critic_loss}`);
    gpu.destroy();
  });

  test("a non-finite batch throws NonFiniteError and leaves the parameters as they were", async () => {
    const cfg = { ...CRL_DEFAULTS, ...small };
    const agent = new CRLAgent(cpu(), dims, cfg, keyFromSeed(11));
    const gpu = new GpuCRL(ctx, dims, cfg);
    gpu.loadStateTensors(agent.stateTensors());
    const before = await gpu.stateTensors();
    const b = batch(70, cfg.batchSize);
    b.state[3] = Number.NaN;
    await assert.rejects(gpu.update(b.state, b.action, b.goal), (e: unknown) => e instanceof NonFiniteError && e.network === "actor");
    assert.throws(() => agent.update(b.state, b.action, b.goal), NonFiniteError);
    const afterState = await gpu.stateTensors();
    for (const [k, t] of before) {
      if (k === "rng.state") continue;
      assert.deepEqual(afterState.get(k)!.data, t.data, `${k} changed`);
    }
    assert.equal(gpu.updates, 0);
    gpu.destroy();
  });

  // As crl-update.test.ts does for CRLAgent: a NaN written into one network's gradient (on the
  // device, just before its norm is summed; the dispatch is wrapped while the update is recorded)
  // must stop the update before any Adam step. The critic's case is the one that matters: its
  // gradient is known last, after the actor's and α's.
  for (const which of ["sa", "goal", "actor"] as const) {
    test(`a NaN in the ${which} network's gradient: NonFiniteError, and no parameter, Adam state, step count or α changed`, async () => {
      const cfg = { ...CRL_DEFAULTS, ...small };
      const agent = new CRLAgent(cpu(), dims, cfg, keyFromSeed(12));
      const b0 = batch(71, cfg.batchSize);
      agent.update(b0.state, b0.action, b0.goal); // Adam states and log α are not at their initial values
      const nan = ctx.createBuffer(1, "test NaN");
      ctx.write(gview(nan), new Float32Array([Number.NaN]));
      const target = { actor: 0, sa: 1, goal: 2 }[which]; // the order of the three gradient norms in the update
      const dispatch = ctx.dispatch;
      let sums = 0;
      ctx.dispatch = (k, ops, scalars, groups) => {
        if (k.name === "sumsq_partial" && scalars.acc === 0 && sums++ === target) {
          dispatch.call(ctx, WEBGPU_KERNELS.copy, { src: gview(nan), dst: sub(ops.x, 0, 1) }, { rows: 1, cols: 1, src_stride: 1, dst_stride: 1 }, 1);
        }
        dispatch.call(ctx, k, ops, scalars, groups);
      };
      let gpu: GpuCRL;
      try {
        gpu = new GpuCRL(ctx, dims, cfg);
      } finally {
        ctx.dispatch = dispatch;
      }
      assert.equal(sums, 3, "three gradient norms recorded");
      gpu.loadStateTensors(agent.stateTensors());
      const before = await gpu.stateTensors();
      const b = batch(72, cfg.batchSize);
      const network = { actor: "actor", sa: "critic (sa_encoder)", goal: "critic (goal_encoder)" }[which];
      await assert.rejects(gpu.update(b.state, b.action, b.goal), (e: unknown) => (e instanceof NonFiniteError && e.network === network && e.loss.endsWith("gradient")) || assert.fail(String(e)));
      const afterState = await gpu.stateTensors();
      for (const [k, t] of before) {
        if (k === "rng.state") continue; // ε was drawn, as CRLAgent draws it before its checks
        assert.deepEqual(Array.from(afterState.get(k)!.data), Array.from(t.data), `${k} changed`);
      }
      assert.equal(gpu.updates, 1);
      gpu.destroy();
      nan.destroy();
    });
  }

  test("bf16 is refused with the reason (resolve the precision first)", () => {
    assert.throws(() => new GpuCRL(ctx, dims, { ...CRL_DEFAULTS, ...small, precision: "bf16" }), /fp32 only/);
  });
});

describe("GpuCRL on large networks and on the training loop's side", { skip }, () => {
  let ctx: WebGpuContext;
  before(async () => {
    ctx = await createNodeContext();
  });
  after(() => ctx?.destroy());

  test("element-wise work split into several dispatches (as for a network larger than one binding) gives the same update; reading back in rounds the same state", async () => {
    const cfg = { ...CRL_DEFAULTS, ...small };
    const state = new CRLAgent(cpu(), dims, cfg, keyFromSeed(21)).stateTensors();
    const whole = new GpuCRL(ctx, dims, cfg);
    const limit = ctx.splitFloats;
    ctx.splitFloats = 512; // each network has several thousand parameters: Adam, zeroing and the norms split
    const split = new GpuCRL(ctx, dims, cfg);
    ctx.splitFloats = limit;
    assert.ok(split.dispatchesPerUpdate > whole.dispatchesPerUpdate, `${split.dispatchesPerUpdate} vs ${whole.dispatchesPerUpdate} dispatches`);
    whole.loadStateTensors(state);
    split.loadStateTensors(state);
    for (let u = 0; u < 2; u++) {
      const b = batch(80 + u, cfg.batchSize);
      const mw = await whole.update(b.state, b.action, b.goal);
      const ms = await split.update(b.state, b.action, b.goal);
      for (const [k, v] of Object.entries(mw)) {
        const g = (ms as unknown as Record<string, number>)[k];
        assert.ok(Math.abs(g - v) <= 1e-5 * (Math.abs(v) + 1e-3), `${k}: split ${g} vs whole ${v}`);
      }
    }
    const a = await whole.stateTensors();
    const b = await split.stateTensors();
    // the state read back in many small rounds (as a network larger than the readback buffer) is the same
    const bytes = ctx.readbackBytes;
    ctx.readbackBytes = 1000;
    const c = await whole.stateTensors();
    ctx.readbackBytes = bytes;
    for (const [k, t] of a) assert.deepEqual(Array.from(c.get(k)!.data), Array.from(t.data), `${k} read in rounds`);
    for (const [k, t] of a) {
      if (k === "rng.state") continue;
      const u = b.get(k)!.data;
      for (let i = 0; i < t.data.length; i++) assert.ok(Math.abs(u[i] - t.data[i]) <= 1e-5 * (Math.abs(t.data[i]) + 1e-3), `${k}[${i}]: ${u[i]} vs ${t.data[i]}`);
    }
    whole.destroy();
    split.destroy();
  });

  test("a configuration over the adapter's buffer limits stops before allocating, naming the limit, the size needed and what to change", () => {
    const binding = ctx.device.limits.maxStorageBufferBindingSize;
    const side = Math.floor(Math.sqrt(binding / 4)) + 1; // side² floats exceed one binding
    assert.throws(
      () => new GpuCRL(ctx, dims, { ...CRL_DEFAULTS, ...small, batchSize: side }),
      (e: Error) =>
        /contrastive logits of batch size \d+ .*MiB \(\d+ bytes\) needed, but this WebGPU adapter .* allows .*\((maxStorageBufferBindingSize|maxBufferSize)\): use --batch-size \d+ or less/.test(e.message) ||
        assert.fail(e.message),
    );
    assert.throws(
      () => new GpuCRL(ctx, dims, { ...CRL_DEFAULTS, ...small, actorWidth: side, criticWidth: side }),
      (e: Error) => /needed, but this WebGPU adapter .* \((maxStorageBufferBindingSize|maxBufferSize)\): use a smaller (width|depth)/.test(e.message) || assert.fail(e.message),
    );
  });

  test("the training loop's agent (GpuCRLAgent on the WebGPU backend) starts where CRLAgent starts and acts as it does", () => {
    const cfg = { ...CRL_DEFAULTS, ...small };
    const backend = getBackend("webgpu") as WebGpuBackend;
    const gpu = new GpuCRLAgent(backend, dims, cfg, keyFromSeed(31), 40);
    const cpuAgent = new CRLAgent(cpu(), dims, cfg, keyFromSeed(31), 40);
    const g = gpu.stateTensors();
    for (const [k, t] of cpuAgent.stateTensors()) assert.deepEqual(Array.from(g.get(k)!.data), Array.from(t.data), `${k} differs`);
    assert.ok(gpu.actChunk >= 40);
    const rng = new Rng(keyFromSeed(32));
    const obs = Float32Array.from({ length: 40 * (dims.stateDim + dims.goalDim) }, () => rng.normal());
    for (const deterministic of [true, false]) {
      const a = new Float32Array(40 * dims.actionDim);
      const c = new Float32Array(40 * dims.actionDim);
      gpu.act(obs, 40, a, deterministic, new Rng(keyFromSeed(33)));
      cpuAgent.act(obs, 40, c, deterministic, new Rng(keyFromSeed(33)));
      for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - c[i]) < 1e-5, `act (deterministic ${deterministic}) ${i}: ${a[i]} vs ${c[i]}`);
    }
    gpu.destroy();
    assert.throws(() => gpu.stateTensors(), /destroyed/);
  });
});
