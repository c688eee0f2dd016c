// The training configuration of `fathom train` (DESIGN §6: one zod schema per agent; its
// descriptions are the CLI help) and its presets. A training config is the loop and env keys
// below plus the chosen agent's own schema (src/agents/<agent>.ts), which alone defines that
// agent's hyperparameters and their defaults; the agent's config is derived from it
// (agents/registry.ts). `paper` is SPEC §5 exactly; `cpu` is scaled down to show learning on 2 cores.
import { z } from "zod";
import { AGENT_NAMES, type AgentName } from "../agents/agent.js";
import { agentDefinition } from "../agents/registry.js";
import { CRL_PAPER_ACTOR, CRLConfigSchema } from "../agents/crl.js";
import { GCBCConfigSchema } from "../agents/gcbc.js";
import { SACConfigSchema } from "../agents/sac.js";
import { TD3ConfigSchema } from "../agents/td3.js";
import { BACKEND_NAMES } from "../engine/index.js";

/** The loop's and the env's keys, shared by every agent (in help order: these, then the agent's, then LOOP_TAIL). */
const LOOP_HEAD = {
  env: z.string().describe("Environment id (see `fathom envs`)"),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(0).describe("Seed of every random choice of the run"),
  numEnvs: z.number().int().min(1).max(65536).default(512).describe("Parallel training envs"),
  unrollLength: z.number().int().min(1).default(62).describe("Env steps collected from every env per training step"),
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
  minReplaySize: z.number().int().min(1).default(1000).describe("Rows per env collected with the random actor before training"),
  maxReplaySize: z.number().int().min(2).default(10_000).describe("Rows kept per env (ring)"),
  windowLength: z.number().int().min(2).default(1000).describe("Consecutive rows per env sampled per training step"),
  offline: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Train from this dataset (written by `fathom collect`; docs/datasets.md) instead of collecting: no env steps; evaluation still runs in the env. numEnvs, maxReplaySize, minReplaySize and totalEnvSteps become the dataset's",
    ),
  offlineSteps: z
    .number()
    .int()
    .min(1)
    .default(200)
    .describe("Training steps of an offline run (--offline): each samples a window per dataset env and runs up to sgdBatchesPerStep updates"),
};

const LOOP_TAIL = {
  backend: z.enum(BACKEND_NAMES).default("auto").describe("Compute backend (auto = fastest available); without this flag, FATHOM_BACKEND applies when set"),
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
  allGoalEval: z
    .boolean()
    .default(true)
    .describe(
      "Also evaluate on the training env's own goals (every 'G' cell) where the primary evaluation uses only the far goals (the big mazes); logged as eval_all/…",
    ),
  checkpointEvery: z.number().int().min(1).default(1).describe("Save a checkpoint every N evaluations"),
  keepCheckpoints: z.number().int().min(1).default(3).describe("Periodic checkpoints kept on disk (oldest removed)"),
  runsDir: z.string().default("runs").describe("Parent directory of run directories"),
};

/** The training schema of one agent: loop and env keys + the agent's own, strict (an unknown key is an error). */
function trainSchema<N extends AgentName, S extends z.ZodObject>(name: N, agentSchema: S) {
  return z
    .object({
      ...LOOP_HEAD,
      agent: z
        .literal(name)
        .default(name)
        .describe(`The algorithm: ${AGENT_NAMES.join(", ")}; each has its own options (fathom train --agent <name> --help)`),
      ...(agentSchema.shape as S["shape"]),
      ...LOOP_TAIL,
    })
    .strict()
    .superRefine((c, ctx) => loopRules(c as unknown as z.output<z.ZodObject<typeof LOOP_HEAD>>, ctx));
}

/** Rules across the loop's keys that every config (saved ones too) must meet. */
function loopRules(c: z.output<z.ZodObject<typeof LOOP_HEAD>>, ctx: z.RefinementCtx): void {
  if (c.minReplaySize > c.maxReplaySize) {
    ctx.addIssue({ code: "custom", message: "minReplaySize must not exceed maxReplaySize (the buffer could never fill to it)", path: ["minReplaySize"] });
  }
  if (c.numEvals > c.totalEnvSteps) ctx.addIssue({ code: "custom", message: "numEvals must not exceed totalEnvSteps", path: ["numEvals"] });
}

/** Each agent's training schema, the object schema `fathom train --agent <name>` parses its flags with. */
export const TRAIN_SCHEMAS = {
  crl: trainSchema("crl", CRLConfigSchema),
  sac: trainSchema("sac", SACConfigSchema),
  sac_her: trainSchema("sac_her", SACConfigSchema),
  td3_her: trainSchema("td3_her", TD3ConfigSchema),
  gcbc: trainSchema("gcbc", GCBCConfigSchema),
} as const satisfies Record<AgentName, z.ZodObject>;

