// The CLI run for tests: in-process, `run(args)` with console output captured and, optionally,
// environment variables set for the call (restored after); or as a child process training a run far
// too long to finish by itself (what a user interrupts), with its output collected.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { run } from "../../src/cli/main.js";

const root = new URL("../..", import.meta.url).pathname;

export async function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  try {
    const code = await run(args);
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/**
 * `fathom train` of a tiny point-maze run of `totalEnvSteps` (hours of work by default: only a
 * signal ends it) into `runs`, as a child process (FATHOM_THREADS=1). `out()` is its output so far;
 * `training(progress)` resolves once a line matches `progress` (within 60 s, the child still running).
 */
export function spawnLongTrain(runs: string, totalEnvSteps = 50_000_000): { child: ChildProcess; out: () => string; training: (progress: RegExp) => Promise<void> } {
  const args = ["--import", "tsx", join(root, "src/cli/bin.ts"), "train", "--env", "simple_u_maze-v1", "--runs-dir", runs];
  args.push("--total-env-steps", String(totalEnvSteps), "--num-evals", "1000", "--num-envs", "4", "--unroll-length", "10");
  args.push("--batch-size", "16", "--sgd-batches-per-step", "4", "--actor-width", "16", "--critic-width", "16", "--threads", "0");
  args.push("--min-replay-size", "20", "--max-replay-size", "200", "--window-length", "50", "--num-eval-envs", "2");
  const child = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, FATHOM_THREADS: "1" } });
  let out = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    out += d;
  });
  const training = async (progress: RegExp) => {
    const t0 = Date.now();
    while (!progress.test(out)) {
      assert.ok(Date.now() - t0 < 60_000, `no training progress within 60 s: ${out}`);
      assert.equal(child.exitCode, null, out);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return { child, out: () => out, training };
}
