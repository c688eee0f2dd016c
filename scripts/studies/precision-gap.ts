// bf16 vs fp32 on the same task and seeds (issue 12): the last-5 time at goal of each exported run
// and of the far goals (summary.json last5), per precision, with 95 % bootstrap intervals of the
// means and of the difference.
//   node --import tsx scripts/studies/precision-gap.ts results/bf16_umaze
// expects <dir>/fp32/<run>/ and <dir>/bf16/<run>/ as `fathom export` writes them.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { bootstrapDiffCI, bootstrapMeanCI } from "../../src/train/stats.js";

const dir = process.argv[2];
if (dir === undefined) throw new Error("usage: precision-gap.ts <results dir with fp32/ and bf16/>");

/** The metric's last-5 mean of every run of `sub`, or null when the runs do not log it. */
function finals(sub: string, metric: string): number[] | null {
  const root = join(dir, sub);
  const values = readdirSync(root)
    .sort()
    .map((run) => (JSON.parse(readFileSync(join(root, run, "summary.json"), "utf8")) as { last5?: Record<string, number> }).last5?.[metric]);
  if (values.every((v) => v === undefined)) return null;
  return values.map((v, i) => {
    if (typeof v !== "number") throw new Error(`run ${i} of ${root} has no last5 "${metric}" while others do`);
    return v;
  });
}

const fmt = (c: { mean: number; lo: number; hi: number }) => `${c.mean.toFixed(1)} [${c.lo.toFixed(1)}, ${c.hi.toFixed(1)}]`;
for (const metric of ["eval/time_at_goal", "eval_far/time_at_goal"]) {
  const fp32 = finals("fp32", metric);
  const bf16 = finals("bf16", metric);
  if (fp32 === null || bf16 === null) continue;
  console.log(`\n${metric}, mean of the last 5 evaluations:\n`);
  console.log("| precision | runs (seeds in order) | mean [95 % CI] |");
  console.log("|---|---|---|");
  for (const [name, v] of [["fp32", fp32], ["bf16", bf16]] as const) {
    console.log(`| ${name} | ${v.map((x) => x.toFixed(1)).join(", ")} | ${v.length < 2 ? `${v[0].toFixed(1)} (one run: no interval)` : fmt(bootstrapMeanCI(v))} |`);
  }
  if (fp32.length < 2 || bf16.length < 2) console.log("\nbf16 − fp32: one run per precision, no interval: the seed spread is unknown here");
  else console.log(`\nbf16 − fp32: ${fmt(bootstrapDiffCI(fp32, bf16))}`);
}
