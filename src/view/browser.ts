// Headless Chromium for `fathom video` (and the browser tests): the system's own Chromium (Debian:
// `apt-get install chromium`), driven by playwright-core, which never downloads a browser. It runs
// without a GPU or display (WebGL falls back to Chromium's software renderer) and without network
// chatter (the flags below), in a fresh profile deleted afterwards.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";

/** Where Chromium is looked for, in order, after $FATHOM_CHROMIUM. */
export const CHROMIUM_PATHS = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome", "/usr/bin/google-chrome-stable"];

/** Headless, no sandbox (root in containers), software rendering, and no background network use. */
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** The Chromium executable to use, or null when there is none. */
export function findChromium(): string | null {
  const env = process.env.FATHOM_CHROMIUM;
  if (env !== undefined && env !== "") return env;
  return CHROMIUM_PATHS.find((p) => existsSync(p)) ?? null;
}

/** The Chromium executable, or an error that says how to install one. */
export function requireChromium(): string {
  const env = process.env.FATHOM_CHROMIUM;
  if (env !== undefined && env !== "" && !existsSync(env)) throw new Error(`FATHOM_CHROMIUM is ${env}, which does not exist`);
  const p = findChromium();
  if (p === null) {
    throw new Error(
      `fathom video renders in headless Chromium, and none was found (looked for ${CHROMIUM_PATHS.join(", ")}): ` +
        "install it (Debian/Ubuntu: `sudo apt-get install chromium`) or set FATHOM_CHROMIUM to its path",
    );
  }
  return p;
}

/** The ffmpeg executable ($FATHOM_FFMPEG or `ffmpeg` on PATH), or an error that says how to install it. */
export function requireFfmpeg(): string {
  const exe = process.env.FATHOM_FFMPEG || "ffmpeg";
  const r = spawnSync(exe, ["-hide_banner", "-version"], { encoding: "utf8" });
  if (r.error !== undefined || r.status !== 0) {
    throw new Error(`fathom video encodes with ffmpeg, and ${exe} cannot run (${r.error?.message ?? `exit code ${r.status}`}): install it (Debian/Ubuntu: \`sudo apt-get install ffmpeg\`) or set FATHOM_FFMPEG to its path`);
  }
  return exe;
}

export interface Browser {
  context: BrowserContext;
  /** Closes the browser and deletes its profile. */
  close(): Promise<void>;
}

/**
 * Flags that give a page navigator.gpu in headless Chromium (with CHROMIUM_FLAGS' --disable-gpu):
 * WebGPU on SwiftShader, Chromium's own CPU implementation (the WebGPU browser test).
 */
export const CHROMIUM_WEBGPU_FLAGS = ["--enable-unsafe-webgpu", "--use-webgpu-adapter=swiftshader"];

/** Starts headless Chromium with a fresh profile and the given viewport (`extraArgs` after CHROMIUM_FLAGS). */
export async function launchChromium(viewport: { width: number; height: number }, executablePath = requireChromium(), extraArgs: readonly string[] = []): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), "fathom-chromium-"));
  try {
    const args = [...CHROMIUM_FLAGS, ...extraArgs];
    const context = await chromium.launchPersistentContext(profile, { executablePath, args, headless: true, viewport, deviceScaleFactor: 1 });
    return {
      context,
      close: async () => {
        try {
          await context.close();
        } finally {
          rmSync(profile, { recursive: true, force: true });
        }
      },
    };
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw new Error(`could not start Chromium (${executablePath}): ${(e as Error).message.split("\n")[0]}`);
  }
}
