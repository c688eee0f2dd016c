// Parameter and optimizer state as named tensors (stable names, e.g. `blocks.3.dense.1.weight`,
// shape [in, out]), for safetensors checkpoints. Loading validates everything before copying
// anything, so a mismatched file never leaves a network half-loaded.
import type { Adam } from "./adam.js";
import type { ParamStore } from "./params.js";
import type { Tensor } from "./safetensors.js";

/** Names of optimizer state start with this; they are never network parameters. */
export const OPTIM_PREFIX = "optim.";

/** Tensors of a ParamStore, as views (no copy), names prefixed with `prefix`. */
export function paramTensors(store: ParamStore, prefix = ""): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const t of store.tensors) out.set(prefix + t.name, { dtype: "F32", shape: t.shape, data: store.view(t) });
  return out;
}

/** Adam state: flat moments in the store's layout plus the step count. */
export function adamTensors(adam: Adam, prefix: string): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  out.set(`${prefix}m`, { dtype: "F32", shape: [adam.m.length], data: adam.m });
  out.set(`${prefix}v`, { dtype: "F32", shape: [adam.v.length], data: adam.v });
  out.set(`${prefix}step`, { dtype: "F64", shape: [1], data: new Float64Array([adam.step]) });
  return out;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Checks that `tensors` hold every parameter of `store` (under `prefix`) with the right shape. */
export function checkParamTensors(store: ParamStore, tensors: ReadonlyMap<string, Tensor>, prefix = "", what = "checkpoint"): void {
  const missing: string[] = [];
  for (const t of store.tensors) {
    const got = tensors.get(prefix + t.name);
    if (!got) {
      missing.push(prefix + t.name);
      continue;
    }
    if (got.dtype !== "F32") throw new Error(`${what}: tensor "${prefix}${t.name}" has dtype ${got.dtype}, expected F32`);
    if (!sameShape(got.shape, t.shape)) {
      throw new Error(
        `${what}: tensor "${prefix}${t.name}" has shape [${got.shape.join(", ")}] but the network expects [${t.shape.join(", ")}] (different width, depth or input size?)`,
      );
    }
  }
  // Tensors under the prefix that the network lacks mean a different architecture (e.g. deeper).
  const known = new Set(store.tensors.map((t) => prefix + t.name));
  const extra = [...tensors.keys()].filter((k) => k.startsWith(prefix) && !k.startsWith(OPTIM_PREFIX) && !known.has(k));
  if (extra.length) {
    const more = extra.length > 3 ? ` and ${extra.length - 3} more` : "";
    throw new Error(`${what} holds ${extra.length} tensor(s) the network lacks: ${extra.slice(0, 3).join(", ")}${more} (different depth or architecture?)`);
  }
  if (missing.length) {
    const more = missing.length > 3 ? ` and ${missing.length - 3} more` : "";
    throw new Error(`${what} lacks ${missing.length} tensor(s) of the network: ${missing.slice(0, 3).join(", ")}${more} (different depth or architecture?)`);
  }
}

/** Copies parameters from tensors into the store (after checkParamTensors). */
export function loadParamTensors(store: ParamStore, tensors: ReadonlyMap<string, Tensor>, prefix = "", what = "checkpoint"): void {
  checkParamTensors(store, tensors, prefix, what);
  for (const t of store.tensors) store.view(t).set(tensors.get(prefix + t.name)!.data as Float32Array);
}

export function checkAdamTensors(adam: Adam, tensors: ReadonlyMap<string, Tensor>, prefix: string, what = "checkpoint"): void {
  for (const k of ["m", "v"]) {
    const t = tensors.get(prefix + k);
    if (!t) throw new Error(`${what} lacks optimizer tensor "${prefix}${k}"`);
    if (t.dtype !== "F32" || t.data.length !== adam.m.length) {
      throw new Error(`${what}: optimizer tensor "${prefix}${k}" has ${t.data.length} ${t.dtype} values, expected ${adam.m.length} F32`);
    }
  }
  const s = tensors.get(`${prefix}step`);
  if (!s || s.data.length !== 1 || !Number.isInteger(s.data[0]) || s.data[0] < 0) throw new Error(`${what}: optimizer step "${prefix}step" missing or invalid`);
}

export function loadAdamTensors(adam: Adam, tensors: ReadonlyMap<string, Tensor>, prefix: string, what = "checkpoint"): void {
  checkAdamTensors(adam, tensors, prefix, what);
  adam.m.set(tensors.get(`${prefix}m`)!.data as Float32Array);
  adam.v.set(tensors.get(`${prefix}v`)!.data as Float32Array);
  adam.step = tensors.get(`${prefix}step`)!.data[0];
}
