// `fathom collect`: an offline dataset (train/dataset.ts, docs/datasets.md) from a trained run's
// agent or from uniformly random actions, for `fathom train --offline`.
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { z } from "zod";
import { backendFromEnv, BACKEND_NAMES } from "../engine/index.js";
import { getEnvSpec, makeVecEnv } from "../envs/registry.js";
import { foldIn, keyFromSeed, Rng } from "../random.js";
import { collectRows, type DatasetCollection, writeDataset } from "../train/dataset.js";
import { ProgressReporter } from "../train/progress.js";
import { loadRun } from "../train/run.js";
import { latestCheckpoint, loadAgentCheckpoint, makeAgent } from "../train/trainer.js";
import { FlagError, formatHelp, parseFlags } from "./flags.js";

const CollectSchema = z
  .object({
    policy: z.enum(["agent", "random"]).optional().describe("random: uniform actions (no run needed); agent: the run's agent (the default when a run is named)"),
    env: z.string().optional().describe("Env id (default: the run's env; required with --policy random)"),
    steps: z.number().int().min(1).describe("Env steps to collect in all (rounded up to a multiple of --num-envs)"),
    out: z.string().describe("The dataset file to write (.safetensors; never overwritten)"),
    numEnvs: z.number().int().min(1).max(65536).default(16).describe("Envs stepped in parallel (the dataset's N)"),
    episodeLength: z.number().int().min(1).optional().describe("Steps per episode (default: the run's, else the env's)"),
    frameSkip: z.number().int().min(1).max(1000).optional().describe("Physics steps per control step of a MuJoCo env (default: the run's, else the env's)"),
    deterministic: z.boolean().default(false).describe("Act with the agent's deterministic policy instead of its exploring one"),
    seed: z.number().int().min(0).default(0).describe("Seed of the envs' episodes and of the policy's noise"),
    backend: z.enum(BACKEND_NAMES).optional().describe("Compute backend of the agent (default: FATHOM_BACKEND if set, else the run's)"),
    threads: z.number().int().min(0).max(256).optional().describe("Env worker threads"),
  })
  .strict();

const DESCRIPTION =
  "Steps --num-envs envs for --steps env steps in all and writes every row (observation, action, episode id) to --out, the format " +
  "fathom train --offline reads (docs/datasets.md). The policy is a run's agent, as it explores during training (or --deterministic), " +
  "or uniform random actions (--policy random).";

/** `fathom collect <run dir | checkpoint> | --policy random --env <id> --steps N --out data.safetensors`. */
export async function cmdCollect(argv: string[], version: string): Promise<number> {
  const parsed = parseFlags(CollectSchema, argv, { helpHint: "fathom collect --help", maxPositionals: 1 });
  if (parsed.help) {
    console.log(
      formatHelp(CollectSchema, {
        usage: "Usage: fathom collect <run dir | checkpoint> --steps N --out data.safetensors [options]\n       fathom collect --policy random --env <id> --steps N --out data.safetensors [options]",
        description: DESCRIPTION,
      }),
    );
    return 0;
  }
  const r = CollectSchema.safeParse(parsed.values);
  if (!r.success) {
    const missing = ["steps", "out"].filter((k) => parsed.values[k as "steps" | "out"] === undefined);
    throw new FlagError(`fathom collect needs ${missing.length > 0 ? missing.map((k) => `--${k}`).join(" and ") : "valid options"} (see fathom collect --help)`);
  }
  const o = r.data;
  const target = parsed.positionals[0];
  const policy = o.policy ?? (target === undefined ? undefined : "agent");
  if (policy === undefined) throw new FlagError("fathom collect needs a run directory (or a checkpoint) to collect with, or --policy random");
  if (policy === "random" && target !== undefined) throw new FlagError(`--policy random collects without an agent: drop ${target}, or drop --policy random`);
  if (policy === "agent" && target === undefined) throw new FlagError("--policy agent needs a run directory (or a checkpoint) to collect with");
  if (policy === "random" && o.deterministic) throw new FlagError("--deterministic applies to an agent's policy, not to --policy random");
  if (existsSync(o.out)) throw new Error(`refusing to overwrite ${o.out}: choose another file name`);
  if (!existsSync(dirname(resolve(o.out)))) throw new Error(`cannot write ${o.out}: directory ${dirname(resolve(o.out))} does not exist; create it first`);

  let envId: string;
  let episodeLength: number;
  let frameSkip: number | undefined;
  let act: Parameters<typeof collectRows>[3] = null;
  const collection: Partial<DatasetCollection> = { policy };
  if (target !== undefined) {
    const run = loadRun(target);
    const config = { ...run.config, backend: o.backend ?? backendFromEnv() ?? run.config.backend };
    envId = o.env ?? config.env;
    const trained = getEnvSpec(config.env);
    const spec = getEnvSpec(envId);
    if (spec.stateDim !== trained.stateDim || spec.goalDim !== trained.goalDim || spec.actionDim !== trained.actionDim) {
      throw new Error(`env ${envId} has different dimensions from ${config.env}, which the agent was trained on`);
    }
    episodeLength = o.episodeLength ?? config.episodeLength;
    frameSkip = o.frameSkip ?? config.frameSkip;
    const checkpoint = run.checkpoint ?? latestCheckpoint(run.run.checkpointsDir);
    const agent = makeAgent(config, o.numEnvs);
    loadAgentCheckpoint(checkpoint, agent);
    act = { agent, deterministic: o.deterministic };
    Object.assign(collection, { run: run.run.path, checkpoint, agent: config.agent, deterministic: o.deterministic });
  } else {
    if (o.env === undefined) throw new FlagError("--policy random needs --env <id> (see fathom envs)");
    envId = o.env;
    episodeLength = o.episodeLength ?? getEnvSpec(envId).episodeLength;
    frameSkip = o.frameSkip;
  }
  const stepsPerEnv = Math.ceil(o.steps / o.numEnvs);
  const env = await makeVecEnv(envId, { numEnvs: o.numEnvs, threads: o.threads, episodeLength, frameSkip });
  try {
    const first = await env.reset(o.seed);
    const rng = new Rng(foldIn(keyFromSeed(o.seed), 1));
    const progress = new ProgressReporter({ total: stepsPerEnv * o.numEnvs, label: `collect ${envId}`, stream: process.stdout, unit: "env steps" });
    const { buffer, stats } = await collectRows(env, first, stepsPerEnv, act, rng, (t) => progress.update(t * o.numEnvs, {}));
    progress.finish();
    const full: DatasetCollection = { ...collection, policy, seed: o.seed, numEnvs: o.numEnvs, stepsPerEnv, episodeLength, ...(frameSkip === undefined ? {} : { frameSkip }) };
    writeDataset(o.out, envId, buffer, full, stats, version);
    console.log(
      `wrote ${o.out}: ${envId}, ${o.numEnvs} envs × ${stepsPerEnv} steps = ${o.numEnvs * stepsPerEnv} rows, ${stats.episodes} episodes, ` +
        `${(100 * stats.stepsAtGoal).toFixed(1)} % of steps at the goal; policy ${policy === "agent" ? `${collection.agent} from ${collection.checkpoint}${o.deterministic ? " (deterministic)" : ""}` : "uniform random"}`,
    );
    console.log(`train on it: fathom train --offline ${o.out} --agent crl|gcbc`);
    return 0;
  } finally {
    await env.close();
  }
}
