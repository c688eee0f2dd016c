// The command lines of `fathom train` and `fathom sweep`, read by the one flag layer (flags.ts
// parseCommand): each command's own options in a schema of their own (--preset, --resume, --depths,
// …), the configuration in the training schema of the agent that --agent names (train/config.ts),
// over the preset's values. No flag is rewritten into another: a sweep's runs are configs built
// from the user's values and the sweep's own (seed, depth, batch size), which never replace a
// value the user gave (what would be replaced is an error instead).
import { z } from "zod";
import { AGENT_NAMES, type AgentName } from "../agents/agent.js";
import { agentDefinition } from "../agents/registry.js";
import { backendFromEnv, precisionFromEnv } from "../engine/index.js";
import { crossKeyIssues, PRESETS, presetFor, type TrainConfig, TRAIN_SCHEMAS, trainSchemaFor } from "../train/config.js";
import { offlineConfig, offlineOptionIssue, readDatasetInfo } from "../train/dataset.js";
import type { ConfigDiff } from "../train/sweep.js";
import { type ConfigChoice, FlagError, formatCommandHelp, type ObjectSchema, parseCommand, resolveConfig, toArgv, toKebab } from "./flags.js";

const PRESET_OPTION = z
  .string()
  .default("cpu")
  .describe(`The values the configuration starts from: ${Object.keys(PRESETS).join(", ")} (train/config.ts); any option of the configuration overrides its preset value`);

/** The options of `fathom train` itself (its configuration: the agent's training schema). */
export const TrainCommandSchema = z
  .object({
    preset: PRESET_OPTION,
    resume: z
      .string()
      .optional()
      .describe(
        "Continue the run in this directory (or from this checkpoint of it) with its saved configuration; only --total-env-steps, --num-evals and --threads go with it",
      ),
    // internal, for `fathom sweep --jobs N`: train into this run directory (train/sweep.ts)
    sweepRunDir: z.string().optional().describe("Internal to fathom sweep: train into this run directory"),
    // internal, for `fathom sweep --jobs N`: the --resume of a sweep point (another sweep may hold it)
    sweepResume: z.boolean().optional().describe("Internal to fathom sweep: --resume a sweep point"),
  })
  .strict();

/** The options --resume allows: they extend the run (see train/extend.ts), or change its speed only. */
const ResumeSchema = z
  .object({
    totalEnvSteps: z.number().int().min(1).optional().describe("Extend the run to this many env steps (at least the env steps it has taken)"),
    numEvals: z.number().int().min(1).optional().describe("Evaluations over the extended run (default: keep their spacing)"),
    threads: z
      .number()
      .int()
      .min(0)
      .max(256)
      .optional()
      .describe("Env worker threads from here on (0 = main thread; speed only: the run's trajectories do not depend on it)"),
  })
  .strict();

const RESUME_ALLOWS = "only --total-env-steps N and --num-evals M (to extend the run) and --threads N may be given with it";

/** The agent a command line names (--agent as written; default crl); an unknown one is an error that lists the agents. */
function agentOf(given: Record<string, unknown>): AgentName {
  const name = given.agent ?? "crl";
  if (typeof name !== "string" || !(AGENT_NAMES as readonly string[]).includes(name)) {
    throw new FlagError(`unknown agent "${String(name)}": allowed are ${AGENT_NAMES.join(", ")}`, "agent");
  }
  return name as AgentName;
}

/** The agent whose training schema `schema` is. */
function agentOfSchema(schema: ObjectSchema): AgentName {
  const agent = AGENT_NAMES.find((a) => TRAIN_SCHEMAS[a] === schema);
  if (agent === undefined) throw new Error("not a training schema");
  return agent;
}

const flagsOf = (a: AgentName) => new Set(Object.keys(trainSchemaFor(a).shape).map(toKebab));

