// The viewer in a real browser (Debian's headless Chromium, driven by playwright-core; skipped
// loudly without it): the curves show one point per evaluation, the replay canvases are drawn and
// change with the step, the episode picker and the scrubber work, side-by-side runs get the same
// starts and goals, and a MuJoCo run is drawn in 3-D (following the Ant, then the whole maze). Screenshots of each view go to
// test-artifacts/view/ ($FATHOM_TEST_ARTIFACTS).
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Page } from "playwright-core";
import { readMetricsJsonl } from "../../src/train/logger.js";
import { evalRecords } from "../../src/train/summary.js";
import { type Browser, launchChromium } from "../../src/view/browser.js";
import { resolveRuns } from "../../src/view/runs.js";
import { startViewServer, type ViewServer } from "../../src/view/server.js";
import { chromiumSkip } from "./browser-skip.js";
import { artifactsDir, tinyRun } from "./fixtures.js";

const skip = chromiumSkip();

/** Runs `fn` in the page with its `fathom` object. */
// biome-ignore lint/suspicious/noExplicitAny: the page's own object, typed by its JSDoc, not here
function inPage<T, A>(page: Page, fn: (fathom: any, arg: A) => T, arg?: A): Promise<T> {
  return page.evaluate(({ src, a }) => new Function("f", "a", `return (${src})(f, a)`)((globalThis as unknown as { fathom: unknown }).fathom, a), {
    src: fn.toString(),
    a: arg as A,
  }) as Promise<T>;
}

