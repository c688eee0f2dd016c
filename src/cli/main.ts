// `fathom` — the command line: train | eval | sweep | plot | export | view | video | envs | bench.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { availableParallelism } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { backendFromEnv, getBackend, nativeBackendError, type Precision, precisionFromEnv, resolvePrecision } from "../engine/index.js";
import { farGoalEvalId, formatEnvTable, getEnvSpec, makeVecEnv, primaryEvalId, validateFrameSkip } from "../envs/registry.js";
import { AGENT_NAMES, type AgentName } from "../agents/agent.js";
import { agentDefinition } from "../agents/registry.js";
import { crossKeyIssues, networkSizes, PRESETS, presetFor, runDepth, type TrainConfig, trainSchemaFor } from "../train/config.js";
import { offlineConfig, offlineOptionIssue, readDatasetInfo } from "../train/dataset.js";
import { evaluate } from "../train/evaluate.js";
import { exportRuns } from "../train/export.js";
import { applyExtension, planExtension } from "../train/extend.js";
import { checkMemory, checkTrainLimits, estimateTrainMemory, evaluationsBeforeTraining, type MemoryEstimate, machineMemory, TrainLimitError } from "../train/limits.js";
import { MetricsLogger } from "../train/logger.js";
import { type Curve, compareOrder, finalSummaryMarkdown, finalSummarySvg, learningCurvesSvg, type RunFinal, runLength, summarizeFinal } from "../train/plot.js";
import { ProgressReporter } from "../train/progress.js";
import { loadRun, loadRuns, readRunConfig } from "../train/run.js";
import { compareWithReference, REFERENCE_EPISODES, randomPolicyReference } from "../train/reference.js";
import {
  acquireRunLock,
  createRunDir,
  findRunDir,
  type RunLock,
  sweepRunDirName,
  writeFileAtomic,
  writeJsonAtomic,
  writeJsonUnique,
} from "../train/rundir.js";
import { finalPerformance, type RunSummary, readRunSummary, writeRunSummary } from "../train/summary.js";
import { depthLabel, moveAside, openSweepRunDir, parseIntList, planSweepPoint, type SweepDecision } from "../train/sweep.js";
import type { EvalRecord } from "../train/trainer.js";
import { checkpointPosition, latestCheckpoint, loadAgentCheckpoint, makeAgent, train } from "../train/trainer.js";
import { FlagError, formatHelp, parseConfig, parseFlags, toKebab } from "./flags.js";
import { recordedTrajectoryFile, trajectoryRun, writeTrajectoryFile } from "../view/episodes.js";
import { RecordingVecEnv } from "../view/recording-env.js";
import { cmdCollect } from "./collect.js";
import { cmdVideo, cmdView } from "./view.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

const USAGE = `fathom ${version()} — self-supervised goal-conditioned RL (Contrastive RL) with very deep residual networks

Usage:
  fathom train --env <id> [--agent crl] [--preset cpu|paper] [options]
                                                           train an agent (fathom train [--agent <name>] --help)
  fathom train --offline data.safetensors --agent crl|gcbc train from a dataset (fathom collect), no env steps
  fathom train --resume <run dir> [--total-env-steps N]    continue a stopped run (or extend one to N env steps)
  fathom eval <run dir | checkpoint> [options]             evaluate a trained agent (fathom eval --help)
  fathom sweep --env <id> --depths 4,16 --seeds 0-2 [--jobs N] [train options]
                                                           one run per depth and seed; run it again to resume
  fathom plot <run dirs | runs dir>... --out curves.svg [--summary summary.svg]
                                                           learning curves; depth vs final performance
  fathom export <runs dir> --out <results dir>             copy finished runs' config, metrics, summary
  fathom collect <run dir> | --policy random --env <id> --steps N --out data.safetensors
                                                           an offline dataset (for fathom train --offline)
  fathom view <run dirs | runs dir>... [--port N]          curves and replays in the browser (localhost)
  fathom video <run dirs | runs dir>... --out replay.mp4   replays rendered to .mp4, .webm, .gif (or a .png still)
  fathom envs                                              list the environments
  fathom bench <name> [options]                            run a benchmark (gemm, train, crl, envs, ...)
  fathom --version

Compute backend: --backend auto|native|ref or FATHOM_BACKEND (auto = native when it built).
GEMM precision: --precision fp32|bf16 or FATHOM_PRECISION (default fp32; bf16 needs AVX512_BF16).`;

/** The precision a run on this backend gets (bf16 falls back to fp32 where it cannot run; makeAgent logs why). */
function precisionUsed(name: string, requested: Precision): Precision {
  return resolvePrecision(getBackend(name), requested).precision;
}

