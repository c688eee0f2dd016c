// `fathom train --backend webgpu` (issue 16): the training loop runs CRL resident on the device
// (GpuCRLAgent: GpuCRL's update, the actor's forward pass on the device), with metrics,
// evaluation, checkpoints and resume as on the CPU backends; its checkpoints load on the native
// backend and the native backend's on WebGPU. Skipped loudly without an adapter.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { CRLAgent } from "../../src/agents/crl.js";
import { GpuCRLAgent } from "../../src/agents/crl-webgpu-agent.js";
import { getBackend } from "../../src/engine/index.js";
import type { WebGpuBackend } from "../../src/engine/webgpu/webgpu.js";
import { TrainConfigSchema } from "../../src/train/config.js";
import { checkTrainLimits, estimateTrainMemory, TrainLimitError } from "../../src/train/limits.js";
import { createRunDir } from "../../src/train/rundir.js";
import { loadAgentCheckpoint, makeAgent, type TrainProgress, train } from "../../src/train/trainer.js";
import { Rng, keyFromSeed } from "../../src/random.js";
import { webgpuSkip } from "../engine/webgpu-skip.js";
import { TINY } from "./tiny-config.js";

const skip = await webgpuSkip();
const base = { ...TINY, episodeLength: 25, windowLength: 20, totalEnvSteps: 640, numEvals: 3 };
const gpuConfig = TrainConfigSchema.parse({ ...base, backend: "webgpu" });
const nativeConfig = TrainConfigSchema.parse({ ...base, backend: "auto" });

function record(p: TrainProgress): unknown {
  return { envSteps: p.envSteps, trainingSteps: p.trainingSteps, updates: p.updates, metrics: p.metrics };
}

function runDirIn(prefix: string) {
  return createRunDir(mkdtempSync(join(tmpdir(), prefix)), { env: base.env, agent: "crl", depth: 4, seed: 0 });
}

/** Trains `config` until training step `at`, interrupted there (checkpoint with replay and envs). */
async function interrupted(config: typeof gpuConfig, at: number, steps: unknown[]) {
  const runDir = runDirIn("fathom-wg-resume-");
  const ac = new AbortController();
  const r = await train(config, {
    runDir,
    signal: ac.signal,
    onTrainingStep: (p) => {
      steps.push(record(p));
      if (p.trainingSteps === at) ac.abort();
    },
  });
  assert.equal(r.status, "interrupted");
  assert.ok(r.lastCheckpoint);
  return { runDir, checkpoint: r.lastCheckpoint! };
}

test("the host memory estimate of a WebGPU CRL run leaves out what stays on the device (activations, logits)", () => {
  const big = { env: "ant-v1", actorDepth: 256, criticDepth: 256, batchSize: 2048, numEnvs: 256 };
  const cpu = estimateTrainMemory(TrainConfigSchema.parse({ ...big, backend: "native" }));
  const gpu = estimateTrainMemory(TrainConfigSchema.parse({ ...big, backend: "webgpu" }));
  const part = (e: typeof cpu, what: RegExp) => e.parts.find((p) => what.test(p.what))!.bytes;
  assert.equal(part(gpu, /^activations .*on the GPU/), 0);
  assert.equal(part(gpu, /^agent batch buffers/), 0);
  assert.ok(part(cpu, /^activations/) > 0);
  assert.equal(part(gpu, /^network parameters/), part(cpu, /^network parameters/), "parameters and Adam state are built on the host and read back for checkpoints");
  assert.ok(gpu.bytes < cpu.bytes);
});

