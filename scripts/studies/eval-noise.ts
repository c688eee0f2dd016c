// How much of a study's seed spread is evaluation noise: two studies whose runs trained
// identically and differ only in the number of evaluation episodes (e.g. --num-eval-envs 48 vs
// 256; the evaluations draw from their own random stream, so the training is the same, which this
// script checks on every logged training metric before it compares anything).
//
// For each depth, per seed: the final value (mean of the last 5 evaluations) in each study, and
// their difference. The policies evaluated are the same, so that difference is evaluation noise
// only. Evaluation episode i's start and goal depend on i and the evaluation's seed alone
// (envs/slice.ts episodeKey), so the smaller evaluation's nA episodes are the first nA of the
// larger one's nB: A − B = (1 − nA/nB)·(A − C), C the mean of the other nB − nA, and
// var(A − B) = s²·(1/nA − 1/nB), with s² the variance of the final value from one episode per
// evaluation. The script prints s, the noise SD of the final value at each study's episode count
// (s/√n), and the between-seed SD each study saw, with the share of its variance that the noise
// explains.
//
//   node --import tsx scripts/studies/eval-noise.ts <study A> <study B> [--metric eval_far/episode_success]
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { bootstrapMeanCI, mean } from "../../src/train/stats.js";
import { readRunSummary } from "../../src/train/summary.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { metric: { type: "string", default: "eval_far/episode_success" } },
});
const [dirA, dirB] = positionals;
if (!dirA || !dirB) throw new Error("usage: eval-noise.ts <study A> <study B> [--metric M]");
const metric = values.metric as string;
const LAST = 5;
const SPEEDS = new Set(["training/sps", "training/updates_per_s"]);

interface Run {
  depth: number;
  seed: number;
  evalEnvs: number;
  final: number;
  training: Record<string, number>[];
}

function readRun(dir: string): Run | null {
  const cfgPath = join(dir, "config.json");
  const mPath = join(dir, "metrics.jsonl");
  if (!existsSync(cfgPath) || !existsSync(mPath) || readRunSummary(dir)?.status !== "done") return null;
  const c = (JSON.parse(readFileSync(cfgPath, "utf8")) as { config: { criticDepth: number; seed: number; numEvalEnvs: number } }).config;
  const evals: number[] = [];
  const training: Record<string, number>[] = [];
  for (const line of readFileSync(mPath, "utf8").split("\n")) {
    if (!line.trim()) continue;
    const r = JSON.parse(line) as Record<string, number>;
    if (typeof r[metric] === "number") evals.push(r[metric]);
    // the training metrics, less the speeds (env steps and updates per second differ between any two runs)
    const t = Object.fromEntries(Object.entries(r).filter(([k]) => (k.startsWith("training/") && !SPEEDS.has(k)) || k === "envsteps"));
    if (Object.keys(t).length > 1) training.push(t);
  }
  if (evals.length < LAST) return null;
  return { depth: c.criticDepth, seed: c.seed, evalEnvs: c.numEvalEnvs, final: mean(evals.slice(-LAST)), training };
}

function readStudy(dir: string): Map<string, Run> {
  const out = new Map<string, Run>();
  for (const name of readdirSync(dir).sort()) {
    const r = readRun(join(dir, name));
    if (r) out.set(name, r);
  }
  return out;
}

/** First training record where the two runs differ, or null when every record is identical. */
function trainingDiffers(a: Run, b: Run): string | null {
  if (a.training.length !== b.training.length) return `${a.training.length} vs ${b.training.length} training records`;
  for (let i = 0; i < a.training.length; i++) {
    const x = a.training[i];
    const y = b.training[i];
    for (const k of Object.keys(x)) if (x[k] !== y[k]) return `record ${i} (${x.envsteps} env steps): ${k} ${x[k]} vs ${y[k]}`;
  }
  return null;
}

const sd = (v: number[]) => {
  const m = mean(v);
  return Math.sqrt(v.reduce((s, x) => s + (x - m) ** 2, 0) / (v.length - 1));
};
const f = (x: number) => x.toFixed(1);

const A = readStudy(dirA);
const B = readStudy(dirB);
const paired = [...A.keys()].filter((k) => B.has(k));
if (paired.length === 0) throw new Error(`no finished run of the same name in both ${dirA} and ${dirB}`);
for (const name of paired) {
  const why = trainingDiffers(A.get(name)!, B.get(name)!);
  if (why) throw new Error(`${name} did not train identically in the two studies (${why}): evaluation noise cannot be separated`);
}
const depths = [...new Set(paired.map((k) => A.get(k)!.depth))].sort((x, y) => x - y);
console.log(`${metric}, final value = mean of the last ${LAST} evaluations; ${paired.length} runs trained identically in both studies\n`);
for (const depth of depths) {
  const names = paired.filter((k) => A.get(k)!.depth === depth);
  const a = names.map((k) => A.get(k)!);
  const b = names.map((k) => B.get(k)!);
  const nA = a[0].evalEnvs;
  const nB = b[0].evalEnvs;
  console.log(`depth ${depth}: ${names.length} seeds, ${nA} vs ${nB} episodes per evaluation`);
  console.log(`| seed | ${nA} episodes | ${nB} episodes | difference |\n|---:|---:|---:|---:|`);
  for (let i = 0; i < names.length; i++) console.log(`| ${a[i].seed} | ${f(a[i].final)} | ${f(b[i].final)} | ${f(a[i].final - b[i].final)} |`);
  if (names.length < 2) {
    console.log("");
    continue;
  }
  const diffs = a.map((r, i) => r.final - b[i].final);
  if (nA === nB) throw new Error(`both studies evaluate ${nA} episodes: nothing to compare`);
  // var(A − B) = s²·|1/nA − 1/nB| (the smaller evaluation's episodes are the first of the larger's)
  const s = Math.sqrt(mean(diffs.map((d) => d * d)) / Math.abs(1 / nA - 1 / nB));
  for (const [label, runs, n] of [
    ["A", a, nA],
    ["B", b, nB],
  ] as const) {
    const finals = runs.map((r) => r.final);
    const ci = bootstrapMeanCI(finals);
    const between = sd(finals);
    const noise = s / Math.sqrt(n);
    const share = Math.min(1, (noise * noise) / (between * between));
    console.log(
      `  ${label} (${n} episodes): mean ${f(ci.mean)} [${f(ci.lo)}, ${f(ci.hi)}], between-seed SD ${f(between)}, ` +
        `evaluation noise SD of the final value ${f(noise)} (${(100 * share).toFixed(0)} % of the between-seed variance)`,
    );
  }
  console.log("");
}