function backendLine(name: string, precision: Precision): string {
  const be = getBackend(name);
  const err = nativeBackendError();
  const used = precisionUsed(name, precision);
  const prec = `, precision ${used}${used !== precision ? ` (${precision} requested)` : ""}`;
  if (be.name === "ref") {
    return `backend: ${be.describe()}${prec}${err ? ` — WARNING: the native backend is unavailable (${err}); training will be very slow. Rebuild with \`npm run build:native\`.` : ""}`;
  }
  return `backend: ${be.describe()}${prec}`;
}

function takeOption(argv: string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    let v: string | undefined;
    if (a === `--${name}`) {
      v = argv[i + 1];
      if (v === undefined || v.startsWith("--")) throw new FlagError(`--${name} needs a value`);
      argv.splice(i, 2);
    } else if (a.startsWith(`--${name}=`)) {
      argv.splice(i, 1);
      v = a.slice(name.length + 3);
    } else continue;
    if (argv.some((b) => b === `--${name}` || b.startsWith(`--${name}=`))) throw new FlagError(`--${name} given twice: give each option once`);
    return v;
  }
  return undefined;
}

/** `--agent <name>` taken out of args (default crl); an unknown name is an error that lists the agents. */
function takeAgent(args: string[]): AgentName {
  const name = takeOption(args, "agent") ?? "crl";
  if (!(AGENT_NAMES as readonly string[]).includes(name)) throw new FlagError(`unknown agent "${name}": allowed are ${AGENT_NAMES.join(", ")}`);
  return name as AgentName;
}

/**
 * An option of other agents that `agent` does not have is an error that says whose it is (rather
 * than "unknown option"), e.g. `--tau` with `--agent crl`.
 */
function checkAgentOptions(agent: AgentName, args: readonly string[]): void {
  const flagsOf = (a: AgentName) => new Set(Object.keys(trainSchemaFor(a).shape).map(toKebab));
  const own = flagsOf(agent);
  for (const arg of args) {
    if (arg === "--") break;
    if (!arg.startsWith("--")) continue;
    const name = arg.slice(2).replace(/=.*$/s, "");
    const base = name.startsWith("no-") ? name.slice(3) : name;
    if (own.has(name) || own.has(base)) continue;
    const owners = AGENT_NAMES.filter((a) => a !== agent && (flagsOf(a).has(name) || flagsOf(a).has(base)));
    if (owners.length > 0) {
      throw new FlagError(
        `--${name} does not apply to --agent ${agent}: it is an option of ${owners.map((o) => `--agent ${o}`).join(", ")} (fathom train --agent ${agent} --help lists the options of ${agent})`,
      );
    }
  }
}

/** The preset's values for `agent`; an unknown preset is an error that lists the presets. */
function presetValues(presetName: string, agent: AgentName): Record<string, unknown> {
  if (!Object.hasOwn(PRESETS, presetName)) throw new FlagError(`unknown preset "${presetName}": allowed are ${Object.keys(PRESETS).join(", ")}`);
  // the agent comes from --agent (the schema's default), not from the preset
  const { agent: _agent, ...values } = presetFor(presetName, agent);
  return values;
}

/** `--offline <dataset>` without `--env`: the dataset's env (added to args). */
function withDatasetEnv(args: string[]): void {
  const i = args.findIndex((a) => a === "--offline" || a.startsWith("--offline="));
  if (i < 0 || args.some((a) => a === "--env" || a.startsWith("--env="))) return;
  const path = args[i].startsWith("--offline=") ? args[i].slice("--offline=".length) : args[i + 1];
  if (path === undefined || path.startsWith("--")) return; // the parser says --offline needs a value
  args.push("--env", readDatasetInfo(path).env);
}

/** The options --resume allows (they extend the run; see train/extend.ts). */
const ResumeSchema = z
  .object({
    totalEnvSteps: z.number().int().min(1).optional().describe("Extend the run to this many env steps (at least the env steps it has taken)"),
    numEvals: z.number().int().min(1).optional().describe("Evaluations over the extended run (default: keep their spacing)"),
  })
  .strict();

/** What may come with --resume: --total-env-steps and --num-evals, nothing else. */
function parseResumeOptions(args: string[], sweepRunDir: string | undefined): { totalEnvSteps?: number; numEvals?: number } {
  const allowed = "only --total-env-steps N and --num-evals M (to extend the run) may be given with it";
  if (sweepRunDir !== undefined) throw new FlagError(`--resume continues a run with its saved configuration; ${allowed}, not --sweep-run-dir`);
  const other = args.filter((a) => {
    const name = a.replace(/=.*$/, "");
    return a.startsWith("--") && name !== "--total-env-steps" && name !== "--num-evals";
  });
  if (other.length > 0) throw new FlagError(`--resume continues a run with its saved configuration; ${allowed}, not ${other.join(" ")}`);
  const parsed = parseFlags(ResumeSchema, args, { helpHint: "fathom train --help", maxPositionals: 0 });
  return { totalEnvSteps: parsed.values.totalEnvSteps, numEvals: parsed.values.numEvals };
}

/** `fathom train`, holding the run directory's lock (rundir.ts acquireRunLock) from when it is known until the end. */
async function cmdTrain(argv: string[]): Promise<number> {
  const locks: RunLock[] = [];
  try {
    return await cmdTrainLocked(argv, locks);
  } finally {
    for (const l of locks) l.release();
  }
}

async function cmdTrainLocked(argv: string[], locks: RunLock[]): Promise<number> {
  const args = [...argv];
  const resume = takeOption(args, "resume");
  // Internal, for `fathom sweep`: train into this deterministic run directory (sweep.ts).
  const sweepRunDir = takeOption(args, "sweep-run-dir");
  const presetName = takeOption(args, "preset") ?? "cpu";
  const agentGiven = args.some((a) => a === "--agent" || a.startsWith("--agent="));
  const agent = takeAgent(args);
  if (args.includes("--help") || args.includes("-h")) {
    const def = agentDefinition(agent);
    console.log(
      formatHelp(trainSchemaFor(agent), {
        usage:
          "Usage: fathom train --env <id> [--agent <name>] [--preset cpu|paper] [options]\n       fathom train --resume <run dir> [--total-env-steps N [--num-evals M]]",
        description:
          `Trains an agent and writes a run directory (config.json, metrics.jsonl/csv, TensorBoard events, checkpoints/). Agents: ${AGENT_NAMES.join(", ")} (default crl); each has its own options, listed by fathom train --agent <name> --help. This is --agent ${agent}: ${def.summary}. ` +
          `Presets: ${Object.keys(PRESETS).join(", ")} (default cpu); any option overrides the preset. Ctrl-C saves a checkpoint; --resume continues from the latest one with the run's saved configuration.\n\n` +
          "--resume with --total-env-steps N extends a run, finished or not, to N env steps (N ≥ the env steps it has taken). Evaluations keep their spacing " +
          "(totalEnvSteps / numEvals): numEvals becomes N × numEvals / totalEnvSteps, so N must be a multiple of totalEnvSteps / gcd(totalEnvSteps, numEvals) " +
          "(the error names the nearest ones); --num-evals M sets the new total number of evaluations instead (then every N / M env steps). " +
          "config.json gets the new values (the previous one is kept as config.<time>.json) and summary.json says interrupted until the run reaches N. " +
          "No other option goes with --resume.",
        values: Object.hasOwn(PRESETS, presetName) ? presetValues(presetName, agent) : undefined,
        valuesLabel: `preset ${presetName}`,
      }),
    );
    return 0;
  }
  let config: TrainConfig;
  let runDir: ReturnType<typeof createRunDir>;
  let resumeFrom: string | undefined;
  if (resume) {
    if (agentGiven) throw new FlagError("--resume continues a run with its saved configuration (its agent too); only --total-env-steps N and --num-evals M may be given with it, not --agent");
    const want = parseResumeOptions(args, sweepRunDir);
    const found = findRunDir(resume);
    runDir = found.run;
    locks.push(acquireRunLock(runDir.path, { log: (l) => console.error(`warning: ${l}`) }));
    config = readRunConfig(runDir.configPath);
    resumeFrom = found.checkpoint ?? latestCheckpoint(runDir.checkpointsDir);
    if (config.offline !== undefined && (want.totalEnvSteps !== undefined || want.numEvals !== undefined)) {
      throw new FlagError("--resume continues an offline run as it was configured: it takes no env steps, so --total-env-steps and --num-evals do not extend it");
    }
    if (want.totalEnvSteps !== undefined || want.numEvals !== undefined) {
      const at = checkpointPosition(resumeFrom);
      let plan: ReturnType<typeof planExtension>;
      try {
        plan = planExtension(config, at, want);
      } catch (e) {
        throw new FlagError((e as Error).message);
      }
      if (plan.changed) {
        const kept = applyExtension(runDir, config, plan, at);
        console.log(
          `extending the run from ${basename(resumeFrom)} (${at.envSteps} env steps, ${at.evalIndex} evaluations): ` +
            `totalEnvSteps ${config.totalEnvSteps} → ${plan.totalEnvSteps}, numEvals ${config.numEvals} → ${plan.numEvals} ` +
            `(an evaluation every ${+(plan.totalEnvSteps / plan.numEvals).toFixed(2)} env steps); the previous config.json is kept as ${basename(kept)}`,
        );
        config = { ...config, totalEnvSteps: plan.totalEnvSteps, numEvals: plan.numEvals };
      }
    }
  } else {
    const preset = presetValues(presetName, agent);
    checkAgentOptions(agent, args);
    withDatasetEnv(args);
    const r = parseConfig(trainSchemaFor(agent), args, {
      preset,
      presetName,
      helpHint: `fathom train --agent ${agent} --help`,
      maxPositionals: 0,
      check: (c: TrainConfig) => crossKeyIssues(offlineConfig(c)),
    });
    if (r.help) return 0;
    const offlineIssue = offlineOptionIssue(r.config.offline !== undefined, r.fromFlags);
    if (offlineIssue !== null) throw new FlagError(offlineIssue);
    config = offlineConfig(r.config);
    // FATHOM_BACKEND and FATHOM_PRECISION apply unless --backend / --precision is given (the
    // config's defaults would hide them)
    if (!r.fromFlags.includes("backend")) config = { ...config, backend: backendFromEnv() ?? config.backend };
    if (!r.fromFlags.includes("precision")) config = { ...config, precision: precisionFromEnv() ?? config.precision };
    // Everything that can be checked is checked before a run directory is made: the env id, the
    // backend (and FATHOM_THREADS), the memory the run needs and JavaScript's array limits.
    getEnvSpec(config.env);
    if (config.frameSkip !== undefined) validateFrameSkip(config.env, config.frameSkip);
    const backendDescription = getBackend(config.backend).describe();
    checkTrainLimits(config);
    runDir =
      sweepRunDir !== undefined
        ? openSweepRunDir(sweepRunDir)
        : createRunDir(config.runsDir, { env: config.env, agent: config.agent, depth: runDepth(config), seed: config.seed });
    locks.push(acquireRunLock(runDir.path, { log: (l) => console.error(`warning: ${l}`) }));
    writeJsonAtomic(runDir.configPath, {
      fathom: version(),
      preset: presetName,
      created: new Date().toISOString(),
      backend: backendDescription,
      // what ran: config.precision is what was asked for (bf16 falls back to fp32 where it cannot run)
      precision: precisionUsed(config.backend, config.precision),
      config,
    });
  }
  if (resume) {
    const envBackend = backendFromEnv();
    if (envBackend !== undefined) config = { ...config, backend: envBackend };
    const envPrecision = precisionFromEnv();
    if (envPrecision !== undefined) config = { ...config, precision: envPrecision };
  }
  console.log(backendLine(config.backend, config.precision));
  console.log(`run directory: ${runDir.path}`);
  const nets = networkSizes(config);
  console.log(
    `agent ${config.agent}, env ${config.env}, ${config.numEnvs} envs, actor depth ${nets.actorDepth} × width ${nets.actorWidth}` +
      (nets.criticDepth !== null ? `, critic depth ${nets.criticDepth} × width ${nets.criticWidth}` : "") +
      `, batch ${config.batchSize}, ${config.totalEnvSteps} env steps`,
  );
  const early = config.offline !== undefined ? 0 : evaluationsBeforeTraining(config);
  if (early > 0 && !resume) {
    console.log(
      `note: ${early === config.numEvals ? "every evaluation comes" : `evaluations 1–${early} of ${config.numEvals} come`} right after the replay prefill, before any training step: ` +
        `the prefill's ${config.numEnvs * config.minReplaySize} env steps (--num-envs × --min-replay-size) count in --total-env-steps`,
    );
  }
  const logger = new MetricsLogger(runDir.path);
  const ac = new AbortController();
  // SIGINT (Ctrl-C) and SIGTERM (kill, a scheduler's time limit): stop after the current gradient
  // step with a checkpoint and the replay buffer; a second signal exits at once.
  const onSigint = (sig: NodeJS.Signals) => {
    const what = sig === "SIGTERM" ? "SIGTERM" : "Ctrl-C";
    if (ac.signal.aborted) {
      console.error(`\nsecond ${what}: exiting without a checkpoint`);
      process.exit(sig === "SIGTERM" ? 143 : 130);
    }
    console.error(`\n${what}: stopping after the current gradient step and saving a checkpoint (${what} again to quit now)`);
    ac.abort();
  };
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigint);
  // an offline run counts training steps (it takes no env steps)
  const offline = config.offline !== undefined;
  const progress = new ProgressReporter({
    total: offline ? config.offlineSteps : config.totalEnvSteps,
    label: config.env,
    stream: process.stdout,
    unit: offline ? "training steps" : "env steps",
    // a resumed run's first update carries the restored count; the prefill's steps are cheap
    rateFrom: "first-update",
    evaluations: config.numEvals,
  });
  let lastStepAt = performance.now();
  try {
    const t0 = performance.now();
    const res = await train(config, {
      runDir,
      logger,
      signal: ac.signal,
      resumeFrom,
      log: (l) => progress.log(l),
      onTrainingStep: (p) => {
        const m = p.metrics;
        progress.update(offline ? p.trainingSteps : p.envSteps, {
          envsteps: p.envSteps,
          metrics: m ? progressMetrics(m) : undefined,
        });
        lastStepAt = performance.now();
      },
      // evaluations run right after the training step that reaches their env-step count
      onEval: () => progress.evaluated((performance.now() - lastStepAt) / 1000),
    });
    progress.finish();
    // summary.json: a run is finished only when it says "done" (fathom sweep / export read it)
    writeRunSummary(runDir.path, res, (performance.now() - t0) / 1000);
    if (res.status === "nonfinite") {
      console.error(`error: ${res.error}`);
      return 1;
    }
    const last = res.evals.slice(-5);
    if (last.length > 0) {
      const avg = last.reduce((a, e) => a + e["eval/episode_success"], 0) / last.length;
      console.log(`time at goal (mean of the last ${last.length} evaluations): ${avg.toFixed(1)} of ${config.episodeLength}`);
    }
    const final = res.evals.at(-1);
    if (final) await printResult(config, final);
    console.log(`${res.status === "interrupted" ? "stopped" : "done"}: ${res.envSteps} env steps, ${res.updates} gradient steps; checkpoint ${res.lastCheckpoint ?? "(none)"}`);
    return 0;
  } finally {
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigint);
    logger.close();
  }
}

