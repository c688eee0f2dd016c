// `fathom` — the command line: train | eval | sweep | plot | export | view | video | envs | bench.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { availableParallelism } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { backendFromEnv, getBackend, nativeBackendError, type Precision, precisionFromEnv, resolvePrecision } from "../engine/index.js";
import { type ExtraEval, extraEvals, formatEnvTable, getEnvSpec, makeVecEnv, primaryEvalId, validateFrameSkip } from "../envs/registry.js";
import { AGENT_NAMES } from "../agents/agent.js";
import { networkSizes, runDepth, type TrainConfig } from "../train/config.js";
import { listCheckpoints } from "../train/checkpoint.js";
import { type EvalMetrics, evaluate } from "../train/evaluate.js";
import { exportRuns } from "../train/export.js";
import { applyExtension, planExtension } from "../train/extend.js";
import { checkMemory, checkTrainLimits, estimateTrainMemory, evaluationsBeforeTraining, type MemoryEstimate, machineMemory, TrainLimitError } from "../train/limits.js";
import { MetricsLogger } from "../train/logger.js";
import { type Curve, compareOrder, finalSummaryMarkdown, finalSummarySvg, learningCurvesSvg, type RunFinal, runLength, summarizeFinal } from "../train/plot.js";
import { ProgressReporter } from "../train/progress.js";
import { evalResultBase, posthocRecords, readEvalResults } from "../train/posthoc.js";
import { loadRun, loadRuns, readRunConfig } from "../train/run.js";
import { compareWithReference, REFERENCE_EPISODES, randomPolicyReference } from "../train/reference.js";
import {
  acquireRunLock,
  createRunDir,
  findRunDir,
  RUN_FILES,
  type RunDir,
  type RunLock,
  sweepRunDirName,
  writeFileAtomic,
  writeJsonAtomic,
  writeJsonUnique,
} from "../train/rundir.js";
import { finalPerformance, type RunSummary, readRunSummary, writeRunSummary } from "../train/summary.js";
import { depthLabel, EXIT_RUN_TAKEN, LENGTH_KEYS, lockSweepResume, moveAside, openSweepRunDir, planSweepPoint, RunTakenError, type SweepDecision } from "../train/sweep.js";
import type { EvalRecord } from "../train/trainer.js";
import { checkpointPosition, latestCheckpoint, loadAgentCheckpoint, makeAgent, train } from "../train/trainer.js";
import { FlagError, formatHelp, parseFlags } from "./flags.js";
import { parseSweepArgs, parseTrainArgs, runValueArgs, type TrainRequest } from "./train-args.js";
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
  fathom train --env <id> [--agent crl] [--preset cpu|cpu-ant|paper] [options]
                                                           train an agent (fathom train [--agent <name>] --help)
  fathom train --offline data.safetensors --agent crl|gcbc train from a dataset (fathom collect), no env steps
  fathom train --resume <run dir> [--total-env-steps N]    continue a stopped run (or extend one to N env steps)
  fathom eval <run dir | checkpoint> [options]             evaluate a trained agent (fathom eval --help)
  fathom sweep --env <id> --depths 4,16 --seeds 0-2 [--jobs N] [train options]
                                                           one run per depth and seed; run it again to resume
  fathom plot <run dirs | runs dir>... --out curves.svg [--summary summary.svg]
                                                           learning curves; depth vs final performance
  fathom export <runs dir> --out <results dir>             copy finished runs' config, metrics, eval results, summary
  fathom collect <run dir> | --policy random --env <id> --steps N --out data.safetensors
                                                           an offline dataset (for fathom train --offline)
  fathom view <run dirs | runs dir>... [--port N]          curves and replays in the browser (localhost)
  fathom video <run dirs | runs dir>... --out replay.mp4   replays rendered to .mp4, .webm, .gif (or a .png still)
  fathom envs                                              list the environments
  fathom bench <name> [options]                            run a benchmark (gemm, train, crl, envs, ...)
  fathom --version

