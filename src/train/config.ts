// The training configuration of `fathom train` (one zod schema: its descriptions are the CLI help)
// and its presets. `paper` is SPEC §5 exactly; `cpu` is scaled down to show learning on 2 cores.
import { z } from "zod";
import { CONTRASTIVE_LOSSES, ENERGY_FNS, TANH_LOG_DETS } from "../agents/losses.js";
import { PRECISIONS } from "../engine/backend.js";

const depth = (who: string) =>
  z
    .number()
    .int()
    .min(0)
    .refine((d) => d % 4 === 0, { message: "must be a multiple of 4 (Dense layers inside residual blocks of 4)" })
    .describe(`${who} depth: Dense layers inside residual blocks (multiple of 4; SPEC §2)`);

export const TrainConfigSchema = z
  .object({
    env: z.string().describe("Environment id (see `fathom envs`)"),
    seed: z.number().int().min(0).max(2 ** 31 - 1).default(0).describe("Seed of every random choice of the run"),
    numEnvs: z.number().int().min(1).max(65536).default(512).describe("Parallel training envs"),
    unrollLength: z.number().int().min(1).default(62).describe("Env steps collected from every env per training step"),
    batchSize: z.number().int().min(2).max(8192).default(512).describe("Tuples per gradient step (also the contrastive negatives)"),
    sgdBatchesPerStep: z
      .number()
      .int()
      .min(1)
      .default(800)
      .describe("Gradient steps per training step (fewer when fewer batches exist; SPEC §4: 800, UTD 1:40)"),
    totalEnvSteps: z.number().int().min(1).default(100_000_000).describe("Env steps of the whole run"),
    numEvals: z.number().int().min(1).default(100).describe("Evaluations (epochs) over the run"),
    numEvalEnvs: z.number().int().min(1).default(128).describe("Envs per evaluation (deterministic actor)"),
    episodeLength: z.number().int().min(1).default(1000).describe("Steps per episode (training and evaluation)"),
    frameSkip: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .optional()
      .describe("Physics steps per control step of a MuJoCo env (default: the env's own, see `fathom envs`; the physics timestep is kept)"),
    discounting: z.number().gt(0).lt(1).default(0.99).describe("γ of the hindsight goal offset law P(Δ) ∝ γ^Δ"),
    minReplaySize: z.number().int().min(1).default(1000).describe("Rows per env collected with the random actor before training"),
    maxReplaySize: z.number().int().min(2).default(10_000).describe("Rows kept per env (ring)"),
    windowLength: z.number().int().min(2).default(1000).describe("Consecutive rows per env sampled per training step"),
    actorDepth: depth("Actor").default(4),
    actorWidth: z.number().int().min(1).default(256).describe("Actor width"),
    criticDepth: depth("Critic (each encoder)").default(4),
    criticWidth: z.number().int().min(1).default(256).describe("Critic width (each encoder)"),
    reprDim: z.number().int().min(1).default(64).describe("Representation dimension of φ(s,a) and ψ(g)"),
    lr: z.number().gt(0).default(3e-4).describe("Adam learning rate of actor, critic and α"),
    energyFn: z.enum(ENERGY_FNS).default("norm").describe("Critic energy: norm = −‖φ−ψ‖ (paper), l2 = −‖φ−ψ‖², dot, cosine"),
    contrastiveLoss: z.enum(CONTRASTIVE_LOSSES).default("fwd_infonce").describe("Critic loss"),
    logsumexpPenalty: z.number().min(0).default(0.1).describe("Coefficient of mean(logsumexp²) in the critic loss"),
    recompute: z.boolean().default(false).describe("Activation checkpointing per residual block (less memory, ~1.3× compute)"),
    actorHeadNorm: z
      .boolean()
      .default(true)
      .describe("LayerNorm of the actor's residual stream before its heads (not in the paper; keeps deep actors' log-std trainable)"),
    actorHeadInitScale: z
      .number()
      .min(0)
      .default(0.01)
      .describe("Multiplies the init range of the actor's mean and log-std head kernels (1 = paper; 0.01 keeps wide deep actors' log-std trainable)"),
    tanhLogDet: z
      .enum(TANH_LOG_DETS)
      .default("exact")
      .describe("tanh term of log π: reference = −log(1 − a² + 1e-6) (paper's code), exact = −log(1 − tanh² x) (never loses its gradient)"),
    actorLrWarmup: z.number().int().min(0).default(0).describe("Actor learning rate rises linearly over the first N gradient steps (0 = none, paper)"),
    logStdRawPenalty: z
      .number()
      .min(0)
      .default(0)
      .describe("Restoring penalty c·max(0, |raw log-std| − 3)² on the actor (recovers a saturated log-std; 0 = off, paper)"),
    backend: z.enum(["auto", "native", "ref", "webgpu"]).default("auto").describe("Compute backend (auto = fastest available); without this flag, FATHOM_BACKEND applies when set"),
    precision: z
      .enum(PRECISIONS)
      .default("fp32")
      .describe(
        "GEMM operands of the networks' residual blocks: fp32, or bf16 with fp32 accumulation (AVX512_BF16 CPUs; elsewhere it runs fp32 and says why); without this flag, FATHOM_PRECISION applies when set",
      ),
    threads: z.number().int().min(0).max(256).optional().describe("Env worker threads (default: one per core; 0 = main thread)"),
    referenceResetBug: z
      .boolean()
      .default(false)
      .describe("Reproduce JaxGCRL issue #53: every reset restores the env's first start and goal"),
    prefillPolicy: z
      .enum(["actor", "uniform"])
      .default("actor")
      .describe("Replay prefill: the initialised stochastic actor (reference) or uniform random actions"),
    farGoalEval: z
      .boolean()
      .default(true)
      .describe("Also evaluate on the far-goal layout (`_eval` id) where it is not the primary evaluation env; logged as eval_far/…"),
    checkpointEvery: z.number().int().min(1).default(1).describe("Save a checkpoint every N evaluations"),
    keepCheckpoints: z.number().int().min(1).default(3).describe("Periodic checkpoints kept on disk (oldest removed)"),
    runsDir: z.string().default("runs").describe("Parent directory of run directories"),
  })
  .strict()
  .refine((c) => c.minReplaySize <= c.maxReplaySize, {
    message: "minReplaySize must not exceed maxReplaySize (the buffer could never fill to it)",
    path: ["minReplaySize"],
  })
  .refine((c) => c.numEvals <= c.totalEnvSteps, { message: "numEvals must not exceed totalEnvSteps", path: ["numEvals"] });

