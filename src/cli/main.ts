// `fathom` — the command line: train | eval | envs | bench.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { getBackend, nativeBackendError } from "../engine/index.js";
import { formatEnvTable, getEnvSpec, makeVecEnv } from "../envs/registry.js";
import { type TrainConfig, PRESETS, TrainConfigSchema } from "../train/config.js";
import { evaluate } from "../train/evaluate.js";
import { type Curve, learningCurvesSvg } from "../train/plot.js";
import { MetricsLogger } from "../train/logger.js";
import { ProgressReporter } from "../train/progress.js";
import { createRunDir, findRunDir, listRunDirs, writeFileAtomic, writeJsonAtomic } from "../train/rundir.js";
import { latestCheckpoint, loadAgentCheckpoint, makeAgent, train } from "../train/trainer.js";
import { FlagError, formatHelp, parseConfig, parseFlags } from "./flags.js";
import { z } from "zod";

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
  fathom train --env <id> [--preset cpu|paper] [options]   train a CRL agent (fathom train --help)
  fathom train --resume <run dir>                          continue a stopped run
  fathom eval <run dir | checkpoint> [options]             evaluate a trained agent (fathom eval --help)
  fathom sweep --env <id> --depths 4,16,64 --seeds 0,1,2 [train options]   one run per depth and seed
  fathom plot <run dirs | runs dir>... --out curves.svg     learning curves (time at goal vs env steps)
  fathom envs                                              list the environments
  fathom bench <name> [options]                            run a benchmark (gemm, train, crl, envs, ...)
  fathom --version