Compute backend: --backend auto|native|ref|webgpu or FATHOM_BACKEND (auto = native when it built, else ref; never webgpu).
WebGPU: a GPU through the webgpu package (Dawn); --agent crl then runs its whole update on the device (README: GPUs through WebGPU).
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

/** `fathom train`. */
async function cmdTrain(argv: string[]): Promise<number> {
  const req = parseTrainArgs(argv);
  if (req.kind === "help") {
    console.log(req.text);
    return 0;
  }
  return await runTrain(req);
}

/**
 * A run of `fathom train` (or of `fathom sweep`), holding the run directory's lock (rundir.ts
 * acquireRunLock) from when it is known until the end.
 */
async function runTrain(req: Exclude<TrainRequest, { kind: "help" }>): Promise<number> {
  const locks: RunLock[] = [];
  try {
    return await runTrainLocked(req, locks);
  } finally {
    for (const l of locks) l.release();
  }
}

async function runTrainLocked(req: Exclude<TrainRequest, { kind: "help" }>, locks: RunLock[]): Promise<number> {
  let config: TrainConfig;
  let runDir: ReturnType<typeof createRunDir>;
  let resumeFrom: string | undefined;
  const resume = req.kind === "resume";
  if (req.kind === "resume") {
    const { want } = req;
    const found = findRunDir(req.target);
    runDir = found.run;
    const lock = (path: string) => acquireRunLock(path, { log: (l) => console.error(`warning: ${l}`) });
    // a sweep's resume: another sweep on the same runs directory may have resumed or finished it
    locks.push(req.sweep ? lockSweepResume(runDir.path, lock) : lock(runDir.path));
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
    config = req.config;
    // Everything that can be checked is checked before a run directory is made: the env id, the
    // backend (and FATHOM_THREADS), the memory the run needs and JavaScript's array limits.
    getEnvSpec(config.env);
    if (config.frameSkip !== undefined) validateFrameSkip(config.env, config.frameSkip);
    const backendDescription = getBackend(config.backend).describe();
    checkTrainLimits(config);
    const lock = (path: string) => acquireRunLock(path, { log: (l) => console.error(`warning: ${l}`) });
    if (req.sweepRunDir !== undefined) {
      const opened = openSweepRunDir(req.sweepRunDir, lock); // the lock first: another sweep may want the same point
      runDir = opened.runDir;
      locks.push(opened.lock);
    } else {
      runDir = createRunDir(config.runsDir, { env: config.env, agent: config.agent, depth: runDepth(config), seed: config.seed });
      locks.push(lock(runDir.path));
    }
    writeJsonAtomic(runDir.configPath, {
      fathom: version(),
      preset: req.presetName,
      created: new Date().toISOString(),
      backend: backendDescription,
      // what ran: config.precision is what was asked for (bf16 falls back to fp32 where it cannot run)
      precision: precisionUsed(config.backend, config.precision),
      config,
    });
  }
  if (req.kind === "resume" && req.threads !== undefined) config = { ...config, threads: req.threads }; // speed only, not saved
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
  const layouts: { id: string; prefix: "eval" | ExtraEval["prefix"]; label: string }[] = [
    { id: primaryEvalId(config.env), prefix: "eval", label: primaryEvalId(config.env) === config.env ? "goals" : "far goals, the paper's evaluation" },
  ];
  for (const x of extraEvals(config.env)) {
    const label = x.prefix === "eval_far" ? "far goals only" : "all goals";
    if (typeof (final as unknown as Record<string, unknown>)[`${x.prefix}/episode_success`] === "number") layouts.push({ id: x.id, prefix: x.prefix, label });
  }
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
    everyCheckpoint: z
      .boolean()
      .default(false)
      .describe(
        "Evaluate every periodic checkpoint (step_…) of the run, or of every run in a folder of runs, that has no result yet for this env, seed and episode count, oldest first; rerun it to continue (fathom plot --posthoc <env> draws the results)",
      ),
  })
  .strict();

const EVAL_USAGE = "Usage: fathom eval <run dir | checkpoint> [options]\n       fathom eval <run dir | runs dir> --every-checkpoint [options]";

