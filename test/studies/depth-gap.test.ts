// scripts/studies/depth-gap.ts on a synthetic study folder: the per-depth means of the last five
// evaluations from metrics.jsonl, and with --posthoc from the runs' post-hoc evaluation files; the
// refusals (one seed: no intervals; runs evaluated at different checkpoints).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const tmp = mkdtempSync(join(tmpdir(), "fathom-depth-gap-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

function gap(dir: string, ...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(root, "scripts/studies/depth-gap.ts"), dir, ...args], { cwd: root, encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A finished run: 6 evaluations (far goals, logged) and 6 post-hoc ones on all goals. */
function run(dir: string, depth: number, seed: number, far: number[], all: number[], steps = [1, 2, 3, 4, 5, 6]) {
  const d = join(dir, `ant_big_maze-v1__crl__d${depth}__s${seed}`);
  mkdirSync(join(d, "eval"), { recursive: true });
  writeFileSync(join(d, "config.json"), JSON.stringify({ config: { actorDepth: depth, criticDepth: depth, seed } }));
  writeFileSync(join(d, "summary.json"), JSON.stringify({ status: "done" }));
  writeFileSync(join(d, "metrics.jsonl"), `${far.map((v, k) => JSON.stringify({ step: k, envsteps: 1000 * (k + 1), "eval/episode_success": v })).join("\n")}\n`);
  all.forEach((v, k) => {
    const checkpoint = `step_${String(1000 * steps[k]).padStart(10, "0")}`;
    const body = { checkpoint: join(d, "checkpoints", `${checkpoint}.safetensors`), env: "ant_big_maze-v1", seed: 12345, episodes: 128, metrics: { "eval/time_at_goal": v } };
    writeFileSync(join(d, "eval", `${checkpoint}__ant_big_maze-v1__seed12345__n128.json`), JSON.stringify(body));
  });
}

describe("depth-gap.ts", () => {
  const study = join(tmp, "study");
  run(study, 4, 0, [9, 0, 0, 0, 0, 0], [100, 10, 10, 10, 10, 10]);
  run(study, 4, 1, [9, 0, 0, 0, 0, 0], [100, 20, 20, 20, 20, 20]);
  run(study, 8, 0, [9, 1, 1, 1, 1, 1], [100, 40, 40, 40, 40, 40]);
  run(study, 8, 1, [9, 3, 3, 3, 3, 3], [100, 60, 60, 60, 60, 60]);

  test("the logged metric: the last five evaluations per run, averaged per depth", () => {
    const r = gap(study, "--a", "4", "--b", "8", "--metric", "eval/episode_success");
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Final \(mean of the last 5 evaluations\): depth 4 0\.0 \[0\.0, 0\.0\], depth 8 2\.0 \[1\.0, 3\.0\]; difference 2\.0/);
  });

  test("--posthoc: the runs' post-hoc evaluations on that env, time at goal by default", () => {
    const r = gap(study, "--a", "4", "--b", "8", "--posthoc", "ant_big_maze-v1");
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^eval\/time_at_goal \(post-hoc evaluations on ant_big_maze-v1\): depth 8 − depth 4, 2 vs 2 seeds/);
    assert.match(r.out, /depth 4 15\.0 \[10\.0, 20\.0\], depth 8 50\.0 \[40\.0, 60\.0\]; difference 35\.0/);
    assert.match(r.out, /Per-depth intervals apart by 20\.0/);
    assert.match(r.out, /\| 1000 \| 100\.0 \| 100\.0 \| 0\.0 \|/);
  });

  test("one seed per depth gives no interval claim", () => {
    const one = join(tmp, "one");
    run(one, 4, 0, [0, 0, 0, 0, 0, 0], [1, 2, 3, 4, 5, 6]);
    run(one, 8, 0, [0, 0, 0, 0, 0, 0], [6, 7, 8, 9, 10, 11]);
    const r = gap(one, "--a", "4", "--b", "8", "--posthoc", "ant_big_maze-v1");
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Per-depth intervals: none with 1 seed at a depth/);
    assert.doesNotMatch(r.out, /apart by/);
  });

  test("runs evaluated at different checkpoints, or without post-hoc results, are refused", () => {
    const mixed = join(tmp, "mixed");
    run(mixed, 4, 0, [0, 0, 0, 0, 0, 0], [1, 2, 3, 4, 5, 6]);
    run(mixed, 8, 0, [0, 0, 0, 0, 0, 0], [1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 7]);
    const r = gap(mixed, "--a", "4", "--b", "8", "--posthoc", "ant_big_maze-v1");
    assert.notEqual(r.code, 0);
    assert.match(r.err, /post-hoc evaluations at different env steps on ant_big_maze-v1/);
    const none = gap(study, "--a", "4", "--b", "8", "--posthoc", "ant_u4_maze-v1");
    assert.notEqual(none.code, 0);
    assert.match(none.err, /not every run .* has post-hoc evaluations on ant_u4_maze-v1/);
  });
});