/**
 * An option of other agents that `agent` does not have: an error that says whose it is (rather
 * than "unknown option"), e.g. `--tau` with `--agent crl`.
 */
function otherAgentsOption(agent: AgentName, flag: string): string | undefined {
  const base = flag.startsWith("no-") ? flag.slice(3) : flag;
  const owners = AGENT_NAMES.filter((a) => a !== agent && (flagsOf(a).has(flag) || flagsOf(a).has(base)));
  if (owners.length === 0) return undefined;
  return `--${flag} does not apply to --agent ${agent}: it is an option of ${owners.map((o) => `--agent ${o}`).join(", ")} (fathom train --agent ${agent} --help lists the options of ${agent})`;
}

/** Every preset's values for `agent` (each sets the agent too). */
function agentPresets(agent: AgentName): Record<string, Record<string, unknown>> {
  return Object.fromEntries(Object.keys(PRESETS).map((name) => [name, presetFor(name, agent)]));
}

/** A preset's values for the help's column (the agent comes from --agent, not from the preset). */
function presetColumn(presetName: unknown, agent: AgentName): Record<string, unknown> | undefined {
  if (typeof presetName !== "string" || !Object.hasOwn(PRESETS, presetName)) return undefined;
  const { agent: _agent, ...values } = presetFor(presetName, agent);
  return values;
}

/** `--offline <dataset>` without `--env`: the dataset's env. */
function datasetEnv(values: Record<string, unknown>): Record<string, unknown> {
  if (typeof values.offline !== "string" || values.env !== undefined) return values;
  return { ...values, env: readDatasetInfo(values.offline).env };
}

/** The rules across keys a new run's config must meet (beyond its schema's). */
const newRunRules = (c: TrainConfig) => crossKeyIssues(offlineConfig(c));

/**
 * A new run's config as it is recorded and run: an option that does not apply with (or without)
 * --offline is an error; an offline run takes its sizes from the dataset; FATHOM_BACKEND and
 * FATHOM_PRECISION apply unless --backend / --precision is given (the config's defaults would hide them).
 */
export function newRunConfig(config: TrainConfig, fromFlags: readonly string[]): TrainConfig {
  const offlineIssue = offlineOptionIssue(config.offline !== undefined, fromFlags);
  if (offlineIssue !== null) throw new FlagError(offlineIssue);
  let c = offlineConfig(config);
  if (!fromFlags.includes("backend")) c = { ...c, backend: backendFromEnv() ?? c.backend };
  if (!fromFlags.includes("precision")) c = { ...c, precision: precisionFromEnv() ?? c.precision };
  return c;
}

const TRAIN_USAGE =
  "Usage: fathom train --env <id> [--agent <name>] [--preset cpu|cpu-ant|paper] [options]\n       fathom train --resume <run dir> [--total-env-steps N [--num-evals M]]";

function trainDescription(agent: AgentName): string {
  return (
    `Trains an agent and writes a run directory (config.json, metrics.jsonl/csv, TensorBoard events, checkpoints/). Agents: ${AGENT_NAMES.join(", ")} (default crl); each has its own options, listed by fathom train --agent <name> --help. This is --agent ${agent}: ${agentDefinition(agent).summary}. ` +
    `Presets: ${Object.keys(PRESETS).join(", ")} (default cpu); any option overrides the preset. Ctrl-C saves a checkpoint; --resume continues from the latest one with the run's saved configuration.\n\n` +
    "--resume with --total-env-steps N extends a run, finished or not, to N env steps (N ≥ the env steps it has taken). Evaluations keep their spacing " +
    "(totalEnvSteps / numEvals): numEvals becomes N × numEvals / totalEnvSteps, so N must be a multiple of totalEnvSteps / gcd(totalEnvSteps, numEvals) " +
    "(the error names the nearest ones); --num-evals M sets the new total number of evaluations instead (then every N / M env steps). " +
    "config.json gets the new values (the previous one is kept as config.<time>.json) and summary.json says interrupted until the run reaches N. " +
    "No other option goes with --resume."
  );
}

