// CRC-32 (IEEE 802.3, the one of zlib, gzip and PNG: reflected polynomial 0xEDB88320, initial and
// final XOR 0xFFFFFFFF), slice-by-8 over a Uint8Array, incremental. Pure TypeScript so that the
// safetensors codec stays usable without Node; Node's zlib.crc32 (Node ≥ 20.15) computes the same
// value faster and src/train/checkpoint.ts uses it when present.

const TABLES: Uint32Array[] = (() => {
  const t: Uint32Array[] = [];
  for (let k = 0; k < 8; k++) t.push(new Uint32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let b = 0; b < 8; b++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[0][n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[0][n];
    for (let k = 1; k < 8; k++) {
      c = t[0][c & 0xff] ^ (c >>> 8);
      t[k][n] = c >>> 0;
    }
  }
  return t;
})();

/** CRC-32 of `data`, continuing from `crc` (the CRC of the bytes before it; 0 to start). */
export function crc32(data: Uint8Array, crc = 0): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES;
  let c = ~crc >>> 0;
  let i = 0;
  const n = data.length;
  const end8 = n - (n % 8);
  while (i < end8) {
    const a = (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)) ^ c;
    c =
      t7[a & 0xff] ^
      t6[(a >>> 8) & 0xff] ^
      t5[(a >>> 16) & 0xff] ^
      t4[a >>> 24] ^
      t3[data[i + 4]] ^
      t2[data[i + 5]] ^
      t1[data[i + 6]] ^
      t0[data[i + 7]];
    i += 8;
  }
  while (i < n) c = t0[(c ^ data[i++]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** A CRC-32 function with crc32's signature (e.g. Node's zlib.crc32). */
export type Crc32Fn = (data: Uint8Array, crc?: number) => number;

/** The CRC-32 as 8 lowercase hex digits, as stored in checkpoints. */
export function crc32Hex(v: number): string {
  return (v >>> 0).toString(16).padStart(8, "0");
}
