// The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian
// header length N, N bytes of JSON header {name: {dtype, shape, data_offsets}, ...,
// "__metadata__": {string: string}}, then the raw little-endian tensor bytes. Pure functions (no
// fs) so that it also runs in a browser: in-memory encode/decode, plus the header codec and the
// checks that src/train/checkpoint.ts uses to stream files of any size (> 2 GiB) from and to disk.
//
// Checksums: the writer stores a CRC-32 (IEEE, as zlib's) of every tensor's bytes, and one of the
// other metadata entries, under the metadata key CHECKSUM_KEY ("fathom.crc32") as a JSON object
// {"<tensor name>": "<8 hex digits>", ..., "__metadata__": "<8 hex digits>"}. Readers verify them
// and reject a damaged file naming the tensor; files without the key (older checkpoints, other
// writers) load unchecked. Other safetensors readers simply see one more metadata string.
import { type Crc32Fn, crc32, crc32Hex } from "./crc32.js";

export type DType = "F32" | "F64" | "I32" | "U32";
export type TypedArrayOf<D extends DType> = D extends "F32"
  ? Float32Array
  : D extends "F64"
    ? Float64Array
    : D extends "I32"
      ? Int32Array
      : Uint32Array;

export interface Tensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: Float32Array | Float64Array | Int32Array | Uint32Array;
}

export const DTYPE_BYTES: Readonly<Record<DType, number>> = { F32: 4, F64: 8, I32: 4, U32: 4 };

/** Metadata key of the per-tensor CRC-32 checksums (see the top of this file). */
export const CHECKSUM_KEY = "fathom.crc32";
/** The entry of the checksum object that covers the other metadata entries. */
const META_ENTRY = "__metadata__";

function dtypeOf(a: Tensor["data"]): DType {
  if (a instanceof Float32Array) return "F32";
  if (a instanceof Float64Array) return "F64";
  if (a instanceof Int32Array) return "I32";
  return "U32";
}

export const MAX_HEADER = 100 * 1024 * 1024;

export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SafetensorsError";
  }
}

/** The bytes of a tensor's data (a view, no copy; the platform is little-endian: x86-64, arm64). */
export function tensorBytes(t: Tensor): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

/** A zero-filled typed array of `numel` values of `dtype`. */
export function allocTensorData(dtype: DType, numel: number): Tensor["data"] {
  return dtype === "F32" ? new Float32Array(numel) : dtype === "F64" ? new Float64Array(numel) : dtype === "I32" ? new Int32Array(numel) : new Uint32Array(numel);
}

/** CRC-32 of the metadata entries other than the checksums, in sorted key order. */
function metadataCrc(metadata: Record<string, string>, crc: Crc32Fn): string {
  const keys = Object.keys(metadata)
    .filter((k) => k !== CHECKSUM_KEY)
    .sort();
  const canon = JSON.stringify(keys.map((k) => [k, metadata[k]]));
  return crc32Hex(crc(new TextEncoder().encode(canon), 0));
}

export interface EncodeOptions {
  /** Store CRC-32 checksums under CHECKSUM_KEY (default true). */
  checksums?: boolean;
  /** The CRC-32 implementation (default: the pure-TS one; Node's zlib.crc32 gives the same values). */
  crc32?: Crc32Fn;
}

function entriesOf(tensors: ReadonlyMap<string, Tensor> | Record<string, Tensor>): [string, Tensor][] {
  return tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
}

/**
 * The file's first bytes: the 8-byte header length and the JSON header (padded with spaces so that
 * the data section starts at a multiple of 8), for tensors laid out in the order given. Validates
 * the tensors; computes their checksums unless options.checksums is false.
 */