/** The training schema of `agent`; an unknown name is an error that lists the known ones. */
export function trainSchemaFor<N extends AgentName>(agent: N): (typeof TRAIN_SCHEMAS)[N];
export function trainSchemaFor(agent: string): (typeof TRAIN_SCHEMAS)[AgentName];
export function trainSchemaFor(agent: string): (typeof TRAIN_SCHEMAS)[AgentName] {
  if (!Object.hasOwn(TRAIN_SCHEMAS, agent)) throw new Error(`unknown agent "${agent}": allowed are ${AGENT_NAMES.join(", ")}`);
  return TRAIN_SCHEMAS[agent as AgentName];
}

/** Any agent's training config; a config without `agent` is CRL's (every run saved before there were others). */
export const TrainConfigSchema = z.preprocess(
  (raw) => (raw !== null && typeof raw === "object" && !Array.isArray(raw) && !("agent" in raw) ? { ...raw, agent: "crl" } : raw),
  z.discriminatedUnion("agent", [TRAIN_SCHEMAS.crl, TRAIN_SCHEMAS.sac, TRAIN_SCHEMAS.sac_her, TRAIN_SCHEMAS.td3_her, TRAIN_SCHEMAS.gcbc]),
);

export type TrainConfigOf<N extends AgentName> = z.output<(typeof TRAIN_SCHEMAS)[N]>;
/** A validated training config; `agent` says which agent's keys it has. */
export type TrainConfig = TrainConfigOf<AgentName>;

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
      message:
        c.offline !== undefined
          ? `windowLength (${c.windowLength}) must not exceed the dataset's rows per env (${c.maxReplaySize}): a window is cut from each env's rows; lower --window-length`
          : `windowLength (${c.windowLength}) must not exceed maxReplaySize (${c.maxReplaySize}): a window is cut from the rows each env keeps; lower --window-length or raise --max-replay-size`,
    });
  }
  const tuples = c.numEnvs * (Math.min(c.windowLength, c.maxReplaySize) - 1);
  if (c.batchSize > tuples) {
    issues.push({
      key: "batchSize",
      message: `batchSize (${c.batchSize}) exceeds the tuples one training step can sample, numEnvs × (windowLength − 1) = ${tuples}; lower --batch-size or raise --num-envs or --window-length`,
    });
  }
  const def = agentDefinition(c.agent);
  if (c.offline !== undefined && def.offline === "never") {
    const can = AGENT_NAMES.filter((a) => agentDefinition(a).offline !== "never").join(", ");
    issues.push({
      key: "offline",
      message: `--agent ${c.agent} does not train offline: --offline is for ${can} (the TD baselines learn from their own exploration)`,
    });
  }
  if (c.offline === undefined && def.offline === "only") {
    issues.push({
      key: "offline",
      message: `--agent ${c.agent} learns only from a fixed dataset: give --offline <dataset.safetensors> (write one with \`fathom collect\`)`,
    });
  }
  if (c.offline !== undefined) {
    if (c.numEvals > c.offlineSteps) issues.push({ key: "numEvals", message: `numEvals (${c.numEvals}) must not exceed offlineSteps (${c.offlineSteps}): an evaluation follows a training step` });
    return issues; // no env steps: the budget below is the online loop's
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
 * sweep), so an older run keeps the actor it was trained with. Every config saved before `agent`
 * existed is CRL's.
 */
const KEYS_ADDED_LATER: { loop: Record<string, unknown>; agents: Partial<Record<AgentName, Record<string, unknown>>> } = {
  loop: { agent: "crl", prefillPolicy: "uniform", farGoalEval: false, allGoalEval: false },
  agents: {
    crl: {
      actorHeadNorm: false,
      actorHeadInitScale: 1,
      tanhLogDet: "reference",
      actorLrWarmup: 0,
      logStdRawPenalty: 0,
      precision: "fp32",
      targetEntropyCoef: -0.5,
    },
  },
};

/** Validates a config read from a run directory (fills keys older versions did not write; see KEYS_ADDED_LATER). */
export function parseSavedConfig(raw: unknown): ReturnType<typeof TrainConfigSchema.safeParse> {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return TrainConfigSchema.safeParse(raw);
  const filled: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  for (const [k, v] of Object.entries(KEYS_ADDED_LATER.loop)) if (!(k in filled)) filled[k] = v;
  const later = KEYS_ADDED_LATER.agents[filled.agent as AgentName] ?? {};
  for (const [k, v] of Object.entries(later)) if (!(k in filled)) filled[k] = v;
  return TrainConfigSchema.safeParse(filled);
}

/** A preset: values of loop keys, and of each agent's keys (a preset sets only keys the agent has). */
export interface Preset {
  loop: Record<string, unknown>;
  agents: Record<AgentName, Record<string, unknown>>;
}

/**
 * SPEC §5 exactly (depth/width at the code defaults; the paper sweeps them), with CRL's actor as
 * the reference's: no LayerNorm before the heads, the SPEC §2 head init and its
 * −log(1 − a² + 1e-6) tanh term (the defaults depart from all three; docs/results.md has the
 * evidence).
 */
