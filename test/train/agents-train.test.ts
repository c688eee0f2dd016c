// Every agent runs through the same loop, checkpoints and CLI (issue 15): a tiny run of each,
// interrupted and resumed, gives the uninterrupted run's metrics bit for bit; `fathom train
// --agent` writes a run directory named after the agent whose config holds only that agent's
// keys; options of another agent, and checkpoints of another agent, are refused clearly.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { SACAgent, SACConfigSchema } from "../../src/agents/sac.js";
import { TD3Agent, TD3ConfigSchema } from "../../src/agents/td3.js";
import { presetFor, TrainConfigSchema } from "../../src/train/config.js";
import { estimateTrainMemory } from "../../src/train/limits.js";
import { createRunDir } from "../../src/train/rundir.js";
import { loadAgentCheckpoint, makeAgent } from "../../src/train/trainer.js";
import { cli } from "../cli/run-cli.js";
import { trainStoppedAndResumed, trainUninterrupted } from "./stop-resume.js";
import { TINY } from "./tiny-config.js";

/** TINY without CRL's own key (reprDim): the loop's keys and the networks' sizes. */
const { reprDim: _reprDim, ...TINY_ANY } = TINY;

const tiny = (agent: string) =>
  TrainConfigSchema.parse({
    ...TINY_ANY,
    agent,
    backend: "ref",
    episodeLength: 25, // episodes end (and restart) within the run and across the interruption
    windowLength: 20,
    totalEnvSteps: 640,
    numEvals: 3,
  });

describe("the TD agents in the training loop", () => {
  for (const agent of ["sac", "sac_her", "td3_her"] as const) {
    test(`${agent}: interrupted after training step 5 and resumed, the run gives the uninterrupted run's metrics bit for bit`, async () => {
      const config = tiny(agent);
      const { full, steps } = await trainUninterrupted(config);
      assert.ok(full.updates > 0);
      const names = full.agent.metricNames;
      assert.ok((steps.at(-1) as { metrics: Record<string, number> }).metrics.critic_loss !== undefined);
      assert.deepEqual(Object.keys((steps.at(-1) as { metrics: Record<string, number> }).metrics), [...names]);

      const root = mkdtempSync(join(tmpdir(), `fathom-${agent}-`));
      const runDir = createRunDir(root, { env: config.env, agent, depth: 4, seed: 0 });
      const { second, parts } = await trainStoppedAndResumed(config, runDir, 5);
      assert.deepEqual(parts, steps);
      assert.equal(second.updates, full.updates);

      // the checkpoint belongs to this agent: another agent's run refuses it
      const crl = makeAgent(TrainConfigSchema.parse({ ...TINY, backend: "ref" }), 4);
      assert.throws(() => loadAgentCheckpoint(second.lastCheckpoint!, crl), new RegExp(`holds a ${agent} agent, not crl: load it into a run of --agent ${agent}`));
    });
  }
});

describe("the memory estimate counts each agent's own networks", () => {
  test("parameters of actor, critics and target copies, as the agents build them", () => {
    for (const agent of ["sac_her", "td3_her"] as const) {
      const config = TrainConfigSchema.parse({ ...TINY_ANY, agent, actorDepth: 8, criticDepth: 12, backend: "ref" });
      const a = makeAgent(config, Math.max(config.numEnvs, config.numEvalEnvs));
      const nets =
        a instanceof SACAgent
          ? [a.actor, ...a.critic.q, ...a.critic.target]
          : a instanceof TD3Agent
            ? [a.actor, a.actorTarget, ...a.critic.q, ...a.critic.target]
            : [];
      assert.ok(nets.length > 0, agent);
      assert.equal(estimateTrainMemory(config).params, nets.reduce((n, x) => n + x.params.numel, 0), agent);
      const part = estimateTrainMemory(config).parts.find((p) => p.what.startsWith("activations"))!.bytes;
      assert.equal(part, nets.reduce((n, x) => n + x.activationBytes, 0), `${agent} activations`);
    }
  });
});

