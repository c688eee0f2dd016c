// Runs that nothing corrupts (issue 10): a damaged latest.json falls back to the newest readable
// checkpoint, a damaged config.json is named with what to do, write errors (ENOSPC) name the file
// and leave earlier checkpoints intact, and the replay buffer is saved with periodic checkpoints.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { readSafetensorsFile, writeSafetensorsFile } from "../../src/train/checkpoint.js";
import { TrainConfigSchema } from "../../src/train/config.js";
import { atomicWriteIo, createRunDir, type RunDir, writeJsonAtomic } from "../../src/train/rundir.js";
import { latestCheckpoint, loadAgentCheckpoint, makeAgent, train } from "../../src/train/trainer.js";
import { cli } from "../cli/run-cli.js";
import { TINY } from "./tiny-config.js";

const tiny = TINY;


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

/** Makes every write fail with ENOSPC, as a full disk does, until the returned function is called. */
function diskFull(): () => void {
  const real = atomicWriteIo.writeSync;
  atomicWriteIo.writeSync = () => {
    const e = new Error("ENOSPC: no space left on device, write") as NodeJS.ErrnoException;
    e.code = "ENOSPC";
    throw e;
  };
  return () => {
    atomicWriteIo.writeSync = real;
  };
}

describe("write errors (ENOSPC)", () => {
  test("a failed write names the file and leaves the old file as it was", () => {
    const dir = mkdtempSync(join(tmpdir(), "fathom-enospc-"));
    const json = join(dir, "latest.json");
    writeJsonAtomic(json, { checkpoint: "a" });
    const st = join(dir, "x.safetensors");
    const restore = diskFull();
    try {
      assert.throws(() => writeJsonAtomic(json, { checkpoint: "b" }), (e: Error) => e.message.startsWith(`cannot write ${json}: ENOSPC`) && /disk is full/.test(e.message));
      assert.throws(
        () => writeSafetensorsFile(st, new Map([["w", { dtype: "F32" as const, shape: [2], data: new Float32Array(2) }]]), {}),
        (e: Error) => e.message.includes(`cannot write ${st}`) && /ENOSPC/.test(e.message),
      );
    } finally {
      restore();
    }
    assert.deepEqual(JSON.parse(readFileSync(json, "utf8")), { checkpoint: "a" });
    assert.deepEqual(readdirSync(dir), ["latest.json"], "no temporary file is left behind");
  });

  test("a full disk at a checkpoint stops training naming the file; the earlier checkpoint stays intact and resumable", async () => {
    const root = mkdtempSync(join(tmpdir(), "fathom-enospc-run-"));
    const runDir = createRunDir(root, { env: "simple_u_maze-v1", agent: "crl", depth: 4, seed: 0 });
    const config = TrainConfigSchema.parse({ ...tiny, totalEnvSteps: 400, numEvals: 3, runsDir: root });
    let restore: (() => void) | null = null;
    let before: string[] = [];
    try {
      await assert.rejects(
        train(config, {
          runDir,
          onEval: (m) => {
            if (m.step > 0 && restore === null && readdirSync(runDir.checkpointsDir).length > 0) {
              before = readdirSync(runDir.checkpointsDir).sort();
              restore = diskFull(); // the second evaluation's checkpoint hits a full disk
            }
          },
        }),
        (e: Error) =>
          new RegExp(`cannot write ${runDir.checkpointsDir}/step_\\d{10}\\.(replay\\.)?safetensors: ENOSPC`).test(e.message) &&
          /disk is full/.test(e.message) &&
          /the last checkpoint, .*step_\d{10}\.safetensors, is intact/.test(e.message),
      );
    } finally {
      (restore as (() => void) | null)?.();
    }
    assert.equal(before.length, 3, `one checkpoint, its replay file and latest.json before: ${before.join(", ")}`);
    assert.deepEqual(readdirSync(runDir.checkpointsDir).sort(), before, "nothing added, nothing removed, no temporary files");
    const ck = latestCheckpoint(runDir.checkpointsDir, () => assert.fail("latest.json is intact"));
    loadAgentCheckpoint(ck, makeAgent(config, 4));
  });
});

describe("replay buffer with the periodic checkpoints", () => {
  test("every periodic checkpoint saves it, only the newest is kept, and a killed run resumes with it", async () => {
    const root = mkdtempSync(join(tmpdir(), "fathom-replay-"));
    const runDir = createRunDir(root, { env: "simple_u_maze-v1", agent: "crl", depth: 4, seed: 0 });
    const config = TrainConfigSchema.parse({ ...tiny, totalEnvSteps: 600, numEvals: 5, keepCheckpoints: 2, runsDir: root });
    // "Killed" after the third evaluation's checkpoint: nothing is saved at the end.
    class Killed extends Error {}
    let evals = 0;
    await assert.rejects(
      train(config, {
        runDir,
        onEval: () => evals++,
        onTrainingStep: () => {
          if (evals === 3) throw new Killed(); // the first training step after it
        },
      }),
      Killed,
    );
    const files = readdirSync(runDir.checkpointsDir).sort();
    const steps = files.filter((f) => /^step_\d{10}\.safetensors$/.test(f));
    const replays = files.filter((f) => f.endsWith(".replay.safetensors"));
    assert.equal(steps.length, 2, `retention keeps 2: ${files.join(", ")}`);
    assert.deepEqual(replays, [steps[1].replace(".safetensors", ".replay.safetensors")], `only the newest replay file: ${files.join(", ")}`);
    const replay = readSafetensorsFile(join(runDir.checkpointsDir, replays[0]));
    assert.ok(replay.tensors.get("head_size")!.data[1] > 0);
    const lines: string[] = [];
    const resumed = await train(config, { runDir, resumeFrom: latestCheckpoint(runDir.checkpointsDir), log: (l) => lines.push(l) });
    assert.equal(resumed.status, "done");
    assert.match(lines.join("\n"), /replay buffer restored from .*\.replay\.safetensors \(\d+ rows per env\)/);
    assert.ok(!lines.some((l) => /prefilled/.test(l)), "no refill with a restored buffer");
    // An older checkpoint's replay file is gone: resuming from it says so plainly.
    const older = join(runDir.checkpointsDir, readdirSync(runDir.checkpointsDir).filter((f) => /^step_\d{10}\.safetensors$/.test(f)).sort()[0]);
    const lines2: string[] = [];
    const again = await train({ ...config, totalEnvSteps: 600 }, { runDir: null, resumeFrom: older, log: (l) => lines2.push(l) });
    assert.equal(again.status, "done");
    assert.match(lines2.join("\n"), /replay buffer NOT restored \(.*is gone: only the newest checkpoint's replay buffer is kept\): refilling it/);
    assert.ok(existsSync(older));
  });
});
