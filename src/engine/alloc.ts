// Buffers the kernels read fastest: Backend.allocFloat32 where the backend has it (the native
// backend aligns the data to 64 bytes), a plain Float32Array otherwise.
import type { Backend } from "./backend.js";

/** n zeros (n an integer >= 0) for the big buffers a network or optimiser keeps for `be`'s kernels. */
export function allocFloat32(be: Backend, n: number): Float32Array {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`allocFloat32: length must be an integer >= 0, got ${n}`);
  return be.allocFloat32 ? be.allocFloat32(n) : new Float32Array(n);
}
