// `npm run bench -- e2e [--env ant-v1] [--depths 4,64] [--steps 3] [--precision fp32|bf16]`
// (precision default FATHOM_PRECISION, else fp32; bf16 where it cannot run runs fp32 and says why)
// End-to-end `fathom train` throughput at the paper's update-to-data ratio (SPEC §4: 800 gradient
// steps of batch 512 per 512 × 62 env steps, i.e. each transition sampled ≈ 13 times), scaled to
// 64 envs: 64 × 62 env steps and 100 gradient steps of batch 512 per training step.
//   {"bench":"e2e","env":"ant-v1","depth":64,"env_steps_per_s":…,"grad_steps_per_s":…}
import { getBackend, precisionFromEnv, resolvePrecision } from "../src/engine/index.js";
import { TrainConfigSchema } from "../src/train/config.js";
import { train } from "../src/train/trainer.js";

function opt(args: string[], name: string, def: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
}

export async function run(args: string[]): Promise<void> {
  const env = opt(args, "env", "ant-v1");
  const depths = opt(args, "depths", "4,64").split(",").map(Number);
  const steps = Number(opt(args, "steps", "3"));
  const precision = opt(args, "precision", precisionFromEnv() ?? "fp32");
  const numEnvs = 64;
  const unroll = 62;
  for (const depth of depths) {
    const perStep = numEnvs * unroll;
    const config = TrainConfigSchema.parse({
      env,
      numEnvs,
      unrollLength: unroll,
      batchSize: 512,
      sgdBatchesPerStep: Math.round((800 * perStep) / (512 * 62)),
      minReplaySize: 1000,
      maxReplaySize: 2000,
      windowLength: 1000,
      totalEnvSteps: 1000 * numEnvs + (steps + 1) * perStep,
      numEvals: 1,
      numEvalEnvs: 1,
      episodeLength: 1000,
      actorDepth: depth,
      criticDepth: depth,
      precision,
    });
    const times: { sps: number; ups: number }[] = [];
    let last = performance.now();
    await train(config, {
      runDir: null,
      onTrainingStep: (p) => {
        const now = performance.now();
        const secs = (now - last) / 1000;
        last = now;
        if (p.trainingSteps > 1) times.push({ sps: perStep / secs, ups: config.sgdBatchesPerStep / secs });
      },
    });
    const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
    console.log(
      JSON.stringify({
        bench: "e2e",
        env,
        precision: resolvePrecision(getBackend(config.backend), config.precision).precision,
        depth,
        width: 256,
        batch: 512,
        num_envs: numEnvs,
        grad_steps_per_training_step: config.sgdBatchesPerStep,
        env_steps_per_s: +med(times.map((t) => t.sps)).toFixed(1),
        grad_steps_per_s: +med(times.map((t) => t.ups)).toFixed(2),
        training_steps_measured: times.length,
      }),
    );
  }
}
