// What the MuJoCo family tests (ant, humanoid, arm) share: a spec by id, a core built through the
// family's factory, and the random stream a core draws an env's episode from (as SliceRunner does).
import assert from "node:assert/strict";
import type { EnvCore } from "../../src/envs/core.js";
import { episodeKey } from "../../src/envs/slice.js";
import type { EnvSpec } from "../../src/envs/types.js";
import { keyFromSeed, Rng } from "../../src/random.js";

/** The spec of `id` in a family's list (a failed assertion when there is none). */
export function specIn(specs: readonly EnvSpec[], id: string): EnvSpec {
  const s = specs.find((x) => x.id === id);
  assert.ok(s, `no spec ${id}`);
  return s;
}

/** `count` envs of `spec` built by the family's factory, checked to be of the family's core class. */
export async function familyCore<C extends EnvCore>(
  create: (spec: EnvSpec, count: number) => Promise<EnvCore>,
  Core: abstract new (...args: never[]) => C,
  spec: EnvSpec,
  count: number,
): Promise<C> {
  const core = await create(spec, count);
  assert.ok(core instanceof Core);
  return core;
}

/** The rng of env `env`'s episode `episode` after reset(seed). */
export function episodeRng(seed: number, env: number, episode = 0): Rng {
  return new Rng(episodeKey(keyFromSeed(seed), env, episode));
}
