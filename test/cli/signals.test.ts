// Signals stop a training run within about one gradient step, with a checkpoint and the replay
// buffer (issue 10): the CLI runs as a child process, as a user runs it, and gets SIGINT or SIGTERM
// while it trains a run far too long to finish by itself.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { spawnLongTrain } from "./run-cli.js";

const TOTAL = 50_000_000; // hours of work: only a signal ends it within the test

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  describe(`fathom train stops on ${signal}`, () => {
    test("within seconds, with an interrupt checkpoint, its replay buffer and summary status interrupted", async () => {
      const runs = mkdtempSync(join(tmpdir(), "fathom-sig-"));
      const { child, out, training } = spawnLongTrain(runs, TOTAL);
      // Wait until it is training (a progress line with a step count), then signal it.
      await training(/env steps \d+\/\d+/);
      const sent = Date.now();
      child.kill(signal);
      const code = await new Promise<number | null>((r) => {
        const killer = setTimeout(() => child.kill("SIGKILL"), 30_000); // a run that ignores the signal
        child.on("close", (c: number | null) => {
          clearTimeout(killer);
          r(c);
        });
      });
      const took = (Date.now() - sent) / 1000;
      assert.equal(code, 0, `exit code ${code}: ${out()}`);
      // A gradient step here takes milliseconds; before the fix the run ignored the signal until done.
      assert.ok(took < 20, `stopped ${took} s after ${signal}`);
      const dir = join(runs, readdirSync(runs)[0]);
      const ck = readdirSync(join(dir, "checkpoints"));
      assert.ok(ck.some((f) => /^interrupt_\d{10}\.safetensors$/.test(f)), `no interrupt checkpoint: ${ck.join(", ")}`);
      assert.ok(ck.some((f) => /^interrupt_\d{10}\.replay\.safetensors$/.test(f)), `no replay buffer saved: ${ck.join(", ")}`);
      const summary = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8")) as { status: string; envSteps: number };
      assert.equal(summary.status, "interrupted");
      assert.ok(summary.envSteps < TOTAL);
      assert.ok(existsSync(join(dir, "config.json")));
    });
  });
}