/**
 * Rules across keys that a new run must satisfy, beyond the schema: `fathom train` and `fathom
 * sweep` check them (with the schema's) before anything starts. They are not in the schema so
 * that runs saved before they existed still load, resume and evaluate.
 */
export function crossKeyIssues(c: TrainConfig): { key: keyof TrainConfig & string; message: string }[] {
  const issues: { key: keyof TrainConfig & string; message: string }[] = [];
  // The sampler draws windows of windowLength consecutive rows from each env's ring.
  if (c.windowLength > c.maxReplaySize) {
    issues.push({
      key: "windowLength",
      message: `windowLength (${c.windowLength}) must not exceed maxReplaySize (${c.maxReplaySize}): a window is cut from the rows each env keeps; lower --window-length or raise --max-replay-size`,
    });
  }
  const tuples = c.numEnvs * (Math.min(c.windowLength, c.maxReplaySize) - 1);
  if (c.batchSize > tuples) {
    issues.push({
      key: "batchSize",
      message: `batchSize (${c.batchSize}) exceeds the tuples one training step can sample, numEnvs × (windowLength − 1) = ${tuples}; lower --batch-size or raise --num-envs or --window-length`,
    });
  }
  const minimum = minTotalEnvSteps(c);
  if (c.totalEnvSteps < minimum) {
    issues.push({
      key: "totalEnvSteps",
      message:
        `totalEnvSteps must be at least ${minimum}: the replay prefill (numEnvs × minReplaySize = ${c.numEnvs} × ${c.minReplaySize}, counted in the budget) ` +
        `plus one training step (numEnvs × unrollLength = ${c.numEnvs} × ${c.unrollLength}) per evaluation (numEvals = ${c.numEvals})`,
    });
  }
  return issues;
}

