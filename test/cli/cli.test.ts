import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { cli } from "./run-cli.js";
import { readSafetensorsFile } from "../../src/train/checkpoint.js";
import { toArgv } from "../../src/cli/flags.js";
import { TRAIN_SCHEMAS } from "../../src/train/config.js";
import { TINY } from "../train/tiny-config.js";


const runsDir = mkdtempSync(join(tmpdir(), "fathom-cli-"));
// the tiny training config of the loop tests, as flags
const tiny = toArgv(TRAIN_SCHEMAS.crl, { ...TINY, totalEnvSteps: 400, numEvals: 2, numEvalEnvs: 3, maxReplaySize: 100, runsDir });

describe("fathom CLI", () => {
  test("train writes a complete run directory; eval and resume use it", async () => {
    const r = await cli(["train", ...tiny]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /backend: /);
    const runs = readdirSync(runsDir);
    assert.equal(runs.length, 1);
    const dir = join(runsDir, runs[0]);
    assert.match(runs[0], /^simple_u_maze-v1__crl__d4__s0__\d{8}-\d{6}$/);
    const cfg = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    assert.equal(cfg.config.batchSize, 16);
    assert.equal(cfg.preset, "cpu");
    const lines = readFileSync(join(dir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    assert.ok(lines.some((l) => typeof l["training/critic_loss"] === "number"));
    assert.equal(lines.filter((l) => "eval/episode_success" in l).length, 2);
    assert.ok(readdirSync(dir).some((f) => f.startsWith("events.out.tfevents.")));
    const ckpts = readdirSync(join(dir, "checkpoints"));
    assert.ok(ckpts.includes("latest.json"));
    const latest = JSON.parse(readFileSync(join(dir, "checkpoints", "latest.json"), "utf8")).checkpoint as string;
    const { tensors, metadata } = readSafetensorsFile(join(dir, "checkpoints", latest));
    assert.equal(metadata.format, "fathom-checkpoint-v1");
    assert.ok(tensors.has("actor.blocks.0.dense.3.weight"));
    assert.ok(tensors.has("optim.sa_encoder.m"));

    const trajPath = join(runsDir, "traj.json");
    const e = await cli(["eval", dir, "--episodes", "2", "--trajectories", trajPath, "--threads", "0"]);
    assert.equal(e.code, 0, e.err);
    assert.match(e.out, /time at goal: +[\d.]+ of 40 steps/);
    const traj = JSON.parse(readFileSync(trajPath, "utf8"));
    assert.equal(traj.achieved.length, 2);
    assert.equal(traj.achieved[0][0].length, 2);
    const again = await cli(["eval", dir, "--episodes", "2", "--trajectories", trajPath, "--threads", "0"]);
    assert.equal(again.code, 1);
    assert.match(again.err, /refusing to overwrite/);

    // Resume: the run is complete, so nothing more to train, but the loop state is restored.
    const res = await cli(["train", "--resume", dir]);
    assert.equal(res.code, 0, res.err);
    // (log lines go through the progress reporter; the summary line proves the state was restored)
    const updates = /done: \d+ env steps, (\d+) gradient steps/.exec(r.out)?.[1];
    assert.ok(updates, r.out);
    assert.match(res.out, new RegExp(`done: \\d+ env steps, ${updates} gradient steps`));
    assert.equal(readdirSync(runsDir).filter((n) => n.startsWith("simple_u_maze")).length, 1, "resume made no new run directory");
  });

  test("a second run never overwrites the first", async () => {
    const before = readdirSync(runsDir).filter((n) => n.startsWith("simple_u_maze"));
    // a flag may be given once: replace the budget and evaluation count of `tiny`
    const shorter = tiny.map((a, i) => (tiny[i - 1] === "--total-env-steps" ? "100" : tiny[i - 1] === "--num-evals" ? "1" : a));
    const r = await cli(["train", ...shorter]);
    assert.equal(r.code, 0, r.err);
    const after = readdirSync(runsDir).filter((n) => n.startsWith("simple_u_maze"));
    assert.equal(after.length, before.length + 1);
    for (const b of before) assert.ok(existsSync(join(runsDir, b, "config.json")));
  });

  test("plot draws the runs' learning curves as SVG and never overwrites", async () => {
    const out = join(runsDir, "curves.svg");
    const r = await cli(["plot", runsDir, "--out", out]);
    assert.equal(r.code, 0, r.err);
    const svg = readFileSync(out, "utf8");
    assert.match(svg, /^<svg /);
    assert.match(svg, /depth 4 \(2 runs\)/);
    assert.equal((svg.match(/<polyline /g) ?? []).length, 1);
    const again = await cli(["plot", runsDir, "--out", out]);
    assert.equal(again.code, 1);
    assert.match(again.err, /refusing to overwrite/);
  });

  test("bad input gets errors that say what is allowed", async () => {
    const badEnv = await cli(["train", "--env", "ant_u9_maze-v1", "--runs-dir", runsDir]);
    assert.equal(badEnv.code, 1);
    assert.match(badEnv.err, /ant_u9_maze-v1/);
    assert.match(badEnv.err, /simple_u_maze-v1/);
    const badDepth = await cli(["train", "--env", "simple_u_maze-v1", "--critic-depth", "6", "--runs-dir", runsDir]);
    assert.equal(badDepth.code, 2);
    assert.match(badDepth.err, /critic-depth 6.*multiple of 4/s);
    const badReplay = await cli(["train", "--env", "simple_u_maze-v1", "--min-replay-size", "5000", "--runs-dir", runsDir]);
    assert.equal(badReplay.code, 2);
    assert.match(badReplay.err, /minReplaySize must not exceed maxReplaySize/);
    const badKey = await cli(["train", "--env", "simple_u_maze-v1", "--batch-sise", "6"]);
    assert.equal(badKey.code, 2);
    assert.match(badKey.err, /batch-size/);
    const badPreset = await cli(["train", "--env", "simple_u_maze-v1", "--preset", "gpu"]);
    assert.match(badPreset.err, /unknown preset "gpu".*paper, cpu/);
    const notRun = await cli(["eval", runsDir]);
    assert.equal(notRun.code, 1);
    assert.match(notRun.err, /not a run directory/);
    const corrupt = join(runsDir, readdirSync(runsDir).find((n) => n.startsWith("simple_u_maze"))!, "checkpoints", "broken.safetensors");
    writeFileSync(corrupt, "garbage!garbage!");
    const c = await cli(["eval", corrupt]);
    assert.equal(c.code, 1);
    assert.match(c.err, /corrupt|truncated|not a safetensors/);
    const unknownCmd = await cli(["trian"]);
    assert.equal(unknownCmd.code, 2);
    assert.match(unknownCmd.err, /allowed are train, eval, sweep, plot, export, view, video, envs, bench/);
  });

  test("plot and export parse their options through the same flag layer as train and eval", async () => {
    const help = await cli(["plot", "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.out, /--group-by <depth\|actor-depth\|critic-depth>/);
    const unknown = await cli(["plot", runsDir, "--out", join(runsDir, "x.svg"), "--colour", "red"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /--colour/);
    const bad = await cli(["plot", runsDir, "--out", join(runsDir, "x.svg"), "--group-by", "width"]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--group-by "width" is invalid; allowed: one of: depth, actor-depth, critic-depth/);
    const noOut = await cli(["export", runsDir]);
    assert.equal(noOut.code, 2);
    assert.match(noOut.err, /fathom export needs --out <results dir>/);
    const two = await cli(["export", runsDir, runsDir, "--out", join(runsDir, "r")]);
    assert.equal(two.code, 2);
  });
});