/** The few metrics the progress line shows: each loss the agent has, and CRL's critic accuracy. */
function progressMetrics(m: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, label] of [
    ["critic_loss", "critic_loss"],
    ["categorical_accuracy", "accuracy"],
    ["actor_loss", "actor_loss"],
  ]) {
    if (name in m) out[label] = m[name];
  }
  return out;
}

/** The last evaluation next to a random policy's on the same env, so a user can tell whether the agent learned. */
async function printResult(config: TrainConfig, final: EvalRecord): Promise<void> {
  const layouts: { id: string; prefix: "eval" | "eval_far"; label: string }[] = [{ id: primaryEvalId(config.env), prefix: "eval", label: "goals" }];
  const far = farGoalEvalId(config.env);
  if (far !== undefined && typeof final["eval_far/episode_success"] === "number") layouts.push({ id: far, prefix: "eval_far", label: "far goals only" });
  console.log(
    `\nresult of the last evaluation (${final.envsteps} env steps, ${config.numEvalEnvs} episodes), next to a uniformly random policy ` +
      `(${REFERENCE_EPISODES} episodes, fixed seed):`,
  );
  for (const l of layouts) {
    const rec = final as unknown as Record<string, number>;
    const agent = { success: rec[`${l.prefix}/episode_success`], successAny: rec[`${l.prefix}/episode_success_any`], meanDist: rec[`${l.prefix}/mean_dist`] };
    console.log(`${l.id} (${l.label}):`);
    try {
      const ref = await randomPolicyReference(l.id, { episodeLength: config.episodeLength, threads: config.threads, frameSkip: config.frameSkip });
      for (const line of compareWithReference(agent, ref, config.episodeLength)) console.log(line);
    } catch (e) {
      console.log(`  (no random-policy reference: ${(e as Error).message})`);
    }
  }
}

