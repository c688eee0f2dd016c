// What a run computes does not change under refactors (issue 13): a fixed-seed tiny run on the ref
// backend, with a checkpoint and a resume, logs exactly the records in golden/tiny-run.json.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { GOLDEN_PATH, goldenRun } from "./golden-run.mjs";

test("a fixed-seed run logs bit-identical metrics to the golden run (ref backend, resume included)", async () => {
  const golden = JSON.parse(readFileSync(GOLDEN_PATH, "utf8")) as Record<string, number>[];
  const rows = await goldenRun();
  assert.equal(rows.length, golden.length, "number of logged records");
  for (let i = 0; i < golden.length; i++) assert.deepEqual(rows[i], golden[i], `record ${i}`);
});