describe("fathom view in Chromium", { skip }, () => {
  let server: ViewServer;
  let browser: Browser;
  let page: Page;
  let runs: string[];
  const errors: string[] = [];
  const shots = skip ? "" : artifactsDir("view");

  before(async () => {
    const runsDir = mkdtempSync(join(tmpdir(), "fathom-view-browser-"));
    // two depths on the point U-maze, and an Ant maze run
    runs = [
      await tinyRun(runsDir),
      await tinyRun(runsDir, "simple_u_maze-v1", ["--actor-depth", "8", "--critic-depth", "8"]),
      await tinyRun(runsDir, "ant_u4_maze-v1"),
    ];
    server = await startViewServer({ runs: resolveRuns(runs), fathom: "test", log: () => {} });
    browser = await launchChromium({ width: 1280, height: 900 });
    page = await browser.context.newPage();
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    await page.goto(server.url);
    await inPage(page, (f) => f.ready);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test("learning curves: one point per evaluation of each run; a second tab of training curves", async () => {
    type ChartPoints = { key: string; runs: { run: number | null; points: number }[] };
    const charts = await inPage<ChartPoints[], undefined>(page, (f) =>
      f.state.charts.eval.map((c: { key: string; series: { run: number | null }[]; plot: { data: (number | null)[][] } }) => ({
        key: c.key,
        runs: c.series.map((s, i) => ({ run: s.run, points: c.plot.data[i + 1].filter((v) => v !== null).length })),
      })),
    );
    const tag = charts.find((c) => c.key === "eval/time_at_goal");
    assert.ok(tag, `charts: ${charts.map((c) => c.key)}`);
    for (const [i, dir] of runs.entries()) {
      const want = evalRecords(readMetricsJsonl(join(dir, "metrics.jsonl")).records).length;
      assert.equal(tag.runs.find((s) => s.run === i)?.points, want, `run ${i}: ${want} evaluations`);
    }
    assert.ok(charts.some((c) => c.key === "eval_far/time_at_goal"), "the U-maze's far goals have their own chart");
    await page.screenshot({ path: join(shots, "curves.png"), fullPage: true });
    await page.click('button[data-tab="training"]');
    const training = await inPage<string[], undefined>(page, (f) => f.state.charts.training.map((c: { key: string }) => c.key));
    assert.ok(training.includes("training/critic_loss") && training.includes("training/log_alpha") && training.includes("training/entropy"));
    await page.screenshot({ path: join(shots, "training.png"), fullPage: true });
  });

  test("replay of two depths on the point maze: drawn, the same tasks, changing with the step; episode picker and scrubber", async () => {
    await page.click('button[data-tab="replay"]');
    await page.waitForSelector("#player:not([hidden])", { timeout: 120_000 });
    // one run per depth ticked by default (the Ant is another env)
    const shown = await inPage(page, (f) => f.state.replay.panels.map((p: { run: { index: number } }) => p.run.index));
    assert.deepEqual(shown, [0, 1]);
    assert.equal(await inPage(page, (f) => f.state.replay.sameTasks()), true, "same starts and goals in both panels");
    const a = await inPage(page, (f) => f.pixelStats(0));
    assert.ok(a.colours >= 6, `the maze canvas is drawn: ${a.colours} colours`);
    await inPage(page, (f) => f.state.replay.seek(40));
    const b = await inPage(page, (f) => f.pixelStats(0));
    assert.notEqual(b.hash, a.hash, "the picture changes between step 0 and step 40");
    // the episode picker: episode 1 has its own goal
    await page.selectOption("#episode", "1");
    assert.equal(await inPage(page, (f) => f.state.replay.episode), 1);
    assert.equal(await inPage(page, (f) => f.state.replay.t), 0);
    const c = await inPage(page, (f) => f.pixelStats(0));
    assert.notEqual(c.hash, a.hash, "episode 1 is drawn, not episode 0");
    // the scrubber
    await page.locator("#scrub").fill("20");
    assert.equal(await inPage(page, (f) => f.state.replay.t), 20);
    assert.equal(await page.locator("#step-label").textContent(), "step 20 / 40");
    assert.match((await page.locator(".panel .readout").first().textContent()) ?? "", /^(● at goal {2})?step 20 \/ 40/);
    await page.screenshot({ path: join(shots, "replay-point-maze.png"), fullPage: true });
    // playing moves the clock on
    await page.locator("#scrub").fill("0");
    await page.click("#play");
    await page.waitForFunction(() => (globalThis as unknown as { fathom: { state: { replay: { t: number } } } }).fathom.state.replay.t > 0, undefined, { timeout: 10_000 });
    await page.click("#play");
  });

  test("replay of the Ant maze in 3-D: the canvas is drawn and changes with the step", async () => {
    await page.uncheck('#replay-runs input[value="0"]');
    await page.uncheck('#replay-runs input[value="1"]');
    await page.check('#replay-runs input[value="2"]');
    await page.selectOption("#replay-env", "ant_u4_maze-v1");
    await page.click("#replay-load");
    await page.waitForFunction(
      () => {
        const r = (globalThis as unknown as { fathom: { state: { replay: { panels: { file: { env: string } | null }[] } } } }).fathom.state.replay;
        return r.panels.length === 1 && r.panels[0].file?.env === "ant_u4_maze-v1";
      },
      undefined,
      { timeout: 120_000 },
    );
    const a = await inPage(page, (f) => f.pixelStats(0));
    assert.ok(a.colours >= 20, `the 3-D scene is drawn: ${a.colours} colours`);
    await inPage(page, (f) => f.state.replay.seek(40));
    const b = await inPage(page, (f) => f.pixelStats(0));
    assert.notEqual(b.hash, a.hash, "the Ant has moved between step 0 and step 40");
    await page.screenshot({ path: join(shots, "replay-ant-maze.png"), fullPage: true });
    // the camera showing the whole maze
    await page.selectOption("#camera", "overview");
    const c = await inPage(page, (f) => f.pixelStats(0));
    assert.notEqual(c.hash, b.hash, "the overview is another picture");
    await page.screenshot({ path: join(shots, "replay-ant-maze-overview.png"), fullPage: true });
    assert.deepEqual(errors, [], "no errors in the page");
  });
});