const EvalSchema = z
  .object({
    env: z.string().optional().describe("Evaluate on this env id instead (default: the run's evaluation env)"),
    episodes: z.number().int().min(1).max(65536).optional().describe("Episodes (one per parallel env; default: the run's numEvalEnvs)"),
    seed: z.number().int().min(0).default(12345).describe("Seed of the evaluation episodes"),
    trajectories: z
      .string()
      .optional()
      .describe(
        "Write the episodes to this JSON file (never overwritten): per step the achieved goal and success, MuJoCo qpos and body poses, the scene (maze, geoms), start and goal; format: docs/trajectories.md. Evaluates on this thread",
      ),
    save: z
      .boolean()
      .default(true)
      .describe("Write the result to <run>/eval/<checkpoint>__<env>__seed<seed>__n<episodes>.json (-2, -3, … when taken); --no-save prints it only"),
    backend: z.enum(["auto", "native", "ref", "webgpu"]).optional().describe("Compute backend (default: FATHOM_BACKEND if set, else the run's)"),
    threads: z.number().int().min(0).max(256).optional().describe("Env worker threads"),
  })
  .strict();

async function cmdEval(argv: string[]): Promise<number> {
  const parsed = parseFlags(EvalSchema, argv, { helpHint: "fathom eval --help", maxPositionals: 1 });
  if (parsed.help) {
    console.log(formatHelp(EvalSchema, { usage: "Usage: fathom eval <run dir | checkpoint> [options]", description: "Runs one episode per env with the deterministic actor, prints time at goal, success rate and distance, and writes them to <run>/eval/ (see --save)." }));
    return 0;
  }
  const opts = EvalSchema.parse(parsed.values);
  const target = parsed.positionals[0];
  if (!target) throw new FlagError("fathom eval needs a run directory or checkpoint path (see fathom eval --help)");
  const found = loadRun(target);
  const saved = found.config;
  const config: TrainConfig = { ...saved, backend: opts.backend ?? backendFromEnv() ?? saved.backend, precision: precisionFromEnv() ?? saved.precision };
  const ckpt = found.checkpoint ?? latestCheckpoint(found.run.checkpointsDir);
  const spec = getEnvSpec(config.env);
  const envId = opts.env ?? primaryEvalId(config.env);
  const evalSpec = getEnvSpec(envId);
  if (evalSpec.stateDim !== spec.stateDim || evalSpec.goalDim !== spec.goalDim || evalSpec.actionDim !== spec.actionDim) {
    throw new Error(`env ${envId} has different dimensions from ${config.env}, which the agent was trained on`);
  }
  const n = opts.episodes ?? config.numEvalEnvs;
  // Refuse before evaluating, not after: an evaluation can take long.
  if (opts.trajectories !== undefined) {
    if (existsSync(opts.trajectories)) throw new Error(`refusing to overwrite ${opts.trajectories}: choose another file name`);
    const dir = dirname(resolve(opts.trajectories));
    if (!existsSync(dir)) throw new Error(`cannot write ${opts.trajectories}: directory ${dir} does not exist; create it first`);
  }
  const agent = makeAgent(config, n);
  loadAgentCheckpoint(ckpt, agent);
  console.log(backendLine(config.backend, config.precision));
  // --trajectories: the same episodes on a recording env (src/view/recording-env.ts, this thread), which keeps every step's state
  const recorder =
    opts.trajectories !== undefined ? await RecordingVecEnv.create(envId, { numEnvs: n, episodeLength: config.episodeLength, frameSkip: config.frameSkip }) : null;
  const env = recorder ?? (await makeVecEnv(envId, { numEnvs: n, threads: opts.threads, episodeLength: config.episodeLength, frameSkip: config.frameSkip }));
  try {
    const result = await evaluate(agent, env, { seed: opts.seed, recordTrajectories: recorder !== null });
    const { metrics } = result;
    console.log(`checkpoint: ${ckpt}`);
    console.log(`env: ${envId}, ${n} episodes of up to ${config.episodeLength} steps`);
    console.log(`time at goal:   ${metrics["eval/episode_success"].toFixed(1)} of ${config.episodeLength} steps`);
    console.log(`success rate:   ${(100 * metrics["eval/episode_success_any"]).toFixed(1)}% of episodes reached the goal`);
    console.log(`mean distance:  ${metrics["eval/mean_dist"].toFixed(3)} (per step; summed over the episode: ${metrics["eval/episode_dist"].toFixed(1)})`);
    console.log(`episode length: ${metrics["eval/avg_episode_length"].toFixed(1)}`);
    if (opts.save) {
      const base = `${basename(ckpt).replace(/\.safetensors$/, "")}__${envId}__seed${opts.seed}__n${n}`;
      const path = writeJsonUnique(found.run.evalDir, base, {
        fathom: version(),
        evaluated: new Date().toISOString(),
        checkpoint: ckpt,
        env: envId,
        seed: opts.seed,
        episodes: n,
        episodeLength: config.episodeLength,
        backend: getBackend(config.backend).describe(),
        metrics,
      });
      console.log(`result written to ${path}`);
    }
    if (opts.trajectories) {
      if (existsSync(opts.trajectories)) throw new Error(`refusing to overwrite ${opts.trajectories}: it appeared while the evaluation ran; choose another file name`);
      const file = recordedTrajectoryFile(recorder!, result, { fathom: version(), run: trajectoryRun(found.run, config), checkpoint: ckpt, seed: opts.seed });
      writeTrajectoryFile(opts.trajectories, file);
      console.log(`trajectories written to ${opts.trajectories}`);
    }
    return 0;
  } finally {
    await env.close();
  }
}

function takeList(args: string[], name: string, def: number[]): number[] {
  const v = takeOption(args, name);
  if (v === undefined) return def;
  try {
    return parseIntList(v, `--${name}`);
  } catch (e) {
    throw new FlagError((e as Error).message);
  }
}

/** Removes a boolean `--name` from args; true when it was there. */
function takeFlag(args: string[], name: string): boolean {
  let found = false;
  for (let i = args.length - 1; i >= 0; i--) {
    if (args[i] === `--${name}`) {
      args.splice(i, 1);
      found = true;
    }
  }
  return found;
}

