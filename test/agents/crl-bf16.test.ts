// CRL with precision bf16 (bf16 GEMM operands in the three networks' residual blocks; losses,
// energy, tanh-Gaussian and Adam in fp32) at small size, against the same agent in fp32:
// - one update from the same key and batch gives the same metrics within the error the ResNet
//   test bounds for every network output and gradient, 4·u·sqrt(2·depth + 1) relative (u = 2^-8;
//   test/nn/resnet-bf16.test.ts derives it), since each metric is a smooth O(1)-sensitivity
//   function of those (log-softmax of energies, Gaussian log-probabilities, gradient norms);
//   and not bit-for-bit the same metrics (bf16 was used);
// - the critic still learns to classify positives on a fixed batch (the fp32 test's thresholds).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CRLAgent } from "../../src/agents/crl.js";
import { getBackend } from "../../src/engine/index.js";
import { keyFromSeed } from "../../src/random.js";
import { assertCriticLearns, batch, cfg, dims } from "./crl-fixture.js";

const U = 2 ** -8;

const be = getBackend();
const why = be.bf16Unavailable();
const skip = why === null ? false : `no bf16 GEMMs on ${be.describe()}: ${why}`;
if (skip) console.error(`\n*** SKIPPED: the CRL bf16 tests (${skip}) ***\n`);

describe("CRL with bf16 GEMMs", { skip }, () => {
  test("one update: the metrics of the fp32 agent within the bf16 bound, and not identical", () => {
    const b = batch(2);
    const run = (precision: "fp32" | "bf16") =>
      new CRLAgent(be, dims, { ...cfg, precision }, keyFromSeed(1)).update(b.state, b.action, b.goal) as unknown as Record<string, number>;
    const m32 = run("fp32");
    const m16 = run("bf16");
    const bound = 4 * U * Math.sqrt(2 * cfg.criticDepth + 1);
    for (const k of ["critic_loss", "actor_loss", "alpha_loss", "logsumexp", "logits_pos", "logits_neg", "entropy", "grad_norm_actor", "grad_norm_sa_encoder", "grad_norm_goal_encoder"]) {
      const d = Math.abs(m16[k] - m32[k]);
      assert.ok(d <= bound * Math.max(1, Math.abs(m32[k])), `${k}: bf16 ${m16[k]} vs fp32 ${m32[k]} (|diff| ${d.toExponential(2)})`);
    }
    assert.notEqual(m16.critic_loss, m32.critic_loss, "bf16 and fp32 gave the same critic loss bit for bit: bf16 was not used");
  });

  test("the critic learns to classify positives on a fixed batch", () => {
    assertCriticLearns(be, { precision: "bf16" });
  });
});
