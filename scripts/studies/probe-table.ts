// Markdown table of deep-actor probe results (results/deep_actor_probe/*.jsonl, written by
// deep-actor-probe.ts): per file and variant, the seeds with a stuck log-std dim, the final
// entropy range against its target and the final log α range.
//   node --import tsx scripts/studies/probe-table.ts results/deep_actor_probe/*.jsonl
import { readFileSync } from "node:fs";
import { basename } from "node:path";

interface Row {
  variant: string;
  seed: number;
  depth: number;
  width: number;
  batch: number;
  updates: number;
  entropy: number;
  target_entropy: number;
  log_alpha: number;
  max_stuck_dims: number;
}

const range = (v: number[]) => `${Math.min(...v).toFixed(2)} … ${Math.max(...v).toFixed(2)}`;
for (const file of process.argv.slice(2)) {
  const rows = readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Row);
  if (rows.length === 0) continue;
  const r0 = rows[0];
  console.log(`\n${basename(file)}: actor depth ${r0.depth}, width ${r0.width}, batch ${r0.batch}, ${r0.updates} updates, target entropy ${r0.target_entropy}\n`);
  console.log("| actor variant | seeds with a stuck log-std dim | final entropy | final log α |");
  console.log("|---|---|---|---|");
  const variants = [...new Set(rows.map((r) => r.variant))];
  for (const v of variants) {
    const rs = rows.filter((r) => r.variant === v);
    const stuck = rs.filter((r) => r.max_stuck_dims > 0).length;
    console.log(`| ${v} | ${stuck} of ${rs.length} | ${range(rs.map((r) => r.entropy))} | ${range(rs.map((r) => r.log_alpha))} |`);
  }
}
