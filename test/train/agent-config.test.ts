// One source per agent's configuration (issue 13 item 2, DESIGN §6): the agent's zod schema holds
// its hyperparameters and defaults, a training config is the loop's keys + the agent's, the agent's
// config is derived from it, the presets say what they set, and `fathom train --agent` picks one.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { CRL_DEFAULTS, CRLAgent, CRLConfigSchema } from "../../src/agents/crl.js";
import { agentDefinition } from "../../src/agents/registry.js";
import { parseSavedConfig, presetFor, TrainConfigSchema, trainSchemaFor } from "../../src/train/config.js";
import { makeAgent } from "../../src/train/trainer.js";
import { cli } from "../cli/run-cli.js";
import { TINY } from "./tiny-config.js";

const CRL_KEYS = Object.keys(CRLConfigSchema.shape);

describe("CRL's configuration has one source", () => {
  test("a training config's defaults for CRL keys are CRL_DEFAULTS; batch 512 as SPEC §5", () => {
    const c = TrainConfigSchema.parse({ env: "simple_u_maze-v1" });
    assert.equal(c.agent, "crl");
    for (const k of CRL_KEYS) assert.deepEqual((c as Record<string, unknown>)[k], (CRL_DEFAULTS as Record<string, unknown>)[k], k);
    assert.equal(CRL_DEFAULTS.batchSize, 512);
  });

  test("the agent's config is derived from the training config: every key, none copied by hand", () => {
    // a value other than the default for every key that can take one
    const over = {
      actorWidth: 24,
      criticWidth: 20,
      reprDim: 12,
      batchSize: 16,
      lr: 1e-3,
      discounting: 0.95,
      energyFn: "l2",
      contrastiveLoss: "sym_infonce",
      logsumexpPenalty: 0.2,
      targetEntropyCoef: -0.25,
      recompute: true,
      actorHeadNorm: false,
      actorHeadInitScale: 0.5,
      tanhLogDet: "reference",
      actorLrWarmup: 7,
      logStdRawPenalty: 0.3,
      actorDepth: 8,
      criticDepth: 8,
    };
    const config = TrainConfigSchema.parse({ ...TINY, ...over, backend: "ref" });
    const agent = makeAgent(config, 4);
    assert.ok(agent instanceof CRLAgent);
    for (const k of CRL_KEYS) assert.deepEqual((agent.config as Record<string, unknown>)[k], (config as Record<string, unknown>)[k], k);
    for (const [k, v] of Object.entries(over)) assert.notDeepEqual((CRL_DEFAULTS as Record<string, unknown>)[k], v, `${k} is a default: the check would not see a hand copy`);
    assert.equal(agent.targetEntropy, -0.25 * 2); // coef × |A| (the point maze has 2 actions)
    assert.deepEqual(agentDefinition("crl").configOf(config), Object.fromEntries(CRL_KEYS.map((k) => [k, (config as Record<string, unknown>)[k]])));
  });

  test("--preset paper is SPEC §5 exactly, with the reference's actor", () => {
    const c = trainSchemaFor("crl").parse({ ...presetFor("paper", "crl"), env: "ant_u4_maze-v1" });
    assert.equal(c.numEnvs, 512);
    assert.equal(c.unrollLength, 62);
    assert.equal(c.batchSize, 512);
    assert.equal(c.sgdBatchesPerStep, 800);
    assert.equal(c.episodeLength, 1000);
    assert.equal(c.discounting, 0.99);
    assert.equal(c.totalEnvSteps, 100_000_000);
    assert.equal(c.numEvals, 100);
    assert.equal(c.numEvalEnvs, 128);
    assert.equal(c.minReplaySize, 1000);
    assert.equal(c.maxReplaySize, 10_000);
    assert.equal(c.windowLength, 1000);
    assert.equal(c.lr, 3e-4);
    assert.equal(c.logsumexpPenalty, 0.1);
    assert.equal(c.targetEntropyCoef, -0.5);
    assert.equal(c.energyFn, "norm");
    assert.equal(c.contrastiveLoss, "fwd_infonce");
    assert.equal(c.actorHeadNorm, false);
    assert.equal(c.actorHeadInitScale, 1);
    assert.equal(c.tanhLogDet, "reference");
  });

  test("a config saved before there were agents reads back as CRL's, with the values it ran with", () => {
    const saved = { ...TINY, totalEnvSteps: 1000, numEvals: 2 }; // no agent, no targetEntropyCoef, no actor keys
    const r = parseSavedConfig(saved);
    assert.ok(r.success, JSON.stringify(r.error?.issues));
    assert.equal(r.data.agent, "crl");
    assert.equal(r.data.targetEntropyCoef, -0.5);
    assert.equal(r.data.actorHeadNorm, false);
  });

  test("unknown agents are errors that list the known ones", () => {
    assert.throws(() => trainSchemaFor("ppo"), /unknown agent "ppo": allowed are crl/);
    assert.equal(TrainConfigSchema.safeParse({ env: "simple_u_maze-v1", agent: "ppo" }).success, false);
  });
});

describe("fathom train --agent", () => {
  test("--target-entropy-coef is a flag; the run directory is named after the agent", async () => {
    const root = mkdtempSync(join(tmpdir(), "fathom-agent-cfg-"));
    const args = ["train", "--agent", "crl", "--env", "simple_u_maze-v1", "--runs-dir", root, "--backend", "ref", "--target-entropy-coef", "-0.75"];
    for (const [k, v] of Object.entries({ ...TINY, totalEnvSteps: 200, numEvals: 1 })) {
      if (k === "env") continue;
      args.push(`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, String(v));
    }
    const r = await cli(args);
    assert.equal(r.code, 0, r.err);
    const [dir] = readdirSync(root);
    assert.match(dir, /^simple_u_maze-v1__crl__d4__s0__/);
    const saved = JSON.parse(readFileSync(join(root, dir, "config.json"), "utf8")).config;
    assert.equal(saved.agent, "crl");
    assert.equal(saved.targetEntropyCoef, -0.75);
  });

  test("an unknown agent, and --agent with --resume, are refused before anything is written", async () => {
    const r = await cli(["train", "--agent", "ppo", "--env", "simple_u_maze-v1"]);
    assert.equal(r.code, 2);
    assert.match(r.err, /unknown agent "ppo": allowed are crl/);
    const s = await cli(["sweep", "--agent", "ppo", "--env", "simple_u_maze-v1"]);
    assert.equal(s.code, 2);
    assert.match(s.err, /unknown agent "ppo"/);
    const q = await cli(["train", "--resume", "nowhere", "--agent", "crl"]);
    assert.equal(q.code, 2);
    assert.match(q.err, /not --agent/);
  });
});