/** Checks that `envId` has the dimensions of the env the run's agent was trained on. */
function checkEvalDims(config: TrainConfig, envId: string): void {
  const spec = getEnvSpec(config.env);
  const evalSpec = getEnvSpec(envId);
  if (evalSpec.stateDim !== spec.stateDim || evalSpec.goalDim !== spec.goalDim || evalSpec.actionDim !== spec.actionDim) {
    throw new Error(`env ${envId} has different dimensions from ${config.env}, which the agent was trained on`);
  }
}

/** Writes one evaluation's result to <run>/eval/ (never over another file); returns its path. */
function saveEvalResult(run: RunDir, config: TrainConfig, ckpt: string, envId: string, seed: number, episodes: number, metrics: EvalMetrics): string {
  return writeJsonUnique(run.evalDir, evalResultBase(ckpt, envId, seed, episodes), {
    fathom: version(),
    evaluated: new Date().toISOString(),
    checkpoint: ckpt,
    env: envId,
    seed,
    episodes,
    episodeLength: config.episodeLength,
    backend: getBackend(config.backend).describe(),
    metrics,
  });
}

/** fathom eval --every-checkpoint: the periodic checkpoints of each run without a result, one agent and env per run. */
async function evalEveryCheckpoint(target: string, opts: z.output<typeof EvalSchema>): Promise<number> {
  if (opts.trajectories !== undefined) throw new FlagError("--every-checkpoint writes results, not trajectories: evaluate one checkpoint with --trajectories");
  if (!opts.save) throw new FlagError("--every-checkpoint writes each result to <run>/eval/ (that is how a rerun knows what is done): leave out --no-save");
  const runs = loadRuns([target]);
  let evaluated = 0;
  let skipped = 0;
  for (const r of runs) {
    const config: TrainConfig = { ...r.config, backend: opts.backend ?? backendFromEnv() ?? r.config.backend, precision: precisionFromEnv() ?? r.config.precision };
    const envId = opts.env ?? primaryEvalId(config.env);
    checkEvalDims(config, envId);
    const n = opts.episodes ?? config.numEvalEnvs;
    const done = new Set(
      readEvalResults(r.run.path)
        .filter((e) => e.env === envId && e.seed === opts.seed && e.episodes === n)
        .map((e) => e.checkpoint),
    );
    const todo = listCheckpoints(r.run.checkpointsDir)
      .filter((c) => c.kind === "step")
      .sort((a, b) => a.envSteps - b.envSteps);
    const missing = todo.filter((c) => !done.has(c.name));
    skipped += todo.length - missing.length;
    console.log(`${r.run.path}: ${todo.length} periodic checkpoints, ${missing.length} to evaluate on ${envId} (${n} episodes, seed ${opts.seed})`);
    if (missing.length === 0) continue;
    console.log(`  ${backendLine(config.backend, config.precision)}`);
    const agent = makeAgent(config, n);
    const env = await makeVecEnv(envId, { numEnvs: n, threads: opts.threads, episodeLength: config.episodeLength, frameSkip: config.frameSkip });
    try {
      for (const c of missing) {
        if (!existsSync(c.path)) {
          console.log(`  ${c.name}: gone (removed by the run's --keep-checkpoints while this ran), skipped`);
          continue;
        }
        loadAgentCheckpoint(c.path, agent);
        const { metrics } = await evaluate(agent, env, { seed: opts.seed });
        const path = saveEvalResult(r.run, config, c.path, envId, opts.seed, n, metrics);
        evaluated++;
        console.log(
          `  ${c.name}: time at goal ${metrics["eval/episode_success"].toFixed(1)}, ${(100 * metrics["eval/episode_success_any"]).toFixed(1)}% reached, mean distance ${metrics["eval/mean_dist"].toFixed(3)} → ${basename(path)}`,
        );
      }
    } finally {
      await env.close();
    }
  }
  console.log(`${evaluated} checkpoint${evaluated === 1 ? "" : "s"} evaluated, ${skipped} already had a result`);
  return 0;
}

