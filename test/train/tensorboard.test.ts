// The TensorBoard writer checked against a reader written independently here (bitwise CRC32C,
// hand-rolled TFRecord and protobuf decoding), plus known CRC32C vectors and one event's bytes.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { crc32c, encodeScalarEvent, maskedCrc32c, TensorBoardWriter, tfRecord } from "../../src/train/tensorboard.js";
import { crcBitwise, decodeEvent, mask, readRecords } from "./tfevents.js";

test("crc32c matches known vectors (RFC 3720 and the check value)", () => {
  const enc = new TextEncoder();
  assert.equal(crc32c(enc.encode("123456789")), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  assert.equal(crc32c(new Uint8Array(0)), 0);
  const junk = Uint8Array.from({ length: 1000 }, (_, i) => (i * 131 + 7) & 0xff);
  assert.equal(crc32c(junk), crcBitwise(junk));
  assert.equal(maskedCrc32c(junk), mask(crcBitwise(junk)));
});

test("one tiny scalar event has the hand-computed bytes", () => {
  // Event{wall_time=0.5, step=2, summary{value{tag="a", simple_value=1.0}}}
  const expected = [
    0x09, 0, 0, 0, 0, 0, 0, 0xe0, 0x3f, // field 1 double 0.5
    0x10, 0x02, // field 2 varint 2
    0x2a, 0x0a, // field 5, 10 bytes
    0x0a, 0x08, // Summary.value, 8 bytes
    0x0a, 0x01, 0x61, // Value.tag "a"
    0x15, 0x00, 0x00, 0x80, 0x3f, // Value.simple_value 1.0f
  ];
  const ev = encodeScalarEvent("a", 1.0, 2, 0.5);
  assert.deepEqual([...ev], expected);
  const rec = tfRecord(ev);
  assert.equal(rec.length, 16 + expected.length);
  assert.deepEqual([...rec.subarray(0, 8)], [23, 0, 0, 0, 0, 0, 0, 0]);
  // a multi-byte varint step and a negative step decode back
  assert.equal(decodeEvent(encodeScalarEvent("x", 0, 300, 1)).step, 300n);
  assert.equal(decodeEvent(encodeScalarEvent("x", 0, -5, 1)).step, -5n);
});

test("scalars written by TensorBoardWriter read back exactly", () => {
  const dir = mkdtempSync(join(tmpdir(), "fathom-tb-"));
  try {
    let clock = 1_700_000_000.25;
    const w = new TensorBoardWriter(dir, { now: () => clock, maxBufferBytes: 200 });
    assert.match(w.path, /events\.out\.tfevents\.1700000000\.[^/]+$/);
    const written: { tag: string; value: number; step: number }[] = [];
    const tags = ["training/critic_loss", "eval/episode_success", "training/sps", "ünïcødé/tag"];
    for (let step = 0; step < 50; step++) {
      for (const tag of tags) {
        const value = Math.sin(step * 1.7 + tag.length) * 10 ** ((step % 7) - 3);
        w.addScalar(tag, value, step * 31_744);
        written.push({ tag, value, step: step * 31_744 });
      }
      clock += 1;
    }
    w.addScalar("special/nan", Number.NaN, 7);
    w.addScalar("special/inf", Number.NEGATIVE_INFINITY, 8, 42.5);
    w.addScalar("special/zero", 0, 9);
    w.close();
    w.close(); // idempotent
    assert.throws(() => w.addScalar("x", 1, 0), /closed/);

    const records = readRecords(new Uint8Array(readFileSync(w.path)));
    const events = records.map(decodeEvent);
    assert.equal(events[0].fileVersion, "brain.Event:2");
    assert.equal(events[0].wallTime, 1_700_000_000.25);
    assert.equal(events.length, 1 + written.length + 3);
    for (let i = 0; i < written.length; i++) {
      const e = events[1 + i];
      assert.equal(e.values.length, 1);
      assert.equal(e.values[0].tag, written[i].tag);
      assert.equal(e.values[0].value, Math.fround(written[i].value));
      assert.equal(e.step, BigInt(written[i].step));
    }
    const tail = events.slice(-3);
    assert.ok(Number.isNaN(tail[0].values[0].value));
    assert.equal(tail[1].values[0].value, Number.NEGATIVE_INFINITY);
    assert.equal(tail[1].wallTime, 42.5);
    assert.equal(tail[2].values[0].value, 0);

    // A second writer in the same second never clobbers the first file.
    clock = 1_700_000_000.5;
    const w2 = new TensorBoardWriter(dir, { now: () => clock });
    w2.addScalar("a", 1, 1);
    w2.close();
    assert.notEqual(w2.path, w.path);
    assert.equal(readdirSync(dir).length, 2);
    assert.equal(readRecords(new Uint8Array(readFileSync(w.path))).length, records.length);
    const w3 = new TensorBoardWriter(dir);
    assert.throws(() => w3.addScalar("a", 1, 1.5), /step must be a safe integer/);
    w3.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