export function encodeSafetensorsHeader(
  tensors: ReadonlyMap<string, Tensor> | Record<string, Tensor>,
  metadata: Record<string, string> = {},
  options: EncodeOptions = {},
): { header: Uint8Array; dataBytes: number } {
  const entries = entriesOf(tensors);
  const crc = options.crc32 ?? crc32;
  if (CHECKSUM_KEY in metadata) throw new SafetensorsError(`metadata key "${CHECKSUM_KEY}" is reserved for the checksums`);
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== "string") throw new SafetensorsError(`metadata "${k}" must be a string, got ${typeof v}`);
  }
  const header: Record<string, unknown> = {};
  const meta: Record<string, string> = { ...metadata };
  const sums: Record<string, string> = {};
  let offset = 0;
  for (const [name, t] of entries) {
    if (name === "__metadata__") throw new SafetensorsError(`"__metadata__" is reserved and cannot name a tensor`);
    const dtype = dtypeOf(t.data);
    if (dtype !== t.dtype) throw new SafetensorsError(`tensor "${name}": dtype ${t.dtype} does not match its data (${dtype})`);
    const numel = t.shape.reduce((a: number, b: number) => a * b, 1);
    if (numel !== t.data.length) {
      throw new SafetensorsError(`tensor "${name}": shape [${t.shape.join(", ")}] holds ${numel} values but data has ${t.data.length}`);
    }
    const nbytes = numel * DTYPE_BYTES[dtype];
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + nbytes] };
    if (options.checksums !== false) sums[name] = crc32Hex(crc(tensorBytes(t), 0));
    offset += nbytes;
  }
  if (options.checksums !== false) {
    sums[META_ENTRY] = metadataCrc(metadata, crc);
    meta[CHECKSUM_KEY] = JSON.stringify(sums);
  }
  const withMeta: Record<string, unknown> = Object.keys(meta).length > 0 ? { __metadata__: meta, ...header } : header;
  let json = JSON.stringify(withMeta);
  const enc = new TextEncoder();
  let hbytes = enc.encode(json);
  const pad = (8 - (hbytes.length % 8)) % 8; // align the data section to 8 bytes
  if (pad) {
    json += " ".repeat(pad);
    hbytes = enc.encode(json);
  }
  const out = new Uint8Array(8 + hbytes.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(hbytes.length), true);
  out.set(hbytes, 8);
  return { header: out, dataBytes: offset };
}

/** Encodes tensors (in the order given) and string metadata into one buffer (files < 2 GiB). */
export function encodeSafetensors(
  tensors: ReadonlyMap<string, Tensor> | Record<string, Tensor>,
  metadata: Record<string, string> = {},
  options: EncodeOptions = {},
): Uint8Array {
  const { header, dataBytes } = encodeSafetensorsHeader(tensors, metadata, options);
  const out = new Uint8Array(header.length + dataBytes);
  out.set(header, 0);
  let pos = header.length;
  for (const [, t] of entriesOf(tensors)) {
    const bytes = tensorBytes(t);
    out.set(bytes, pos);
    pos += bytes.length;
  }
  return out;
}

/** One tensor's description in a header; begin/end are byte offsets within the data section. */
export interface TensorEntry {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: number[];
  readonly begin: number;
  readonly end: number;
  /** Its stored CRC-32 (8 hex digits), when the file has checksums. */
  readonly crc32?: string;
}

export interface SafetensorsHeader {
  /** Byte offset of the data section in the file (8 + the JSON header's length). */
  readonly dataStart: number;
  /** Tensors in file order (by offset). */
  readonly entries: TensorEntry[];
  /** The metadata, without the checksum entry. */
  readonly metadata: Record<string, string>;
  /** Whether the file carries checksums (CHECKSUM_KEY). */
  readonly checksummed: boolean;
}

/** The JSON header's length from the first 8 bytes of a `fileBytes`-byte file; checks it fits. */
export function headerLengthOf(first8: Uint8Array, fileBytes: number, what = "file"): number {
  if (fileBytes < 8 || first8.length < 8) {
    throw new SafetensorsError(`${what} is not a safetensors file: ${fileBytes} bytes, shorter than the 8-byte header length`);
  }
  const n = Number(new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true));
  if (n > MAX_HEADER || 8 + n > fileBytes) {
    throw new SafetensorsError(`${what} is corrupt or truncated: header length ${n} does not fit in ${fileBytes} bytes`);
  }
  return n;
}

/**
 * Parses and validates the JSON header (the `n` bytes after the length) of a file of `fileBytes`
 * bytes: dtypes, shapes, offsets within the data section, no overlaps, the checksum entry's form
 * and the metadata's checksum. Every problem is a SafetensorsError naming it.
 */
