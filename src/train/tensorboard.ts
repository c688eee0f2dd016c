// A TensorBoard event-file writer for scalars, written by hand so that Fathom needs no TensorFlow
// or protobuf dependency. The file is a sequence of TFRecords, each holding one serialized `Event`:
//
//   TFRecord: uint64 LE length | uint32 LE masked_crc32c(length bytes) | data | uint32 LE masked_crc32c(data)
//   Event   { double wall_time = 1; int64 step = 2; oneof { string file_version = 3; Summary summary = 5; } }
//   Summary { repeated Value value = 1; }   Value { string tag = 1; float simple_value = 2; }
//
// The first record carries file_version "brain.Event:2", which TensorBoard expects.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { writeFileAtomic } from "./rundir.js";

// ---------------------------------------------------------------------------------------------
// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), as TFRecord requires.

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC32C of `data` (uint32). crc32c("123456789") = 0xE3069283. */
export function crc32c(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC32C_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** TFRecord's masked CRC: rotate right by 15 and add a constant, so CRCs of CRCs stay well mixed. */
export function maskedCrc32c(data: Uint8Array): number {
  const c = crc32c(data);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Minimal protobuf encoding: just the wire types the Event message needs.

class ProtoWriter {
  private bytes: number[] = [];
  private readonly scratch = new DataView(new ArrayBuffer(8));

  private varint(v: bigint): void {
    // int64 fields are encoded as their two's-complement uint64 (negatives take 10 bytes).
    let u = BigInt.asUintN(64, v);
    while (u >= 0x80n) {
      this.bytes.push(Number(u & 0x7fn) | 0x80);
      u >>= 7n;
    }
    this.bytes.push(Number(u));
  }
  private key(field: number, wireType: number): void {
    this.varint(BigInt((field << 3) | wireType));
  }
  double(field: number, v: number): void {
    this.key(field, 1);
    this.scratch.setFloat64(0, v, true);
    for (let i = 0; i < 8; i++) this.bytes.push(this.scratch.getUint8(i));
  }
  float(field: number, v: number): void {
    this.key(field, 5);
    this.scratch.setFloat32(0, v, true);
    for (let i = 0; i < 4; i++) this.bytes.push(this.scratch.getUint8(i));
  }
  int64(field: number, v: number): void {
    this.key(field, 0);
    this.varint(BigInt(v));
  }
  bytesField(field: number, data: Uint8Array): void {
    this.key(field, 2);
    this.varint(BigInt(data.length));
    for (let i = 0; i < data.length; i++) this.bytes.push(data[i]);
  }
  string(field: number, s: string): void {
    this.bytesField(field, new TextEncoder().encode(s));
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

/** Serialized Event { wall_time, file_version } (step 0 is omitted, as proto3 does). */
export function encodeFileVersionEvent(wallTime: number, fileVersion = "brain.Event:2"): Uint8Array {
  const w = new ProtoWriter();
  w.double(1, wallTime);
  w.string(3, fileVersion);
  return w.finish();
}

/**
 * Serialized Event { wall_time, step, summary { value { tag, simple_value } } }. The value is
 * stored as float32 (TensorBoard's simple_value); step is always written, even when 0.
 */
export function encodeScalarEvent(tag: string, value: number, step: number, wallTime: number): Uint8Array {
  const v = new ProtoWriter();
  v.string(1, tag);
  v.float(2, value); // a oneof member: written even when 0
  const s = new ProtoWriter();
  s.bytesField(1, v.finish());
  const e = new ProtoWriter();
  e.double(1, wallTime);
  e.int64(2, step);
  e.bytesField(5, s.finish());
  return e.finish();
}

/** Frames `data` as one TFRecord. */
export function tfRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length + 4);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reading back: only what cutting a file after a step needs (record framing and Event.step).

/** The `step` field (2) of a serialized Event; 0 when absent (proto3 omits 0). */
export function eventStep(event: Uint8Array): number {
  let i = 0;
  const varint = (): bigint => {
    let r = 0n;
    let shift = 0n;
    for (;;) {
      if (i >= event.length) throw new Error("truncated varint");
      const b = event[i++];
      r |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return r;
      shift += 7n;
    }
  };
  let step = 0;
  while (i < event.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wt = key & 7;
    if (wt === 0) {
      const v = varint();
      if (field === 2) step = Number(BigInt.asIntN(64, v));
    } else if (wt === 1) i += 8;
    else if (wt === 5) i += 4;
    else if (wt === 2) {
      const n = Number(varint()); // (not `i += …`: varint() moves i)
      i += n;
    }
    else throw new Error(`unexpected protobuf wire type ${wt}`);
  }
  if (i !== event.length) throw new Error("field runs past the end of the event");
  return step;
}

/**
 * The TFRecords of an event file's bytes, in order, each with its byte range and Event step. A
 * record whose length or CRC does not check out (the torn tail of a crashed write) ends the list:
 * `validBytes` is where the readable prefix ends.
 */
export function scanEventRecords(file: Uint8Array): { records: { start: number; end: number; step: number }[]; validBytes: number } {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const records: { start: number; end: number; step: number }[] = [];
  let o = 0;
  while (o + 12 <= file.length) {
    if (view.getUint32(o + 8, true) !== maskedCrc32c(file.subarray(o, o + 8))) break;
    const len = view.getBigUint64(o, true);
    if (len > BigInt(file.length - o - 16)) break;
    const n = Number(len);
    const data = file.subarray(o + 12, o + 12 + n);
    if (view.getUint32(o + 12 + n, true) !== maskedCrc32c(data)) break;
    let step: number;
    try {
      step = eventStep(data);
    } catch {
      break;
    }
    records.push({ start: o, end: o + 16 + n, step });
    o += 16 + n;
  }
  return { records, validBytes: o };
}

/**
 * Removes from event file `path` every record whose step is greater than `maxStep` (the
 * file_version record has step 0 and stays). Within one file steps never decrease, so what follows
 * the first such record goes too, including a torn tail (bytes that are no whole record: a crash
 * mid-write). A file without such a record is left as it is, unreadable tail or not. The kept
 * records are written to a temporary file that replaces `path` by rename, so a crash leaves the
 * old file or the new one, both readable. Returns how many records were dropped and how many torn
 * bytes went with them.
 */
export function truncateEventFile(path: string, maxStep: number): { dropped: number; tornBytes: number } {
  const file = new Uint8Array(readFileSync(path));
  const { records, validBytes } = scanEventRecords(file);
  const first = records.findIndex((r) => r.step > maxStep);
  if (first < 0) return { dropped: 0, tornBytes: 0 };
  const end = records[first].start;
  writeFileAtomic(path, file.subarray(0, end));
  return { dropped: records.length - first, tornBytes: file.length - validBytes };
}

/** Names of TensorBoard event files: `events.out.tfevents.*`. */
export const EVENT_FILE = /^events\.out\.tfevents\./;

// ---------------------------------------------------------------------------------------------

export interface TensorBoardWriterOptions {
  /** Buffered records are written once they exceed this many bytes (default 64 KiB). */
  maxBufferBytes?: number;
  /** ...or when a scalar is added this many seconds after the last write (default 10). */
  flushSeconds?: number;
  /** Clock in seconds since the epoch, for wall_time and the file name (default Date.now()/1000). */
  now?: () => number;
}

/**
 * Writes scalars to `<logDir>/events.out.tfevents.<unix seconds>.<hostname>`. A new file is created
 * exclusively each time a writer opens (TensorBoard reads every event file in a directory, so a
 * resumed run simply adds a file); if the name is taken in the same second, `.2`, `.3`, … is
 * appended. Records are buffered in memory; `flush()` writes them, `close()` flushes and fsyncs.
 */
export class TensorBoardWriter {
  readonly path: string;
  private fd: number | null;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private lastWrite: number;
  private readonly maxBufferBytes: number;
  private readonly flushSeconds: number;
  private readonly now: () => number;

  constructor(logDir: string, options: TensorBoardWriterOptions = {}) {
    this.now = options.now ?? (() => Date.now() / 1000);
    this.maxBufferBytes = options.maxBufferBytes ?? 64 * 1024;
    this.flushSeconds = options.flushSeconds ?? 10;
    mkdirSync(logDir, { recursive: true });
    const t = this.now();
    const host = hostname().replace(/[^A-Za-z0-9._-]/g, "_") || "localhost";
    const base = join(logDir, `events.out.tfevents.${Math.floor(t)}.${host}`);
    let path = base;
    let fd: number | null = null;
    for (let n = 2; fd === null; n++) {
      try {
        fd = openSync(path, "wx");
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST" || n > 1000) throw e;
        path = `${base}.${n}`;
      }
    }
    this.fd = fd;
    this.path = path;
    this.lastWrite = t;
    this.push(encodeFileVersionEvent(t));
    this.flush();
  }

  /** Queues one scalar. `wallTime` is seconds since the epoch (default: now). */
  addScalar(tag: string, value: number, step: number, wallTime?: number): void {
    if (this.fd === null) throw new Error(`TensorBoardWriter.addScalar("${tag}"): the writer for ${this.path} is closed`);
    if (typeof tag !== "string" || tag.length === 0) throw new Error("TensorBoardWriter.addScalar: tag must be a non-empty string");
    if (typeof value !== "number") throw new Error(`TensorBoardWriter.addScalar("${tag}"): value must be a number, got ${typeof value}`);
    if (!Number.isSafeInteger(step)) throw new Error(`TensorBoardWriter.addScalar("${tag}"): step must be a safe integer, got ${step}`);
    const now = this.now();
    this.push(encodeScalarEvent(tag, value, step, wallTime ?? now));
    if (this.pendingBytes >= this.maxBufferBytes || now - this.lastWrite >= this.flushSeconds) this.flush();
  }

  /** Writes every queued record to the file. */
  flush(): void {
    if (this.fd === null || this.pending.length === 0) return;
    const all = new Uint8Array(this.pendingBytes);
    let o = 0;
    for (const r of this.pending) {
      all.set(r, o);
      o += r.length;
    }
    let written = 0;
    while (written < all.length) written += writeSync(this.fd, all, written, all.length - written);
    this.pending = [];
    this.pendingBytes = 0;
    this.lastWrite = this.now();
  }

  /** Flushes, fsyncs and closes the file. Idempotent. */
  close(): void {
    if (this.fd === null) return;
    this.flush();
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = null;
  }

  get closed(): boolean {
    return this.fd === null;
  }

  private push(event: Uint8Array): void {
    const r = tfRecord(event);
    this.pending.push(r);
    this.pendingBytes += r.length;
  }
}