export type TrainRequest =
  | { kind: "help"; text: string }
  | { kind: "resume"; target: string; want: { totalEnvSteps?: number; numEvals?: number }; threads?: number; sweep?: boolean }
  | { kind: "new"; config: TrainConfig; presetName: string; sweepRunDir?: string };

/** `fathom train`'s command line: help, a run to resume (and maybe extend), or a new run's config. */
export function parseTrainArgs(argv: readonly string[]): TrainRequest {
  const choice: ConfigChoice<ObjectSchema> = {
    variants: [...Object.values(TRAIN_SCHEMAS), ResumeSchema],
    choose: (given) => (given.resume !== undefined ? ResumeSchema : trainSchemaFor(agentOf(given))),
    foreign: (flag, given) => {
      if (given?.resume !== undefined) {
        const its = flag === "agent" ? " (its agent too)" : "";
        return `--resume continues a run with its saved configuration${its}; ${RESUME_ALLOWS}, not --${flag}`;
      }
      return given === null ? undefined : otherAgentsOption(agentOf(given), flag);
    },
    helpHint: (given) => (given.resume !== undefined ? "fathom train --help" : `fathom train --agent ${agentOf(given)} --help`),
  };
  const r = parseCommand(TrainCommandSchema, choice, argv, {
    helpHint: "fathom train --help",
    maxPositionals: 0,
    presets: (_command, schema) => (schema === ResumeSchema ? undefined : agentPresets(agentOfSchema(schema))),
    implied: (values) => datasetEnv(values),
    check: (c, schema) => (schema === ResumeSchema ? [] : newRunRules(c)),
  });
  if (r.help) {
    const agent = agentOf(r.values);
    const text = formatCommandHelp(TrainCommandSchema, trainSchemaFor(agent), {
      usage: TRAIN_USAGE,
      description: trainDescription(agent),
      values: presetColumn(r.values.preset ?? "cpu", agent),
      valuesLabel: `preset ${r.values.preset ?? "cpu"}`,
      hide: ["sweepRunDir", "sweepResume"],
    });
    return { kind: "help", text };
  }
  if (r.command.resume !== undefined) {
    const other = r.commandFromFlags.filter((k) => k !== "resume" && k !== "sweepResume");
    if (other.length > 0) throw new FlagError(`--resume continues a run with its saved configuration; ${RESUME_ALLOWS}, not ${other.map((k) => `--${toKebab(k)}`).join(" ")}`);
    const want = r.config as z.output<typeof ResumeSchema>;
    return {
      kind: "resume",
      target: r.command.resume,
      want: { totalEnvSteps: want.totalEnvSteps, numEvals: want.numEvals },
      ...(want.threads === undefined ? {} : { threads: want.threads }),
      ...(r.command.sweepResume === true ? { sweep: true } : {}),
    };
  }
  return {
    kind: "new",
    config: newRunConfig(r.config as TrainConfig, r.fromFlags),
    presetName: r.command.preset,
    ...(r.command.sweepRunDir === undefined ? {} : { sweepRunDir: r.command.sweepRunDir }),
  };
}

