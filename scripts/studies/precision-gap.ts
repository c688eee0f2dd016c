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

function finals(sub: string, metric: string): number[] {
  const root = join(dir, sub);
  return readdirSync(root)
    .sort()
    .map((run) => {
      const s = JSON.parse(readFileSync(join(root, run, "summary.json"), "utf8")) as { last5?: Record<string, number> };
      const value = s.last5?.[metric];
      if (typeof value !== "number") throw new Error(`${join(root, run)}/summary.json has no last5 "${metric}"`);
      return value;
    });
}

const fmt = (c: { mean: number; lo: number; hi: number }) => `${c.mean.toFixed(1)} [${c.lo.toFixed(1)}, ${c.hi.toFixed(1)}]`;
for (const metric of ["eval/time_at_goal", "eval_far/time_at_goal"]) {
  const fp32 = finals("fp32", metric);
  const bf16 = finals("bf16", metric);
  console.log(`\n${metric}, mean of the last 5 evaluations:\n`);
  console.log("| precision | runs (seeds in order) | mean [95 % CI] |");
  console.log("|---|---|---|");
  for (const [name, v] of [["fp32", fp32], ["bf16", bf16]] as const) {
    console.log(`| ${name} | ${v.map((x) => x.toFixed(1)).join(", ")} | ${fmt(bootstrapMeanCI(v))} |`);
  }
  console.log(`\nbf16 − fp32: ${fmt(bootstrapDiffCI(fp32, bf16))}`);
}