async function cmdEval(argv: string[]): Promise<number> {
  const parsed = parseFlags(EvalSchema, argv, { helpHint: "fathom eval --help", maxPositionals: 1 });
  if (parsed.help) {
    console.log(formatHelp(EvalSchema, { usage: EVAL_USAGE, description: "Runs one episode per env with the deterministic actor, prints time at goal, success rate and distance, and writes them to <run>/eval/ (see --save)." }));
    return 0;
  }
  const opts = EvalSchema.parse(parsed.values);
  const target = parsed.positionals[0];
  if (!target) throw new FlagError("fathom eval needs a run directory or checkpoint path (see fathom eval --help)");
  if (opts.everyCheckpoint) return evalEveryCheckpoint(target, opts);
  const found = loadRun(target);
  const saved = found.config;
  const config: TrainConfig = { ...saved, backend: opts.backend ?? backendFromEnv() ?? saved.backend, precision: precisionFromEnv() ?? saved.precision };
  const ckpt = found.checkpoint ?? latestCheckpoint(found.run.checkpointsDir);
  const envId = opts.env ?? primaryEvalId(config.env);
  checkEvalDims(config, envId);
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
    if (opts.save) console.log(`result written to ${saveEvalResult(found.run, config, ckpt, envId, opts.seed, n, metrics)}`);
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
  /** The run's config, and the arguments of `fathom train` that give it (a child process's; without --sweep-run-dir). */
  config: TrainConfig;
  trainArgs: string[];
  decision: SweepDecision;
  /** Set when the sweep is over: the run's summary status, or what went wrong. */
  outcome?: string;
  summary?: RunSummary | null;
}

