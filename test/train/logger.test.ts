import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { MetricsLogger, parseCsvLine, readMetricsJsonl } from "../../src/train/logger.js";
import { readEventFile } from "./tfevents.js";

// A CSV reader independent of the logger's: rows must be rectangular.
function readCsv(path: string): { header: string[]; rows: string[][] } {
  const lines = readFileSync(path, "utf8").split("\n");
  assert.equal(lines.at(-1), "", "CSV ends with a newline");
  const [header, ...rows] = lines.slice(0, -1).map((l) => l.split(","));
  for (const r of rows) assert.equal(r.length, header.length, `row ${r.join(",")} has ${r.length} cells, header ${header.length}`);
  return { header, rows };
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), "fathom-logger-"));
}

test("records round-trip through JSONL, CSV (header widened when new keys appear) and TensorBoard", () => {
  const dir = tmp();
  try {
    let clock = 1000;
    const log = new MetricsLogger(dir, { now: () => clock });
    const written: Record<string, number>[] = [
      { step: 1, envsteps: 31744, "training/critic_loss": 6.25, "training/sps": 1234.5 },
      { step: 2, envsteps: 63488, "training/critic_loss": 0.1 + 0.2, "training/sps": 1300 },
      // the first evaluation brings new keys
      { step: 2, envsteps: 63488, "eval/episode_success": 11.5, "eval/episode_dist": Number.NaN },
      { step: 3, envsteps: 95232, "training/critic_loss": -1e-30, "training/sps": Number.POSITIVE_INFINITY },
    ];
    for (const r of written) {
      clock += 1;
      log.log(r);
    }
    log.close();

    const { records, skipped } = readMetricsJsonl(join(dir, "metrics.jsonl"));
    assert.equal(skipped, 0);
    assert.equal(records.length, 4);
    for (let i = 0; i < 4; i++) {
      const expected = { ...written[i], wall_time: 1001 + i };
      assert.deepEqual(records[i], expected);
    }

    const csv = readCsv(join(dir, "metrics.csv"));
    assert.deepEqual(csv.header, [
      "step",
      "envsteps",
      "wall_time",
      "training/critic_loss",
      "training/sps",
      "eval/episode_success",
      "eval/episode_dist",
    ]);
    assert.equal(csv.rows.length, 4);
    for (let i = 0; i < 4; i++) {
      const w: Record<string, number> = { ...written[i], wall_time: 1001 + i };
      csv.header.forEach((h, j) => {
        const cell = csv.rows[i][j];
        if (w[h] === undefined) assert.equal(cell, "", `row ${i} ${h} empty`);
        else assert.ok(Object.is(Number(cell), w[h]), `row ${i} ${h}: ${cell} vs ${w[h]}`);
      });
    }

    const tbFiles = readdirSync(dir).filter((f) => f.startsWith("events.out.tfevents."));
    assert.equal(tbFiles.length, 1);
    const events = readEventFile(join(dir, tbFiles[0])).slice(1);
    const scalars = events.map((e) => ({ tag: e.values[0].tag, step: Number(e.step), value: e.values[0].value, t: e.wallTime }));
    const expected = written.flatMap((r, i) =>
      Object.entries(r)
        .filter(([k]) => k !== "step" && k !== "envsteps")
        .map(([tag, value]) => ({ tag, step: r.envsteps, value: Math.fround(value), t: 1001 + i })),
    );
    assert.deepEqual(scalars, expected);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("reopening a run directory appends (never truncates), keeps the CSV valid and survives a torn line", () => {
  const dir = tmp();
  try {
    const a = new MetricsLogger(dir, { xAxis: "step" });
    a.log({ step: 1, "training/actor_loss": 0.5 });
    a.log({ step: 2, "training/actor_loss": 0.25 });
    a.close();
    // a crash mid-write leaves half a line behind
    appendFileSync(join(dir, "metrics.jsonl"), '{"step":3,"training/ac');
    appendFileSync(join(dir, "metrics.csv"), "3,99");

    const b = new MetricsLogger(dir, { xAxis: "step" });
    b.log({ step: 3, "training/actor_loss": 0.125, "training/log_alpha": -2 });
    b.close();

    const { records, skipped } = readMetricsJsonl(join(dir, "metrics.jsonl"));
    assert.equal(skipped, 0, "the torn line was cut off on reopen");
    assert.deepEqual(
      records.map((r) => [r.step, r["training/actor_loss"], r["training/log_alpha"]]),
      [
        [1, 0.5, undefined],
        [2, 0.25, undefined],
        [3, 0.125, -2],
      ],
    );
    readCsv(join(dir, "metrics.csv")); // rectangular
    const lines = readFileSync(join(dir, "metrics.csv"), "utf8").trimEnd().split("\n");
    assert.equal(lines[0], "step,wall_time,training/actor_loss,training/log_alpha");
    assert.equal(lines.length, 4); // header, 2 old rows (padded), the new row
    assert.match(lines[1], /^1,[0-9.]+,0\.5,$/);
    assert.match(lines[2], /^2,[0-9.]+,0\.25,$/);
    assert.match(lines[3], /^3,[0-9.]+,0\.125,-2$/);

    // a torn JSONL tail that is a whole record is kept; unparsable lines are skipped by the reader
    appendFileSync(join(dir, "metrics.jsonl"), '{"step":4}');
    new MetricsLogger(dir, { xAxis: "step", tensorboard: false }).close();
    appendFileSync(join(dir, "metrics.jsonl"), "garbage\n");
    const again = readMetricsJsonl(join(dir, "metrics.jsonl"));
    assert.deepEqual([again.records.at(-1), again.skipped], [{ step: 4 }, 1]);
    // each open made its own TensorBoard file
    assert.equal(readdirSync(dir).filter((f) => f.startsWith("events.out.tfevents.")).length, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("bad records are rejected with the key and what is expected, and write nothing", () => {
  const dir = tmp();
  try {
    const log = new MetricsLogger(dir, { tensorboard: false, csv: false });
    assert.throws(() => log.log({ envsteps: 5, x: 1 }), /integer "step" field, got undefined/);
    assert.throws(() => log.log({ step: 1, x: 1 }), /integer "envsteps" field/);
    assert.throws(
      () => log.log({ step: 1, envsteps: 1, "eval/name": "ant" as unknown as number }),
      /metric "eval\/name" must be a number, got string "ant"/,
    );
    log.log({ step: 1, envsteps: 10 });
    assert.deepEqual(readdirSync(dir), ["metrics.jsonl"]);
    assert.equal(readMetricsJsonl(join(dir, "metrics.jsonl")).records.length, 1);
    log.close();
    assert.throws(() => log.log({ step: 2, envsteps: 20 }), /closed/);
    assert.throws(() => new MetricsLogger(join(dir, "nope")), /does not exist; create it with createRunDir/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("parseCsvLine handles quoted fields", () => {
  assert.deepEqual(parseCsvLine('a,"b,c","d""e",,f'), ["a", "b,c", 'd"e', "", "f"]);
  assert.deepEqual(parseCsvLine(""), [""]);
});
