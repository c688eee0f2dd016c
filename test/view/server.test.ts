// The viewer's server: its JSON API over run directories, the page and its libraries from
// node_modules, and what it refuses (other hosts, paths outside its folders, bad parameters).
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { readMetricsJsonl } from "../../src/train/logger.js";
import { evalRecords } from "../../src/train/summary.js";
import { resolveRuns } from "../../src/view/runs.js";
import { startViewServer, type ViewServer } from "../../src/view/server.js";
import { tinyRun } from "./fixtures.js";

/** A raw GET (no URL normalisation, any Host header). */
function get(port: number, path: string, host = `127.0.0.1:${port}`): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers: { host } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, type: String(res.headers["content-type"]), body: Buffer.concat(chunks).toString() }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("fathom view's server", () => {
  let server: ViewServer;
  let run: string;
  before(async () => {
    const runsDir = mkdtempSync(join(tmpdir(), "fathom-view-server-"));
    run = await tinyRun(runsDir);
    server = await startViewServer({ runs: resolveRuns([runsDir]), fathom: "test", log: () => {} });
  });
  after(async () => {
    await server?.close();
  });

  test("listens on 127.0.0.1 and serves the page, three.js and uPlot from node_modules", async () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await get(server.port, "/");
    assert.equal(page.status, 200);
    assert.match(page.body, /<script type="importmap">/);
    assert.doesNotMatch(page.body, /https?:\/\//, "no remote URL in the page: it works offline");
    for (const path of ["/app/main.js", "/vendor/three/three.module.js", "/vendor/three-addons/controls/OrbitControls.js", "/vendor/uplot/uPlot.esm.js", "/vendor/uplot/uPlot.min.css"]) {
      const r = await get(server.port, path);
      assert.equal(r.status, 200, path);
    }
    assert.match((await get(server.port, "/app/main.js")).type, /^text\/javascript/);
  });

  test("the API: runs, curves (one row per evaluation), episodes", async () => {
    const info = JSON.parse((await get(server.port, "/api/info")).body);
    assert.deepEqual(info, { fathom: "test", defaults: { seed: 12345, episodes: 8 } });
    const runs = JSON.parse((await get(server.port, "/api/runs")).body);
    assert.equal(runs.length, 1);
    assert.equal(runs[0].dir, run);
    assert.equal(runs[0].env, "simple_u_maze-v1");
    assert.equal(runs[0].evalEnv, "simple_u_maze-v1");
    assert.equal(runs[0].farEnv, "simple_u_maze_eval-v1");
    assert.equal(runs[0].status, "done");
    assert.ok(runs[0].checkpoints.length > 0);
    const curves = JSON.parse((await get(server.port, "/api/curves?run=0")).body);
    const evals = evalRecords(readMetricsJsonl(join(run, "metrics.jsonl")).records);
    assert.equal(curves.eval.length, evals.length);
    assert.deepEqual(
      curves.eval.map((r: Record<string, number>) => r["eval/time_at_goal"]),
      evals.map((r) => r["eval/time_at_goal"]),
    );
    assert.ok(curves.training.length > 0 && typeof curves.training[0]["training/critic_loss"] === "number");
    const ep = await get(server.port, "/api/episodes?run=0&seed=4&episodes=2");
    assert.equal(ep.status, 200, ep.body);
    const f = JSON.parse(ep.body);
    assert.equal(f.format, "fathom-trajectories-v1");
    assert.equal(f.episodes, 2);
    assert.equal(f.seed, 4);
  });

  test("refuses other hosts, paths outside its folders and bad parameters, with a message", async () => {
    const foreign = await get(server.port, "/api/runs", "evil.example:80");
    assert.equal(foreign.status, 403);
    assert.match(JSON.parse(foreign.body).error, /answers requests to 127\.0\.0\.1:\d+ or localhost:\d+ only/);
    assert.equal((await get(server.port, "/api/runs", `localhost:${server.port}`)).status, 200);
    assert.equal((await get(server.port, "/app/..%2F..%2F..%2Fpackage.json")).status, 404);
    assert.equal((await get(server.port, "/vendor/three/..%2Fpackage.json")).status, 404);
    const noRun = await get(server.port, "/api/curves?run=3");
    assert.equal(noRun.status, 404);
    assert.match(JSON.parse(noRun.body).error, /no run 3: the viewer has runs 0\.\.0/);
    const bad = await get(server.port, "/api/episodes?run=0&episodes=-1");
    assert.equal(bad.status, 400);
    assert.match(JSON.parse(bad.body).error, /episodes must be a non-negative integer/);
    const badCkpt = await get(server.port, "/api/episodes?run=0&checkpoint=x.safetensors");
    assert.equal(badCkpt.status, 400);
    assert.match(JSON.parse(badCkpt.body).error, /has no checkpoint "x.safetensors"/);
  });
});
