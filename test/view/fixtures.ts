// Tiny runs for the viewer's tests (trained through the CLI, as a user would) and where the browser
// tests keep their screenshots.
import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { cli } from "../cli/run-cli.js";
import { TINY } from "../train/tiny-config.js";

/** `fathom train` flags of the tiny configuration (test/train/tiny-config.ts), 400 env steps, 3 evaluations. */
function tinyFlags(env: string): string[] {
  const c: Record<string, string | number> = { ...TINY, env, totalEnvSteps: 400, numEvals: 3 };
  return Object.entries(c).flatMap(([k, v]) => [`--${k.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`)}`, String(v)]);
}

/** Trains a tiny run into `runsDir`; returns its directory. */
export async function tinyRun(runsDir: string, env = "simple_u_maze-v1", extra: string[] = []): Promise<string> {
  const before = new Set(readdirSync(runsDir));
  const r = await cli(["train", ...tinyFlags(env), "--runs-dir", runsDir, ...extra]);
  if (r.code !== 0) throw new Error(`tiny run failed: ${r.err}`);
  const made = readdirSync(runsDir).filter((n) => !before.has(n));
  if (made.length !== 1) throw new Error(`expected one new run directory in ${runsDir}, found ${made.join(", ")}`);
  return join(runsDir, made[0]);
}

/** Folder for test artifacts (screenshots): $FATHOM_TEST_ARTIFACTS or test-artifacts/ at the repository root. */
export function artifactsDir(sub: string): string {
  const dir = join(process.env.FATHOM_TEST_ARTIFACTS ?? fileURLToPath(new URL("../../test-artifacts/", import.meta.url)), sub);
  mkdirSync(dir, { recursive: true });
  return dir;
}
