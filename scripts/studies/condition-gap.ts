// Final performance per condition of a study that varies more than the depth (online vs offline,
// the agent, the batch size), from run directories or results folders (config.json +
// metrics.jsonl per run), with 95 % bootstrap intervals:
//   1. one row per group = (agent, online/offline, batch size, depth): n runs, mean, CI, per seed;
//   2. the contrast (--contrast depth: depth b − depth a; --contrast batch: batch b − batch a;
//      --contrast key: value b − value a of the config key --key) within each group of the other
//      factors, with its CI;
//   3. each contrast minus the first one (a difference of differences: does depth gain less
//      offline than online? does the batch gain more at depth 16 than at depth 4?), with a CI
//      from resampling the seeds of all four groups independently.
// A run's final performance is the mean of its last 5 evaluations, as fathom plot's summary.
//
//   node --import tsx scripts/studies/condition-gap.ts <dir>... [--metric eval/episode_success]
//        [--contrast depth|batch|key] [--a 4] [--b 16] [--key actorHeadInitScale]
// --key K adds the value of config key K (e.g. actorHeadInitScale, maxReplaySize) to each group.
// Only finished runs (summary.json status "done") count unless --unfinished is given.
import { parseArgs } from "node:util";
import { agentDefinition } from "../../src/agents/registry.js";
import { keyFromSeed, Rng } from "../../src/random.js";
import { loadRuns } from "../../src/train/run.js";
import { bootstrapDiffCI, bootstrapMeanCI, mean } from "../../src/train/stats.js";
import { finalPerformance } from "../../src/train/summary.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    metric: { type: "string", default: "eval/episode_success" },
    contrast: { type: "string", default: "depth" },
    a: { type: "string" },
    b: { type: "string" },
    key: { type: "string" },
    unfinished: { type: "boolean", default: false },
  },
});
if (positionals.length === 0) throw new Error("usage: condition-gap.ts <runs or results dir>... [--metric M] [--contrast depth|batch|key] [--a A] [--b B] [--key K]");
const metric = values.metric as string;
const contrast = values.contrast as string;
if (contrast !== "depth" && contrast !== "batch" && contrast !== "key") throw new Error(`--contrast takes depth, batch or key, got ${contrast}`);
const keyName = values.key;
if (contrast === "key" && keyName === undefined) throw new Error("--contrast key needs --key <config key>");
if (contrast === "key" && (values.a === undefined || values.b === undefined)) throw new Error("--contrast key needs the two values: --a <value> --b <value>");
const A = values.a ?? (contrast === "depth" ? "4" : "256");
const B = values.b ?? (contrast === "depth" ? "16" : "1024");

interface Run {
  agent: string;
  mode: "online" | "offline";
  batch: number;
  updates: number;
  depth: number;
  seed: number;
  /** The value of --key's config key ("" without --key). */
  extra: string;
  value: number;
}
const runs: Run[] = [];
let skipped = 0;
let unfinished = 0;
for (const r of loadRuns(positionals)) {
  const c = r.config;
  if (r.summary()?.status !== "done" && !values.unfinished) {
    unfinished++; // still running, interrupted or stopped: its last evaluations are not the final ones
    continue;
  }
  const hasCritic = agentDefinition(c.agent).hasCritic;
  if (hasCritic && c.actorDepth !== c.criticDepth) {
    skipped++;
    continue;
  }
  const v = finalPerformance(r.records(), metric, 5);
  if (v === null) {
    skipped++;
    continue;
  }
  // a training step runs min(sgdBatchesPerStep, the batches its windows hold) updates (SPEC §4)
  const updates = Math.min(c.sgdBatchesPerStep, Math.floor((c.numEnvs * (Math.min(c.windowLength, c.maxReplaySize) - 1)) / c.batchSize));
  if (keyName !== undefined && !(keyName in c)) throw new Error(`--key ${keyName}: not a key of ${r.run.path}'s config`);
  const extra = keyName === undefined ? "" : String((c as Record<string, unknown>)[keyName]);
  runs.push({ agent: c.agent, mode: c.offline !== undefined ? "offline" : "online", batch: c.batchSize, updates, depth: c.actorDepth, seed: c.seed, extra, value: v });
}
if (runs.length === 0) throw new Error(`no run with an evaluation of ${metric} in ${positionals.join(", ")}`);

