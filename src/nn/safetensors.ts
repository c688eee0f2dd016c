// The safetensors format (https://github.com/huggingface/safetensors), in memory: an 8-byte
// little-endian header length N, N bytes of JSON header {name: {dtype, shape, data_offsets}, ...,
// "__metadata__": {string: string}}, then the raw little-endian tensor bytes. Pure functions over
// Uint8Array (no fs) so it also runs in a browser; file I/O lives in src/train/checkpoint.ts.

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

const BYTES: Record<DType, number> = { F32: 4, F64: 8, I32: 4, U32: 4 };

function dtypeOf(a: Tensor["data"]): DType {
  if (a instanceof Float32Array) return "F32";
  if (a instanceof Float64Array) return "F64";
  if (a instanceof Int32Array) return "I32";
  return "U32";
}

const MAX_HEADER = 100 * 1024 * 1024;

export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SafetensorsError";
  }
}

/** Encodes tensors (in the order given) and string metadata. */
export function encodeSafetensors(tensors: ReadonlyMap<string, Tensor> | Record<string, Tensor>, metadata: Record<string, string> = {}): Uint8Array {
  const entries: [string, Tensor][] = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of entries) {
    if (name === "__metadata__") throw new SafetensorsError(`"__metadata__" is reserved and cannot name a tensor`);
    const dtype = dtypeOf(t.data);
    if (dtype !== t.dtype) throw new SafetensorsError(`tensor "${name}": dtype ${t.dtype} does not match its data (${dtype})`);
    const numel = t.shape.reduce((a: number, b: number) => a * b, 1);
    if (numel !== t.data.length) {
      throw new SafetensorsError(`tensor "${name}": shape [${t.shape.join(", ")}] holds ${numel} values but data has ${t.data.length}`);
    }
    const nbytes = numel * BYTES[dtype];
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + nbytes] };
    offset += nbytes;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  let hbytes = enc.encode(json);
  const pad = (8 - (hbytes.length % 8)) % 8; // align the data section to 8 bytes
  if (pad) {
    json += " ".repeat(pad);
    hbytes = enc.encode(json);
  }
  const out = new Uint8Array(8 + hbytes.length + offset);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(hbytes.length), true);
  out.set(hbytes, 8);
  let pos = 8 + hbytes.length;
  for (const [, t] of entries) {
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    out.set(bytes, pos); // platform is little-endian (x86-64, arm64)
    pos += bytes.length;
  }
  return out;
}

export interface DecodedSafetensors {
  readonly tensors: Map<string, Tensor>;
  readonly metadata: Record<string, string>;
}

/** Decodes and validates a safetensors buffer; every problem is a SafetensorsError naming it. */
export function decodeSafetensors(buf: Uint8Array, what = "file"): DecodedSafetensors {
  if (buf.length < 8) throw new SafetensorsError(`${what} is not a safetensors file: ${buf.length} bytes, shorter than the 8-byte header length`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  if (n > MAX_HEADER || 8 + n > buf.length) {
    throw new SafetensorsError(`${what} is corrupt or truncated: header length ${n} does not fit in ${buf.length} bytes`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(buf.subarray(8, 8 + n)));
  } catch (e) {
    throw new SafetensorsError(`${what} is corrupt: its header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw new SafetensorsError(`${what} is corrupt: the header is not a JSON object`);
  }
  const dataStart = 8 + n;
  const dataLen = buf.length - dataStart;
  const tensors = new Map<string, Tensor>();
  let metadata: Record<string, string> = {};
  const spans: [number, number, string][] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === "__metadata__") {
      if (typeof raw !== "object" || raw === null) throw new SafetensorsError(`${what}: __metadata__ must be an object of strings`);
      metadata = raw as Record<string, string>;
      continue;
    }
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== "object" || e === null) throw new SafetensorsError(`${what}: tensor "${name}" has no description`);
    const dtype = e.dtype as DType;
    if (!(dtype in BYTES)) {
      throw new SafetensorsError(`${what}: tensor "${name}" has dtype ${String(e.dtype)}; supported are ${Object.keys(BYTES).join(", ")}`);
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
    const nbytes = numel * BYTES[dtype];
    if (off[1] - off[0] !== nbytes) {
      throw new SafetensorsError(`${what}: tensor "${name}" spans ${off[1] - off[0]} bytes but shape [${shape.join(", ")}] × ${dtype} needs ${nbytes}`);
    }
    if (off[1] > dataLen) throw new SafetensorsError(`${what} is truncated: tensor "${name}" ends at byte ${off[1]} of a ${dataLen}-byte data section`);
    spans.push([off[0], off[1], name]);
    // Copy into an aligned array (the data section need not be aligned in memory).
    const bytes = new Uint8Array(nbytes); // a fresh buffer (a Node Buffer's slice would share its pool)
    bytes.set(buf.subarray(dataStart + off[0], dataStart + off[1]));
    const ab = bytes.buffer;
    const data =
      dtype === "F32" ? new Float32Array(ab) : dtype === "F64" ? new Float64Array(ab) : dtype === "I32" ? new Int32Array(ab) : new Uint32Array(ab);
    tensors.set(name, { dtype, shape, data });
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i][0] < spans[i - 1][1]) throw new SafetensorsError(`${what} is corrupt: tensors "${spans[i - 1][2]}" and "${spans[i][2]}" overlap`);
  }
  return { tensors, metadata };
}
