// A run killed after logging past its last checkpoint and then resumed logs every step once
// (issue 10): the resume drops the rows logged after the checkpoint from metrics.jsonl,
// metrics.csv and the TensorBoard event files, and the logs end up as an uninterrupted run's.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { TrainConfigSchema } from "../../src/train/config.js";
import { MetricsLogger, type MetricsRecord, parseCsvLine, readMetricsJsonl } from "../../src/train/logger.js";
import { createRunDir } from "../../src/train/rundir.js";
import { evalRecords, lastKMeans, writeRunSummary } from "../../src/train/summary.js";
import { encodeScalarEvent, tfRecord, truncateEventFile } from "../../src/train/tensorboard.js";
import { type TrainOptions, train } from "../../src/train/trainer.js";
import { readEventFile, readRecords } from "./tfevents.js";
import { TINY } from "./tiny-config.js";

const config = TrainConfigSchema.parse({
  ...TINY,
  episodeLength: 25,
  windowLength: 20,
  totalEnvSteps: 960, // prefill 40 + 40 per training step: evaluations after steps 5, 11, 17, 23
  numEvals: 4,
});

/** A logged row without what depends on timing. */
function strip(r: MetricsRecord): MetricsRecord {
  return Object.fromEntries(Object.entries(r).filter(([k]) => k !== "wall_time" && !k.endsWith("/sps") && !k.endsWith("/updates_per_s")));
}

/** Trains with a logger on `dir`, aborting once training step `abortAt` is logged. */
async function trainLogged(dir: string, options: Omit<TrainOptions, "logger">, abortAt?: number) {
  const logger = new MetricsLogger(dir);
  const ac = new AbortController();
  try {
    return await train(config, {
      ...options,
      logger,
      signal: ac.signal,
      onTrainingStep: (p) => {
        if (p.trainingSteps === abortAt) ac.abort();
      },
    });
  } finally {
    logger.close();
  }
}

test("a resume drops the rows logged after its checkpoint: every step once, TensorBoard's step never goes back", async () => {
  const root = mkdtempSync(join(tmpdir(), "fathom-resume-logs-"));
  const fullDir = join(root, "full");
  const full = createRunDir(fullDir, { env: config.env, agent: "crl", depth: 4, seed: 0 });
  assert.equal((await trainLogged(full.path, { runDir: null })).status, "done");
  const reference = readMetricsJsonl(full.metricsJsonlPath).records;

  const run = createRunDir(join(root, "runs"), { env: config.env, agent: "crl", depth: 4, seed: 0 });
  // interrupted after the first evaluation: its checkpoint holds training step 7
  const first = await trainLogged(run.path, { runDir: run }, 7);
  assert.equal(first.status, "interrupted");
  const ckpt = first.lastCheckpoint!;
  // resumed and killed after the second evaluation without a checkpoint (runDir null: none written)
  const killed = await trainLogged(run.path, { runDir: null, resumeFrom: ckpt }, 14);
  assert.equal(killed.status, "interrupted");
  const before = readMetricsJsonl(run.metricsJsonlPath).records;
  assert.ok(before.filter((r) => r.step === 9).length === 1 && before.some((r) => r.step === 14), "rows past the checkpoint were logged");

  // resumed again from the same checkpoint, to the end
  const lines: string[] = [];
  const last = await trainLogged(run.path, { runDir: run, resumeFrom: ckpt, log: (l) => lines.push(l) });
  assert.equal(last.status, "done");

  // metrics.jsonl: the uninterrupted run's rows, each once
  const records = readMetricsJsonl(run.metricsJsonlPath).records;
  assert.deepEqual(records.map(strip), reference.map(strip));
  const trainingSteps = records.filter((r) => !("eval/episode_success" in r)).map((r) => r.step);
  assert.deepEqual(trainingSteps, Array.from({ length: 23 }, (_, i) => i + 1));
  assert.deepEqual(
    records.filter((r) => "eval/episode_success" in r).map((r) => r.step),
    [5, 11, 17, 23],
  );

  // metrics.csv: the same steps in the same order
  const csv = readFileSync(run.metricsCsvPath, "utf8").trim().split("\n");
  const col = parseCsvLine(csv[0]).indexOf("step");
  assert.deepEqual(
    csv.slice(1).map((l) => Number(parseCsvLine(l)[col])),
    records.map((r) => r.step),
  );

  // TensorBoard: the event files read in name order never step back, and each (tag, step) is there once
  const files = readdirSync(run.path).filter((n) => n.startsWith("events.out.tfevents.")).sort();
  assert.equal(files.length, 3);
  const seen = new Map<string, number[]>();
  let prev = -1;
  for (const f of files) {
    for (const ev of readEventFile(join(run.path, f))) {
      if (ev.fileVersion !== undefined) continue;
      const step = Number(ev.step);
      assert.ok(step >= prev, `${f}: step ${step} after ${prev}`);
      prev = step;
      for (const v of ev.values) seen.set(v.tag, [...(seen.get(v.tag) ?? []), step]);
    }
  }
  const refSteps = reference.filter((r) => typeof r["eval/episode_success"] === "number").map((r) => r.envsteps);
  assert.deepEqual(seen.get("eval/episode_success"), refSteps);
  assert.deepEqual(
    seen.get("training/sps"),
    reference.filter((r) => typeof r["training/sps"] === "number").map((r) => r.envsteps),
  );

  // the log says what was cut: steps 8–14 (7 rows) and the second evaluation (at step 11)
  const cutLine = lines.find((l) => l.startsWith("dropped "));
  assert.match(cutLine ?? "", /^dropped 8 metric rows logged after the checkpoint \(training step 7, 320 env steps\) from metrics\.jsonl and metrics\.csv and \d+ TensorBoard scalars/);

  // summary.json: the last five evaluations, before and after the resume, none twice
  const summary = writeRunSummary(run.path, last, 0);
  assert.equal(summary.evals, 4);
  assert.deepEqual(strip(summary.last5), strip(lastKMeans(evalRecords(reference), 5)));
});

test("truncateEventFile cuts an event file after a step at a record boundary; the file stays readable", () => {
  const dir = mkdtempSync(join(tmpdir(), "fathom-tb-cut-"));
  const path = join(dir, "events.out.tfevents.1.host");
  const recs = [0, 10, 20, 30, 40].map((s) => tfRecord(encodeScalarEvent("a", s / 10, s, 1)));
  const torn = tfRecord(encodeScalarEvent("a", 9, 50, 1)).subarray(0, 20);
  writeFileSync(path, Buffer.concat([...recs, torn]));
  // nothing after step 40: the file (torn tail and all) is left alone
  assert.deepEqual(truncateEventFile(path, 40), { dropped: 0, tornBytes: 0 });
  assert.equal(readFileSync(path).length, Buffer.concat([...recs, torn]).length);
  assert.deepEqual(truncateEventFile(path, 25), { dropped: 2, tornBytes: 20 });
  assert.equal(readRecords(new Uint8Array(readFileSync(path))).length, 3);
  assert.deepEqual(
    readEventFile(path).map((e) => Number(e.step)),
    [0, 10, 20],
  );
  assert.deepEqual(truncateEventFile(path, 25), { dropped: 0, tornBytes: 0 });
  assert.deepEqual(readdirSync(dir), ["events.out.tfevents.1.host"], "no temporary file left");
});