export function parseSafetensorsHeader(json: Uint8Array, fileBytes: number, what = "file", options: { crc32?: Crc32Fn } = {}): SafetensorsHeader {
  const n = json.length;
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(json));
  } catch (e) {
    throw new SafetensorsError(`${what} is corrupt: its header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw new SafetensorsError(`${what} is corrupt: the header is not a JSON object`);
  }
  const dataStart = 8 + n;
  const dataLen = fileBytes - dataStart;
  let metadata: Record<string, string> = {};
  const entries: TensorEntry[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === "__metadata__") {
      if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new SafetensorsError(`${what}: __metadata__ must be an object of strings`);
      metadata = { ...(raw as Record<string, string>) };
      continue;
    }
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== "object" || e === null) throw new SafetensorsError(`${what}: tensor "${name}" has no description`);
    const dtype = e.dtype as DType;
    if (typeof dtype !== "string" || !Object.hasOwn(DTYPE_BYTES, dtype)) {
      throw new SafetensorsError(`${what}: tensor "${name}" has dtype ${String(e.dtype)}; supported are ${Object.keys(DTYPE_BYTES).join(", ")}`);
    }
    const shape = e.shape as number[];
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new SafetensorsError(`${what}: tensor "${name}" has an invalid shape ${JSON.stringify(e.shape)}`);
    }
    const off = e.data_offsets as number[];
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isInteger(d) && d >= 0) || off[1] < off[0]) {
      throw new SafetensorsError(`${what}: tensor "${name}" has invalid data_offsets ${JSON.stringify(e.data_offsets)}`);
    }
    const numel = shape.reduce((a, b) => a * b, 1);
    const nbytes = numel * DTYPE_BYTES[dtype];
    if (off[1] - off[0] !== nbytes) {
      throw new SafetensorsError(`${what}: tensor "${name}" spans ${off[1] - off[0]} bytes but shape [${shape.join(", ")}] × ${dtype} needs ${nbytes}`);
    }
    if (off[1] > dataLen) throw new SafetensorsError(`${what} is truncated: tensor "${name}" ends at byte ${off[1]} of a ${dataLen}-byte data section`);
    entries.push({ name, dtype, shape, begin: off[0], end: off[1] });
  }
  entries.sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < entries.length; i++) {
    if (entries[i].begin < entries[i - 1].end) throw new SafetensorsError(`${what} is corrupt: tensors "${entries[i - 1].name}" and "${entries[i].name}" overlap`);
  }
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== "string") throw new SafetensorsError(`${what}: __metadata__ must be an object of strings ("${k}" is ${typeof v})`);
  }
  const sumsText = metadata[CHECKSUM_KEY];
  if (sumsText === undefined) return { dataStart, entries, metadata, checksummed: false };
  delete metadata[CHECKSUM_KEY];
  let sums: Record<string, unknown>;
  try {
    sums = JSON.parse(sumsText);
    if (typeof sums !== "object" || sums === null || Array.isArray(sums)) throw new Error("not an object");
  } catch (e) {
    throw new SafetensorsError(`${what} is corrupt: its checksums (metadata "${CHECKSUM_KEY}") cannot be read (${(e as Error).message})`);
  }
  const hex = /^[0-9a-f]{8}$/;
  const withSums = entries.map((e) => {
    const s = sums[e.name];
    if (typeof s !== "string" || !hex.test(s)) throw new SafetensorsError(`${what} is corrupt: tensor "${e.name}" has no valid checksum in "${CHECKSUM_KEY}"`);
    return { ...e, crc32: s };
  });
  const metaSum = metadataCrc(metadata, options.crc32 ?? crc32);
  if (sums[META_ENTRY] !== metaSum) {
    throw new SafetensorsError(`${what} is corrupt: its metadata fails the CRC-32 check (stored ${String(sums[META_ENTRY])}, computed ${metaSum})`);
  }
  return { dataStart, entries: withSums, metadata, checksummed: true };
}

/** Throws unless `actual` (a CRC-32 of the tensor's bytes) matches the entry's stored checksum. */
export function checkTensorCrc(entry: TensorEntry, actual: number, what = "file"): void {
  if (entry.crc32 === undefined) return;
  const got = crc32Hex(actual);
  if (got !== entry.crc32) {
    throw new SafetensorsError(
      `${what} is corrupt: tensor "${entry.name}" fails its CRC-32 check (stored ${entry.crc32}, computed ${got}): its bytes changed after it was written`,
    );
  }
}

export interface DecodedSafetensors {
  readonly tensors: Map<string, Tensor>;
  readonly metadata: Record<string, string>;
}

/** Decodes and validates a safetensors buffer; every problem is a SafetensorsError naming it. */
export function decodeSafetensors(buf: Uint8Array, what = "file", options: { crc32?: Crc32Fn } = {}): DecodedSafetensors {
  const n = headerLengthOf(buf, buf.length, what);
  const h = parseSafetensorsHeader(buf.subarray(8, 8 + n), buf.length, what, options);
  const crc = options.crc32 ?? crc32;
  const tensors = new Map<string, Tensor>();
  for (const e of h.entries) {
    // Copy into an aligned array (the data section need not be aligned in memory, and a Node
    // Buffer's slice would share its pool).
    const data = allocTensorData(e.dtype, e.shape.reduce((a, b) => a * b, 1));
    const bytes = tensorBytes({ dtype: e.dtype, shape: e.shape, data });
    bytes.set(buf.subarray(h.dataStart + e.begin, h.dataStart + e.end));
    if (h.checksummed) checkTensorCrc(e, crc(bytes, 0), what);
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata: h.metadata };
}
