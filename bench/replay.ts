// `npm run bench -- replay [--envs N] [--capacity C] [--reps R]`: cost of one ReplayBuffer.insert
// (one step of all envs) and of one HindsightSampler.sample (the data of one training step) at the
// paper's settings (SPEC §4/§5: 512 envs, window 1000, 800 batches). Prints one JSON line per case.
import { performance } from "node:perf_hooks";
import { foldIn, keyFromSeed, Rng } from "../src/random.js";
import { ReplayBuffer } from "../src/replay/buffer.js";
import { HindsightSampler } from "../src/replay/sampler.js";

interface Case {
  name: string;
  stateDim: number;
  goalIndices: number[];
  actionDim: number;
  batchSize: number;
  capacity: number;
}

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} needs a positive integer, got ${args[i + 1]}`);
  return v;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

export async function run(args: string[]): Promise<void> {
  const numEnvs = flag(args, "envs", 512);
  const capacityArg = flag(args, "capacity", 10_000);
  const reps = flag(args, "reps", 5);
  // Humanoid rows are 271 floats: its ring is kept at 2,000 rows so the case fits beside other jobs.
  const cases: Case[] = [
    { name: "ant_b256", stateDim: 29, goalIndices: [0, 1], actionDim: 8, batchSize: 256, capacity: capacityArg },
    { name: "ant_b1024", stateDim: 29, goalIndices: [0, 1], actionDim: 8, batchSize: 1024, capacity: capacityArg },
    { name: "humanoid_b256", stateDim: 268, goalIndices: [0, 1, 2], actionDim: 17, batchSize: 256, capacity: Math.min(capacityArg, 2000) },
  ];
  for (const c of cases) {
    const goalDim = c.goalIndices.length;
    const obsDim = c.stateDim + goalDim;
    const buf = new ReplayBuffer({ numEnvs, obsDim, actionDim: c.actionDim, capacity: c.capacity, minFill: 1000 });
    const obs = new Float32Array(numEnvs * obsDim); // [N, obsDim]
    const act = new Float32Array(numEnvs * c.actionDim); // [N, actionDim]
    const ids = new Int32Array(numEnvs); // [N]
    const fillRng = new Rng(keyFromSeed(1));
    for (let i = 0; i < obs.length; i++) obs[i] = fillRng.normal();
    for (let i = 0; i < act.length; i++) act[i] = fillRng.uniformIn(-1, 1);
    // Episodes of 1000 steps with envs out of phase, as after auto-resets.
    const phase = Int32Array.from({ length: numEnvs }, () => fillRng.int(1000));
    const extra = 500;
    let t0 = 0;
    for (let s = 0; s < c.capacity + extra; s++) {
      // Time only the steps after the ring is full: the first pass pays first-touch page faults.
      if (s === c.capacity) t0 = performance.now();
      for (let e = 0; e < numEnvs; e++) ids[e] = Math.floor((s + phase[e]) / 1000);
      buf.insert(obs, act, ids);
    }
    const insertUs = ((performance.now() - t0) * 1000) / extra;

    const sampler = new HindsightSampler(buf, {
      stateDim: c.stateDim,
      goalIndices: c.goalIndices,
      actionDim: c.actionDim,
      goalDim,
      batchSize: c.batchSize,
    });
    const times: number[] = [];
    let numBatches = 0;
    for (let r = 0; r <= reps; r++) {
      const rng = new Rng(foldIn(keyFromSeed(2), r));
      const t = performance.now();
      numBatches = sampler.sample(rng);
      if (r > 0) times.push(performance.now() - t); // r = 0 warms the JIT
    }
    const ms = median(times);
    console.log(
      JSON.stringify({
        bench: "replay",
        case: c.name,
        numEnvs,
        capacity: c.capacity,
        obsDim,
        actionDim: c.actionDim,
        batchSize: c.batchSize,
        numBatches,
        insertUsPerStep: Number(insertUs.toFixed(1)),
        sampleMs: Number(ms.toFixed(1)),
        sampleMsMin: Number(Math.min(...times).toFixed(1)),
        tuplesPerSec: Math.round((numBatches * c.batchSize) / (ms / 1000)),
      }),
    );
  }
}
