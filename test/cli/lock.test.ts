// The run lock (issue 10): two `fathom train --resume` on the same run at once must not both run.
// train.lock in the run directory holds the owner's pid, host and start time; a live owner is an
// error naming its pid, a dead one's lock is taken over; fathom sweep leaves a locked run alone.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { TrainConfigSchema } from "../../src/train/config.js";
import { acquireRunLock, createRunDir, RUN_FILES, runLockState } from "../../src/train/rundir.js";
import { planSweepPoint } from "../../src/train/sweep.js";
import { train } from "../../src/train/trainer.js";
import { TINY } from "../train/tiny-config.js";
import { cli, spawnLongTrain } from "./run-cli.js";



const tiny = TINY;

/** A pid that is certainly not running: a child that has exited. */
async function deadPid(): Promise<number> {
  const c = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((r) => c.on("close", r));
  return c.pid!;
}

async function closed(child: ChildProcess): Promise<number | null> {
  return new Promise((r) => {
    const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("close", (c) => {
      clearTimeout(killer);
      r(c);
    });
  });
}

describe("run lock", () => {
  test("acquire, refuse while held, release; a dead owner's or a damaged lock is taken over", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fathom-lock-"));
    const lock = acquireRunLock(dir);
    const info = JSON.parse(readFileSync(join(dir, RUN_FILES.lock), "utf8"));
    assert.equal(info.pid, process.pid);
    assert.equal(info.host, hostname());
    assert.ok(!Number.isNaN(Date.parse(info.started)));
    assert.throws(() => acquireRunLock(dir), new RegExp(`in use by another fathom process \\(pid ${process.pid} on ${hostname()}`));
    lock.release();
    lock.release(); // idempotent
    assert.ok(!existsSync(join(dir, RUN_FILES.lock)));

    const pid = await deadPid();
    writeFileSync(join(dir, RUN_FILES.lock), JSON.stringify({ pid, host: hostname(), started: "2026-01-01T00:00:00.000Z", command: "fathom train" }));
    assert.equal(runLockState(dir).state, "stale");
    const lines: string[] = [];
    const taken = acquireRunLock(dir, { log: (l) => lines.push(l) });
    assert.match(lines.join("\n"), new RegExp(`was locked by pid ${pid} .*process ${pid} is no longer running: taking the lock over`));
    assert.equal(JSON.parse(readFileSync(join(dir, RUN_FILES.lock), "utf8")).pid, process.pid);
    taken.release();

    writeFileSync(join(dir, RUN_FILES.lock), "{");
    const lines2: string[] = [];
    acquireRunLock(dir, { log: (l) => lines2.push(l) }).release();
    assert.match(lines2[0], /damaged lock file.*taking the lock over/);

    writeFileSync(join(dir, RUN_FILES.lock), JSON.stringify({ pid: 1, host: "elsewhere.example", started: "2026-01-01T00:00:00.000Z", command: "" }));
    assert.throws(() => acquireRunLock(dir), /pid 1 on elsewhere\.example.*another host.*remove .*train\.lock/);
    assert.deepEqual(
      readdirSync(dir).filter((f) => f !== RUN_FILES.lock),
      [],
      "no temporary files left",
    );
  });

  test("a second fathom train --resume on a running run stops naming its pid; sweep leaves it alone; the lock goes at exit", async () => {
    const runs = mkdtempSync(join(tmpdir(), "fathom-lock-cli-"));
    const { child, out, training } = spawnLongTrain(runs);
    try {
      await training(/(step|env steps) \d+\/\d+/);
      const dir = join(runs, readdirSync(runs)[0]);
      const lockPath = join(dir, RUN_FILES.lock);
      assert.equal(JSON.parse(readFileSync(lockPath, "utf8")).pid, child.pid);
      const second = await cli(["train", "--resume", dir]);
      assert.equal(second.code, 1);
      assert.match(second.err, new RegExp(`in use by another fathom process \\(pid ${child.pid} on `));
      assert.equal(JSON.parse(readFileSync(lockPath, "utf8")).pid, child.pid, "the running run keeps its lock");
      const cfg = TrainConfigSchema.parse(JSON.parse(readFileSync(join(dir, "config.json"), "utf8")).config);
      const d = planSweepPoint(dir, cfg);
      assert.equal(d.action, "locked");
      assert.match(d.reason, new RegExp(`pid ${child.pid}`));
    } finally {
      child.kill("SIGINT");
    }
    assert.equal(await closed(child), 0, out());
    const dir = join(runs, readdirSync(runs)[0]);
    assert.ok(!existsSync(join(dir, RUN_FILES.lock)), "the lock is removed when the run stops");
  });

  test("a stale lock (its process is gone) is taken over by fathom train --resume, with a message", async () => {
    const rootDir = mkdtempSync(join(tmpdir(), "fathom-lock-stale-"));
    const runDir = createRunDir(rootDir, { env: "simple_u_maze-v1", agent: "crl", depth: 4, seed: 0 });
    const config = TrainConfigSchema.parse({ ...tiny, totalEnvSteps: 200, numEvals: 1, runsDir: rootDir });
    writeFileSync(runDir.configPath, JSON.stringify({ config }));
    await train(config, { runDir });
    const pid = await deadPid();
    writeFileSync(join(runDir.path, RUN_FILES.lock), JSON.stringify({ pid, host: hostname(), started: "2026-01-01T00:00:00.000Z", command: "x" }));
    const r = await cli(["train", "--resume", runDir.path]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, new RegExp(`warning: run directory .* was locked by pid ${pid} .*no longer running: taking the lock over`));
    assert.ok(!existsSync(join(runDir.path, RUN_FILES.lock)));
    // An error after the lock was taken releases it too.
    writeFileSync(runDir.configPath, "{");
    const bad = await cli(["train", "--resume", runDir.path]);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /config\.json is damaged/);
    assert.ok(!existsSync(join(runDir.path, RUN_FILES.lock)), "released after an error");
  });

  test("fathom sweep reports a point whose run a live process holds, and neither resumes nor moves it", async () => {
    const rootDir = mkdtempSync(join(tmpdir(), "fathom-lock-sweep-"));
    const runsDir = join(rootDir, "runs");
    const dir = join(runsDir, "simple_u_maze-v1__crl__d4__s0");
    mkdirSync(join(dir, "checkpoints"), { recursive: true });
    writeFileSync(join(dir, "train.log"), "started\n"); // no config.json yet: unlocked, it would be moved aside
    const sleeper = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
    try {
      writeFileSync(join(dir, RUN_FILES.lock), JSON.stringify({ pid: sleeper.pid, host: hostname(), started: new Date().toISOString(), command: "fathom train" }));
      const r = await cli(["sweep", "--env", "simple_u_maze-v1", "--depths", "4", "--seeds", "0", "--runs-dir", runsDir]);
      assert.equal(r.code, 1, r.out + r.err);
      assert.match(r.out, new RegExp(`skip depth 4 seed 0: in use by another fathom process \\(pid ${sleeper.pid} on `));
      assert.match(r.out, /\| 4 \| 0 \| locked/);
      assert.deepEqual(readdirSync(runsDir), ["simple_u_maze-v1__crl__d4__s0"], "not moved aside");
      assert.deepEqual(readdirSync(dir).sort(), ["checkpoints", "train.lock", "train.log"]);
    } finally {
      sleeper.kill();
    }
  });
});
