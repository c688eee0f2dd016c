// Runs that nothing corrupts (issue 10): a damaged latest.json falls back to the newest readable
// checkpoint, a damaged config.json is named with what to do, write errors (ENOSPC) name the file
// and leave earlier checkpoints intact, and the replay buffer is saved with periodic checkpoints.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { run } from "../../src/cli/main.js";
import { TrainConfigSchema } from "../../src/train/config.js";
import { createRunDir, type RunDir } from "../../src/train/rundir.js";
import { latestCheckpoint, train } from "../../src/train/trainer.js";

const tiny = {
  env: "simple_u_maze-v1",
  numEnvs: 4,
  unrollLength: 10,
  batchSize: 16,
  sgdBatchesPerStep: 2,
  numEvalEnvs: 2,
  episodeLength: 40,
  minReplaySize: 10,
  maxReplaySize: 200,
  windowLength: 40,
  actorWidth: 16,
  criticWidth: 16,
  reprDim: 8,
  threads: 0,
};

/** Runs the CLI in-process, capturing what it prints. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  try {
    const code = await run(args);
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

/** A finished tiny run with a checkpoint per evaluation (3 evaluations, all kept), through the CLI's files. */
async function tinyRun(prefix: string, extra: Record<string, unknown> = {}): Promise<{ runDir: RunDir; config: ReturnType<typeof TrainConfigSchema.parse> }> {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const runDir = createRunDir(root, { env: "simple_u_maze-v1", agent: "crl", depth: 4, seed: 0 });
  const config = TrainConfigSchema.parse({ ...tiny, totalEnvSteps: 400, numEvals: 3, keepCheckpoints: 5, runsDir: root, ...extra });
  writeFileSync(runDir.configPath, JSON.stringify({ config }));
  const res = await train(config, { runDir });
  assert.equal(res.status, "done");
  return { runDir, config };
}

const stepCheckpoints = (dir: string) =>
  readdirSync(dir)
    .filter((f) => /^step_\d{10}\.safetensors$/.test(f))
    .sort();

describe("damaged latest.json and config.json", () => {
  test("latest.json damaged: the newest readable checkpoint is used, and a warning says so", async () => {
    const { runDir } = await tinyRun("fathom-latest-");
    const dir = runDir.checkpointsDir;
    const ck = stepCheckpoints(dir);
    assert.equal(ck.length, 3);
    writeFileSync(join(dir, "latest.json"), '{"checkpoint": "step_00'); // torn
    const warnings: string[] = [];
    assert.equal(
      latestCheckpoint(dir, (l) => warnings.push(l)),
      join(dir, ck[2]),
    );
    assert.match(warnings.join("\n"), new RegExp(`latest\\.json is damaged .*; using the newest readable checkpoint instead: ${ck[2]}`));
    // The newest checkpoint damaged as well: the one before it, naming the skipped file.
    writeFileSync(join(dir, ck[2]), "garbage");
    warnings.length = 0;
    assert.equal(
      latestCheckpoint(dir, (l) => warnings.push(l)),
      join(dir, ck[1]),
    );
    assert.match(warnings[0], new RegExp(`instead: ${ck[1]} .*skipping unreadable ${ck[2]}`));
    // latest.json naming a file that is gone, and latest.json missing, fall back the same way.
    writeFileSync(join(dir, "latest.json"), JSON.stringify({ checkpoint: "step_0000000001.safetensors" }));
    assert.equal(latestCheckpoint(dir, () => {}), join(dir, ck[1]));
    // Through the CLI: fathom eval still runs, printing the warning.
    const r = await cli(["eval", runDir.path, "--episodes", "2"]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /warning: .*latest\.json names step_0000000001\.safetensors, which does not exist; using the newest readable checkpoint/);
    assert.match(r.out, new RegExp(`checkpoint: .*${ck[1]}`));
  });

  test("config.json damaged: resume and eval name the file and say what to do", async () => {
    const { runDir } = await tinyRun("fathom-config-");
    writeFileSync(runDir.configPath, '{"config": {"env": "simple_u'); // torn
    for (const args of [
      ["train", "--resume", runDir.path],
      ["eval", runDir.path],
    ]) {
      const r = await cli(args);
      assert.equal(r.code, 1);
      assert.ok(r.err.includes(`${runDir.configPath} is damaged: it is not valid JSON`), r.err);
      assert.match(r.err, /every checkpoint of the run also stores its configuration/);
    }
  });
});