Compute backend: --backend auto|native|ref or FATHOM_BACKEND (auto = native when it built).`;

function backendLine(name: string): string {
  const be = getBackend(name);
  const err = nativeBackendError();
  if (be.name === "ref") {
    return `backend: ${be.describe()}${err ? ` — WARNING: the native backend is unavailable (${err}); training will be very slow. Rebuild with \`npm run build:native\`.` : ""}`;
  }
  return `backend: ${be.describe()}`;
}

function takeOption(argv: string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === `--${name}`) {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith("--")) throw new FlagError(`--${name} needs a value`);
      argv.splice(i, 2);
      return v;
    }
    if (a.startsWith(`--${name}=`)) {
      argv.splice(i, 1);
      return a.slice(name.length + 3);
    }
  }
  return undefined;
}

async function cmdTrain(argv: string[]): Promise<number> {
  const args = [...argv];
  const resume = takeOption(args, "resume");
  const presetName = takeOption(args, "preset") ?? "cpu";
  if (args.includes("--help") || args.includes("-h")) {
    console.log(
      formatHelp(TrainConfigSchema, {
        usage: "Usage: fathom train --env <id> [--preset cpu|paper] [options]\n       fathom train --resume <run dir>",
        description: `Trains a CRL agent and writes a run directory (config.json, metrics.jsonl/csv, TensorBoard events, checkpoints/). Presets: ${Object.keys(PRESETS).join(", ")} (default cpu); any option overrides the preset. Ctrl-C saves a checkpoint; --resume continues.`,
        values: PRESETS[presetName] as Record<string, unknown> | undefined,
        valuesLabel: `preset ${presetName}`,
      }),
    );
    return 0;
  }
  let config: TrainConfig;
  let runDir: ReturnType<typeof createRunDir>;
  let resumeFrom: string | undefined;
  if (resume) {
    if (args.length > 0) throw new FlagError(`--resume continues a run with its saved configuration; other options are not allowed (got ${args.join(" ")})`);
    const found = findRunDir(resume);
    runDir = found.run;
    const saved = JSON.parse(readFileSync(runDir.configPath, "utf8")) as { config?: unknown };
    const parsed = TrainConfigSchema.safeParse(saved.config);
    if (!parsed.success) throw new Error(`${runDir.configPath} does not hold a valid training configuration: ${parsed.error.issues[0]?.message}`);
    config = parsed.data;
    resumeFrom = found.checkpoint ?? latestCheckpoint(runDir.checkpointsDir);
  } else {
    const preset = PRESETS[presetName];
    if (!preset) throw new FlagError(`unknown preset "${presetName}": allowed are ${Object.keys(PRESETS).join(", ")}`);
    const r = parseConfig(TrainConfigSchema, args, { preset, presetName, helpHint: "fathom train --help", maxPositionals: 0 });
    if (r.help) return 0;
    config = r.config;
    getEnvSpec(config.env); // a bad id fails here, before a run directory is made
    runDir = createRunDir(config.runsDir, { env: config.env, agent: "crl", depth: config.criticDepth, seed: config.seed });
    writeJsonAtomic(runDir.configPath, {
      fathom: version(),
      preset: presetName,
      created: new Date().toISOString(),
      backend: getBackend(config.backend).describe(),
      config,
    });
  }
  console.log(backendLine(config.backend));
  console.log(`run directory: ${runDir.path}`);
  console.log(
    `env ${config.env}, ${config.numEnvs} envs, actor depth ${config.actorDepth} × width ${config.actorWidth}, critic depth ${config.criticDepth} × width ${config.criticWidth}, batch ${config.batchSize}, ${config.totalEnvSteps} env steps`,
  );
  const logger = new MetricsLogger(runDir.path);
  const ac = new AbortController();
  const onSigint = () => {
    if (ac.signal.aborted) {
      console.error("\nsecond Ctrl-C: exiting without a checkpoint");
      process.exit(130);
    }
    console.error("\nCtrl-C: stopping after the current gradient step and saving a checkpoint (Ctrl-C again to quit now)");
    ac.abort();
  };
  process.on("SIGINT", onSigint);
  const progress = new ProgressReporter({
    total: config.totalEnvSteps,
    label: config.env,
    stream: process.stdout,
    startStep: 0,
  });
  try {
    const res = await train(config, {
      runDir,
      logger,
      signal: ac.signal,
      resumeFrom,
      log: (l) => progress.log(l),
      onTrainingStep: (p) => {
        const m = p.metrics;
        progress.update(p.envSteps, {
          envsteps: p.envSteps,
          metrics: m ? { critic_loss: m.critic_loss, accuracy: m.categorical_accuracy, actor_loss: m.actor_loss } : undefined,
        });
      },
    });
    progress.finish();
    if (res.status === "nonfinite") {
      console.error(`error: ${res.error}`);
      return 1;
    }
    const last = res.evals.slice(-5);
    if (last.length > 0) {
      const avg = last.reduce((a, e) => a + e["eval/episode_success"], 0) / last.length;
      console.log(`time at goal (mean of the last ${last.length} evaluations): ${avg.toFixed(1)} of ${config.episodeLength}`);
    }
    console.log(`${res.status === "interrupted" ? "stopped" : "done"}: ${res.envSteps} env steps, ${res.updates} gradient steps; checkpoint ${res.lastCheckpoint ?? "(none)"}`);
    return 0;
  } finally {
    process.off("SIGINT", onSigint);
    logger.close();
  }
}

const EvalSchema = z
  .object({
    env: z.string().optional().describe("Evaluate on this env id instead (default: the run's evaluation env)"),
    episodes: z.number().int().min(1).max(65536).optional().describe("Episodes (one per parallel env; default: the run's numEvalEnvs)"),
    seed: z.number().int().min(0).default(12345).describe("Seed of the evaluation episodes"),
    trajectories: z.string().optional().describe("Write per-step agent and goal positions as JSON to this file (for plotting)"),
    backend: z.enum(["auto", "native", "ref"]).optional().describe("Compute backend"),
    threads: z.number().int().min(0).max(256).optional().describe("Env worker threads"),
  })
  .strict();

async function cmdEval(argv: string[]): Promise<number> {
  const parsed = parseFlags(EvalSchema, argv, { helpHint: "fathom eval --help", maxPositionals: 1 });
  if (parsed.help) {
    console.log(formatHelp(EvalSchema, { usage: "Usage: fathom eval <run dir | checkpoint> [options]", description: "Runs one episode per env with the deterministic actor and prints time at goal, success rate and distance." }));
    return 0;
  }
  const opts = EvalSchema.parse(parsed.values);
  const target = parsed.positionals[0];
  if (!target) throw new FlagError("fathom eval needs a run directory or checkpoint path (see fathom eval --help)");
  const found = findRunDir(target);
  const saved = JSON.parse(readFileSync(found.run.configPath, "utf8")) as { config?: unknown };
  const cfg = TrainConfigSchema.safeParse(saved.config);
  if (!cfg.success) throw new Error(`${found.run.configPath} does not hold a valid training configuration`);
  const config: TrainConfig = { ...cfg.data, backend: opts.backend ?? cfg.data.backend };
  const ckpt = found.checkpoint ?? latestCheckpoint(found.run.checkpointsDir);
  const spec = getEnvSpec(config.env);
  const envId = opts.env ?? spec.evalId ?? spec.id;
  const evalSpec = getEnvSpec(envId);
  if (evalSpec.stateDim !== spec.stateDim || evalSpec.goalDim !== spec.goalDim || evalSpec.actionDim !== spec.actionDim) {
    throw new Error(`env ${envId} has different dimensions from ${config.env}, which the agent was trained on`);
  }
  const n = opts.episodes ?? config.numEvalEnvs;
  const agent = makeAgent(config, n);
  loadAgentCheckpoint(ckpt, agent);
  console.log(backendLine(config.backend));
  const env = await makeVecEnv(envId, { numEnvs: n, threads: opts.threads, episodeLength: config.episodeLength });
  try {
    const { metrics, trajectories } = await evaluate(agent, env, { seed: opts.seed, recordTrajectories: opts.trajectories !== undefined });
    console.log(`checkpoint: ${ckpt}`);
    console.log(`env: ${envId}, ${n} episodes of up to ${config.episodeLength} steps`);
    console.log(`time at goal:   ${metrics["eval/episode_success"].toFixed(1)} of ${config.episodeLength} steps`);
    console.log(`success rate:   ${(100 * metrics["eval/episode_success_any"]).toFixed(1)}% of episodes reached the goal`);
    console.log(`mean distance:  ${metrics["eval/episode_dist"].toFixed(3)}`);
    console.log(`episode length: ${metrics["eval/avg_episode_length"].toFixed(1)}`);
    if (opts.trajectories) {
      if (existsSync(opts.trajectories)) throw new Error(`refusing to overwrite ${opts.trajectories}: choose another file name`);
      writeJsonAtomic(opts.trajectories, { checkpoint: ckpt, metrics, ...trajectories });
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
  const out = v.split(",").map((x) => Number(x));
  if (out.length === 0 || out.some((x) => !Number.isInteger(x) || x < 0)) {
    throw new FlagError(`--${name} takes a comma-separated list of non-negative integers, got "${v}"`);
  }
  return out;
}

async function cmdSweep(argv: string[]): Promise<number> {
  const args = [...argv];
  if (args.includes("--help") || args.includes("-h")) {
    console.log(
      "Usage: fathom sweep --env <id> [--depths 4,16,64] [--seeds 0,1,2] [fathom train options]\n\n" +
        "Trains one run per (depth, seed), actor and critic at the same depth, one after the other, each in its own run\n" +
        "directory. Then plot them with: fathom plot <runs dir> --out curves.svg",
    );
    return 0;
  }
  const depths = takeList(args, "depths", [4, 16, 64]);
  const seeds = takeList(args, "seeds", [0, 1, 2]);
  let worst = 0;
  for (const d of depths) {
    for (const s of seeds) {
      console.log(`\n=== depth ${d}, seed ${s} ===`);
      const code = await cmdTrain([...args, "--actor-depth", String(d), "--critic-depth", String(d), "--seed", String(s)]);
      if (code === 2) return code; // a configuration error applies to every run
      worst = Math.max(worst, code);
    }
  }
  return worst;
}

function cmdPlot(argv: string[]): number {
  const args = [...argv];
  const out = takeOption(args, "out");
  const title = takeOption(args, "title");
  const metric = takeOption(args, "metric") ?? "eval/episode_success";
  if (args.includes("--help") || args.includes("-h") || args.length === 0) {
    console.log(
      "Usage: fathom plot <run dir | runs dir>... --out curves.svg [--title T] [--metric eval/episode_success]\n\n" +
        "Draws the metric against env steps, one line per critic depth (mean over runs, band = min..max).",
    );
    return args.length === 0 ? 2 : 0;
  }
  if (!out) throw new FlagError("fathom plot needs --out <file.svg>");
  if (existsSync(out)) throw new Error(`refusing to overwrite ${out}: choose another file name`);
  const dirs: string[] = [];
  for (const a of args) {
    if (existsSync(join(a, "config.json"))) dirs.push(a);
    else {
      const inside = listRunDirs(a);
      if (inside.length === 0) throw new Error(`${a} is neither a run directory nor a folder of run directories`);
      dirs.push(...inside.map((n) => join(a, n)));
    }
  }
  const curves: Curve[] = [];
  const envs = new Set<string>();
  let episodeLength = 0;
  for (const d of dirs) {
    const saved = JSON.parse(readFileSync(join(d, "config.json"), "utf8")) as { config: TrainConfig };
    const c = saved.config;
    envs.add(c.env);
    episodeLength = Math.max(episodeLength, c.episodeLength);
    const points: [number, number][] = [];
    const path = join(d, "metrics.jsonl");
    if (!existsSync(path)) continue;
    for (const line of readFileSync(path, "utf8").split("\n")) {
      if (!line.trim()) continue;
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(line);
      } catch {
        continue; // a torn last line of a run that is still going
      }
      const v = rec[metric];
      if (typeof v === "number" && typeof rec.envsteps === "number") points.push([rec.envsteps, v]);
    }
    const group = c.actorDepth === c.criticDepth ? `depth ${c.criticDepth}` : `actor ${c.actorDepth} / critic ${c.criticDepth}`;
    curves.push({ group, points });
  }
  curves.sort((a, b) => Number(a.group.replace(/\D+/g, " ").trim().split(" ")[0]) - Number(b.group.replace(/\D+/g, " ").trim().split(" ")[0]));
  const svg = learningCurvesSvg(curves, {
    title: title ?? `${[...envs].join(", ")}: ${metric}`,
    yLabel: metric === "eval/episode_success" ? `time at goal (of ${episodeLength} steps)` : metric,
  });
  writeFileAtomic(out, svg);
  console.log(`${curves.length} runs → ${out}`);
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
      case "envs":
        console.log(formatEnvTable());
        return 0;
      case "bench":
        return cmdBench(rest);
      default:
        console.error(`unknown command "${cmd}": allowed are train, eval, sweep, plot, envs, bench (see fathom --help)`);
        return 2;
    }
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    if (process.env.FATHOM_DEBUG) console.error((e as Error).stack);
    return e instanceof FlagError ? 2 : 1;
  }
}
