// The post-hoc evaluations of a study's checkpoints as one table: every `fathom eval` result
// (<run>/eval/<checkpoint>__<env>__seed<seed>__n<episodes>.json, committed with the runs by
// `fathom export`) of the runs under a folder, one row per checkpoint, one column group per run,
// with the run's own logged evaluation at the same env steps beside it (its primary metric, e.g.
// the far goals of a big maze), so that two goal sets of the same policies read side by side.
//
//   node --import tsx scripts/studies/eval-table.ts <runs or results dir> [--env ant_big_maze-v1]
//
// --env keeps the results on that env id (default: all of them, one table per env id).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({ allowPositionals: true, options: { env: { type: "string" } } });
const [root] = positionals;
if (!root || !existsSync(root)) throw new Error("usage: eval-table.ts <runs or results dir> [--env <id>]");

interface Row {
  run: string;
  env: string;
  envSteps: number;
  episodes: number;
  timeAtGoal: number;
  successRate: number;
  meanDist: number;
  length: number;
}

const CHECKPOINT = /^(?:step|interrupt)_(\d{10})(?:-\d+)?__/;
const rows: Row[] = [];
const logged = new Map<string, Map<number, Record<string, number>>>(); // run → env steps → its own evaluation
for (const run of readdirSync(root).sort()) {
  const evalDir = join(root, run, "eval");
  if (!existsSync(evalDir)) continue;
  for (const f of readdirSync(evalDir).sort()) {
    const m = CHECKPOINT.exec(f);
    if (!m || !f.endsWith(".json")) continue;
    const r = JSON.parse(readFileSync(join(evalDir, f), "utf8"));
    if (values.env !== undefined && r.env !== values.env) continue;
    const x = r.metrics;
    rows.push({
      run,
      env: r.env,
      envSteps: Number(m[1]),
      episodes: r.episodes,
      timeAtGoal: x["eval/time_at_goal"] ?? x["eval/episode_success"],
      successRate: x["eval/success_rate"] ?? x["eval/episode_success_any"],
      meanDist: x["eval/mean_dist"],
      length: x["eval/avg_episode_length"],
    });
  }
  const metrics = join(root, run, "metrics.jsonl");
  if (existsSync(metrics)) {
    const byStep = new Map<number, Record<string, number>>();
    for (const line of readFileSync(metrics, "utf8").split("\n")) {
      if (!line.trim()) continue;
      const rec = JSON.parse(line);
      if (typeof rec["eval/episode_success"] === "number") byStep.set(rec.envsteps, rec);
    }
    logged.set(run, byStep);
  }
}
if (rows.length === 0) throw new Error(`no fathom eval results under ${root}/*/eval/${values.env ? ` on ${values.env}` : ""}`);

const fmt = (v: number, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : "–");
for (const env of [...new Set(rows.map((r) => r.env))].sort()) {
  const mine = rows.filter((r) => r.env === env);
  const runs = [...new Set(mine.map((r) => r.run))];
  console.log(`\n${env}: fathom eval of each checkpoint (${[...new Set(mine.map((r) => r.episodes))].join("/")} episodes), beside the run's own evaluation at the same env steps`);
  console.log("time at goal (of the episode), success = share of episodes that reached the goal, dist = mean distance to the goal, len = mean episode length\n");
  console.log(`| env steps | ${runs.map((r) => `${r}: time at goal / success / dist / len | its own eval: time at goal / dist`).join(" | ")} |`);
  console.log(`|---:|${runs.map(() => "---|---").join("|")}|`);
  for (const steps of [...new Set(mine.map((r) => r.envSteps))].sort((a, b) => a - b)) {
    const cells = runs.map((run) => {
      const r = mine.find((x) => x.run === run && x.envSteps === steps);
      const own = logged.get(run)?.get(steps);
      const a = r ? `${fmt(r.timeAtGoal)} / ${fmt(100 * r.successRate)} % / ${fmt(r.meanDist, 2)} / ${fmt(r.length, 0)}` : "";
      const b = own ? `${fmt(own["eval/episode_success"])} / ${fmt(own["eval/mean_dist"], 2)}` : "";
      return `${a} | ${b}`;
    });
    console.log(`| ${steps} | ${cells.join(" | ")} |`);
  }
}