/** The options of `fathom sweep` itself (its configuration: as fathom train's, less what it sweeps). */
export const SweepCommandSchema = z
  .object({
    preset: PRESET_OPTION,
    depths: z
      .array(z.number().int().min(0))
      .min(1)
      .default([4, 16, 64])
      .describe("Depths: actor and critic at each (set --actor-depth or --critic-depth to keep that one fixed)"),
    batchSizes: z
      .array(z.number().int().min(1))
      .default([])
      .describe(
        "Also sweep the batch size (run directories get __b<batch>); a training step runs min(--sgd-batches-per-step, tuples / batch) updates, so the largest batches get fewer updates per step (the paper's schedule, SPEC §4: 499 at 1024, 249 at 2048); fathom plot labels each group with its number",
      ),
    seeds: z.array(z.number().int().min(0)).min(1).default([0, 1, 2]).describe("Seeds"),
    jobs: z
      .number()
      .int()
      .min(1)
      .max(256)
      .default(1)
      .describe(
        "Runs at a time (1: in this process). With N > 1 every run is a child process writing to <run dir>/train.log, with FATHOM_THREADS = cores / N and, unless --threads is given, --threads 1; Ctrl-C stops them all with a checkpoint",
      ),
    retryNonfinite: z.boolean().default(false).describe("Resume runs that stopped on a non-finite loss (without it: report them)"),
  })
  .strict();

export type SweepCommand = z.output<typeof SweepCommandSchema>;

const SWEEP_USAGE =
  "Usage: fathom sweep --env <id> [--agent <name>] [--depths 4,16,64] [--batch-sizes 256,1024] [--seeds 0-2] [--jobs N] [--preset cpu|cpu-ant|paper] [fathom train options]";

const SWEEP_DESCRIPTION =
  "Trains one run per (depth, seed) of one agent (--agent, default crl; see fathom train --agent <name> --help for its options), actor and critic at the same depth " +
  "(set --actor-depth or --critic-depth to keep that one fixed), each in the run directory <runs dir>/<env>__<agent>__d<depth>__s<seed> (a<actor>c<critic> when they differ). " +
  "Running the same sweep again continues it: finished runs (summary.json says done) are skipped, interrupted ones are resumed from their last checkpoint (one that another " +
  "process is training, by its train.lock, is reported and left alone), a directory with no checkpoint is moved aside to <name>.incomplete-<time> and restarted. A directory " +
  "whose config.json differs from what the sweep would run is an error (nothing is reused or overwritten). The sweep sets each run's --seed, depths and, with --batch-sizes, " +
  "--batch-size: giving one of them too is an error.\n\nThen: fathom plot <runs dir> --out curves.svg --summary summary.svg; fathom export <runs dir> --out results/<study>";

/** A sweep as its command line asks for it; `run(point)` gives each run's config. */
export interface SweepPlan {
  command: SweepCommand;
  agent: AgentName;
  hasCritic: boolean;
  presetName: string;
  /** The configuration the flags give, checked (with the smallest swept batch size, if any). */
  base: TrainConfig;
  /** The depth the user fixed: the actor's, or the critic's (each run gets the swept depth for the other). */
  fixedActor: boolean;
  fixedCritic: boolean;
  /** --threads was given. */
  userThreads: boolean;
  /** A run's config, and the `fathom train` arguments that give it. */
  run(point: { depth: number; seed: number; batchSize?: number; threads?: number }): { config: TrainConfig; trainArgs: string[] };
}