/** How this process runs the CLI in a child: the compiled bin.js, or bin.ts through tsx from source. */
function childCli(): string[] {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith(".ts")) return ["--import", import.meta.resolve("tsx"), join(dirname(here), "bin.ts")];
  const bin = join(dirname(here), "bin.js");
  if (!existsSync(bin)) throw new Error(`fathom sweep --jobs needs ${bin}, which is missing: rebuild with \`npm run build\``);
  return [bin];
}

interface SweepPoint {
  actorDepth: number;
  /** null for an agent without a critic. */
  criticDepth: number | null;
  /** Set when the sweep varies the batch size (--batch-sizes). */
  batchSize?: number;
  seed: number;
  label: string;
  /** Arguments of `fathom train` for a fresh run (without --sweep-run-dir). */
  trainArgs: string[];
  decision: SweepDecision;
  /** Set when the sweep is over: the run's summary status, or what went wrong. */
  outcome?: string;
  summary?: RunSummary | null;
}

const SWEEP_HELP = `Usage: fathom sweep --env <id> [--agent <name>] [--depths 4,16,64] [--batch-sizes 256,1024] [--seeds 0-2] [--jobs N] [--preset cpu|paper] [fathom train options]

Trains one run per (depth, seed) of one agent (--agent, default crl; see fathom train --agent <name> --help
for its options), actor and critic at the same depth (set --actor-depth or --critic-depth to keep that
one fixed), each in the run directory <runs dir>/<env>__<agent>__d<depth>__s<seed> (a<actor>c<critic>
when they differ). Running the same sweep again continues it: finished runs
(summary.json says done) are skipped, interrupted ones are resumed from their last checkpoint (one
that another process is training, by its train.lock, is reported and left alone), a
directory with no checkpoint is moved aside to <name>.incomplete-<time> and restarted. A directory
whose config.json differs from what the sweep would run is an error (nothing is reused or overwritten).

  --depths 4,16,64     depths (lists and ranges)
  --batch-sizes 256,1024  also sweep the batch size (run directories get __b<batch>); a training step
                       runs min(--sgd-batches-per-step, tuples / batch) updates, so the largest batches
                       get fewer updates per step (the paper's schedule, SPEC §4: 499 at 1024, 249 at
                       2048); fathom plot labels each group with its number
  --seeds 0-2          seeds (lists and ranges, e.g. 0,1,2 or 0-4 or 0-2,7)
  --jobs N             runs at a time (default 1: in this process). With N > 1 every run is a child
                       process writing to <run dir>/train.log, with FATHOM_THREADS = cores / N and,
                       unless --threads is given, --threads 1; Ctrl-C stops them all with a checkpoint
  --retry-nonfinite    resume runs that stopped on a non-finite loss (default: report them)

Then: fathom plot <runs dir> --out curves.svg --summary summary.svg; fathom export <runs dir> --out results/<study>`;

