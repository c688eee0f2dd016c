// An independent TensorBoard event-file reader for the tests (bitwise CRC32C, hand-rolled TFRecord
// and protobuf decoding), sharing no code with src/train/tensorboard.ts.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

// Bitwise CRC32C (no table), independent of the writer's table-driven one.
export function crcBitwise(data: Uint8Array): number {
  let c = ~0 >>> 0;
  for (const b of data) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0x82f63b78 & -(c & 1));
  }
  return ~c >>> 0;
}
export function mask(c: number): number {
  const rot = ((c >>> 15) | (c << 17)) >>> 0;
  return (rot + 0xa282ead8) % 2 ** 32;
}

export interface Decoded {
  wallTime?: number;
  step: bigint;
  fileVersion?: string;
  values: { tag: string; value: number }[];
}

function readVarint(b: Uint8Array, pos: { i: number }): bigint {
  let r = 0n;
  let shift = 0n;
  for (;;) {
    const x = b[pos.i++];
    r |= BigInt(x & 0x7f) << shift;
    if ((x & 0x80) === 0) return r;
    shift += 7n;
  }
}
// Yields [field, wireType, payload] for each field of a message.
function* fields(b: Uint8Array): Generator<[number, number, Uint8Array]> {
  const pos = { i: 0 };
  while (pos.i < b.length) {
    const key = Number(readVarint(b, pos));
    const field = key >> 3;
    const wt = key & 7;
    let len: number;
    if (wt === 0) {
      const start = pos.i;
      readVarint(b, pos);
      yield [field, wt, b.subarray(start, pos.i)];
      continue;
    }
    if (wt === 1) len = 8;
    else if (wt === 5) len = 4;
    else if (wt === 2) len = Number(readVarint(b, pos));
    else throw new Error(`unexpected wire type ${wt}`);
    yield [field, wt, b.subarray(pos.i, pos.i + len)];
    pos.i += len;
  }
}
export function decodeEvent(b: Uint8Array): Decoded {
  const ev: Decoded = { step: 0n, values: [] };
  for (const [f, wt, p] of fields(b)) {
    const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
    if (f === 1 && wt === 1) ev.wallTime = dv.getFloat64(0, true);
    else if (f === 2 && wt === 0) ev.step = BigInt.asIntN(64, readVarint(p, { i: 0 }));
    else if (f === 3 && wt === 2) ev.fileVersion = new TextDecoder().decode(p);
    else if (f === 5 && wt === 2) {
      for (const [sf, , sp] of fields(p)) {
        assert.equal(sf, 1);
        let tag = "";
        let value = Number.NaN;
        for (const [vf, vwt, vp] of fields(sp)) {
          if (vf === 1) tag = new TextDecoder().decode(vp);
          if (vf === 2 && vwt === 5) value = new DataView(vp.buffer, vp.byteOffset, 4).getFloat32(0, true);
        }
        ev.values.push({ tag, value });
      }
    } else throw new Error(`unexpected field ${f}`);
  }
  return ev;
}
export function readRecords(file: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  let o = 0;
  while (o < file.length) {
    const len = Number(dv.getBigUint64(o, true));
    assert.equal(dv.getUint32(o + 8, true), mask(crcBitwise(file.subarray(o, o + 8))), "length CRC");
    const data = file.subarray(o + 12, o + 12 + len);
    assert.equal(dv.getUint32(o + 12 + len, true), mask(crcBitwise(data)), "data CRC");
    out.push(data);
    o += 16 + len;
  }
  assert.equal(o, file.length);
  return out;
}

/** All events of an event file, CRCs verified. */
export function readEventFile(path: string): Decoded[] {
  return readRecords(new Uint8Array(readFileSync(path))).map(decodeEvent);
}
