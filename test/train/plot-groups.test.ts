// `fathom plot` (issue 10): runs of different envs are never averaged into one line, the output
// says how many runs each line has and how long they are, and the axes have round ticks.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { run } from "../../src/cli/main.js";
import { presetFor, TrainConfigSchema } from "../../src/train/config.js";
import { finalSummaryMarkdown, finalSummarySvg, learningCurvesSvg, niceTicks, runLength, summarizeFinal } from "../../src/train/plot.js";

test("ticks are round numbers: 1, 2, 2.5 or 5 × 10^k apart, covering the data", () => {
  assert.deepEqual(niceTicks(0, 487_232), [0, 100_000, 200_000, 300_000, 400_000, 500_000]);
  assert.deepEqual(niceTicks(0, 1000), [0, 200, 400, 600, 800, 1000]);
  assert.deepEqual(niceTicks(0, 0.37), [0, 0.1, 0.2, 0.3, 0.4]);
  assert.deepEqual(niceTicks(-3.2, 9.5), [-5, 0, 5, 10]);
  assert.deepEqual(niceTicks(0, 1_100_000), [0, 250_000, 500_000, 750_000, 1_000_000, 1_250_000]);
});

test("learning curves: x ticks round even when the runs end at an odd step count; legend says runs and their length", () => {
  const svg = learningCurvesSvg(
    [
      { group: "depth 4", points: [[243_616, 10], [487_232, 30]] },
      { group: "depth 4", points: [[243_616, 20], [487_232, 50]] },
    ],
    { title: "t", yLabel: "time at goal" },
  );
  const xs = [...svg.matchAll(/class="x-tick"[^>]*>([^<]+)</g)].map((m) => m[1]);
  assert.deepEqual(xs, ["0", "100k", "200k", "300k", "400k", "500k"]);
  const ys = [...svg.matchAll(/class="y-tick"[^>]*>([^<]+)</g)].map((m) => m[1]);
  assert.deepEqual(ys, ["0", "10", "20", "30", "40", "50"]);
  assert.match(svg, /depth 4 \(2 runs\)/);
  assert.match(svg, /487\.2k env steps each/);
  assert.equal(runLength([{ group: "a", points: [[100, 1]] }, { group: "a", points: [[300, 1]] }]), "100–300 env steps");
});

test("final summary: runs of different envs are different groups, with an env column", () => {
  const groups = summarizeFinal([
    { group: "4", env: "maze_a", order: [0, 4], seed: 0, run: "a4s0", value: 10 },
    { group: "4", env: "maze_b", order: [1, 4], seed: 0, run: "b4s0", value: 500 },
    { group: "4", env: "maze_a", order: [0, 4], seed: 1, run: "a4s1", value: 20 },
  ]);
  assert.deepEqual(
    groups.map((g) => [g.env, g.group, g.n, g.mean]),
    [
      ["maze_a", "4", 2, 15],
      ["maze_b", "4", 1, 500],
    ],
  );
  const md = finalSummaryMarkdown(groups, { groupLabel: "depth" }).split("\n");
  assert.equal(md[0], "| env | depth | n runs | mean | 95 % CI | per-seed values |");
  assert.match(md[2], /^\| maze_a \| 4 \| 2 \| 15 \|/);
  const svg = finalSummarySvg(groups, { title: "t", xLabel: "depth", yLabel: "y" });
  assert.match(svg, /<text class="env"[^>]*>maze_a<\/text>/);
  assert.match(svg, /data-env="maze_b" data-group="4" data-n="1" data-mean="500"/);
});

function fakeRun(root: string, name: string, over: Record<string, unknown>, curve: [number, number][]): void {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const config = TrainConfigSchema.parse({ ...presetFor("cpu", "crl"), ...over });
  writeFileSync(join(dir, "config.json"), JSON.stringify({ fathom: "test", config }));
  writeFileSync(join(dir, "metrics.jsonl"), curve.map(([envsteps, v]) => JSON.stringify({ envsteps, step: 1, "eval/episode_success": v })).join("\n"));
}

