// A screenshot of `fathom view`'s page as a user sees it (for docs/viewer.md): the viewer's server
// on the given runs, the page in headless Chromium at 1400 px wide, one tab, the whole page.
//   node --import tsx scripts/studies/view-screenshot.ts --out shot.png [--tab curves|training|replay]
//        [--env ID] [--episode E] [--step T] [--camera follow|overview|free] <run dir | runs folder>...
// With --tab replay the ticked runs are the viewer's default (one run per configuration of the
// first run's env); the episode and step are set as a user would with the picker and the scrubber.
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { launchChromium } from "../../src/view/browser.js";
import { resolveRuns } from "../../src/view/runs.js";
import { startViewServer } from "../../src/view/server.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    out: { type: "string" },
    tab: { type: "string", default: "curves" },
    env: { type: "string" },
    episode: { type: "string", default: "0" },
    step: { type: "string" },
    camera: { type: "string", default: "follow" },
    force: { type: "boolean", default: false },
  },
});
if (!values.out) throw new Error("--out <file.png> is required");
if (existsSync(values.out) && !values.force) throw new Error(`refusing to overwrite ${values.out}: add --force`);
if (!["curves", "training", "replay"].includes(values.tab ?? "")) throw new Error(`--tab must be curves, training or replay, got ${values.tab}`);

const server = await startViewServer({ runs: resolveRuns(positionals), fathom: "docs", log: (l) => console.error(l) });
const browser = await launchChromium({ width: 1400, height: 900 });
try {
  const page = await browser.context.newPage();
  page.on("pageerror", (e) => console.error(`page error: ${e.message}`));
  await page.goto(server.url);
  await page.evaluate(() => (globalThis as unknown as { fathom: { ready: Promise<void> } }).fathom.ready);
  await page.click(`button[data-tab="${values.tab}"]`);
  if (values.tab === "replay") {
    await page.waitForSelector("#player:not([hidden])", { timeout: 600_000 });
    if (values.env) {
      await page.selectOption("#replay-env", values.env);
      await page.click("#replay-load");
      await page.waitForFunction(
        (env) => (globalThis as unknown as { fathom: { state: { replay: { panels: { file: { env: string } | null }[] } } } }).fathom.state.replay.panels.every((p) => p.file?.env === env),
        values.env,
        { timeout: 600_000 },
      );
    }
    await page.selectOption("#episode", values.episode ?? "0");
    await page.selectOption("#camera", values.camera ?? "follow");
    if (values.step !== undefined) await page.locator("#scrub").fill(values.step);
  }
  await page.waitForTimeout(300);
  await page.screenshot({ path: values.out, fullPage: true });
  console.log(`screenshot written to ${values.out}`);
} finally {
  await browser.close();
  await server.close();
}
