import assert from "node:assert/strict";
import { test } from "node:test";
import {
  aggregate,
  type Curve,
  finalSummaryMarkdown,
  finalSummarySvg,
  learningCurvesSvg,
  summarizeFinal,
} from "../../src/train/plot.js";
import { bootstrapMeanCI } from "../../src/train/stats.js";

const curves: Curve[] = [
  { group: "depth 16", order: [16, 16], points: [[100, 2], [200, 6]] },
  { group: "depth 4", order: [4, 4], points: [[100, 1], [200, 3]] },
  { group: "depth 4", order: [4, 4], points: [[100, 3], [200, 5]] },
  { group: "depth 4", order: [4, 4], points: [[100, 2], [200, 10], [200, 7]] }, // a repeated x: the later point wins
];

test("aggregate: groups sorted by depth, mean and bootstrap CI over runs at each x", () => {
  const agg = aggregate(curves);
  assert.deepEqual([...agg.keys()], ["depth 4", "depth 16"]);
  const d4 = agg.get("depth 4")!;
  assert.equal(d4.length, 2);
  const ci = bootstrapMeanCI([3, 5, 7]);
  assert.deepEqual(d4[1], { x: 200, mean: 5, lo: ci.lo, hi: ci.hi, n: 3 });
  assert.ok(d4[1].lo < 5 && d4[1].hi > 5);
  assert.deepEqual(agg.get("depth 16")![0], { x: 100, mean: 2, lo: 2, hi: 2, n: 1 });
});

test("learning curves SVG: a CI band and a mean line per group; identical output for identical input", () => {
  const svg = learningCurvesSvg(curves, { title: "maze <1>", yLabel: "time at goal" });
  assert.match(svg, /^<svg /);
  assert.equal((svg.match(/<polygon class="ci-band"/g) ?? []).length, 2);
  assert.equal((svg.match(/<polyline class="mean"/g) ?? []).length, 2);
  assert.match(svg, /depth 4 \(3 runs\)/);
  assert.match(svg, /band: 95 % bootstrap CI/);
  assert.match(svg, /maze &lt;1&gt;/);
  assert.equal(svg, learningCurvesSvg(curves, { title: "maze <1>", yLabel: "time at goal" }));
});

test("final summary: per-group mean, CI, per-seed dots, markdown table", () => {
  const groups = summarizeFinal([
    { group: "16", order: [16, 16], seed: 1, run: "r16s1", value: 40 },
    { group: "4", order: [4, 4], seed: 2, run: "r4s2", value: 30 },
    { group: "4", order: [4, 4], seed: 0, run: "r4s0", value: 10 },
    { group: "4", order: [4, 4], seed: 1, run: "r4s1", value: 20 },
    { group: "64", order: [64, 64], seed: 0, run: "r64s0", value: 0.125 },
  ]);
  assert.deepEqual(
    groups.map((g) => [g.group, g.n, g.mean]),
    [
      ["4", 3, 20],
      ["16", 1, 40],
      ["64", 1, 0.125],
    ],
  );
  const ci = bootstrapMeanCI([10, 20, 30]);
  assert.equal(groups[0].lo, ci.lo);
  assert.equal(groups[0].hi, ci.hi);
  assert.deepEqual(
    groups[0].values.map((v) => v.seed),
    [0, 1, 2],
  );
  const svg = finalSummarySvg(groups, { title: "t", xLabel: "depth", yLabel: "time at goal" });
  assert.equal((svg.match(/<circle class="mean"/g) ?? []).length, 3);
  assert.equal((svg.match(/<circle class="seed"/g) ?? []).length, 5);
  assert.equal((svg.match(/<line class="ci"/g) ?? []).length, 3);
  assert.match(svg, /data-group="4" data-n="3" data-mean="20"/);
  assert.match(svg, /bar: 95 % bootstrap CI of the mean/);
  // a y label longer than the plot's height (310 px here) is wrapped onto two lines, each fitting it
  const long = "time at goal, far goals (of 1000 steps), mean of the last 5 evaluations";
  const wrapped = [...finalSummarySvg(groups, { title: "t", xLabel: "depth", yLabel: long }).matchAll(/rotate\(-90\)" text-anchor="middle">([^<]*)</g)].map((m) => m[1]);
  assert.equal(wrapped.length, 2, `y label lines: ${wrapped.join(" | ")}`);
  assert.equal(wrapped.join(" "), long);
  for (const line of wrapped) assert.ok(6.7 * line.length <= 300, `"${line}" fits the plot's height`);
  assert.equal([...svg.matchAll(/rotate\(-90\)/g)].length, 1, "a short y label stays one line");
  const md = finalSummaryMarkdown(groups, { groupLabel: "depth" });
  const rows = md.split("\n");
  assert.equal(rows[0], "| depth | n runs | mean | 95 % CI | per-seed values |");
  assert.match(rows[2], /^\| 4 \| 3 \| 20 \| [\d.]+–[\d.]+ \| s0: 10, s1: 20, s2: 30 \|$/);
  assert.equal(rows[4], "| 64 | 1 | 0.125 | 0.125–0.125 | s0: 0.125 |");
});
