// Splittable, counter-based randomness (as in JAX): a key is two uint32 words; keys are split or
// folded, never derived as `seed + i`. Bits come from Threefry-2x32 (20 rounds), the generator
// JAX uses, so a stream depends only on (key, counter): reproducible across threads and runs.

export type Key = readonly [number, number];

const ROT = [13, 15, 26, 6, 17, 29, 16, 24];
const KEY_SCHEDULE = new Uint32Array(3); // [k0, k1, k0 ^ k1 ^ C240] of the current threefry2x32 call

function rotl(x: number, r: number): number {
  return ((x << r) | (x >>> (32 - r))) >>> 0;
}

/** Threefry-2x32 with 20 rounds; writes two uint32 words into out[0], out[1]. */
export function threefry2x32(k0: number, k1: number, c0: number, c1: number, out: Uint32Array): void {
  // The key schedule lives in a module-level array: a local array literal would be allocated on
  // every call (and a training update draws thousands of normals).
  const ks = KEY_SCHEDULE;
  ks[0] = k0;
  ks[1] = k1;
  ks[2] = k0 ^ k1 ^ 0x1bd11bda;
  let x0 = (c0 + ks[0]) >>> 0;
  let x1 = (c1 + ks[1]) >>> 0;
  for (let i = 0; i < 5; i++) {
    const base = (i & 1) * 4;
    for (let j = 0; j < 4; j++) {
      x0 = (x0 + x1) >>> 0;
      x1 = rotl(x1, ROT[base + j]);
      x1 = (x1 ^ x0) >>> 0;
    }
    x0 = (x0 + ks[(i + 1) % 3]) >>> 0;
    x1 = (x1 + ks[(i + 2) % 3] + i + 1) >>> 0;
  }
  out[0] = x0;
  out[1] = x1;
}

const scratch = new Uint32Array(2);

/** A key from an integer seed (any safe integer). */
export function keyFromSeed(seed: number): Key {
  if (!Number.isSafeInteger(seed)) throw new Error(`seed must be a safe integer, got ${seed}`);
  const hi = Math.floor(seed / 2 ** 32) >>> 0;
  const lo = seed >>> 0;
  return [hi, lo];
}

/** n independent keys from one key. */
export function split(key: Key, n = 2): Key[] {
  const keys: Key[] = [];
  for (let i = 0; i < n; i++) {
    threefry2x32(key[0], key[1], 0, i, scratch);
    keys.push([scratch[0], scratch[1]]);
  }
  return keys;
}

/** A key derived from `key` and an integer (e.g. an env index or a step count). */
export function foldIn(key: Key, data: number): Key {
  threefry2x32(key[0], key[1], 0x9e3779b9, data >>> 0, scratch);
  const a = scratch[0];
  const b = scratch[1];
  threefry2x32(a, b, Math.floor(data / 2 ** 32) >>> 0, 1, scratch);
  return [scratch[0], scratch[1]];
}

/**
 * A stream of random numbers under one key: the i-th block of 64 bits is threefry(key, i).
 * The state is (key, counter), so it can be saved and restored exactly (checkpoints).
 */
export class Rng {
  private k0: number;
  private k1: number;
  /** Number of 64-bit blocks consumed. */
  counter = 0;
  private readonly buf = new Uint32Array(2);
  private spare = -1; // index of an unused 32-bit word in buf, or -1
  private normalSpare = Number.NaN;

  constructor(key: Key) {
    this.k0 = key[0] >>> 0;
    this.k1 = key[1] >>> 0;
  }

  get key(): Key {
    return [this.k0, this.k1];
  }

  /** A uint32. */
  nextU32(): number {
    if (this.spare === 1) {
      this.spare = -1;
      return this.buf[1];
    }
    threefry2x32(this.k0, this.k1, Math.floor(this.counter / 2 ** 32) >>> 0, this.counter >>> 0, this.buf);
    this.counter++;
    this.spare = 1;
    return this.buf[0];
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  uniform(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniformIn(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (n <= 0 || !Number.isInteger(n)) throw new Error(`Rng.int needs a positive integer bound, got ${n}`);
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal (Box–Muller, the second value is kept for the next call). */
  normal(): number {
    if (!Number.isNaN(this.normalSpare)) {
      const s = this.normalSpare;
      this.normalSpare = Number.NaN;
      return s;
    }
    let u = this.uniform();
    while (u <= 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.normalSpare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /**
   * out[i] = normal() for i < n: the same values as n calls of normal() (Box–Muller pairs, the
   * spare carried over), written out here so no value is boxed on its way (hot loops).
   */
  fillNormal(out: Float32Array, n: number): void {
    let i = 0;
    if (n > 0 && !Number.isNaN(this.normalSpare)) {
      out[i++] = this.normalSpare;
      this.normalSpare = Number.NaN;
    }
    while (i < n) {
      let u = this.uniform();
      while (u <= 0) u = this.uniform();
      const v = this.uniform();
      const r = Math.sqrt(-2 * Math.log(u));
      out[i++] = r * Math.cos(2 * Math.PI * v);
      const second = r * Math.sin(2 * Math.PI * v);
      if (i < n) out[i++] = second;
      else this.normalSpare = second;
    }
  }

  /** In-place Fisher–Yates shuffle of the first n entries. */
  shuffle(a: { [i: number]: number }, n: number): void {
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.uniform() * (i + 1));
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }

  /** Exact state, for checkpoints. */
  state(): { key: [number, number]; counter: number; spare: number; spareWord: number; normalSpare: number } {
    return { key: [this.k0, this.k1], counter: this.counter, spare: this.spare, spareWord: this.buf[1], normalSpare: this.normalSpare };
  }

  static fromState(s: { key: [number, number]; counter: number; spare: number; spareWord: number; normalSpare: number | null }): Rng {
    const r = new Rng(s.key);
    r.counter = s.counter;
    r.spare = s.spare;
    r.buf[1] = s.spareWord;
    r.normalSpare = s.normalSpare === null ? Number.NaN : s.normalSpare;
    return r;
  }
}
