// Whether the browser tests can run: Debian's chromium (and ffmpeg for the video tests). Without
// them those tests are skipped with a loud message, unless FATHOM_REQUIRE_BROWSER=1 (CI, which
// installs both in .ci/run): then a missing one is a failure, not a silent pass.
import { spawnSync } from "node:child_process";
import { findChromium } from "../../src/view/browser.js";

function loud(why: string): string {
  if (process.env.FATHOM_REQUIRE_BROWSER === "1") throw new Error(`FATHOM_REQUIRE_BROWSER=1 but ${why}`);
  const bar = "!".repeat(78);
  console.error(`${bar}\n!! BROWSER TESTS SKIPPED: ${why}\n${bar}`);
  return why;
}

/** false when Chromium is there, else why not (printed loudly). */
export function chromiumSkip(): string | false {
  return findChromium() === null ? loud("no Chromium (Debian: sudo apt-get install chromium; .ci/run installs it)") : false;
}

/** false when Chromium and ffmpeg are there, else why not (printed loudly). */
export function videoSkip(): string | false {
  const c = chromiumSkip();
  if (c !== false) return c;
  const r = spawnSync(process.env.FATHOM_FFMPEG || "ffmpeg", ["-version"]);
  return r.error !== undefined || r.status !== 0 ? loud("no ffmpeg (Debian: sudo apt-get install ffmpeg; .ci/run installs it)") : false;
}