const f = (x: number) => x.toFixed(1);
const key = (r: Pick<Run, "agent" | "mode" | "batch" | "depth" | "extra">) => `${r.agent}|${r.mode}|${r.batch}|${r.depth}|${r.extra}`;
const groups = new Map<string, Run[]>();
for (const r of runs) groups.set(key(r), [...(groups.get(key(r)) ?? []), r]);
const sorted = [...groups.values()].sort(
  (x, y) =>
    (x[0].agent < y[0].agent ? -1 : x[0].agent > y[0].agent ? 1 : 0) ||
    (x[0].mode < y[0].mode ? 1 : x[0].mode > y[0].mode ? -1 : 0) ||
    x[0].batch - y[0].batch ||
    x[0].depth - y[0].depth ||
    (x[0].extra < y[0].extra ? -1 : x[0].extra > y[0].extra ? 1 : 0),
);
const leftOut = [
  skipped ? `${skipped} runs left out: no such metric, or actor depth ≠ critic depth` : "",
  unfinished ? `${unfinished} unfinished runs left out (--unfinished counts them)` : "",
].filter((x) => x);
console.log(`${metric}: final performance per run = mean of its last 5 evaluations; mean over seeds with a 95 % bootstrap CI${leftOut.length ? ` (${leftOut.join("; ")})` : ""}\n`);
const keyCol = keyName === undefined ? "" : ` ${keyName} |`;
console.log(`| agent | data | batch (updates/step) | depth |${keyCol} n | mean | 95 % CI | per seed |`);
console.log(`|---|---|---|---:|${keyName === undefined ? "" : "---|"}---:|---:|---|---|`);
for (const g of sorted) {
  const s = [...g].sort((x, y) => x.seed - y.seed);
  const ci = bootstrapMeanCI(s.map((r) => r.value));
  console.log(`| ${g[0].agent} | ${g[0].mode} | ${g[0].batch} (${g[0].updates}) | ${g[0].depth} |${keyName === undefined ? "" : ` ${g[0].extra} |`} ${s.length} | ${f(ci.mean)} | [${f(ci.lo)}, ${f(ci.hi)}] | ${s.map((r) => `s${r.seed} ${f(r.value)}`).join(", ")} |`);
}

// contrasts: b − a of the contrasted factor, within each combination of the others
const other = (r: Run) =>
  contrast === "depth" ? `${r.agent}|${r.mode}|${r.batch}|${r.extra}` : contrast === "batch" ? `${r.agent}|${r.mode}|${r.depth}|${r.extra}` : `${r.agent}|${r.mode}|${r.batch}|${r.depth}`;
const withKey = (r: Run) => (keyName === undefined || contrast === "key" ? "" : `, ${keyName} ${r.extra}`);
const label = (r: Run) =>
  (contrast === "depth" ? `${r.agent} ${r.mode}, batch ${r.batch}` : contrast === "batch" ? `${r.agent} ${r.mode}, depth ${r.depth}` : `${r.agent} ${r.mode}, batch ${r.batch}, depth ${r.depth}`) + withKey(r);
const factor = (r: Run) => (contrast === "depth" ? String(r.depth) : contrast === "batch" ? String(r.batch) : r.extra);
const contrastName = contrast === "key" ? (keyName as string) : contrast;
const pairs: { label: string; a: number[]; b: number[] }[] = [];
for (const g of sorted) {
  const r0 = g[0];
  if (factor(r0) !== A || pairs.some((p) => p.label === label(r0))) continue;
  const a = runs.filter((r) => other(r) === other(r0) && factor(r) === A).map((r) => r.value);
  const b = runs.filter((r) => other(r) === other(r0) && factor(r) === B).map((r) => r.value);
  if (b.length > 0) pairs.push({ label: label(r0), a, b });
}
if (pairs.length === 0) {
  console.log(`\nno group has runs at both ${contrastName} ${A} and ${B}`);
  process.exit(0);
}
console.log(`\n| ${contrastName} ${B} − ${A} | n | difference | 95 % CI |`);
console.log("|---|---|---:|---|");
for (const p of pairs) {
  const d = bootstrapDiffCI(p.a, p.b);
  console.log(`| ${p.label} | ${p.a.length} vs ${p.b.length} | ${f(d.mean)} | [${f(d.lo)}, ${f(d.hi)}] |`);
}

/** (mean(b2) − mean(a2)) − (mean(b1) − mean(a1)) and its percentile bootstrap interval, each sample resampled on its own. */
function interactionCI(a1: number[], b1: number[], a2: number[], b2: number[], resamples = 10_000, level = 0.95) {
  const rng = new Rng(keyFromSeed(0));
  const rm = (x: number[]) => {
    let s = 0;
    for (let i = 0; i < x.length; i++) s += x[rng.int(x.length)];
    return s / x.length;
  };
  const out = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    const d1 = rm(b1) - rm(a1);
    out[r] = rm(b2) - rm(a2) - d1;
  }
  out.sort();
  const q = (p: number) => {
    const h = (resamples - 1) * p;
    const i = Math.floor(h);
    return i >= resamples - 1 ? out[resamples - 1] : out[i] + (h - i) * (out[i + 1] - out[i]);
  };
  return { mean: mean(b2) - mean(a2) - (mean(b1) - mean(a1)), lo: q((1 - level) / 2), hi: q((1 + level) / 2) };
}
if (pairs.length > 1) {
  const p1 = pairs[0];
  console.log(`\n| (${contrastName} ${B} − ${A}) minus that of ${p1.label} | difference of differences | 95 % CI |`);
  console.log("|---|---:|---|");
  for (const p of pairs.slice(1)) {
    const d = interactionCI(p1.a, p1.b, p.a, p.b);
    console.log(`| ${p.label} | ${f(d.mean)} | [${f(d.lo)}, ${f(d.hi)}] |`);
  }
}