test("fathom plot draws one line per (env, depth) and says how many runs and how long", async () => {
  const root = mkdtempSync(join(tmpdir(), "fathom-plotenv-"));
  const runs = join(root, "runs");
  fakeRun(runs, "simple_u_maze-v1__crl__d4__s0__x", { env: "simple_u_maze-v1", seed: 0 }, [[250_000, 100], [500_000, 300]]);
  fakeRun(runs, "simple_u_maze-v1__crl__d4__s1__x", { env: "simple_u_maze-v1", seed: 1 }, [[250_000, 120], [500_000, 320]]);
  fakeRun(runs, "simple_big_maze-v1__crl__d4__s0__x", { env: "simple_big_maze-v1", seed: 0 }, [[150_000, 5], [300_000, 10]]);
  const out = join(root, "curves.svg");
  const log = console.log;
  const lines: string[] = [];
  console.log = (...a: unknown[]) => lines.push(a.join(" "));
  let code: number;
  try {
    code = await run(["plot", runs, "--out", out, "--summary", join(root, "summary.svg")]);
  } finally {
    console.log = log;
  }
  assert.equal(code, 0, lines.join("\n"));
  const text = lines.join("\n");
  assert.match(text, /3 runs of 2 envs \(one group per env and depth\):/);
  assert.match(text, /simple_big_maze-v1: depth 4: 1 run, 300k env steps/);
  assert.match(text, /simple_u_maze-v1: depth 4: 2 runs, 500k env steps each/);
  assert.match(text, /\| env \| depth \| n runs \|/);
  const svg = readFileSync(out, "utf8");
  assert.equal((svg.match(/<polyline class="mean"/g) ?? []).length, 2, "one line per env");
  assert.match(svg, /simple_u_maze-v1: depth 4 \(2 runs\)/);
  assert.match(svg, /simple_big_maze-v1: depth 4 \(1 run\)/);
});

test("fathom plot never averages an agent's online and offline runs: each gets its own group when both are plotted", async () => {
  const root = mkdtempSync(join(tmpdir(), "fathom-plotmode-"));
  const runs = join(root, "runs");
  const put = (name: string, agent: "crl" | "gcbc", offline: boolean, seed: number, v: number) => {
    const dir = join(runs, name);
    mkdirSync(dir, { recursive: true });
    const config = TrainConfigSchema.parse({ ...presetFor("cpu", agent), agent, env: "simple_u_maze-v1", seed, ...(offline ? { offline: "data.safetensors" } : {}) });
    writeFileSync(join(dir, "config.json"), JSON.stringify({ fathom: "test", config }));
    writeFileSync(join(dir, "metrics.jsonl"), JSON.stringify({ envsteps: offline ? 0 : 250_000, step: 250, "eval/episode_success": v }));
  };
  put("crl_on_s0", "crl", false, 0, 500);
  put("crl_on_s1", "crl", false, 1, 520);
  put("crl_off_s0", "crl", true, 0, 100);
  put("gcbc_s0", "gcbc", true, 0, 300);
  const capture = async (args: string[]) => {
    const log = console.log;
    const lines: string[] = [];
    console.log = (...a: unknown[]) => lines.push(a.join(" "));
    try {
      const code = await run(args);
      assert.equal(code, 0, lines.join("\n"));
    } finally {
      console.log = log;
    }
    return lines.join("\n");
  };
  const both = await capture(["plot", runs, "--x", "step", "--out", join(root, "c.svg"), "--summary", join(root, "s.svg")]);
  assert.match(both, /crl online depth 4: 2 runs, 250 training steps each/);
  assert.match(both, /crl offline depth 4: 1 run/);
  assert.match(both, /gcbc offline depth 4: 1 run/);
  assert.match(both, /\| crl online 4 \| 2 \| 510 \|/);
  assert.match(both, /\| crl offline 4 \| 1 \| 100 \|/);
  const svg = readFileSync(join(root, "c.svg"), "utf8");
  assert.equal((svg.match(/<polyline class="mean"/g) ?? []).length, 3);
  assert.match(svg, /class="run-length"[^>]*>250 training steps each</);
  // one kind only: the labels stay as they were
  const online = await capture(["plot", join(runs, "crl_on_s0"), join(runs, "crl_on_s1"), "--summary", join(root, "s2.svg")]);
  assert.match(online, /^ {2}depth 4: 2 runs/m);
});

test("long group labels: the summary wraps them onto lines that fit their slot, the curves' legend column widens", () => {
  const groups = summarizeFinal(
    ["crl online 4", "crl online 16", "crl offline 4", "crl offline 16", "gcbc offline 4", "gcbc offline 16"].map((group, i) => ({ group, order: [i], seed: 0, run: `r${i}`, value: i })),
  );
  const svg = finalSummarySvg(groups, { title: "t", xLabel: "depth", yLabel: "y" });
  assert.match(svg, /<tspan x="[\d.]+" dy="0">gcbc<\/tspan><tspan x="[\d.]+" dy="14">offline 16<\/tspan>/);
  assert.match(svg, /height="434"/, "one more label line, 14 px more");
  const short = finalSummarySvg(summarizeFinal([{ group: "4", order: [4], seed: 0, run: "a", value: 1 }]), { title: "t", xLabel: "depth", yLabel: "y" });
  assert.doesNotMatch(short, /<tspan/);
  assert.match(short, /height="420"/);
  const curves = learningCurvesSvg([{ group: "gcbc offline depth 16", points: [[1, 1]] }], { title: "t", yLabel: "y" });
  const width = Number(/<svg[^>]* width="(\d+)"/.exec(curves)?.[1]);
  assert.ok(width > 760, `legend column widened: ${width}`);
  assert.match(learningCurvesSvg([{ group: "depth 4", points: [[1, 1]] }], { title: "t", yLabel: "y" }), /<svg[^>]* width="760"/);
});