async function cmdSweep(argv: string[]): Promise<number> {
  const args = [...argv];
  if (args.includes("--help") || args.includes("-h")) {
    console.log(SWEEP_HELP);
    return 0;
  }
  const depths = takeList(args, "depths", [4, 16, 64]);
  const seeds = takeList(args, "seeds", [0, 1, 2]);
  const batchSizes = takeList(args, "batch-sizes", []);
  if (batchSizes.includes(0)) throw new FlagError("--batch-sizes takes positive integers");
  const jobsText = takeOption(args, "jobs");
  const jobs = jobsText === undefined ? 1 : Number(jobsText);
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 256) throw new FlagError(`--jobs takes an integer from 1 to 256, got "${jobsText}"`);
  const presetName = takeOption(args, "preset") ?? "cpu";
  const agent = takeAgent(args);
  const hasCritic = agentDefinition(agent).hasCritic;
  const retryNonfinite = takeFlag(args, "retry-nonfinite");
  if (args.some((a) => a === "--resume" || a.startsWith("--resume="))) {
    throw new FlagError("fathom sweep resumes its runs by itself: run the same sweep command again (--resume is for fathom train)");
  }
  if (args.some((a) => a === "--sweep-run-dir" || a.startsWith("--sweep-run-dir="))) throw new FlagError("--sweep-run-dir is internal to fathom sweep");
  const preset = presetValues(presetName, agent);
  const schema = trainSchemaFor(agent);
  const parseOpts = { preset, presetName, helpHint: `fathom train --agent ${agent} --help`, maxPositionals: 0, check: (c: TrainConfig) => crossKeyIssues(offlineConfig(c)) };
  checkAgentOptions(agent, args);
  withDatasetEnv(args);
  if (batchSizes.length > 0 && args.some((a) => a === "--batch-size" || a.startsWith("--batch-size="))) {
    throw new FlagError("--batch-size: --batch-sizes sets each run's batch size; drop --batch-size");
  }
  // with --batch-sizes, the options are checked with the smallest batch (each run checks its own)
  const base = parseConfig(schema, batchSizes.length > 0 ? [...args, "--batch-size", String(Math.min(...batchSizes))] : args, parseOpts);
  if (base.help) return 0;
  const offlineIssue = offlineOptionIssue(base.config.offline !== undefined, base.fromFlags);
  if (offlineIssue !== null) throw new FlagError(offlineIssue);
  if (base.fromFlags.includes("seed")) throw new FlagError("--seed: a sweep sets each run's seed; give --seeds 0,1,2 or --seeds 0-4");
  const fixedActor = base.fromFlags.includes("actorDepth");
  const fixedCritic = hasCritic && base.fromFlags.includes("criticDepth");
  if (fixedActor && (fixedCritic || !hasCritic)) {
    throw new FlagError(
      hasCritic
        ? "--actor-depth and --critic-depth are both set, which leaves nothing for --depths to sweep; drop one of them"
        : `--actor-depth is set, which leaves nothing for --depths to sweep (--agent ${agent} has no critic); drop it`,
    );
  }
  getEnvSpec(base.config.env); // a bad id fails here, before anything is done
  // Env worker threads: one per run when runs share the machine, unless the user chose. Thread
  // counts change speed, not results, so they are not compared unless the user set them.
  const userThreads = base.fromFlags.includes("threads");
  const injectThreads = jobs > 1 && !userThreads;
  const ignoreKeys = userThreads ? ["runsDir"] : ["runsDir", "threads"];

  const points: SweepPoint[] = [];
  const seen = new Set<string>();
  const estimates: { one: MemoryEstimate; recompute: MemoryEstimate | null }[] = [];
  for (const d of depths) {
    for (const batchSize of batchSizes.length > 0 ? batchSizes : [undefined]) {
      for (const seed of seeds) {
        const actorDepth = fixedActor ? base.config.actorDepth : d;
        const criticDepth = !hasCritic ? null : fixedCritic ? networkSizes(base.config).criticDepth : d;
        // a depth the user fixed is in args already (a flag may be given once)
        const cfgArgs = [...args, ...(fixedActor ? [] : ["--actor-depth", String(actorDepth)]), ...(hasCritic && !fixedCritic ? ["--critic-depth", String(d)] : [])];
        cfgArgs.push("--seed", String(seed));
        if (batchSize !== undefined) cfgArgs.push("--batch-size", String(batchSize));
        if (injectThreads) cfgArgs.push("--threads", "1");
        const r = parseConfig(schema, cfgArgs, parseOpts);
        if (r.help) return 0;
        // as fathom train records it: FATHOM_PRECISION applies unless --precision is given
        if (!r.fromFlags.includes("precision")) r.config = { ...r.config, precision: precisionFromEnv() ?? r.config.precision };
        r.config = offlineConfig(r.config);
        const name = sweepRunDirName({ env: r.config.env, agent, actorDepth, criticDepth: criticDepth ?? actorDepth, seed, batchSize });
        if (seen.has(name)) continue;
        seen.add(name);
        const dir = join(r.config.runsDir, name);
        try {
          estimates.push({ one: checkTrainLimits(r.config), recompute: r.config.recompute ? null : estimateTrainMemory(r.config, { recompute: true }) });
        } catch (e) {
          if (e instanceof TrainLimitError) throw new TrainLimitError(`depth ${depthLabel(actorDepth, criticDepth ?? actorDepth)}${batchSize === undefined ? "" : ` batch ${batchSize}`}: ${e.message}`);
          throw e;
        }
        points.push({
          actorDepth,
          criticDepth,
          ...(batchSize === undefined ? {} : { batchSize }),
          seed,
          label: `depth ${depthLabel(actorDepth, criticDepth ?? actorDepth)}${batchSize === undefined ? "" : ` batch ${batchSize}`} seed ${seed}`,
          trainArgs: ["--preset", presetName, "--agent", agent, ...cfgArgs],
          decision: planSweepPoint(dir, r.config, { ignoreKeys, retryNonfinite }),
        });
      }
    }
  }
  if (jobs > 1 && estimates.length > 1) {
    // the largest `jobs` runs may run at the same time
    const worst = [...estimates].sort((a, b) => b.one.bytes - a.one.bytes).slice(0, jobs);
    const rc = worst.every((w) => w.recompute !== null) ? worst.map((w) => w.recompute as MemoryEstimate) : null;
    checkMemory(worst.map((w) => w.one), rc, machineMemory(), `--jobs ${jobs} (${worst.length} runs at a time)`, "lower --jobs");
  }
  const refused = points.filter((p) => p.decision.action === "refuse");
  if (refused.length > 0) {
    for (const p of refused) console.error(`error: ${p.label}: ${p.decision.reason}`);
    console.error(`sweep not started: ${refused.length} of ${points.length} run directories conflict with it`);
    return 1;
  }
  const count = (a: SweepDecision["action"]) => points.filter((p) => p.decision.action === a).length;
  const threadsPerRun = Math.max(1, Math.floor(availableParallelism() / jobs));
  console.log(
    `sweep: ${points.length} runs in ${base.config.runsDir}/ — ${count("skip")} finished, ${count("resume")} to resume, ` +
      `${count("fresh") + count("move-aside")} to start${count("nonfinite") > 0 ? `, ${count("nonfinite")} stopped on a non-finite loss` : ""}` +
      (jobs > 1 ? `; ${jobs} at a time (FATHOM_THREADS=${threadsPerRun}${injectThreads ? ", --threads 1" : ""}; output in <run dir>/train.log)` : ""),
  );
  for (const p of points) {
    const d = p.decision;
    if (d.action === "skip") {
      p.outcome = "done (skipped)";
      p.summary = d.summary;
      console.log(`  skip ${p.label}: ${d.reason}`);
    } else if (d.action === "nonfinite") {
      p.outcome = "nonfinite (not retried)";
      p.summary = d.summary;
      console.log(`  skip ${p.label}: ${d.reason}`);
    } else if (d.action === "locked") {
      p.outcome = "locked (in use by another process; not resumed)";
      console.log(`  skip ${p.label}: ${d.reason}`);
    } else if (d.action === "move-aside") {
      moveAside(d);
      console.log(`  ${p.label}: moved ${d.dir} aside to ${basename(d.to)} (${d.reason}); starting it afresh`);
    }
  }
  const todo = points.filter((p) => p.decision.action === "fresh" || p.decision.action === "move-aside" || p.decision.action === "resume");
  let interrupted = false;

  const finishLine = (p: SweepPoint, code: number | string, log?: string) => {
    let summary: RunSummary | null = null;
    try {
      summary = readRunSummary(p.decision.dir);
    } catch {
      summary = null;
    }
    p.summary = summary;
    const resumed = p.decision.action === "resume" ? " (resumed)" : "";
    p.outcome = summary ? `${summary.status}${resumed}` : typeof code === "string" ? `stopped by ${code}` : `failed (exit ${code})`;
    if (summary?.status === "interrupted") interrupted = true;
    const tag = summary?.last5["eval/episode_success"];
    const goal = tag === undefined ? "no evaluation yet" : `time at goal (mean of the last ${Math.min(5, summary?.evals ?? 5)} evaluations) ${tag.toFixed(1)}`;
    console.log(`finished ${p.label}: ${p.outcome}${summary ? `, ${summary.envSteps} env steps; ${goal}` : ""}${code !== 0 && log ? `; see ${log}` : ""}`);
  };

  if (jobs === 1) {
    for (const p of todo) {
      if (interrupted) break;
      const resume = p.decision.action === "resume";
      console.log(`\n=== ${resume ? "resume" : "start"} ${p.label}: ${p.decision.dir} ===`);
      const code = await cmdTrain(resume ? ["--resume", p.decision.dir] : [...p.trainArgs, "--sweep-run-dir", p.decision.dir]);
      if (code === 2) return code; // a configuration error applies to every run
      finishLine(p, code);
    }
  } else {
    const cli = todo.length > 0 ? childCli() : [];
    const running = new Set<ChildProcess>();
    let signals = 0;
    const onSignal = () => {
      signals++;
      interrupted = true;
      console.error(
        signals === 1
          ? `\nCtrl-C: stopping the ${running.size} running run(s) after their current gradient step, with a checkpoint (Ctrl-C again to stop them now)`
          : signals === 2
            ? "\nsecond Ctrl-C: stopping the runs without a checkpoint (Ctrl-C again to kill them)"
            : "\nCtrl-C: killing the runs",
      );
      for (const c of running) c.kill(signals <= 2 ? "SIGINT" : "SIGKILL");
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    try {
      await new Promise<void>((done) => {
        let next = 0;
        const startMore = () => {
          while (!interrupted && running.size < jobs && next < todo.length) launch(todo[next++]);
          if (running.size === 0) done();
        };
        const launch = (p: SweepPoint) => {
          const resume = p.decision.action === "resume";
          const dir = p.decision.dir;
          const childArgs = resume ? ["train", "--resume", dir] : ["train", ...p.trainArgs, "--sweep-run-dir", dir];
          mkdirSync(dir, { recursive: true });
          const log = join(dir, "train.log");
          const fd = openSync(log, "a");
          writeSync(fd, `\n# ${new Date().toISOString()} fathom sweep: ${resume ? "resume" : "start"}: fathom ${childArgs.join(" ")}\n`);
          let child: ChildProcess;
          try {
            // detached: its own process group, so a terminal's Ctrl-C reaches it once, forwarded by onSignal
            child = spawn(process.execPath, [...cli, ...childArgs], {
              stdio: ["ignore", fd, fd],
              env: { ...process.env, FATHOM_THREADS: String(threadsPerRun) },
              detached: true,
            });
          } finally {
            closeSync(fd);
          }
          running.add(child);
          console.log(`${resume ? "resume" : "start"} ${p.label}: ${dir} (log: ${log})`);
          let ended = false;
          const end = (code: number | string) => {
            if (ended) return;
            ended = true;
            running.delete(child);
            finishLine(p, code, log);
            startMore();
          };
          child.on("error", (e) => {
            console.error(`error: ${p.label}: could not run ${process.execPath}: ${e.message}`);
            end(1);
          });
          child.on("close", (code, signal) => end(code ?? signal ?? 1));
        };
        startMore();
      });
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
  }

  for (const p of points) if (p.outcome === undefined) p.outcome = "not started";
  const withBatch = batchSizes.length > 0;
  console.log(`\n| depth |${withBatch ? " batch |" : ""} seed | status | time at goal (last 5) | run directory |\n|---|${withBatch ? "---:|" : ""}---:|---|---:|---|`);
  for (const p of points) {
    const v = p.summary?.last5?.["eval/episode_success"];
    console.log(
      `| ${depthLabel(p.actorDepth, p.criticDepth ?? p.actorDepth)} |${withBatch ? ` ${p.batchSize} |` : ""} ${p.seed} | ${p.outcome} | ${v === undefined ? "–" : v.toFixed(1)} | ${p.decision.dir} |`,
    );
  }
  if (interrupted) {
    console.log("sweep stopped: run the same command again to resume it");
    return 130;
  }
  return points.every((p) => p.outcome?.startsWith("done")) ? 0 : 1;
}

const GROUP_BY = ["depth", "actor-depth", "critic-depth"] as const;
type GroupBy = (typeof GROUP_BY)[number];

/**
 * Gradient steps a training step of this config runs at most: min(sgdBatchesPerStep, the batches
 * its windows hold, numEnvs × (windowLength − 1) / batchSize): fewer for the largest batches (SPEC §4).
 */
function updatesPerStep(c: TrainConfig): number {
  return Math.min(c.sgdBatchesPerStep, Math.floor((c.numEnvs * (Math.min(c.windowLength, c.maxReplaySize) - 1)) / c.batchSize));
}

/**
 * A run's group in plots: its depth (as `by` says), prefixed by its agent when runs of several
 * agents are plotted, followed by its batch size (and the updates per training step it gets) when
 * runs of several batch sizes are.
 */
function groupOf(c: TrainConfig, by: GroupBy, agentIndex: number | null, batches: boolean): { long: string; short: string; order: number[] } {
  const { actorDepth: a, criticDepth } = networkSizes(c);
  const cd = criticDepth ?? a;
  let g: { long: string; short: string; order: number[] };
  if (by === "actor-depth") g = { long: `actor depth ${a}`, short: String(a), order: [a] };
  else if (by === "critic-depth") g = { long: criticDepth === null ? "no critic" : `critic depth ${criticDepth}`, short: criticDepth === null ? "–" : String(criticDepth), order: [cd] };
  else if (a === cd) g = { long: `depth ${cd}`, short: String(cd), order: [cd, a] };
  else g = { long: `actor ${a} / critic ${cd}`, short: `a${a}/c${cd}`, order: [cd, a] };
  if (batches) g = { long: `${g.long}, batch ${c.batchSize} (≤ ${updatesPerStep(c)} updates/step)`, short: `${g.short} b${c.batchSize}`, order: [...g.order, c.batchSize] };
  if (agentIndex === null) return g;
  return { long: `${c.agent} ${g.long}`, short: `${c.agent} ${g.short}`, order: [agentIndex, ...g.order] };
}

const PlotSchema = z
  .object({
    out: z
      .string()
      .optional()
      .describe(
        "Learning curves (SVG): the metric against env steps, one line per group = mean over its runs (seeds), band = 95 % bootstrap CI of the mean (10,000 resamples, fixed seed); runs of different envs or agents are never averaged together: a group is an (env, agent, depth)",
      ),
    summary: z
      .string()
      .optional()
      .describe("Depth vs final performance (SVG; per run: mean of its last 5 evaluations): mean over seeds, 95 % bootstrap CI error bar, every seed as a dot"),
    metric: z.string().min(1).default("eval/episode_success").describe("Metric of metrics.jsonl to plot (e.g. eval_far/episode_success, eval/mean_dist)"),
    groupBy: z.enum(GROUP_BY).default("depth").describe("What a group of runs shares"),
    x: z.enum(["envsteps", "step"]).default("envsteps").describe("The curves' x axis: env steps, or training steps (step; an offline run takes no env steps)"),
    title: z.string().optional().describe("Figure title (default: the envs)"),
    force: z.boolean().default(false).describe("Replace existing figure files (without it, an existing file is an error; figures are regenerable)"),
  })
  .strict();

const PLOT_USAGE = "Usage: fathom plot <run dir | runs dir | results dir>... [options]";
const PLOT_DESCRIPTION =
  "Draws learning curves and/or depth vs final performance of runs, and prints a markdown table of the final performance per group. Run directories need only config.json and metrics.jsonl (fathom export's results folders work).";

function cmdPlot(argv: string[]): number {
  const parsed = parseFlags(PlotSchema, argv, { helpHint: "fathom plot --help" });
  if (parsed.help || argv.length === 0) {
    console.log(formatHelp(PlotSchema, { usage: PLOT_USAGE, description: PLOT_DESCRIPTION }));
    return argv.length === 0 ? 2 : 0;
  }
  const opts = PlotSchema.parse(parsed.values);
  const args = parsed.positionals;
  const { out, summary: summaryOut, title, metric, force } = opts;
  if (args.length === 0) throw new FlagError("fathom plot needs at least one run directory (or a folder of them); see fathom plot --help");
  const groupBy: GroupBy = opts.groupBy;
  if (!out && !summaryOut) throw new FlagError("fathom plot needs --out <curves.svg> and/or --summary <summary.svg>");
  if (out && summaryOut && resolve(out) === resolve(summaryOut)) throw new FlagError("--out and --summary name the same file");
  for (const f of [out, summaryOut]) {
    if (f && existsSync(f) && !force) throw new Error(`refusing to overwrite ${f}: choose another file name, or add --force to replace it (figures are regenerable)`);
  }
  const curves: Curve[] = [];
  const finals: RunFinal[] = [];
  const runs = loadRuns(args).map((r) => ({ config: r.config, dir: r.run.path, records: r.records() }));
  // Runs of different envs or agents are never averaged together: one group per (env, agent, depth).
  const envList = [...new Set(runs.map((r) => r.config.env))].sort();
  const manyEnvs = envList.length > 1;
  const agentList = AGENT_NAMES.filter((a) => runs.some((r) => r.config.agent === a));
  const manyBatches = new Set(runs.map((r) => r.config.batchSize)).size > 1;
  let episodeLength = 0;
  let noEvals = 0;
  const byGroup = new Map<string, Curve[]>();
  for (const { config: c, dir: d, records } of runs) {
    episodeLength = Math.max(episodeLength, c.episodeLength);
    const points: [number, number][] = [];
    for (const rec of records) {
      const v = rec[metric];
      const x = rec[opts.x];
      if (typeof v === "number" && Number.isFinite(v) && typeof x === "number") points.push([x, v]);
    }
    const g = groupOf(c, groupBy, agentList.length > 1 ? agentList.indexOf(c.agent) : null, manyBatches);
    const order = [envList.indexOf(c.env), ...g.order];
    const curve = { group: manyEnvs ? `${c.env}: ${g.long}` : g.long, order, points };
    curves.push(curve);
    byGroup.set(curve.group, [...(byGroup.get(curve.group) ?? []), curve]);
    const final = finalPerformance(records, metric, 5);
    if (final === null) noEvals++;
    else finals.push({ group: g.short, env: c.env, order, seed: c.seed, run: basename(resolve(d)), value: final });
  }
  const envTitle = envList.join(", ");
  const yLabel =
    metric === "eval/episode_success"
      ? `time at goal (of ${episodeLength} steps)`
      : metric === "eval_far/episode_success"
        ? `time at goal, far goals (of ${episodeLength} steps)`
        : metric;
  console.log(`${runs.length} run${runs.length === 1 ? "" : "s"} of ${envList.length} env${manyEnvs ? "s (one group per env and depth)" : ""}:`);
  for (const [g, cs] of [...byGroup].sort((a, b) => compareOrder(a[1][0], b[1][0]))) {
    console.log(`  ${g}: ${cs.length} run${cs.length === 1 ? "" : "s"}, ${runLength(cs)}`);
  }
  if (out) {
    const offline = runs.filter((r) => r.config.offline !== undefined).length;
    if (opts.x === "envsteps" && offline > 0) throw new FlagError(`${offline} of the runs trained offline and took no env steps: draw their curves against training steps with --x step`);
    writeFileAtomic(out, learningCurvesSvg(curves, { title: title ?? `${envTitle}: ${metric}`, yLabel, xLabel: opts.x === "step" ? "training steps" : "env steps" }));
    console.log(`${curves.length} runs → ${out}`);
  }
  const groups = finals.length > 0 ? summarizeFinal(finals) : [];
  if (summaryOut) {
    if (groups.length === 0) throw new Error(`no run has an evaluation of ${metric}: nothing to summarise in ${summaryOut}`);
    const xLabel = groupBy === "depth" ? "depth (actor = critic)" : groupBy.replace("-", " ");
    writeFileAtomic(
      summaryOut,
      finalSummarySvg(groups, { title: title ?? `${envTitle}: final ${metric}`, xLabel, yLabel: `${yLabel}, mean of the last 5 evaluations` }),
    );
    console.log(`${finals.length} runs in ${groups.length} groups → ${summaryOut}`);
  }
  if (groups.length > 0) {
    console.log(`\nFinal performance: per run, the mean of its last 5 evaluations of ${metric}; mean over runs with a 95 % bootstrap CI.\n`);
    console.log(finalSummaryMarkdown(groups, { groupLabel: groupBy.replace("-", " ") }));
  }
  if (noEvals > 0) console.log(`(${noEvals} run${noEvals === 1 ? " has" : "s have"} no evaluation of ${metric} yet)`);
  return 0;
}

const ExportSchema = z
  .object({
    out: z.string().min(1).describe("The results folder: <out>/<run name>/ gets config.json, metrics.jsonl and summary.json"),
    update: z.boolean().default(false).describe("Replace the files of runs whose summary is newer than the exported one (without it, a file that differs is an error and nothing is written)"),
  })
  .strict();

const EXPORT_USAGE = "Usage: fathom export <runs dir> --out <results dir> [--update]";
const EXPORT_DESCRIPTION =
  'Copies config.json, metrics.jsonl and summary.json (never checkpoints) of every finished run (summary.json status "done") into <results dir>/<run name>/, to be committed. Identical files are skipped.';

function cmdExport(argv: string[]): number {
  const parsed = parseFlags(ExportSchema, argv, { helpHint: "fathom export --help", maxPositionals: 1 });
  if (parsed.help || argv.length === 0) {
    console.log(formatHelp(ExportSchema, { usage: EXPORT_USAGE, description: EXPORT_DESCRIPTION }));
    return argv.length === 0 ? 2 : 0;
  }
  if (parsed.values.out === undefined) throw new FlagError("fathom export needs --out <results dir>");
  const { out, update } = ExportSchema.parse(parsed.values);
  const args = parsed.positionals;
  if (args.length !== 1) throw new FlagError("fathom export takes one runs directory (see fathom export --help)");
  const plan = exportRuns(args[0], out, { update });
  for (const run of plan.finished) {
    const fs = plan.files.filter((f) => f.run === run);
    const n = (a: string) => fs.filter((f) => f.action === a).length;
    const what = n("copy") + n("replace") === 0 ? "unchanged" : [n("copy") && `${n("copy")} copied`, n("replace") && `${n("replace")} replaced`].filter(Boolean).join(", ");
    console.log(`  ${run}: ${what}`);
  }
  for (const u of plan.unfinished) console.log(`  ${u.run}: not finished (${u.status}), not exported`);
  const total = (a: string) => plan.files.filter((f) => f.action === a).length;
  console.log(
    `exported ${plan.finished.length} finished run(s) to ${out}: ${total("copy")} file(s) copied, ${total("replace")} replaced, ${total("same")} unchanged; ` +
      `${plan.unfinished.length} unfinished run(s) left out`,
  );
  return 0;
}

function cmdBench(argv: string[]): number {
  const main = join(root, "bench", "main.ts");
  if (!existsSync(main)) {
    console.error("fathom bench needs the benchmark sources (bench/), which ship with a checkout of the repository, not with an installed package");
    return 2;
  }
  const r = spawnSync(process.execPath, ["--import", "tsx", main, ...argv], { cwd: root, stdio: "inherit" });
  return r.status ?? 1;
}

export async function run(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case undefined:
      case "-h":
      case "--help":
      case "help":
        console.log(USAGE);
        return cmd === undefined ? 2 : 0;
      case "--version":
      case "-v":
        console.log(version());
        return 0;
      case "train":
        return await cmdTrain(rest);
      case "eval":
        return await cmdEval(rest);
      case "sweep":
        return await cmdSweep(rest);
      case "plot":
        return cmdPlot(rest);
      case "export":
        return cmdExport(rest);
      case "collect":
        return await cmdCollect(rest, version());
      case "view":
        return await cmdView(rest, version());
      case "video":
        return await cmdVideo(rest, version());
      case "envs":
        console.log(formatEnvTable());
        return 0;
      case "bench":
        return cmdBench(rest);
      default:
        console.error(`unknown command "${cmd}": allowed are train, eval, sweep, plot, export, view, video, envs, bench, collect (see fathom --help)`);
        return 2;
    }
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    if (process.env.FATHOM_DEBUG) console.error((e as Error).stack);
    return e instanceof FlagError || e instanceof TrainLimitError ? 2 : 1;
  }
}
