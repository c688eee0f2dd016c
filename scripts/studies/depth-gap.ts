// How the gap between two depths evolves with the budget, from run directories or a results
// folder (config.json + metrics.jsonl per run): at every evaluation point, the mean of the metric
// over seeds for each depth and the difference (deeper − shallower) with a 95 % bootstrap interval;
// and the same for the final performance (per run, the mean of its last 5 evaluations).
//
//   node --import tsx scripts/studies/depth-gap.ts <dir> [--metric eval_far/episode_success] [--a 4] [--b 16] [--unfinished] [--seeds 0-9]
//                                                [--posthoc <env id>]
// Only finished runs (summary.json status "done") count unless --unfinished is given; --seeds
// keeps the runs of those seeds (a list and ranges: 0-9 or 0,2,5-7).
// --posthoc <env id>: the series are each run's post-hoc evaluations of its checkpoints on that
// env (`fathom eval <checkpoint> --env <id>`: <run>/eval/<checkpoint>__<id>__seed<s>__n<episodes>.json,
// one per periodic checkpoint, interrupt_… checkpoints left out; --metric defaults to
// eval/time_at_goal then), e.g. the Ant big maze's own goals beside its far-goal evaluation.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { parseFlags } from "../../src/cli/flags.js";
import { bootstrapDiffCI, bootstrapMeanCI, mean } from "../../src/train/stats.js";
import { posthocRecords } from "../../src/train/posthoc.js";
import { readRunSummary } from "../../src/train/summary.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    metric: { type: "string", default: "eval_far/episode_success" },
    a: { type: "string", default: "4" },
    b: { type: "string", default: "16" },
    unfinished: { type: "boolean", default: false },
    seeds: { type: "string" },
    posthoc: { type: "string" },
  },
});
/** The seeds --seeds names (the CLI's integer lists: 0-9 or 0,2,5-7), or null for all. */
function seedSet(spec: string | undefined): Set<number> | null {
  if (spec === undefined) return null;
  const parsed = parseFlags(z.object({ seeds: z.array(z.number().int().min(0)) }), ["--seeds", spec]).values.seeds;
  return new Set(parsed);
}
const seeds = seedSet(values.seeds as string | undefined);
const dir = positionals[0];
if (!dir) throw new Error("usage: depth-gap.ts <runs or results dir> [--metric M] [--a 4] [--b 16]");
const posthoc = values.posthoc as string | undefined;
const metricGiven = process.argv.some((a) => a === "--metric" || a.startsWith("--metric="));
const metric = posthoc !== undefined && !metricGiven ? "eval/time_at_goal" : (values.metric as string);
/** A run's post-hoc evaluations on `env`: [env steps, metric] per periodic checkpoint, in order. */
function posthocSeries(runDir: string, env: string): [number, number][] {
  return posthocRecords(runDir, env).map((r) => {
    const v = r[metric];
    if (typeof v !== "number") throw new Error(`${runDir}: the post-hoc evaluation at ${r.envsteps} env steps on ${env} has no metric ${metric}`);
    return [r.envsteps, v];
  });
}