describe("fathom train --agent sac_her | td3_her", () => {
  test("the run directory is named after the agent and its config holds the loop's keys and that agent's only", async () => {
    const root = mkdtempSync(join(tmpdir(), "fathom-agent-cli-"));
    for (const agent of ["sac_her", "td3_her"] as const) {
      const args = ["train", "--agent", agent, "--runs-dir", root, "--backend", "ref", "--discounting", "0.95"];
      for (const [k, v] of Object.entries({ ...TINY_ANY, totalEnvSteps: 200, numEvals: 1 })) args.push(`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, String(v));
      const r = await cli(args);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, new RegExp(`agent ${agent}, env simple_u_maze-v1`));
      const dir = readdirSync(root).find((d) => d.startsWith(`simple_u_maze-v1__${agent}__d4__s0__`));
      assert.ok(dir, readdirSync(root).join(", "));
      const saved = JSON.parse(readFileSync(join(root, dir, "config.json"), "utf8")).config;
      assert.equal(saved.agent, agent);
      assert.equal(saved.discounting, 0.95);
      const own = Object.keys((agent === "sac_her" ? SACConfigSchema : TD3ConfigSchema).shape);
      for (const k of own) assert.ok(k in saved, `${k} saved`);
      assert.ok(!("reprDim" in saved) && !("energyFn" in saved), "no CRL key");
    }
  });

  test("an option of another agent is refused, naming whose it is", async () => {
    const r = await cli(["train", "--agent", "sac", "--env", "simple_u_maze-v1", "--energy-fn", "l2"]);
    assert.equal(r.code, 2);
    assert.match(r.err, /--energy-fn does not apply to --agent sac: it is an option of --agent crl/);
    const t = await cli(["train", "--env", "simple_u_maze-v1", "--policy-delay", "3"]);
    assert.equal(t.code, 2);
    assert.match(t.err, /--policy-delay does not apply to --agent crl: it is an option of --agent td3_her/);
    const s = await cli(["sweep", "--agent", "td3_her", "--env", "simple_u_maze-v1", "--alpha-lr", "1e-3"]);
    assert.equal(s.code, 2);
    assert.match(s.err, /--alpha-lr does not apply to --agent td3_her: it is an option of --agent sac, --agent sac_her/);
  });

  test("fathom sweep --agent td3_her: one run per depth and seed, named after the agent; a rerun skips them; plot groups by agent", async () => {
    const root = mkdtempSync(join(tmpdir(), "fathom-agent-sweep-"));
    const runsDir = join(root, "runs");
    const args = ["--env", "simple_u_maze-v1", "--runs-dir", runsDir, "--backend", "ref", "--threads", "0"];
    for (const [k, v] of Object.entries({ numEnvs: 2, unrollLength: 10, batchSize: 8, sgdBatchesPerStep: 1, numEvalEnvs: 2, episodeLength: 40, minReplaySize: 10, maxReplaySize: 100, windowLength: 40, actorWidth: 8, criticWidth: 8, totalEnvSteps: 100, numEvals: 1 })) {
      args.push(`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, String(v));
    }
    const first = await cli(["sweep", "--agent", "td3_her", "--depths", "4,8", "--seeds", "0", ...args]);
    assert.equal(first.code, 0, first.err);
    assert.deepEqual(readdirSync(runsDir).sort(), ["simple_u_maze-v1__td3_her__d4__s0", "simple_u_maze-v1__td3_her__d8__s0"]);
    const again = await cli(["sweep", "--agent", "td3_her", "--depths", "4,8", "--seeds", "0", ...args]);
    assert.equal(again.code, 0, again.err);
    assert.match(again.out, /2 finished/);
    const crl = await cli(["sweep", "--depths", "4", "--seeds", "0", ...args]);
    assert.equal(crl.code, 0, crl.err);
    const plot = await cli(["plot", runsDir, "--summary", join(root, "s.svg")]);
    assert.equal(plot.code, 0, plot.err);
    assert.match(plot.out, /crl depth 4: 1 run/);
    assert.match(plot.out, /td3_her depth 8: 1 run/);
  });

  test("--preset paper keeps each TD agent at JaxGCRL's values on the paper's loop", () => {
    const sac = TrainConfigSchema.parse({ ...presetFor("paper", "sac_her"), env: "simple_u_maze-v1" });
    assert.ok(sac.agent === "sac_her");
    assert.deepEqual([sac.lr, sac.alphaLr, sac.discounting, sac.tau, sac.batchSize, sac.numEnvs], [1e-4, 3e-4, 0.9, 0.005, 256, 512]);
    const td3 = TrainConfigSchema.parse({ ...presetFor("paper", "td3_her"), env: "simple_u_maze-v1" });
    assert.ok(td3.agent === "td3_her");
    assert.deepEqual([td3.lr, td3.discounting, td3.tau, td3.policyDelay, td3.smoothingNoise, td3.noiseClip, td3.explorationNoise, td3.batchSize], [3e-4, 0.9, 0.005, 2, 0.2, 0.5, 0.4, 256]);
  });
});
