// The trajectory file (docs/trajectories.md) and the viewer's episode cache: what `fathom eval
// --trajectories` writes agrees with itself and with a plain evaluation, MuJoCo body poses come
// from the recorded states (the last one included when an episode terminates), and cached episodes
// are never recomputed.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { makeVecEnv } from "../../src/envs/registry.js";
import { HUMANOID_HEALTHY_Z } from "../../src/envs/mujoco/humanoid.js";
import { evaluate, type Policy } from "../../src/train/evaluate.js";
import { cachedEpisodes } from "../../src/view/episodes.js";
import { RecordingVecEnv } from "../../src/view/recording-env.js";
import { resolveRuns } from "../../src/view/runs.js";
import { checkTrajectoryFile, GEOM_TYPES, summarizeEpisodes, TRAJECTORY_FORMAT } from "../../src/view/trajectories.js";
import { cli } from "../cli/run-cli.js";
import { tinyRun } from "./fixtures.js";

/** Metrics without the timing one. */
function outcome(m: Record<string, number>): Record<string, number> {
  const { "eval/sps": _sps, ...rest } = m;
  return rest;
}

describe("trajectory files", () => {
  test("fathom eval --trajectories (point maze): the documented fields, consistent with each other and with an evaluation on worker-less envs", async () => {
    const runsDir = mkdtempSync(join(tmpdir(), "fathom-traj-"));
    const run = await tinyRun(runsDir);
    const plain = await cli(["eval", run, "--episodes", "3", "--seed", "7", "--threads", "0"]);
    assert.equal(plain.code, 0, plain.err);
    const path = join(runsDir, "traj.json");
    const rec = await cli(["eval", run, "--episodes", "3", "--seed", "7", "--trajectories", path]);
    assert.equal(rec.code, 0, rec.err);
    const f = checkTrajectoryFile(JSON.parse(readFileSync(path, "utf8")), path);
    assert.equal(f.format, TRAJECTORY_FORMAT);
    assert.equal(f.env, "simple_u_maze-v1");
    assert.equal(f.episodes, 3);
    assert.equal(f.seed, 7);
    assert.equal(f.episodeLength, 40);
    assert.equal(f.run?.dir, run);
    assert.match(f.checkpoint, /checkpoints\/step_\d{10}\.safetensors$/);
    // the same episodes as the evaluation without recording (saved in <run>/eval/)
    const saved = readdirSync(join(run, "eval")).map((n) => JSON.parse(readFileSync(join(run, "eval", n), "utf8")));
    assert.equal(saved.length, 2);
    assert.deepEqual(outcome(saved[0].metrics), outcome(saved[1].metrics));
    assert.deepEqual(outcome(f.metrics as unknown as Record<string, number>), outcome(saved[0].metrics));
    // the scene: the U-maze as written in src/envs/mazes.ts
    assert.equal(f.scene.kind, "point");
    assert.ok(f.scene.kind === "point");
    assert.equal(f.scene.maze.name, "u_maze");
    assert.equal(f.scene.maze.cellSize, 4);
    assert.deepEqual(f.scene.maze.start, [1, 1]);
    assert.deepEqual(f.scene.maze.grid, ["#####", "#RGG#", "###G#", "#GGG#", "#####"]);
    for (let e = 0; e < 3; e++) {
      // starts near the centre of the 'R' cell (1, 1) = (4, 4), goals inside a 'G' cell
      assert.ok(Math.abs(f.start[e][0] - 4) <= 0.1 + 1e-6 && Math.abs(f.start[e][1] - 4) <= 0.1 + 1e-6, `start ${f.start[e]}`);
      const cell = [Math.round(f.goals[e][0] / 4), Math.round(f.goals[e][1] / 4)];
      assert.equal(f.scene.maze.grid[cell[0]][cell[1]], "G", `goal ${f.goals[e]} in cell ${cell}`);
      assert.equal(f.achieved[e].length, 40);
      assert.equal(f.success[e].length, 40);
      const dist = f.achieved[e].map((p) => Math.hypot(p[0] - f.goals[e][0], p[1] - f.goals[e][1]));
      assert.deepEqual(f.success[e], dist.map((d) => (d < f.successThreshold ? 1 : 0)));
    }
    assert.deepEqual(f.summary, summarizeEpisodes(f.success, 40));
    assert.equal(f.qpos, undefined, "point mazes have no qpos");
  });

  test("MuJoCo: body poses are those of the recorded qpos, frame 0 is the reset, and a terminated episode ends on its real last state", async () => {
    const zero: Policy = { act: (_obs, _n, out) => out.fill(0) };
    const env = await RecordingVecEnv.create("humanoid-v1", { numEnvs: 2, episodeLength: 300 });
    let r: Awaited<ReturnType<typeof evaluate>>;
    let frames: ReturnType<RecordingVecEnv["frames"]>;
    let scene: ReturnType<RecordingVecEnv["scene"]>;
    let starts: number[][];
    try {
      r = await evaluate(zero, env, { seed: 3, recordTrajectories: true });
      frames = env.frames();
      scene = env.scene();
      starts = env.starts();
    } finally {
      await env.close();
    }
    const plainEnv = await makeVecEnv("humanoid-v1", { numEnvs: 2, threads: 0, episodeLength: 300 });
    try {
      const plain = await evaluate(zero, plainEnv, { seed: 3 });
      assert.deepEqual(outcome(r.metrics as unknown as Record<string, number>), outcome(plain.metrics as unknown as Record<string, number>), "recording changes no episode");
    } finally {
      await plainEnv.close();
    }
    assert.ok(scene.kind === "mujoco" && frames !== null);
    assert.equal(scene.maze, null);
    assert.ok(scene.geoms.every((g) => (GEOM_TYPES as readonly string[]).includes(g.type)));
    assert.ok(scene.geoms.some((g) => g.type === "plane" && g.body === 0), "the floor");
    const torso = scene.bodies.findIndex((b) => b.name === "torso");
    assert.ok(torso > 0);
    const t = r.trajectories!;
    const summary = summarizeEpisodes(t.success, 300);
    for (let e = 0; e < 2; e++) {
      const steps = t.achieved[e].length;
      assert.ok(summary[e].terminated && steps < 300, `episode ${e} fell (a humanoid without control does): ${steps} steps`);
      assert.equal(frames.qpos[e].length, steps + 1);
      assert.equal(frames.bodies[e].length, steps + 1);
      assert.equal(frames.bodies[e][0].length, 7 * (scene.bodies.length - 1));
      for (let k = 0; k <= steps; k++) {
        const pose = frames.bodies[e][k].slice(7 * (torso - 1), 7 * (torso - 1) + 3);
        const want = k === 0 ? starts[e] : t.achieved[e][k - 1]; // goalIndices = torso x, y, z
        for (let d = 0; d < 3; d++) assert.ok(Math.abs(pose[d] - want[d]) < 1e-4, `episode ${e} frame ${k}: torso ${pose} vs achieved ${want}`);
        for (let d = 0; d < 3; d++) assert.ok(Math.abs(frames.qpos[e][k][d] - want[d]) < 1e-5);
      }
      // the last frame is the fallen body (torso below the healthy range), not the next episode's standing reset
      assert.ok(frames.qpos[e][steps][2] < HUMANOID_HEALTHY_Z[0], `last torso height ${frames.qpos[e][steps][2]}`);
    }
  });

  test("the viewer's cache: recorded once, then read back as it is; a damaged file is recorded again; bad requests say what is allowed", async () => {
    const runsDir = mkdtempSync(join(tmpdir(), "fathom-cache-"));
    const [v] = resolveRuns([await tinyRun(runsDir)]);
    const lines: string[] = [];
    const o = { fathom: "test", log: (l: string) => lines.push(l) };
    const first = await cachedEpisodes(v, { seed: 5, episodes: 2 }, o);
    assert.equal(first.cached, false);
    assert.match(first.path, /eval\/episodes\/step_\d{10}__simple_u_maze-v1__seed5__n2\.json$/);
    assert.ok(existsSync(first.path));
    const again = await cachedEpisodes(v, { seed: 5, episodes: 2 }, o);
    assert.equal(again.cached, true);
    assert.equal(again.text, first.text);
    // two requests at once share one recording
    const [a, b] = await Promise.all([cachedEpisodes(v, { seed: 6, episodes: 2 }, o), cachedEpisodes(v, { seed: 6, episodes: 2 }, o)]);
    assert.equal(a, b);
    assert.equal(lines.filter((l) => l.includes("seed 6")).length, 1);
    writeFileSync(first.path, '{"format": "fathom-trajectories-v1", "episodes": 2');
    const redone = await cachedEpisodes(v, { seed: 5, episodes: 2 }, o);
    assert.equal(redone.cached, false);
    assert.ok(lines.some((l) => /warning: cached episodes .* cannot be read/.test(l)));
    assert.equal(JSON.parse(redone.text).episodes, 2);
    await assert.rejects(cachedEpisodes(v, { seed: 5, episodes: 0 }, o), /episodes must be an integer in \[1, 64\], got 0/);
    await assert.rejects(cachedEpisodes(v, { seed: 5, episodes: 2, checkpoint: "nope.safetensors" }, o), /has no checkpoint "nope.safetensors"; it has step_/);
    await assert.rejects(cachedEpisodes(v, { seed: 5, episodes: 2, env: "ant_u4_maze-v1" }, o), /different dimensions/);
  });
});