describe("training on WebGPU (GpuCRL in the loop)", { skip }, () => {
  test("a tiny run trains CRL resident on the device: finite metrics, evaluations, a checkpoint the native agent loads", async () => {
    const runDir = runDirIn("fathom-wg-train-");
    const lines: string[] = [];
    const metrics: Record<string, number>[] = [];
    const res = await train(gpuConfig, { runDir, log: (l) => lines.push(l), onTrainingStep: (p) => p.metrics && metrics.push(p.metrics) });
    assert.equal(res.status, "done");
    assert.ok(res.agent instanceof GpuCRLAgent, "the loop runs the device-resident agent");
    assert.match(lines.join("\n"), /crl on the WebGPU device: \d+ dispatches per update in one submission/);
    assert.ok(res.updates > 10, `${res.updates} updates`);
    assert.ok(metrics.length > 5);
    for (const m of metrics) for (const [k, v] of Object.entries(m)) assert.ok(Number.isFinite(v), `training/${k} = ${v}`);
    assert.equal(res.evals.length, 3);
    for (const e of res.evals) assert.ok(Number.isFinite(e["eval/mean_dist"]));
    assert.ok(res.lastCheckpoint);

    // the checkpoint is the device state, bit for bit, and loads into the CPU agent
    const gpuState = res.agent.stateTensors();
    const cpu = makeAgent(nativeConfig, 4);
    assert.ok(cpu instanceof CRLAgent);
    loadAgentCheckpoint(res.lastCheckpoint!, cpu);
    assert.equal(cpu.updates, res.updates);
    const cpuState = cpu.stateTensors();
    assert.deepEqual([...cpuState.keys()].sort(), [...gpuState.keys()].sort());
    for (const [k, t] of gpuState) assert.deepEqual(Array.from(cpuState.get(k)!.data), Array.from(t.data), `${k} differs`);
    // and both act alike (deterministic actor: float32 rounding apart)
    const rng = new Rng(keyFromSeed(5));
    const obs = Float32Array.from({ length: 4 * 6 }, () => rng.normal());
    const a = new Float32Array(4 * 2);
    const b = new Float32Array(4 * 2);
    res.agent.act(obs, 4, a, true);
    cpu.act(obs, 4, b, true);
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-5, `action ${i}: ${a[i]} vs ${b[i]}`);
    (res.agent as GpuCRLAgent).destroy();
  });

  test("a config over the adapter's buffer limits is refused before a run starts (TrainLimitError naming the limit, the size and what to change)", () => {
    const backend = getBackend("webgpu") as WebGpuBackend;
    const binding = backend.adapter.limits.maxStorageBufferBindingSize;
    const side = Math.floor(Math.sqrt(binding / 4)) + 1;
    assert.doesNotThrow(() => checkTrainLimits(gpuConfig));
    assert.throws(
      () => checkTrainLimits(TrainConfigSchema.parse({ ...base, backend: "webgpu", batchSize: side, minReplaySize: side, maxReplaySize: 2 * side })),
      (e: Error) => (e instanceof TrainLimitError && /contrastive logits of batch size \d+ .* needed, .*: use --batch-size \d+ or less/.test(e.message)) || assert.fail(e.message),
    );
  });

  test("interrupted and resumed on WebGPU, a run gives the uninterrupted run's metrics bit for bit", async () => {
    const steps: unknown[] = [];
    const full = await train(gpuConfig, { runDir: null, onTrainingStep: (p) => steps.push(record(p)) });
    (full.agent as GpuCRLAgent).destroy();
    const parts: unknown[] = [];
    const { runDir, checkpoint } = await interrupted(gpuConfig, 5, parts);
    const second = await train(gpuConfig, { runDir, resumeFrom: checkpoint, onTrainingStep: (p) => parts.push(record(p)) });
    assert.equal(second.status, "done");
    assert.deepEqual(parts, steps);
    (second.agent as GpuCRLAgent).destroy();
  });

  test("a native checkpoint resumes on WebGPU and a WebGPU checkpoint on native, continuing the run within float32 rounding", async () => {
    for (const [from, to] of [
      [nativeConfig, gpuConfig],
      [gpuConfig, nativeConfig],
    ] as const) {
      const steps: unknown[] = [];
      const { runDir, checkpoint } = await interrupted(from, 5, steps);
      const after: TrainProgress[] = [];
      const res = await train(to, { runDir, resumeFrom: checkpoint, onTrainingStep: (p) => after.push(p) });
      assert.equal(res.status, "done");
      assert.equal(res.agent instanceof GpuCRLAgent, to.backend === "webgpu");
      // the first resumed step against the same step of an uninterrupted run on the first backend
      const ref: TrainProgress[] = [];
      const whole = await train(from, { runDir: null, onTrainingStep: (p) => ref.push(p) });
      const a = after[0];
      const b = ref.find((p) => p.trainingSteps === a.trainingSteps)!;
      assert.equal(a.envSteps, b.envSteps);
      assert.equal(a.updates, b.updates);
      for (const [k, v] of Object.entries(b.metrics!)) {
        const g = a.metrics![k];
        assert.ok(Math.abs(g - v) <= 1e-3 * (Math.abs(v) + 1e-2), `${from.backend} → ${to.backend}, ${k}: ${g} vs ${v}`);
      }
      for (const r of [res, whole]) if (r.agent instanceof GpuCRLAgent) r.agent.destroy();
    }
  });
});