/** depth → per-run series of [envsteps, value]. */
const runs = new Map<number, [number, number][][]>();
let unfinished = 0;
for (const name of readdirSync(dir).sort()) {
  const cfgPath = join(dir, name, "config.json");
  const mPath = join(dir, name, "metrics.jsonl");
  if (!existsSync(cfgPath) || !existsSync(mPath)) continue;
  if (readRunSummary(join(dir, name))?.status !== "done" && !values.unfinished) {
    unfinished++; // still running, interrupted or stopped: its last evaluations are not the final ones
    continue;
  }
  const c = (JSON.parse(readFileSync(cfgPath, "utf8")) as { config: { criticDepth: number; actorDepth: number; seed: number } }).config;
  if (c.actorDepth !== c.criticDepth) continue;
  if (seeds !== null && !seeds.has(c.seed)) continue;
  const series: [number, number][] = posthoc !== undefined ? posthocSeries(join(dir, name), posthoc) : [];
  if (posthoc === undefined) {
    for (const line of readFileSync(mPath, "utf8").split("\n")) {
      if (!line.trim()) continue;
      const r = JSON.parse(line) as Record<string, number>;
      if (typeof r[metric] === "number") series.push([r.envsteps, r[metric]]);
    }
  }
  const list = runs.get(c.criticDepth) ?? [];
  list.push(series);
  runs.set(c.criticDepth, list);
}
const A = runs.get(Number(values.a)) ?? [];
const B = runs.get(Number(values.b)) ?? [];
if (A.length === 0 || B.length === 0) throw new Error(`need runs of depth ${values.a} and ${values.b} in ${dir}`);
if (posthoc !== undefined && [...A, ...B].some((s) => s.length === 0)) {
  throw new Error(`not every run in ${dir} has post-hoc evaluations on ${posthoc} (<run>/eval/*__${posthoc}__*.json)`);
}
if (posthoc !== undefined && new Set([...A, ...B].map((s) => s.map((p) => p[0]).join())).size > 1) {
  throw new Error(`the runs in ${dir} have post-hoc evaluations at different env steps on ${posthoc}: evaluate the same checkpoints of every run`);
}
if ([...A, ...B].some((s) => s.length === 0)) {
  throw new Error(`metric ${metric} is not logged by every run in ${dir} (a big maze evaluates on its far goals as eval/…, with no eval_far/…): pass --metric`);
}
const n = Math.min(...A.map((s) => s.length), ...B.map((s) => s.length));
const f = (x: number) => x.toFixed(1);
console.log(
  `${metric}${posthoc !== undefined ? ` (post-hoc evaluations on ${posthoc})` : ""}: depth ${values.b} − depth ${values.a}, ${A.length} vs ${B.length} seeds (95 % bootstrap intervals)` +
    `${unfinished ? `; ${unfinished} unfinished runs left out (--unfinished counts them)` : ""}\n`,
);
console.log(`| env steps | depth ${values.a} mean | depth ${values.b} mean | difference | 95 % CI of the difference |`);
console.log("|---:|---:|---:|---:|---|");
for (let k = 0; k < n; k++) {
  const a = A.map((s) => s[k][1]);
  const b = B.map((s) => s[k][1]);
  const d = bootstrapDiffCI(a, b);
  console.log(`| ${A[0][k][0]} | ${f(mean(a))} | ${f(mean(b))} | ${f(d.mean)} | ${f(d.lo)} … ${f(d.hi)} |`);
}
const last5 = (s: [number, number][]) => mean(s.slice(-5).map((p) => p[1]));
const fa = A.map(last5);
const fb = B.map(last5);
const ca = bootstrapMeanCI(fa);
const cb = bootstrapMeanCI(fb);
const d = bootstrapDiffCI(fa, fb);
console.log(
  `\nFinal (mean of the last 5 evaluations): depth ${values.a} ${f(ca.mean)} [${f(ca.lo)}, ${f(ca.hi)}], ` +
    `depth ${values.b} ${f(cb.mean)} [${f(cb.lo)}, ${f(cb.hi)}]; difference ${f(d.mean)} [${f(d.lo)}, ${f(d.hi)}]`,
);
if (fa.length < 2 || fb.length < 2) {
  // One value has a zero-width "interval": nothing can be said about overlap.
  console.log(`Per-depth intervals: none with ${Math.min(fa.length, fb.length)} seed at a depth (a bootstrap needs several; the issue's bar is ≥ 5 seeds per depth)`);
  process.exit(0);
}
// The issue-9 bar: the two depths' intervals do not overlap. The gap between them (negative: they
// overlap by that much), and how often they stay apart over other seeds of the bootstrap's own
// random stream: a margin of a few units can depend on the resampling.
const gapOf = (seed: number) => {
  const x = bootstrapMeanCI(fa, { seed });
  const y = bootstrapMeanCI(fb, { seed });
  return Math.max(y.lo - x.hi, x.lo - y.hi);
};
const gaps = Array.from({ length: 20 }, (_, s) => gapOf(s));
console.log(
  `Per-depth intervals ${gaps[0] > 0 ? `apart by ${f(gaps[0])}` : `overlap by ${f(-gaps[0])}`}; apart in ${gaps.filter((g) => g > 0).length} of 20 bootstrap seeds ` +
    `(gap ${f(Math.min(...gaps))} … ${f(Math.max(...gaps))})`,
);