async function cmdSweep(argv: string[]): Promise<number> {
  const req = parseSweepArgs(argv);
  if (req.kind === "help") {
    console.log(req.text);
    return 0;
  }
  const { plan } = req;
  const { depths, seeds, batchSizes, jobs, retryNonfinite } = plan.command;
  const { base, presetName } = plan;
  getEnvSpec(base.env); // a bad id fails here, before anything is done
  // Env worker threads: one per run when runs share the machine, unless the user chose. Thread
  // counts change speed, not results: they are not compared, and a resumed run takes the sweep's.
  const injectThreads = jobs > 1 && !plan.userThreads;
  const ignoreKeys = ["runsDir", "threads"];
  const resumeThreads = plan.userThreads ? base.threads : injectThreads ? 1 : undefined;

  const points: SweepPoint[] = [];
  const seen = new Set<string>();
  const estimates: { one: MemoryEstimate; recompute: MemoryEstimate | null }[] = [];
  for (const d of depths) {
    for (const batchSize of batchSizes.length > 0 ? batchSizes : [undefined]) {
      for (const seed of seeds) {
        const { config, trainArgs } = plan.run({ depth: d, seed, batchSize, ...(injectThreads ? { threads: 1 } : {}) });
        const { actorDepth, criticDepth } = networkSizes(config);
        const name = sweepRunDirName({ env: config.env, agent: plan.agent, actorDepth, criticDepth: criticDepth ?? actorDepth, seed, batchSize });
        if (seen.has(name)) continue;
        seen.add(name);
        const dir = join(config.runsDir, name);
        const depth = depthLabel(actorDepth, criticDepth ?? actorDepth);
        try {
          estimates.push({ one: checkTrainLimits(config), recompute: config.recompute ? null : estimateTrainMemory(config, { recompute: true }) });
        } catch (e) {
          if (e instanceof TrainLimitError) throw new TrainLimitError(`depth ${depth}${batchSize === undefined ? "" : ` batch ${batchSize}`}: ${e.message}`);
          throw e;
        }
        points.push({
          actorDepth,
          criticDepth,
          ...(batchSize === undefined ? {} : { batchSize }),
          seed,
          label: `depth ${depth}${batchSize === undefined ? "" : ` batch ${batchSize}`} seed ${seed}`,
          config,
          trainArgs,
          decision: planSweepPoint(dir, config, { ignoreKeys, retryNonfinite }),
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
  /** A refusal for a different configuration, with the flags that would let the sweep go on with the run where they exist. */
  const refusal = (d: SweepDecision): string => {
    const other = d.action === "refuse" && d.diffs && !d.diffs.every((x) => LENGTH_KEYS.includes(x.key)) ? d.diffs : null;
    const args = other ? runValueArgs(plan.agent, other) : null;
    return args ? `${d.reason}; or, to go on with it, give the sweep the run's values: ${args.join(" ")}` : d.reason;
  };
  const refused = points.filter((p) => p.decision.action === "refuse");
  if (refused.length > 0) {
    for (const p of refused) console.error(`error: ${p.label}: ${refusal(p.decision)}`);
    console.error(`sweep not started: ${refused.length} of ${points.length} run directories conflict with it`);
    return 1;
  }
  const count = (a: SweepDecision["action"]) => points.filter((p) => p.decision.action === a).length;
  const threadsPerRun = Math.max(1, Math.floor(availableParallelism() / jobs));
  console.log(
    `sweep: ${points.length} runs in ${base.runsDir}/ — ${count("skip")} finished, ${count("resume")} to resume, ` +
      `${count("fresh") + count("move-aside")} to start${count("nonfinite") > 0 ? `, ${count("nonfinite")} stopped on a non-finite loss` : ""}` +
      (jobs > 1 ? `; ${jobs} at a time (FATHOM_THREADS=${threadsPerRun}${injectThreads ? ", --threads 1" : ""}; output in <run dir>/train.log)` : ""),
  );
  // A point another process trains (locked when planned, or taken between plan and start).
  const TAKEN = "locked (in use by another process; left to it)";
  // Moves a point's directory aside, holding its run lock meanwhile; false (reported, the point
  // marked as another's) when another process holds or has trained it since the plan.
  const moveAsideOrTaken = (p: SweepPoint, d: Extract<SweepDecision, { action: "move-aside" }>): boolean => {
    try {
      moveAside(d, (path) => acquireRunLock(path, { log: (l) => console.error(`warning: ${l}`) }));
    } catch (e) {
      if (!(e instanceof RunTakenError)) throw e;
      p.outcome = TAKEN;
      console.log(`  skip ${p.label}: ${e.message}`);
      return false;
    }
    console.log(`  ${p.label}: moved ${d.dir} aside to ${basename(d.to)} (${d.reason}); starting it afresh`);
    return true;
  };
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
      p.outcome = TAKEN;
      console.log(`  skip ${p.label}: ${d.reason}`);
    } else if (d.action === "move-aside" && !moveAsideOrTaken(p, d)) {
      p.decision = { action: "locked", dir: d.dir, reason: "taken by another process" }; // not in the to-do list
    }
  }
  const todo = points.filter((p) => p.decision.action === "fresh" || p.decision.action === "move-aside" || p.decision.action === "resume");
  let interrupted = false;

  // Decides a point again just before it runs: another sweep on the same runs directory may have
  // started, finished or left it since this one planned. Returns whether to run it (p.decision is
  // then fresh or resume).
  const replan = (p: SweepPoint): boolean => {
    const d = planSweepPoint(p.decision.dir, p.config, { ignoreKeys, retryNonfinite });
    if (d.action === "fresh" || d.action === "resume") {
      p.decision = d;
      return true;
    }
    if (d.action === "move-aside") {
      if (!moveAsideOrTaken(p, d)) return false;
      p.decision = { action: "fresh", dir: d.dir, reason: "new run" };
      return true;
    }
    if (d.action === "skip") {
      p.outcome = "done (finished by another process)";
      p.summary = d.summary;
    } else if (d.action === "nonfinite") {
      p.outcome = "nonfinite (not retried)";
      p.summary = d.summary;
    } else if (d.action === "locked") {
      p.outcome = TAKEN;
    } else {
      p.outcome = `refused: ${refusal(d)}`;
      console.error(`error: ${p.label}: ${refusal(d)}`);
      return false;
    }
    console.log(`  skip ${p.label}: ${d.reason}`);
    return false;
  };

  const finishLine = (p: SweepPoint, code: number | string, log?: string) => {
    let summary: RunSummary | null = null;
    try {
      summary = readRunSummary(p.decision.dir);
    } catch {
      summary = null;
    }
    if (code === EXIT_RUN_TAKEN) {
      // another process holds the point (its summary, if any, is that process's business) or
      // finished it after this sweep decided to run it
      const finished = summary?.status === "done";
      p.summary = finished ? summary : null;
      p.outcome = finished ? "done (finished by another process)" : TAKEN;
      if (log !== undefined) console.log(`  skip ${p.label}: ${p.outcome}`);
      return;
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
      if (!replan(p)) continue;
      const resume = p.decision.action === "resume";
      console.log(`\n=== ${resume ? "resume" : "start"} ${p.label}: ${p.decision.dir} ===`);
      let code: number;
      try {
        code = await runTrain(
          resume
            ? { kind: "resume", target: p.decision.dir, want: {}, sweep: true, ...(resumeThreads === undefined ? {} : { threads: resumeThreads }) }
            : { kind: "new", config: p.config, presetName, sweepRunDir: p.decision.dir },
        );
      } catch (e) {
        if (!(e instanceof RunTakenError)) throw e;
        console.log(`  skip ${p.label}: ${e.message}`);
        finishLine(p, EXIT_RUN_TAKEN);
        continue;
      }
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
          while (!interrupted && running.size < jobs && next < todo.length) {
            const p = todo[next++];
            if (replan(p)) launch(p);
          }
          if (running.size === 0) done();
        };
        const launch = (p: SweepPoint) => {
          const resume = p.decision.action === "resume";
          const dir = p.decision.dir;
          const childArgs = resume
            ? ["train", "--resume", dir, "--sweep-resume", ...(resumeThreads === undefined ? [] : ["--threads", String(resumeThreads)])]
            : ["train", ...p.trainArgs, "--sweep-run-dir", dir];
          mkdirSync(dir, { recursive: true });
          const log = join(dir, RUN_FILES.sweepLog);
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
 * agents are plotted and by online/offline when both kinds are (an offline run of an agent is
 * never averaged with its online runs), followed by its batch size (and the updates per training
 * step it gets) when runs of several batch sizes are.
 */
function groupOf(c: TrainConfig, by: GroupBy, agentIndex: number | null, batches: boolean, modes = false): { long: string; short: string; order: number[] } {
  const { actorDepth: a, criticDepth } = networkSizes(c);
  const cd = criticDepth ?? a;
  let g: { long: string; short: string; order: number[] };
  if (by === "actor-depth") g = { long: `actor depth ${a}`, short: String(a), order: [a] };
  else if (by === "critic-depth") g = { long: criticDepth === null ? "no critic" : `critic depth ${criticDepth}`, short: criticDepth === null ? "–" : String(criticDepth), order: [cd] };
  else if (a === cd) g = { long: `depth ${cd}`, short: String(cd), order: [cd, a] };
  else g = { long: `actor ${a} / critic ${cd}`, short: `a${a}/c${cd}`, order: [cd, a] };
  if (batches) g = { long: `${g.long}, batch ${c.batchSize} (≤ ${updatesPerStep(c)} updates/step)`, short: `${g.short} b${c.batchSize}`, order: [...g.order, c.batchSize] };
  if (modes) {
    const offline = c.offline !== undefined;
    const mode = offline ? "offline" : "online";
    g = { long: `${mode} ${g.long}`, short: `${mode} ${g.short}`, order: [offline ? 1 : 0, ...g.order] };
  }
  if (agentIndex === null) return g;
  return { long: `${c.agent} ${g.long}`, short: `${c.agent} ${g.short}`, order: [agentIndex, ...g.order] };
}

const PlotSchema = z
  .object({
    out: z
      .string()
      .optional()
      .describe(
        "Learning curves (SVG): the metric against env steps, one line per group = mean over its runs (seeds), band = 95 % bootstrap CI of the mean (10,000 resamples, fixed seed); runs of different envs or agents, or online and offline runs, are never averaged together: a group is an (env, agent, online/offline, depth)",
      ),
    summary: z
      .string()
      .optional()
      .describe("Depth vs final performance (SVG; per run: mean of its last 5 evaluations): mean over seeds, 95 % bootstrap CI error bar, every seed as a dot"),
    metric: z.string().min(1).default("eval/episode_success").describe("Metric of metrics.jsonl to plot (e.g. eval_far/episode_success, eval/mean_dist)"),
    posthoc: z
      .string()
      .min(1)
      .optional()
      .describe(
        "Plot the runs' post-hoc evaluations on this env id instead of metrics.jsonl: the results of fathom eval <checkpoint> --env <id> in <run>/eval/, one per periodic checkpoint at its env steps (the metric is one of theirs, e.g. eval/episode_success, eval/mean_dist)",
      ),
    posthocSeed: z.number().int().min(0).optional().describe("With --posthoc: only the results of this evaluation seed (needed when a checkpoint was evaluated under several)"),
    posthocEpisodes: z.number().int().min(1).optional().describe("With --posthoc: only the results of this many episodes (needed when a checkpoint was evaluated with several counts)"),
    groupBy: z.enum(GROUP_BY).default("depth").describe("What a group of runs shares"),
    x: z.enum(["envsteps", "step"]).default("envsteps").describe("The curves' x axis: env steps, or training steps (step; an offline run takes no env steps)"),
    title: z.string().optional().describe("Figure title (default: the envs)"),
    force: z.boolean().default(false).describe("Replace existing figure files (without it, an existing file is an error; figures are regenerable)"),
  })
  .strict();

const PLOT_USAGE = "Usage: fathom plot <run dir | runs dir | results dir>... [options]";
const PLOT_DESCRIPTION =
  "Draws learning curves and/or depth vs final performance of runs, and prints a markdown table of the final performance per group. Run directories need only config.json and metrics.jsonl (fathom export's results folders work); with --posthoc, their eval/ results of fathom eval instead.";

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
  const posthoc = opts.posthoc;
  if (posthoc === undefined && (opts.posthocSeed !== undefined || opts.posthocEpisodes !== undefined)) {
    throw new FlagError("--posthoc-seed and --posthoc-episodes choose among post-hoc evaluations: give --posthoc <env id> too");
  }
  if (posthoc !== undefined) {
    getEnvSpec(posthoc); // an unknown env id is an error that lists the known ones
    if (opts.x === "step") throw new FlagError("post-hoc evaluations stand at their checkpoints' env steps: --posthoc draws against env steps only (leave out --x step)");
  }
  if (out && summaryOut && resolve(out) === resolve(summaryOut)) throw new FlagError("--out and --summary name the same file");
  for (const f of [out, summaryOut]) {
    if (f && existsSync(f) && !force) throw new Error(`refusing to overwrite ${f}: choose another file name, or add --force to replace it (figures are regenerable)`);
  }
  const curves: Curve[] = [];
  const finals: RunFinal[] = [];
  const filter = { seed: opts.posthocSeed, episodes: opts.posthocEpisodes };
  const runs = loadRuns(args).map((r) => ({
    config: r.config,
    dir: r.run.path,
    records: posthoc === undefined ? r.records() : posthocRecords(r.run.path, posthoc, filter),
  }));
  // Runs of different envs or agents, or online and offline runs, are never averaged together: one
  // group per (env, agent, online/offline, depth).
  const envList = [...new Set(runs.map((r) => r.config.env))].sort();
  const manyEnvs = envList.length > 1;
  const agentList = AGENT_NAMES.filter((a) => runs.some((r) => r.config.agent === a));
  const manyBatches = new Set(runs.map((r) => r.config.batchSize)).size > 1;
  const manyModes = new Set(runs.map((r) => r.config.offline !== undefined)).size > 1;
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
    const g = groupOf(c, groupBy, agentList.length > 1 ? agentList.indexOf(c.agent) : null, manyBatches, manyModes);
    const order = [envList.indexOf(c.env), ...g.order];
    const curve = { group: manyEnvs ? `${c.env}: ${g.long}` : g.long, order, points };
    curves.push(curve);
    byGroup.set(curve.group, [...(byGroup.get(curve.group) ?? []), curve]);
    const final = finalPerformance(records, metric, 5);
    if (final === null) noEvals++;
    else finals.push({ group: g.short, env: c.env, order, seed: c.seed, run: basename(resolve(d)), value: final });
  }
  const envTitle = envList.join(", ");
  const metricLabel =
    metric === "eval/episode_success"
      ? `time at goal (of ${episodeLength} steps)`
      : metric === "eval_far/episode_success"
        ? `time at goal, far goals (of ${episodeLength} steps)`
        : metric === "eval_all/episode_success"
          ? `time at goal, all goals (of ${episodeLength} steps)`
          : metric;
  const yLabel = posthoc === undefined ? metricLabel : `${metricLabel}, post-hoc on ${posthoc}`;
  console.log(`${runs.length} run${runs.length === 1 ? "" : "s"} of ${envList.length} env${manyEnvs ? "s (one group per env and depth)" : ""}:`);
  for (const [g, cs] of [...byGroup].sort((a, b) => compareOrder(a[1][0], b[1][0]))) {
    console.log(`  ${g}: ${cs.length} run${cs.length === 1 ? "" : "s"}, ${runLength(cs, opts.x === "step" ? "training steps" : "env steps")}`);
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
    const source = posthoc === undefined ? "" : ` (post-hoc evaluations on ${posthoc}, one per periodic checkpoint)`;
    console.log(`\nFinal performance: per run, the mean of its last 5 evaluations of ${metric}${source}; mean over runs with a 95 % bootstrap CI.\n`);
    console.log(finalSummaryMarkdown(groups, { groupLabel: groupBy.replace("-", " ") }));
  }
  if (noEvals > 0) {
    const what = posthoc === undefined ? `evaluation of ${metric}` : `post-hoc evaluation on ${posthoc} with ${metric} (fathom eval <run> --every-checkpoint --env ${posthoc})`;
    console.log(`(${noEvals} run${noEvals === 1 ? " has" : "s have"} no ${what} yet)`);
  }
  return 0;
}

const ExportSchema = z
  .object({
    out: z.string().min(1).describe("The results folder: <out>/<run name>/ gets config.json, metrics.jsonl, eval/*.json and summary.json"),
    update: z.boolean().default(false).describe("Replace the files of runs whose summary is newer than the exported one (without it, a file that differs is an error and nothing is written)"),
  })
  .strict();

const EXPORT_USAGE = "Usage: fathom export <runs dir> --out <results dir> [--update]";
const EXPORT_DESCRIPTION =
  'Copies config.json, metrics.jsonl, the results of fathom eval (eval/*.json) and summary.json (never checkpoints) of every finished run (summary.json status "done") into <results dir>/<run name>/, to be committed. Identical files are skipped.';

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

const EnvsSchema = z.object({}).strict();

function cmdEnvs(argv: string[]): number {
  const parsed = parseFlags(EnvsSchema, argv, { helpHint: "fathom envs --help", maxPositionals: 0 });
  if (parsed.help) {
    console.log(formatHelp(EnvsSchema, { usage: "Usage: fathom envs", description: "Lists every env id: its state, goal and action dimensions, episode length, goal threshold, frame skip and evaluation env." }));
    return 0;
  }
  console.log(formatEnvTable());
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
        return cmdEnvs(rest);
      case "bench":
        return cmdBench(rest);
      default:
        console.error(`unknown command "${cmd}": allowed are train, eval, sweep, plot, export, view, video, envs, bench, collect (see fathom --help)`);
        return 2;
    }
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    if (process.env.FATHOM_DEBUG) console.error((e as Error).stack);
    if (e instanceof RunTakenError) return EXIT_RUN_TAKEN; // a sweep's child: the sweep reports it
    return e instanceof FlagError || e instanceof TrainLimitError ? 2 : 1;
  }
}