export const PAPER_PRESET: Preset = {
  loop: {
    prefillPolicy: "actor",
    numEnvs: 512,
    unrollLength: 62,
    sgdBatchesPerStep: 800,
    totalEnvSteps: 100_000_000,
    numEvals: 100,
    numEvalEnvs: 128,
    episodeLength: 1000,
    minReplaySize: 1000,
    maxReplaySize: 10_000,
    windowLength: 1000,
  },
  agents: {
    crl: { ...CRL_PAPER_ACTOR, batchSize: 512, discounting: 0.99 },
    // the TD baselines at their reference values (their schemas' defaults), on the paper's loop
    sac: {},
    sac_her: {},
    td3_her: {},
    gcbc: {}, // OGBench's values
  },
};

/**
 * Scaled to 2 cores (learning in minutes on a point maze): 16 envs instead of 512 with the paper's
 * 62-step unroll, 32 gradient steps of batch 256 per training step (each transition is sampled
 * ≈ 8 times, the paper ≈ 13), width 128 instead of 256, 500 k env steps over 10 evaluations of 128
 * episodes (the paper's count), a 4,000-row ring per env. Depth stays 4 unless set.
 *
 * Evaluations had 48 episodes until 2026-12-05: on the U-maze that evaluation's noise was a third
 * to three fifths of the seed variance of a study's final values (docs/results.md, "The same runs
 * with 256 evaluation episodes"; scripts/studies/eval-noise.ts); 128 cuts that noise variance to
 * 37.5 % for ≈ 2–3 % of a depth-4 run's time. Runs made before keep 48 in their config.json; a sweep resuming them needs
 * --num-eval-envs 48.
 */
export const CPU_PRESET: Preset = {
  loop: {
    numEnvs: 16,
    unrollLength: 62,
    sgdBatchesPerStep: 32,
    totalEnvSteps: 500_000,
    numEvals: 10,
    numEvalEnvs: 128,
    episodeLength: 1000,
    minReplaySize: 100,
    maxReplaySize: 4000,
    windowLength: 1000,
  },
  agents: {
    crl: { batchSize: 256, actorWidth: 128, criticWidth: 128 },
    sac: { batchSize: 256, actorWidth: 128, criticWidth: 128 },
    sac_her: { batchSize: 256, actorWidth: 128, criticWidth: 128 },
    td3_her: { batchSize: 256, actorWidth: 128, criticWidth: 128 },
    gcbc: { batchSize: 256, actorWidth: 128 },
  },
};

/**
 * The cpu preset for the Ant tasks, as the Ant big-maze depth study ran them (docs/results.md,
 * "The Ant big maze"): 10 M env steps over 20 evaluations (no run reached a goal in its first 1 M
 * env steps, most not before 1.5–2 M; at 2 M env steps nothing was learned), 25,000 rows per env
 * (the last 400 episodes instead of 64: on the U-maze this shrank the seed spread enough for a
 * depth effect to show with 10 seeds, at a cost in absolute time at goal; see "Depth and the replay
 * size"), and every periodic checkpoint kept for post-hoc evaluation (fathom eval
 * --every-checkpoint). The study's runs took 1.2–2.5 h each on one core of the 2-core machine
 * (depth 4 and 8, sharing the cores with evaluations).
 */
export const CPU_ANT_PRESET: Preset = {
  loop: { ...CPU_PRESET.loop, totalEnvSteps: 10_000_000, numEvals: 20, maxReplaySize: 25_000, keepCheckpoints: 40 },
  agents: CPU_PRESET.agents,
};

export const PRESETS: Record<string, Preset> = { paper: PAPER_PRESET, cpu: CPU_PRESET, "cpu-ant": CPU_ANT_PRESET };

/** The values preset `name` gives a run of `agent` (with `agent` itself); an unknown preset is an error. */
export function presetFor(name: string, agent: AgentName): Record<string, unknown> {
  const p = PRESETS[name];
  if (!p) throw new Error(`unknown preset "${name}": allowed are ${Object.keys(PRESETS).join(", ")}`);
  return { ...p.loop, agent, ...p.agents[agent] };
}

/** A run's network sizes; the critic's are null for an agent without one. */
export function networkSizes(c: TrainConfig): { actorDepth: number; actorWidth: number; criticDepth: number | null; criticWidth: number | null } {
  const critic = "criticDepth" in c ? { criticDepth: c.criticDepth, criticWidth: c.criticWidth } : { criticDepth: null, criticWidth: null };
  return { actorDepth: c.actorDepth, actorWidth: c.actorWidth, ...critic };
}

/** The depth a run directory's name gives (`d<depth>`): the critic's, or the actor's for an agent without a critic. */
export function runDepth(c: TrainConfig): number {
  return networkSizes(c).criticDepth ?? c.actorDepth;
}