/** `fathom sweep`'s command line: help, or the sweep. */
export function parseSweepArgs(argv: readonly string[]): { kind: "help"; text: string } | { kind: "sweep"; plan: SweepPlan } {
  const choice: ConfigChoice<ObjectSchema> = {
    variants: Object.values(TRAIN_SCHEMAS),
    choose: (given) => trainSchemaFor(agentOf(given)),
    foreign: (flag, given) => {
      if (flag === "resume") return "fathom sweep resumes its runs by itself: run the same sweep command again (--resume is for fathom train)";
      if (flag === "sweep-run-dir" || flag === "sweep-resume") return `--${flag} is internal to fathom sweep`;
      return given === null ? undefined : otherAgentsOption(agentOf(given), flag);
    },
    helpHint: (given) => `fathom train --agent ${agentOf(given)} --help`,
  };
  const r = parseCommand(SweepCommandSchema, choice, argv, {
    helpHint: "fathom sweep --help",
    maxPositionals: 0,
    presets: (_command, schema) => agentPresets(agentOfSchema(schema)),
    implied: (values, command) => {
      if (values.seed !== undefined) throw new FlagError("--seed: a sweep sets each run's seed; give --seeds 0,1,2 or --seeds 0-4", "seed");
      if (command.batchSizes.length === 0) return datasetEnv(values);
      if (values.batchSize !== undefined) throw new FlagError("--batch-size: --batch-sizes sets each run's batch size; drop --batch-size", "batchSize");
      // the options are checked with the smallest batch (each run checks its own)
      return datasetEnv({ ...values, batchSize: Math.min(...command.batchSizes) });
    },
    check: (c) => newRunRules(c),
  });
  if (r.help) {
    const agent = agentOf(r.values);
    const presetName = r.values.preset ?? "cpu";
    return {
      kind: "help",
      text: formatCommandHelp(SweepCommandSchema, trainSchemaFor(agent), {
        usage: SWEEP_USAGE,
        description: SWEEP_DESCRIPTION,
        values: presetColumn(presetName, agent),
        valuesLabel: `preset ${presetName}`,
        configTitle: `Configuration of every run (fathom train --agent ${agent}; any key overrides the preset):`,
        hide: ["seed"],
      }),
    };
  }
  const { command, schema } = r;
  const agent = agentOfSchema(schema);
  const hasCritic = agentDefinition(agent).hasCritic;
  // the user's values: every key the flags set, but the batch size the sweep checked the options with
  const user: Record<string, unknown> = { ...r.flagValues, agent };
  if (command.batchSizes.length > 0) delete user.batchSize;
  const fixedActor = user.actorDepth !== undefined;
  const fixedCritic = hasCritic && user.criticDepth !== undefined;
  if (fixedActor && (fixedCritic || !hasCritic)) {
    throw new FlagError(
      hasCritic
        ? "--actor-depth and --critic-depth are both set, which leaves nothing for --depths to sweep; drop one of them"
        : `--actor-depth is set, which leaves nothing for --depths to sweep (--agent ${agent} has no critic); drop it`,
    );
  }
  const base = newRunConfig(r.config as TrainConfig, r.fromFlags);
  const presetName = command.preset;
  const preset = agentPresets(agent)[presetName];
  const helpHint = `fathom train --agent ${agent} --help`;
  return {
    kind: "sweep",
    plan: {
      command,
      agent,
      hasCritic,
      presetName,
      base,
      fixedActor,
      fixedCritic,
      userThreads: user.threads !== undefined,
      run: ({ depth, seed, batchSize, threads }) => {
        const own: Record<string, unknown> = { seed };
        if (!fixedActor) own.actorDepth = depth;
        if (hasCritic && !fixedCritic) own.criticDepth = depth;
        if (batchSize !== undefined) own.batchSize = batchSize;
        if (threads !== undefined) own.threads = threads;
        // the sweep's values never replace the user's (those that would are refused above)
        for (const k of Object.keys(own)) if (user[k] !== undefined) throw new Error(`sweep: ${k} is set by both the command line and the sweep`);
        const values = { ...user, ...own };
        const resolved = resolveConfig(schema, preset, values, { presetName, helpHint, check: (c: TrainConfig) => newRunRules(c) });
        const config = newRunConfig(resolved.config as TrainConfig, resolved.fromFlags);
        return { config, trainArgs: ["--preset", presetName, ...toArgv(schema, values)] };
      },
    },
  };
}

/**
 * The flags that give a sweep of `agent` a refused run's own values of `diffs` (so that it goes on
 * with the run), or null when one of them is not an option of the command line (or the run has no value).
 */
export function runValueArgs(agent: AgentName, diffs: readonly ConfigDiff[]): string[] | null {
  if (diffs.some((d) => d.run === undefined)) return null;
  try {
    return toArgv(trainSchemaFor(agent), Object.fromEntries(diffs.map((d) => [d.key, d.run])));
  } catch {
    return null;
  }
}
