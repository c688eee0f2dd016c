// Health of deep runs from their metrics (run directories or results folders): per run, the
// gradient steps taken, whether every loss, entropy and gradient norm stayed finite, the entropy at
// the first and last training step against its target, log α (largest, last), the training steps
// with a stuck log-std dim, the log σ range, and the critic loss first → last with the final
// categorical accuracy (chance = 1 / batch size), and the time at goal (mean of the last five
// evaluations, from summary.json: the run's evaluation env, then the far goals where the run logged
// them; "–" where the run did not finish).
//   node --import tsx scripts/studies/run-health.ts <dir>...
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { getEnvSpec } from "../../src/envs/registry.js";

console.log("| run | actor head | updates | env steps | all finite | entropy first → last (target) | log α max / last | steps with a stuck log-std dim | log σ range | critic loss first → last | accuracy (chance) | time at goal, last 5 (far goals) |");
console.log("|---|---|---:|---:|---|---|---|---|---|---|---|---|");
for (const root of process.argv.slice(2)) {
  for (const name of readdirSync(root).sort()) {
    const m = join(root, name, "metrics.jsonl");
    if (!existsSync(m)) continue;
    const c = (JSON.parse(readFileSync(join(root, name, "config.json"), "utf8")) as { config: Record<string, unknown> }).config;
    const rows = readFileSync(m, "utf8")
      .split("\n")
      .filter((l) => l.includes('"training/entropy"'))
      .map((l) => JSON.parse(l) as Record<string, number>);
    if (rows.length === 0) continue;
    const col = (k: string) => rows.map((r) => r[k]);
    const ent = col("training/entropy");
    const la = col("training/log_alpha");
    const stuck = col("training/log_std_stuck_dims").filter((s) => s > 0).length;
    const keys = ["training/critic_loss", "training/actor_loss", "training/entropy", "training/grad_norm_actor", "training/grad_norm_sa_encoder", "training/grad_norm_goal_encoder"];
    const finite = keys.every((k) => col(k).every(Number.isFinite));
    const summaryPath = join(root, name, "summary.json");
    const summary = existsSync(summaryPath) ? (JSON.parse(readFileSync(summaryPath, "utf8")) as { status: string; updates: number; last5: Record<string, number> }) : null;
    const updates = summary ? String(summary.updates) : "(stopped)";
    const tag = (k: string) => (summary?.status === "done" && typeof summary.last5[k] === "number" ? summary.last5[k].toFixed(1) : null);
    const atGoal = tag("eval/time_at_goal") ?? tag("eval/episode_success") ?? "–";
    const far = tag("eval_far/time_at_goal");
    const cl = col("training/critic_loss");
    const last = rows[rows.length - 1];
    const head = `${c.actorHeadNorm ? "LN" : "no LN"}, init ×${c.actorHeadInitScale}, ${c.tanhLogDet}`;
    const target = -0.5 * getEnvSpec(c.env as string).actionDim; // SPEC §3: −0.5 per action dim
    const f = (x: number, d = 2) => x.toFixed(d);
    console.log(
      `| ${name} | ${head} | ${updates} | ${last.envsteps} | ${finite ? "yes" : "NO"} | ${f(ent[0])} → ${f(ent[ent.length - 1])} (${target}) | ${f(Math.max(...la), 3)} / ${f(la[la.length - 1], 3)} | ${stuck} of ${rows.length} | [${f(Math.min(...col("training/log_std_min")))}, ${f(Math.max(...col("training/log_std_max")))}] | ${f(cl[0], 1)} → ${f(cl[cl.length - 1])} | ${f(last["training/categorical_accuracy"], 4)} (${f(1 / (c.batchSize as number), 4)}) | ${atGoal}${far === null ? "" : ` (${far})`} |`,
    );
  }
}