/**
 * The smallest env-step budget a run can use: the prefill (numEnvs × minReplaySize env steps,
 * which count in totalEnvSteps) plus one training step (numEnvs × unrollLength) per evaluation.
 */
export function minTotalEnvSteps(c: Pick<TrainConfig, "numEnvs" | "minReplaySize" | "unrollLength" | "numEvals">): number {
  return c.numEnvs * c.minReplaySize + c.numEvals * c.numEnvs * c.unrollLength;
}

/**
 * Keys added after runs were already saved, with the value such a run used (its config.json lacks
 * them, and today's defaults differ). Applied before validating a saved config (resume, eval,
 * sweep), so an older run keeps the actor it was trained with.
 */
const KEYS_ADDED_LATER: Record<string, unknown> = {
  actorHeadNorm: false,
  actorHeadInitScale: 1,
  tanhLogDet: "reference",
  actorLrWarmup: 0,
  logStdRawPenalty: 0,
  prefillPolicy: "uniform",
  farGoalEval: false,
  precision: "fp32",
};

/** Validates a config read from a run directory (fills keys older versions did not write; see KEYS_ADDED_LATER). */
export function parseSavedConfig(raw: unknown): ReturnType<typeof TrainConfigSchema.safeParse> {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return TrainConfigSchema.safeParse(raw);
  const filled: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  for (const [k, v] of Object.entries(KEYS_ADDED_LATER)) if (!(k in filled)) filled[k] = v;
  return TrainConfigSchema.safeParse(filled);
}

export type TrainConfig = z.output<typeof TrainConfigSchema>;
export type TrainConfigInput = z.input<typeof TrainConfigSchema>;

/**
 * SPEC §5 exactly (depth/width at the code defaults; the paper sweeps them), with the reference's
 * actor: no LayerNorm before the heads, the SPEC §2 head init and its −log(1 − a² + 1e-6) tanh
 * term (the defaults depart from all three; docs/results.md has the evidence).
 */
export const PAPER_PRESET: Partial<TrainConfigInput> = {
  actorHeadNorm: false,
  actorHeadInitScale: 1,
  tanhLogDet: "reference",
  actorLrWarmup: 0,
  logStdRawPenalty: 0,
  prefillPolicy: "actor",
  numEnvs: 512,
  unrollLength: 62,
  batchSize: 512,
  sgdBatchesPerStep: 800,
  totalEnvSteps: 100_000_000,
  numEvals: 100,
  numEvalEnvs: 128,
  episodeLength: 1000,
  discounting: 0.99,
  minReplaySize: 1000,
  maxReplaySize: 10_000,
  windowLength: 1000,
};

/**
 * Scaled to 2 cores (learning in minutes on a point maze): 16 envs instead of 512 with the paper's
 * 62-step unroll, 32 gradient steps of batch 256 per training step (each transition is sampled
 * ≈ 8 times, the paper ≈ 13), width 128 instead of 256, 500 k env steps over 10 evaluations of 48
 * episodes, a 4,000-row ring per env. Depth stays 4 unless set.
 */
export const CPU_PRESET: Partial<TrainConfigInput> = {
  numEnvs: 16,
  unrollLength: 62,
  batchSize: 256,
  sgdBatchesPerStep: 32,
  totalEnvSteps: 500_000,
  numEvals: 10,
  numEvalEnvs: 48,
  episodeLength: 1000,
  minReplaySize: 100,
  maxReplaySize: 4000,
  windowLength: 1000,
  actorWidth: 128,
  criticWidth: 128,
};

export const PRESETS: Record<string, Partial<TrainConfigInput>> = { paper: PAPER_PRESET, cpu: CPU_PRESET };
