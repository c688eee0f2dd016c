// VecEnv and registry boundaries: ids, options, call order, worker failures, the env table.
import assert from "node:assert/strict";
import { test } from "node:test";
import { extraEvals, formatEnvTable, getCoreFactory, getEnvSpec, listEnvs, makeVecEnv, primaryEvalId } from "../../src/envs/registry.js";
import { createVecEnv } from "../../src/envs/vec.js";

test("unknown ids are refused with the list of known ids", async () => {
  assert.throws(() => getEnvSpec("simple_u_maze-v0"), /unknown env id "simple_u_maze-v0": known ids are simple_u_maze-v1, .*ant-v1/);
  await assert.rejects(makeVecEnv("nope-v1", { numEnvs: 1 }), /known ids are/);
});

test("every evalId names a registered env with the same dimensions", () => {
  for (const id of listEnvs()) {
    const s = getEnvSpec(id);
    if (s.evalId === undefined) continue;
    const e = getEnvSpec(s.evalId);
    assert.deepEqual([e.stateDim, e.goalDim, e.actionDim, e.goalIndices], [s.stateDim, s.goalDim, s.actionDim, s.goalIndices], id);
  }
});

test("extra evaluations: the far goals where the training goals are primary, all goals where the far ones are", () => {
  const bigMazes = ["simple_big_maze-v1", "ant_big_maze-v1", "humanoid_big_maze-v1"];
  for (const id of listEnvs()) {
    const extras = extraEvals(id);
    const evalId = getEnvSpec(id).evalId;
    if (bigMazes.includes(id)) {
      assert.equal(primaryEvalId(id), evalId, id);
      assert.deepEqual(extras, [{ prefix: "eval_all", id, label: "all goals" }], id);
    } else if (evalId !== undefined) {
      assert.equal(primaryEvalId(id), id, id);
      assert.deepEqual(extras, [{ prefix: "eval_far", id: evalId, label: "far goals" }], id);
    } else {
      assert.deepEqual(extras, [], id);
    }
    assert.deepEqual(extraEvals(id, { far: false, all: false }), [], id);
  }
  assert.deepEqual(extraEvals("simple_big_maze-v1", { far: true, all: false }), []);
  assert.deepEqual(extraEvals("simple_u_maze-v1", { far: false, all: true }), []);
});

test("bad options say what is allowed", async () => {
  await assert.rejects(makeVecEnv("simple_u_maze-v1", { numEnvs: 0 }), /numEnvs must be a positive integer, got 0/);
  await assert.rejects(makeVecEnv("simple_u_maze-v1", { numEnvs: 2, threads: -1 }), /threads must be a non-negative integer/);
  await assert.rejects(makeVecEnv("simple_u_maze-v1", { numEnvs: 2, episodeLength: 2.5 }), /episodeLength must be a positive integer, got 2.5 \(default for simple_u_maze-v1: 1000\)/);
});

test("call order, action count and close are checked; threads never exceed envs", async () => {
  const env = await makeVecEnv("simple_u_maze-v1", { numEnvs: 2, threads: 4 });
  assert.equal(env.threads, 2);
  await assert.rejects(env.step(new Float32Array(4)), /step called before reset/);
  await env.reset(0);
  await assert.rejects(env.step(new Float32Array(3)), /needs 2×2 = 4 actions, got 3/);
  const r = await env.step(new Float32Array(4));
  assert.equal(r.obs.length, 12);
  const first = env.step(new Float32Array(4));
  await assert.rejects(env.step(new Float32Array(4)), /while another is in flight; await each call/);
  await first;
  // The shared action buffer is accepted as is (no copy) and still checked for NaN.
  env.actionBuffer.fill(2);
  const before = r.obs[0];
  await env.step(env.actionBuffer);
  assert.ok(r.obs[0] > before, "the pushed body moved along +x");
  env.actionBuffer[1] = Number.NaN;
  await assert.rejects(env.step(env.actionBuffer), /action 1 of env 0 is NaN/);
  await env.close();
  await env.close();
  await assert.rejects(env.reset(0), /closed/);
});

test("a core factory that cannot be loaded fails makeVecEnv with the module and export named", async () => {
  const spec = getEnvSpec("simple_u_maze-v1");
  const f = getCoreFactory("simple_u_maze-v1");
  for (const threads of [0, 1]) {
    await assert.rejects(createVecEnv(spec, { module: f.module, export: "noSuchFactory" }, { numEnvs: 2, threads }), /has no function export "noSuchFactory"/);
  }
});

test("the env table lists every id with its dimensions", () => {
  const t = formatEnvTable();
  const lines = t.split("\n");
  assert.match(lines[0], /^id\s+state\s+goal\s+action\s+episode\s+threshold\s+frame skip\s+eval id\s+description$/);
  assert.equal(lines.length, 2 + listEnvs().length);
  assert.match(t, /\nsimple_u_maze-v1\s+4\s+2\s+2\s+1000\s+0\.5\s+-\s+simple_u_maze_eval-v1\s+point mass/);
  assert.match(t, /\nant_u4_maze-v1\s+29\s+2\s+8\s+1000\s+0\.5\s+10\s+ant_u4_maze_eval-v1\s/);
  assert.match(t, /\narm_push_easy-v1\s+17\s+3\s+5\s+1000\s+0\.1\s+25\s+-\s/);
});

test("a long run on two threads matches the calling thread (trajectories independent of threads)", async () => {
  const n = 37;
  const a = await makeVecEnv("simple_big_maze-v1", { numEnvs: n, threads: 0, episodeLength: 50 });
  const b = await makeVecEnv("simple_big_maze-v1", { numEnvs: n, threads: 2, episodeLength: 50 });
  try {
    const act = new Float32Array(n * 2); // [N, 2]
    await a.reset(3);
    await b.reset(3);
    for (let t = 0; t < 300; t++) {
      for (let k = 0; k < act.length; k++) act[k] = Math.sin(0.1 * t + k);
      const ra = await a.step(act);
      const rb = await b.step(act);
      if (t % 50 === 49) {
        assert.deepEqual(rb.obs, ra.obs, `step ${t}`);
        assert.deepEqual(rb.episodeId, ra.episodeId, `step ${t}`);
      }
    }
  } finally {
    await a.close();
    await b.close();
  }
});
