import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  createRunDir,
  findRunDir,
  listRunDirs,
  RUN_FILES,
  runDirName,
  writeFileAtomic,
  writeJsonAtomic,
} from "../../src/train/rundir.js";

function tmp(): string {
  return mkdtempSync(join(tmpdir(), "fathom-rundir-"));
}
const time = new Date(2026, 10, 24, 9, 5, 7); // local time, month is 0-based

test("run directory names follow <env>__<agent>__d<depth>__s<seed>__<YYYYMMDD-HHMMSS>", () => {
  assert.equal(
    runDirName({ env: "ant_u4_maze-v1", agent: "crl", depth: 64, seed: 3, time }),
    "ant_u4_maze-v1__crl__d64__s3__20261124-090507",
  );
  assert.throws(() => runDirName({ env: "a/b", agent: "crl", depth: 4, seed: 0 }), /env "a\/b" is not allowed/);
  assert.throws(() => runDirName({ env: "a__b", agent: "crl", depth: 4, seed: 0 }), /"__"/);
  assert.throws(() => runDirName({ env: "x", agent: "crl", depth: 4.5, seed: 0 }), /depth must be a non-negative integer, got 4.5/);
  assert.throws(() => runDirName({ env: "x", agent: "crl", depth: 4, seed: -1 }), /seed/);
});

test("a run directory is never overwritten: same name twice gives two directories", () => {
  const root = tmp();
  try {
    const parts = { env: "simple_u_maze-v1", agent: "crl", depth: 4, seed: 0, time };
    const a = createRunDir(join(root, "runs"), parts);
    writeFileSync(join(a.path, "config.json"), '{"first":true}\n');
    writeFileSync(join(a.checkpointsDir, "step_1.safetensors"), "x");
    const b = createRunDir(join(root, "runs"), parts);
    const c = createRunDir(join(root, "runs"), parts);
    assert.equal(a.name, "simple_u_maze-v1__crl__d4__s0__20261124-090507");
    assert.equal(b.name, `${a.name}-2`);
    assert.equal(c.name, `${a.name}-3`);
    assert.deepEqual(readdirSync(join(root, "runs")).sort(), [a.name, b.name, c.name].sort());
    // the first is untouched
    assert.equal(readFileSync(join(a.path, "config.json"), "utf8"), '{"first":true}\n');
    assert.deepEqual(readdirSync(a.checkpointsDir), ["step_1.safetensors"]);
    // the new ones are empty apart from their two subfolders
    assert.deepEqual(readdirSync(b.path).sort(), [RUN_FILES.checkpoints, RUN_FILES.eval]);
    assert.deepEqual(readdirSync(b.checkpointsDir), []);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("writeJsonAtomic replaces the file whole and leaves no temp files; a failed write keeps the old one", () => {
  const root = tmp();
  try {
    const p = join(root, "config.json");
    writeJsonAtomic(p, { depth: 64, env: "ant", lr: 3e-4 });
    assert.deepEqual(JSON.parse(readFileSync(p, "utf8")), { depth: 64, env: "ant", lr: 3e-4 });
    const big = { values: Array.from({ length: 10_000 }, (_, i) => i * 0.5) };
    writeJsonAtomic(p, big);
    assert.deepEqual(JSON.parse(readFileSync(p, "utf8")), big);
    assert.throws(() => writeJsonAtomic(p, { n: 1n }), /BigInt/);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    assert.throws(() => writeJsonAtomic(p, circular), /circular/);
    assert.throws(() => writeJsonAtomic(p, undefined), /cannot be written as JSON/);
    assert.deepEqual(JSON.parse(readFileSync(p, "utf8")), big);
    writeFileAtomic(join(root, "raw.bin"), Uint8Array.of(1, 2, 3));
    assert.deepEqual([...readFileSync(join(root, "raw.bin"))], [1, 2, 3]);
    assert.deepEqual(readdirSync(root).sort(), ["config.json", "raw.bin"]);
    assert.throws(() => writeFileAtomic(join(root, "missing", "x.json"), "{}"), /directory .*missing does not exist/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("findRunDir resolves a run directory, its config, its checkpoints and a checkpoint; errors say why", () => {
  const root = tmp();
  try {
    const runs = join(root, "runs");
    const a = createRunDir(runs, { env: "e", agent: "crl", depth: 4, seed: 0, time });
    const b = createRunDir(runs, { env: "e", agent: "crl", depth: 4, seed: 1, time: new Date(2026, 10, 25) });
    writeJsonAtomic(a.configPath, {});
    writeJsonAtomic(b.configPath, {});
    const ckpt = join(a.checkpointsDir, "step_100.safetensors");
    writeFileSync(ckpt, "x");
    assert.equal(findRunDir(a.path).run.path, a.path);
    assert.equal(findRunDir(a.path).checkpoint, undefined);
    assert.equal(findRunDir(a.configPath).run.path, a.path);
    assert.equal(findRunDir(a.checkpointsDir).run.path, a.path);
    assert.deepEqual(findRunDir(ckpt), { run: a, checkpoint: ckpt });
    assert.deepEqual(listRunDirs(runs), [a.name, b.name]);
    assert.equal(findRunDir(b.name, { runsDir: runs }).run.path, b.path); // a bare name, looked up in runs/
    assert.throws(() => findRunDir("e__crl__d4__s0", { runsDir: runs }), new RegExp(`does not exist.*runs in .*runs starting with.*${a.name}`));

    assert.throws(() => findRunDir(join(runs, "nope")), /nope does not exist/);
    assert.throws(() => findRunDir(join(runs, "e__crl__d4__s1")), new RegExp(`does not exist.*starting with.*${b.name}`));
    assert.throws(() => findRunDir(runs), new RegExp(`not a run directory: it has no config.json.*2 run directories.*${b.name}`));
    const empty = join(root, "empty");
    mkdirSync(empty);
    assert.throws(() => findRunDir(empty), /empty is not a run directory: it has no config.json/);
    writeFileSync(join(a.path, "metrics.jsonl"), "");
    assert.throws(() => findRunDir(join(a.path, "metrics.jsonl")), /is a file in run directory .* but not a checkpoint/);
    writeFileSync(join(root, "loose.safetensors"), "x");
    assert.throws(() => findRunDir(join(root, "loose.safetensors")), /is not in a run directory/);
    assert.throws(() => findRunDir(""), /empty path/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
